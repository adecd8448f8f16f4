//! The DICOM JSON writer's layout: the engine's [`JsonFormatter`] plus the two pieces every element writes,
//! which a formatter may write in one copy.

use dcmflow_engine::json::format::Formatter as JsonFormatter;
pub use dcmflow_engine::json::format::{Compact, Pretty};

/// A [`JsonFormatter`] with the hot paths of DICOM JSON: the defaults build them from the general methods.
pub trait Formatter: JsonFormatter {
    /// After the `vr` member: `,"Value":[` with this formatter's whitespace (every element with a value
    /// writes it).
    fn value_array_head(&mut self, out: &mut Vec<u8>) {
        self.begin_member(out, false);
        out.extend_from_slice(b"\"Value\"");
        self.name_separator(out);
        self.begin_array(out);
    }

    /// After the member separator: `"GGGGEEEE":{"vr":"XX"` with this formatter's whitespace (PS3.18 F.2.2,
    /// F.2.3). The hot path of every element.
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

impl Formatter for Compact {
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

impl Formatter for Pretty {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-copy heads equal the ones built from the general methods.
    #[test]
    fn compact_heads_equal_the_general_ones() {
        struct General;
        impl JsonFormatter for General {
            fn begin_object(&mut self, out: &mut Vec<u8>) {
                Compact.begin_object(out)
            }
            fn end_object(&mut self, out: &mut Vec<u8>, empty: bool) {
                Compact.end_object(out, empty)
            }
            fn begin_member(&mut self, out: &mut Vec<u8>, first: bool) {
                Compact.begin_member(out, first)
            }
            fn name_separator(&mut self, out: &mut Vec<u8>) {
                Compact.name_separator(out)
            }
            fn begin_array(&mut self, out: &mut Vec<u8>) {
                Compact.begin_array(out)
            }
            fn end_array(&mut self, out: &mut Vec<u8>, empty: bool) {
                Compact.end_array(out, empty)
            }
            fn begin_array_value(&mut self, out: &mut Vec<u8>, first: bool) {
                Compact.begin_array_value(out, first)
            }
        }
        impl Formatter for General {}
        let (mut fast, mut general) = (Vec::new(), Vec::new());
        Compact.element_head(&mut fast, b"0010ABCD", *b"PN");
        General.element_head(&mut general, b"0010ABCD", *b"PN");
        Compact.value_array_head(&mut fast);
        General.value_array_head(&mut general);
        assert_eq!(fast, general);
        assert_eq!(fast, br#""0010ABCD":{"vr":"PN","Value":["#);
    }
}
