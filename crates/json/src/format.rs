//! Layout, separate from content (serde_json's split): the writer decides *what* is written, a
//! [`Formatter`] decides the whitespace around it.

/// Whitespace policy. Every method appends to `out`; `first` says whether this is the first entry of its
/// object or array (no comma before it).
pub trait Formatter {
    fn begin_object(&mut self, out: &mut Vec<u8>);
    fn end_object(&mut self, out: &mut Vec<u8>, empty: bool);
    /// Before a member name: the comma (unless first) and any line break and indentation.
    fn begin_member(&mut self, out: &mut Vec<u8>, first: bool);
    /// Between a member name and its value.
    fn name_separator(&mut self, out: &mut Vec<u8>);
    fn begin_array(&mut self, out: &mut Vec<u8>);
    fn end_array(&mut self, out: &mut Vec<u8>, empty: bool);
    fn begin_array_value(&mut self, out: &mut Vec<u8>, first: bool);

    /// Whether this formatter writes no whitespace at all, as [`Compact`]: values rendered apart from the
    /// writer (`crate::ValueRenderer`) are compact, so only such a writer takes them.
    fn is_compact(&self) -> bool {
        false
    }

    /// After the `vr` member: `,"Value":[` with this formatter's whitespace (every element with a value
    /// writes it, so a formatter may write it in one piece).
    fn value_array_head(&mut self, out: &mut Vec<u8>) {
        self.begin_member(out, false);
        out.extend_from_slice(b"\"Value\"");
        self.name_separator(out);
        self.begin_array(out);
    }

    /// After the member separator: `"GGGGEEEE":{"vr":"XX"` with this formatter's whitespace. The hot path
    /// of every element, so a formatter may write it in one piece.
    fn element_head(&mut self, out: &mut Vec<u8>, key: &[u8; 8], vr: [u8; 2]) {
        out.push(b'"');
        out.extend_from_slice(key);
        out.push(b'"');
        self.name_separator(out);
        self.begin_object(out);
        self.begin_member(out, true);
        out.extend_from_slice(b"\"vr\"");
        self.name_separator(out);
        out.extend_from_slice(&[b'"', vr[0], vr[1], b'"']);
    }
}

/// No whitespace at all (the default: DICOMweb payloads and indexers want bytes, not layout).
#[derive(Debug, Default, Clone, Copy)]
pub struct Compact;

impl Formatter for Compact {
    fn is_compact(&self) -> bool {
        true
    }
    #[inline]
    fn begin_object(&mut self, out: &mut Vec<u8>) {
        out.push(b'{');
    }
    #[inline]
    fn end_object(&mut self, out: &mut Vec<u8>, _empty: bool) {
        out.push(b'}');
    }
    #[inline]
    fn begin_member(&mut self, out: &mut Vec<u8>, first: bool) {
        if !first {
            out.push(b',');
        }
    }
    #[inline]
    fn name_separator(&mut self, out: &mut Vec<u8>) {
        out.push(b':');
    }
    #[inline]
    fn begin_array(&mut self, out: &mut Vec<u8>) {
        out.push(b'[');
    }
    #[inline]
    fn end_array(&mut self, out: &mut Vec<u8>, _empty: bool) {
        out.push(b']');
    }
    #[inline]
    fn begin_array_value(&mut self, out: &mut Vec<u8>, first: bool) {
        if !first {
            out.push(b',');
        }
    }
    #[inline]
    fn value_array_head(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b",\"Value\":[");
    }
    #[inline]
    fn element_head(&mut self, out: &mut Vec<u8>, key: &[u8; 8], vr: [u8; 2]) {
        let mut head = *b"\"GGGGEEEE\":{\"vr\":\"XX\"";
        head[1..9].copy_from_slice(key);
        head[18..20].copy_from_slice(&vr);
        out.extend_from_slice(&head);
    }
}

/// One member or array value per line, indented (DCMTK's `+fc`).
#[derive(Debug, Clone)]
pub struct Pretty {
    depth: usize,
    indent: &'static [u8],
}

impl Default for Pretty {
    fn default() -> Self {
        Pretty {
            depth: 0,
            indent: b"  ",
        }
    }
}

impl Pretty {
    fn newline(&self, out: &mut Vec<u8>) {
        out.push(b'\n');
        for _ in 0..self.depth {
            out.extend_from_slice(self.indent);
        }
    }
}

impl Formatter for Pretty {
    fn begin_object(&mut self, out: &mut Vec<u8>) {
        self.depth += 1;
        out.push(b'{');
    }
    fn end_object(&mut self, out: &mut Vec<u8>, empty: bool) {
        self.depth -= 1;
        if !empty {
            self.newline(out);
        }
        out.push(b'}');
    }
    fn begin_member(&mut self, out: &mut Vec<u8>, first: bool) {
        if !first {
            out.push(b',');
        }
        self.newline(out);
    }
    fn name_separator(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b": ");
    }
    fn begin_array(&mut self, out: &mut Vec<u8>) {
        self.depth += 1;
        out.push(b'[');
    }
    fn end_array(&mut self, out: &mut Vec<u8>, empty: bool) {
        self.depth -= 1;
        if !empty {
            self.newline(out);
        }
        out.push(b']');
    }
    fn begin_array_value(&mut self, out: &mut Vec<u8>, first: bool) {
        if !first {
            out.push(b',');
        }
        self.newline(out);
    }
}
