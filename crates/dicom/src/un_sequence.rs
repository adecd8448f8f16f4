//! A token filter that reads UN values the dictionary calls sequences as the sequences they are.
//!
//! PS3.5 6.2.2: an element whose VR a writer did not know is written as UN, its value in the encoding it
//! had; for a sequence that is Implicit VR Little Endian items (as for CP-246's undefined-length UN).
//! Explicit VR data sets carry such values with a defined length, which the reader cannot tell from any
//! other bytes. This filter sits between a [`crate::DicomReader`] and whatever consumes its tokens: it
//! gathers such a value (up to [`MAX_UN_SEQUENCE`] bytes), parses it, and passes on the sequence's tokens
//! when the parse ends cleanly, else the UN element as it came, each with a [`Filtered`] note first.

use dcmflow_core::{dict, Encoding, Header, Tag, Token, TransferSyntax, Vr};

use crate::{DicomReader, ReaderOptions};

/// The largest UN value parsed as a sequence; a longer one passes as UN (and can stream).
pub const MAX_UN_SEQUENCE: u32 = 1 << 20;

/// A private creator value longer than this cannot name a dictionary block (LO holds 64 characters).
const MAX_CREATOR: usize = 64;

/// What the filter passes on.
#[derive(Debug)]
pub enum Filtered<'a, 't> {
    /// A token, with its source offset and the encoding of the data set it belongs to.
    Token {
        /// The token.
        token: &'a Token<'t>,
        /// Its offset in the source (for the tokens of a parsed UN value: the UN element's offset).
        offset: u64,
        /// Its data set's encoding (Implicit VR Little Endian inside a parsed UN value).
        encoding: Encoding,
    },
    /// The UN element at `offset` is passed on as the sequence whose tokens follow.
    Parsed {
        /// The element's tag.
        tag: Tag,
        /// The UN element's offset in the source.
        offset: u64,
    },
    /// The UN element at `offset`, which the dictionary calls a sequence, is not Implicit VR LE items:
    /// it follows as the UN element it was.
    Unparsed {
        /// The element's tag.
        tag: Tag,
        /// The UN element's offset in the source.
        offset: u64,
    },
}

/// The UN-as-sequence filter: feed it every token of a data set in order ([`UnSequences::feed`]).
#[derive(Debug, Default)]
pub struct UnSequences {
    /// The private creators of each open data set (the top level, then one per open item):
    /// (group, block, creator). PS3.5 7.8.1: a creator reserves its block within its own data set.
    creators: Vec<Vec<(u16, u8, String)>>,
    state: State,
    /// The value being gathered (`State::Creator`, `State::Gathering`).
    gathered: Vec<u8>,
}

#[derive(Debug, Default, Clone, Copy)]
enum State {
    /// Tokens pass unchanged.
    #[default]
    Passing,
    /// The value of a private creator element passes, and is noted.
    Creator { group: u16, block: u8 },
    /// The value of a UN element the dictionary calls a sequence is held back.
    Gathering {
        header: Header,
        offset: u64,
        encoding: Encoding,
        value_offset: Option<u64>,
    },
}

impl UnSequences {
    /// A filter at the start of a data set.
    pub fn new() -> Self {
        UnSequences {
            creators: vec![Vec::new()],
            ..UnSequences::default()
        }
    }

    /// Whether `token` may be held back or change what the filter knows; any other token can go straight
    /// to the consumer, as [`UnSequences::feed`] would pass it.
    #[inline]
    pub fn concerns(&self, token: &Token<'_>) -> bool {
        !matches!(self.state, State::Passing)
            || match token {
                Token::Element(header) => header.vr == Vr::UN || header.tag.is_private_creator(),
                Token::ItemStart { .. } | Token::ItemEnd => true,
                _ => false,
            }
    }

    /// Takes one token (at `offset` in the source, in a data set of `encoding`) and passes on what
    /// follows from it to `out`: nothing while a UN value is gathered, the token itself mostly.
    pub fn feed<E>(
        &mut self,
        token: &Token<'_>,
        offset: u64,
        encoding: Encoding,
        out: &mut impl FnMut(Filtered<'_, '_>) -> Result<(), E>,
    ) -> Result<(), E> {
        match (self.state, token) {
            (State::Gathering { .. }, Token::Value { bytes, last }) => {
                if let State::Gathering { value_offset, .. } = &mut self.state {
                    value_offset.get_or_insert(offset);
                }
                self.gathered.extend_from_slice(bytes);
                if *last {
                    return self.finish_gathered(out);
                }
                return Ok(());
            }
            (State::Creator { group, block }, Token::Value { bytes, last }) => {
                if self.gathered.len() + bytes.len() <= MAX_CREATOR {
                    self.gathered.extend_from_slice(bytes);
                } else {
                    self.gathered.clear();
                    self.state = State::Passing; // too long to name a block: not noted
                }
                if *last && matches!(self.state, State::Creator { .. }) {
                    self.note_creator(group, block);
                    self.state = State::Passing;
                }
            }
            (_, Token::Element(header)) => {
                if header.tag.is_private_creator() {
                    self.gathered.clear();
                    self.state = State::Creator {
                        group: header.tag.group(),
                        block: header.tag.element() as u8,
                    };
                } else if self.is_sequence_in_un(*header, encoding) {
                    self.gathered.clear();
                    self.state = State::Gathering {
                        header: *header,
                        offset,
                        encoding,
                        value_offset: None,
                    };
                    return Ok(());
                }
            }
            (_, Token::ItemStart { .. }) => self.creators.push(Vec::new()),
            // The top level stays: an `ItemEnd` without its start is the reader's to refuse.
            (_, Token::ItemEnd) if self.creators.len() > 1 => {
                self.creators.pop();
            }
            _ => {}
        }
        out(Filtered::Token {
            token,
            offset,
            encoding,
        })
    }

    /// Whether `header` is a UN element of an explicit VR data set whose value the dictionary calls a
    /// sequence, short enough to gather. In implicit VR, UN only means the reader's public dictionary did
    /// not know the tag, and an undefined-length UN is already read as a sequence (CP-246).
    fn is_sequence_in_un(&self, header: Header, encoding: Encoding) -> bool {
        header.vr == Vr::UN
            && encoding.explicit_vr
            && header.len <= MAX_UN_SEQUENCE
            && self.dictionary_vr(header.tag) == Some(Vr::SQ)
    }

    /// The first VR the public or (through the creator) private dictionary gives `tag`.
    fn dictionary_vr(&self, tag: Tag) -> Option<Vr> {
        let entry = if tag.is_private() {
            let block = (tag.element() >> 8) as u8;
            let level = self.creators.last()?;
            let (_, _, creator) = level
                .iter()
                .find(|(g, b, _)| *g == tag.group() && *b == block)?;
            dict::private(creator, tag)?.vrs.first()
        } else {
            dict::tag(tag)?.vrs.first()
        };
        entry.copied()
    }

    fn note_creator(&mut self, group: u16, block: u8) {
        // Creators in the dictionary are ASCII: a value that is not UTF-8 names no block it knows.
        let Ok(text) = std::str::from_utf8(&self.gathered) else {
            return;
        };
        // LO (PS3.5 6.2): leading and trailing spaces are padding.
        let creator = text.trim_matches([' ', '\0']).to_string();
        if let Some(level) = self.creators.last_mut() {
            level.push((group, block, creator));
        }
    }

    /// The whole value of a UN element the dictionary calls a sequence: parsed, then passed on as the
    /// sequence when the parse ends cleanly, else as the UN element it was.
    fn finish_gathered<E>(
        &mut self,
        out: &mut impl FnMut(Filtered<'_, '_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let State::Gathering {
            header,
            offset,
            encoding,
            value_offset,
        } = std::mem::take(&mut self.state)
        else {
            return Ok(());
        };
        let value = std::mem::take(&mut self.gathered);
        let wrapped = as_undefined_length_element(header.tag, &value);
        let result = if parses_cleanly(&wrapped) {
            out(Filtered::Parsed {
                tag: header.tag,
                offset,
            })
            .and_then(|()| pass_parsed(&wrapped, offset, out))
        } else {
            out(Filtered::Unparsed {
                tag: header.tag,
                offset,
            })
            .and_then(|()| {
                out(Filtered::Token {
                    token: &Token::Element(header),
                    offset,
                    encoding,
                })
            })
            .and_then(|()| {
                out(Filtered::Token {
                    token: &Token::Value {
                        bytes: &value,
                        last: true,
                    },
                    offset: value_offset.unwrap_or(offset),
                    encoding,
                })
            })
        };
        self.gathered = value;
        self.gathered.clear();
        result
    }
}

/// The reader of a UN value's items: Implicit VR Little Endian (PS3.5 6.2.2).
fn item_reader(wrapped: &[u8]) -> DicomReader<'_> {
    let options = ReaderOptions {
        transfer_syntax: Some(TransferSyntax::IMPLICIT_VR_LE),
        ..ReaderOptions::default()
    };
    DicomReader::from_slice(wrapped, options)
}

/// The value as an undefined-length element of an implicit VR data set, which the reader's CP-246 path
/// reads as a sequence.
fn as_undefined_length_element(tag: Tag, value: &[u8]) -> Vec<u8> {
    // Writers that turned an undefined-length SQ into UN often kept its delimiter in the value.
    const DELIMITER: &[u8] = b"\xFE\xFF\xDD\xE0\0\0\0\0";
    let mut wrapped = Vec::with_capacity(value.len() + 16);
    wrapped.extend_from_slice(&tag.group().to_le_bytes());
    wrapped.extend_from_slice(&tag.element().to_le_bytes());
    wrapped.extend_from_slice(&u32::MAX.to_le_bytes());
    wrapped.extend_from_slice(value);
    if !value.ends_with(DELIMITER) {
        wrapped.extend_from_slice(DELIMITER);
    }
    wrapped
}

/// Whether the wrapped value reads as one sequence to its end, with neither error nor warning.
fn parses_cleanly(wrapped: &[u8]) -> bool {
    let mut reader = item_reader(wrapped);
    if !matches!(reader.read_token(), Ok(Token::SequenceStart { .. })) {
        return false;
    }
    loop {
        match reader.read_token() {
            Ok(Token::Eof) => return reader.warnings().is_empty(),
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

/// Passes on the tokens of a wrapped value that [`parses_cleanly`], all at the UN element's offset.
/// They are Implicit VR, where a UN element is never gathered: a parse never nests.
fn pass_parsed<E>(
    wrapped: &[u8],
    offset: u64,
    out: &mut impl FnMut(Filtered<'_, '_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut reader = item_reader(wrapped);
    // The first parse read these bytes to `Eof` without an error.
    while let Ok(token) = reader.read_token() {
        if token == Token::Eof {
            break;
        }
        out(Filtered::Token {
            token: &token,
            offset,
            encoding: Encoding::IMPLICIT_LE,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tokens: &[Token<'_>]) -> Vec<String> {
        let mut filter = UnSequences::new();
        let mut seen = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            filter
                .feed::<()>(token, i as u64, Encoding::EXPLICIT_LE, &mut |f| {
                    seen.push(match f {
                        Filtered::Token {
                            token: Token::Value { bytes, .. },
                            ..
                        } => format!("Value {}", String::from_utf8_lossy(bytes)),
                        Filtered::Token { token, .. } => format!("{token:?}"),
                        Filtered::Parsed { tag, .. } => format!("parsed {tag}"),
                        Filtered::Unparsed { tag, .. } => format!("unparsed {tag}"),
                    });
                    Ok(())
                })
                .unwrap();
        }
        seen
    }

    fn un(tag: u32, len: u32) -> Token<'static> {
        Token::Element(Header {
            tag: Tag(tag),
            vr: Vr::UN,
            len,
        })
    }

    #[test]
    fn a_public_sequence_in_un_is_passed_as_its_items() {
        // (0008,1140) ReferencedImageSequence, one empty item of defined length.
        let items = b"\xFE\xFF\x00\xE0\0\0\0\0";
        let seen = run(&[
            un(0x0008_1140, 8),
            Token::Value {
                bytes: &items[..3],
                last: false,
            },
            Token::Value {
                bytes: &items[3..],
                last: true,
            },
            Token::Eof,
        ]);
        assert_eq!(seen[0], "parsed (0008,1140)");
        assert!(seen[1].starts_with("SequenceStart"), "{seen:?}");
        assert!(seen[2].starts_with("ItemStart"), "{seen:?}");
        assert_eq!(&seen[3..], ["ItemEnd", "SequenceEnd", "Eof"]);
    }

    #[test]
    fn a_private_sequence_needs_its_creator_in_the_same_data_set() {
        let creator = Token::Element(Header {
            tag: Tag(0x2001_0010),
            vr: Vr::LO,
            len: 22,
        });
        let name = Token::Value {
            bytes: b"Philips Imaging DD 001",
            last: true,
        };
        let value = Token::Value {
            bytes: b"\xFE\xFF\x00\xE0\0\0\0\0",
            last: true,
        };
        let seen = run(&[creator, name, un(0x2001_105F, 8), value, Token::Eof]);
        assert_eq!(seen[2], "parsed (2001,105F)");
        // Inside an item the outer creator does not reserve the block: the value passes untouched.
        let item = Token::ItemStart {
            len: dcmflow_core::Length::Undefined,
        };
        let seen = run(&[creator, name, item, un(0x2001_105F, 8), value]);
        assert!(seen[3].starts_with("Element"), "{seen:?}");
        assert_eq!(seen.len(), 5);
    }

    #[test]
    fn bytes_that_are_not_items_pass_as_un_with_a_note() {
        let seen = run(&[
            un(0x0008_1140, 9),
            Token::Value {
                bytes: b"not items",
                last: true,
            },
        ]);
        assert_eq!(seen[0], "unparsed (0008,1140)");
        assert!(seen[1].starts_with("Element"), "{seen:?}");
        assert_eq!(seen[2], "Value not items");
    }

    #[test]
    fn long_or_implicit_values_are_not_gathered() {
        let seen = run(&[un(0x0008_1140, MAX_UN_SEQUENCE + 1)]);
        assert!(seen[0].starts_with("Element"));
        let mut filter = UnSequences::new();
        let mut passed = 0;
        filter
            .feed::<()>(&un(0x0008_1140, 8), 0, Encoding::IMPLICIT_LE, &mut |_| {
                passed += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(passed, 1);
    }
}
