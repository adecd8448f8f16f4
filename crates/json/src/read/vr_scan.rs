//! The look-ahead for `"vr"` when an element object names its value member first (pydicom's order,
//! `{"Value":[…],"vr":"CS"}`; PS3.18 F.2.2 objects are unordered). A small JSON scanner fed in pieces:
//! where a read or a block ends never changes what it finds.

use memchr::memchr2;

use dcmflow_engine::json::lexer::AheadScan;

use super::lexer::is_ws;

/// Where the scanner is. `String::key` counts the bytes matched of a depth-0 string that may be the key
/// `vr` (`None`: not a candidate; `Some(usize::MAX)`: ruled out); `Colon`, `Quote` and `Vr` walk through
/// the `: "XX"` after it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum At {
    Structure,
    String { escaped: bool, key: Option<usize> },
    Colon,
    Quote,
    Vr(usize),
}

/// A scan that starts at the first member's value of an element object and stops at the object's end.
#[derive(Clone, Copy, Debug)]
pub(super) struct VrScan {
    at: At,
    /// Containers open inside the element object.
    depth: usize,
    vr: [u8; 2],
}

impl VrScan {
    pub(super) fn new() -> Self {
        VrScan {
            at: At::Structure,
            depth: 0,
            vr: [0; 2],
        }
    }

    /// Scans the next bytes: `Some(Some(vr))` found, `Some(None)` the object has no `"vr"` string of two
    /// characters, `None` nothing decided yet (feed the bytes that follow).
    pub(super) fn feed(&mut self, bytes: &[u8]) -> Option<Option<[u8; 2]>> {
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match self.at {
                At::String { escaped: true, key } => {
                    self.at = At::String {
                        escaped: false,
                        key: key.map(|_| usize::MAX),
                    };
                }
                At::String {
                    escaped: false,
                    key,
                } => {
                    if key.is_none() || key == Some(usize::MAX) {
                        // Not a candidate key: skip to the next quote or backslash at once.
                        match memchr2(b'"', b'\\', &bytes[i..]) {
                            Some(k) => i += k,
                            None => return None,
                        }
                    }
                    self.at = match (bytes[i], key) {
                        (b'\\', key) => At::String { escaped: true, key },
                        (b'"', Some(2)) => At::Colon,
                        (b'"', _) => At::Structure,
                        (c, Some(k)) if k < 2 && c == b"vr"[k] => At::String {
                            escaped: false,
                            key: Some(k + 1),
                        },
                        (_, Some(_)) => At::String {
                            escaped: false,
                            key: Some(usize::MAX),
                        },
                        (_, None) => At::String {
                            escaped: false,
                            key: None,
                        },
                    };
                }
                At::Colon if is_ws(b) => {}
                At::Colon if b == b':' => self.at = At::Quote,
                At::Colon => {
                    // The string was a value, not a key: this byte is structure.
                    self.at = At::Structure;
                    continue;
                }
                At::Quote if is_ws(b) => {}
                At::Quote if b == b'"' => self.at = At::Vr(0),
                At::Quote => return Some(None),
                At::Vr(k) if k < 2 => {
                    self.vr[k] = b;
                    self.at = At::Vr(k + 1);
                }
                At::Vr(_) => return Some((b == b'"').then_some(self.vr)),
                At::Structure => match b {
                    b'"' => {
                        self.at = At::String {
                            escaped: false,
                            key: (self.depth == 0).then_some(0),
                        }
                    }
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' if self.depth == 0 => return Some(None),
                    b'}' | b']' => self.depth -= 1,
                    _ => {}
                },
            }
            i += 1;
        }
        None
    }
}

impl AheadScan for VrScan {
    type Found = [u8; 2];
    fn feed(&mut self, bytes: &[u8]) -> Option<Option<[u8; 2]>> {
        VrScan::feed(self, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_in_pieces(text: &[u8], piece: usize) -> Option<Option<[u8; 2]>> {
        let mut scan = VrScan::new();
        text.chunks(piece).find_map(|c| scan.feed(c))
    }

    #[test]
    fn finds_vr_after_the_value_at_every_split() {
        let text = br#"["MR","vr"],"x":{"vr":"no"},"vr" : "CS"}"#;
        for piece in 1..=text.len() {
            assert_eq!(
                scan_in_pieces(text, piece),
                Some(Some(*b"CS")),
                "pieces of {piece}"
            );
        }
    }

    #[test]
    fn stops_at_the_end_of_the_object() {
        for text in [
            &br#"["MR"]}"#[..],
            br#"["MR"],"vr":1}"#,
            br#""v\"r","vrx":"CS"}"#,
        ] {
            for piece in 1..=text.len() {
                assert_eq!(scan_in_pieces(text, piece), Some(None));
            }
        }
        assert_eq!(scan_in_pieces(br#"["MR"],"vr":"C"#, 3), None);
    }
}
