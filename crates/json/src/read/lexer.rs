//! The DICOM JSON model's use of the engine's JSON tokenizer: the compact fast paths for a tag key and an
//! element object's head, and the look-ahead for `"vr"` when the value member comes first.

use dcmflow_core::Tag;
pub use dcmflow_engine::json::lexer::ReadAt;
pub(crate) use dcmflow_engine::json::lexer::{is_ws, Lexer, Measured};
use dcmflow_engine::json::lexer::{LexError, LexErrorKind};
pub(crate) use dcmflow_engine::json::number::is_json_number;

use super::error::{Problem, ReadErrorKind};
use super::vr_scan::VrScan;

impl From<LexError> for Problem {
    #[cold]
    fn from(e: LexError) -> Problem {
        let e = e.into_data();
        let kind = match e.kind {
            LexErrorKind::Io(kind) => ReadErrorKind::Io(kind),
            LexErrorKind::Syntax => ReadErrorKind::Syntax,
            LexErrorKind::Limit => ReadErrorKind::Limit,
            LexErrorKind::NeedInput => ReadErrorKind::NeedInput,
        };
        Problem::new(kind, e.message)
    }
}

/// What the DICOM JSON reader reads with the tokenizer beyond plain JSON.
pub(crate) trait DicomLexing {
    /// Compact fast path: a tag key `"GGGGEEEE":` (uppercase hex, R3) wholly in the buffer, consumed.
    /// `None` leaves everything to `Lexer::read_key` (whitespace, escapes, errors, lower case).
    fn tag_key_fast(&mut self) -> Option<Tag>;

    /// Compact fast path: an element object's head `{"vr":"XX"` wholly in the buffer, consumed; the two
    /// VR bytes. `None` leaves the object to the general path.
    fn vr_head_fast(&mut self) -> Option<[u8; 2]>;

    /// Looks ahead, without consuming, for a `"vr"` member later in the object whose first member's
    /// value starts at the next byte (PS3.18 objects are unordered; pydicom writes `"Value"` before
    /// `"vr"`), holding at most `hold` bytes in memory.
    fn find_vr_ahead(&mut self, hold: usize) -> Result<Option<String>, Problem>;
}

impl DicomLexing for Lexer<'_> {
    #[inline]
    fn tag_key_fast(&mut self) -> Option<Tag> {
        let b = self.window().get(..11)?;
        if b[0] != b'"' || b[9] != b'"' || b[10] != b':' {
            return None;
        }
        let mut tag = 0u32;
        for &c in &b[1..9] {
            let nibble = match c {
                b'0'..=b'9' => c - b'0',
                b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            tag = tag << 4 | u32::from(nibble);
        }
        self.consume(11);
        Some(Tag(tag))
    }

    #[inline]
    fn vr_head_fast(&mut self) -> Option<[u8; 2]> {
        let b = self.window().get(..10)?;
        // Anything but two capital letters (a quote, an escape, non-ASCII bytes) goes the general way,
        // which reads the string whole first: the same error whichever path reads it.
        if &b[..7] != b"{\"vr\":\""
            || b[9] != b'"'
            || !b[7].is_ascii_uppercase()
            || !b[8].is_ascii_uppercase()
        {
            return None;
        }
        let vr = [b[7], b[8]];
        self.consume(10);
        Some(vr)
    }

    fn find_vr_ahead(&mut self, hold: usize) -> Result<Option<String>, Problem> {
        let found = self.scan_ahead(hold, VrScan::new())?;
        Ok(found.map(|vr| String::from_utf8_lossy(&vr).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vr_after_a_long_value_is_found_with_positioned_reads() {
        let long = "A".repeat(3 << 20);
        let cases = [
            (format!(r#""{long}","vr":"OB"}}"#), Some("OB")),
            (
                format!(r#""{long}" , "x\"vr" : 1, "vr" :  "OW" }}"#),
                Some("OW"),
            ),
            (
                format!(r#"["{long}", {{"vr":"SQ"}}], "vr":"SQ"}}"#),
                Some("SQ"),
            ),
            (format!(r#""{long}"}}"#), None),
            (format!(r#""{long}","vr":"O"#), None),
        ];
        for (json, want) in cases {
            let data: &'static [u8] = Box::leak(json.into_bytes().into_boxed_slice());
            // A stream with positioned reads and a 1 MiB hold: the scan goes past the buffer.
            let mut l = Lexer::new(Box::new(data), Some(Box::new(data)), 64 << 20);
            assert_eq!(l.find_vr_ahead(1 << 20).unwrap().as_deref(), want);
            // The same from a slice (all in the buffer already).
            let mut l = Lexer::from_slice(data, 64 << 20);
            assert_eq!(l.find_vr_ahead(1 << 20).unwrap().as_deref(), want);
            // From a pipe: the rest is spooled to a temporary file, then read from it as before.
            let mut l = Lexer::new(Box::new(data), None, 64 << 20);
            assert_eq!(l.find_vr_ahead(1 << 20).unwrap().as_deref(), want);
            if want.is_some() && data[0] == b'"' {
                assert_eq!(l.read_string().unwrap().len(), 3 << 20);
                assert_eq!(l.offset(), (3 << 20) + 2);
            }
        }
    }
}
