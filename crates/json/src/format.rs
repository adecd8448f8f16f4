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

/// One member or array value per line, indented by two spaces a level (DCMTK's `+fc`).
#[derive(Debug, Clone, Default)]
pub struct Pretty {
    depth: usize,
}

/// A line break and the indentation of up to 512 levels, so that a new line is one copy: a copy of two
/// spaces per level took a quarter of the time of indented output.
static LINE: [u8; 1 + 2 * 512] = {
    let mut line = [b' '; 1 + 2 * 512];
    line[0] = b'\n';
    line
};

impl Pretty {
    fn newline(&self, out: &mut Vec<u8>) {
        let width = 1 + 2 * self.depth;
        if width <= LINE.len() {
            out.extend_from_slice(&LINE[..width]);
        } else {
            out.extend_from_slice(&LINE);
            out.resize(out.len() + width - LINE.len(), b' ');
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
