//! Layout, separate from content (serde_json's split): the writer decides *what* is written, a
//! [`Formatter`] decides the whitespace around it.

/// Whitespace policy. Every method appends to `out`; `first` says whether this is the first entry of its
/// object or array (no comma before it).
pub trait Formatter {
    /// `{`, opening a level.
    fn begin_object(&mut self, out: &mut Vec<u8>);
    /// `}`, closing a level; `empty` when it had no member.
    fn end_object(&mut self, out: &mut Vec<u8>, empty: bool);
    /// Before a member name: the comma (unless first) and any line break and indentation.
    fn begin_member(&mut self, out: &mut Vec<u8>, first: bool);
    /// Between a member name and its value.
    fn name_separator(&mut self, out: &mut Vec<u8>);
    /// `[`, opening a level.
    fn begin_array(&mut self, out: &mut Vec<u8>);
    /// `]`, closing a level; `empty` when it had no value.
    fn end_array(&mut self, out: &mut Vec<u8>, empty: bool);
    /// Before an array value: the comma (unless first) and any line break and indentation.
    fn begin_array_value(&mut self, out: &mut Vec<u8>, first: bool);
}

/// No whitespace at all (the default: services and indexers want bytes, not layout).
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
}

/// One member or array value per line, indented by two spaces a level.
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
