//! The BSON writer: the reader's tokens back into BSON bytes.
//!
//! A document's length comes before its content, and a token stream (from Extended JSON, say) does not
//! know it up front. Each top-level document is therefore built in memory with its lengths patched in
//! when its parts end, and written out whole; the memory is bounded by
//! [`WriterOptions::max_document_size`] (MongoDB's 16 MiB by default), a document larger than that is an
//! error, not an allocation.

use std::io::{self, Write};

use crate::reader::{Container, Scalar, Token};
use crate::types::ElementType;

/// How the writer writes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WriterOptions {
    /// The largest top-level document written (MongoDB's limit: 16 MiB).
    pub max_document_size: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            max_document_size: 16 << 20,
        }
    }
}

/// Why a document could not be written.
#[derive(Debug)]
#[non_exhaustive]
pub enum WriteError {
    /// The output failed.
    Io(io::Error),
    /// A top-level document grew past `max_document_size` bytes.
    TooLarge(usize),
    /// A key or regular expression part holds a 0x00 byte, which would end it early (bson-corpus.md,
    /// prose test 1).
    NulInCString,
    /// A value's parts did not come in the order of the reader's token grammar.
    TokenOrder,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Io(e) => write!(f, "writing BSON: {e}"),
            WriteError::TooLarge(max) => write!(
                f,
                "a document larger than {max} bytes (WriterOptions::max_document_size)"
            ),
            WriteError::NulInCString => f.write_str(
                "a key or regular expression holds a 0x00 byte, which BSON cannot store",
            ),
            WriteError::TokenOrder => f.write_str("BSON tokens out of order"),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::Io(e) => Some(e),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    /// Where the document's length goes in `doc`.
    start: usize,
    /// Arrays: the next index, written as the element's key.
    next_index: Option<u32>,
    /// A code with scope's scope: where the code with scope's total length goes.
    scope_of: Option<usize>,
}

/// What the next text or bytes belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Nothing,
    /// A length-prefixed string whose length goes at this offset.
    Text {
        length_at: usize,
        then: After,
    },
    /// A regular expression's pattern, then its options.
    RegexPattern,
    RegexOptions,
    /// Binary data: bytes still expected.
    Bytes {
        remaining: u64,
    },
    /// A DBPointer's ObjectId.
    DbPointerId,
    /// The scope document of a code with scope whose total length goes at this offset.
    Scope {
        total_at: usize,
    },
    /// The header of a binary value.
    BinaryHead,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    Element,
    DbPointerId,
    Scope { total_at: usize },
}

/// The BSON writer. See the module docs.
#[derive(Debug)]
pub struct BsonWriter<W: Write> {
    out: W,
    options: WriterOptions,
    /// The top-level document being built.
    doc: Vec<u8>,
    frames: Vec<Frame>,
    pending: Pending,
    /// A regular expression's options, gathered to be sorted.
    regex_options: Vec<u8>,
    written: u64,
    documents: u64,
}

impl<W: Write> BsonWriter<W> {
    /// A writer into `out`.
    pub fn new(out: W, options: WriterOptions) -> Self {
        BsonWriter {
            out,
            options,
            doc: Vec::new(),
            frames: Vec::new(),
            pending: Pending::Nothing,
            regex_options: Vec::new(),
            written: 0,
            documents: 0,
        }
    }

    /// Bytes written to the output so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Top-level documents written so far.
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// Flushes the output and returns it; a document not ended is an error.
    pub fn finish(mut self) -> Result<W, WriteError> {
        if !self.frames.is_empty() || self.pending != Pending::Nothing {
            return Err(WriteError::TokenOrder);
        }
        self.out.flush().map_err(WriteError::Io)?;
        Ok(self.out)
    }

    /// Writes one token.
    pub fn write_token(&mut self, token: &Token<'_>) -> Result<(), WriteError> {
        match *token {
            Token::DocumentStart(container) => self.start_document(container)?,
            Token::Element { ty, key } => self.element(ty, key)?,
            Token::Scalar(scalar) => self.scalar(scalar)?,
            Token::Text { bytes, last } => self.text(bytes, last)?,
            Token::BinaryStart { subtype, len } => self.binary_start(subtype, len)?,
            Token::Bytes { bytes, last } => self.binary_piece(bytes, last)?,
            Token::DocumentEnd => self.end_document()?,
            Token::End => {
                if !self.frames.is_empty() {
                    return Err(WriteError::TokenOrder);
                }
            }
        }
        if self.doc.len() > self.options.max_document_size {
            return Err(WriteError::TooLarge(self.options.max_document_size));
        }
        Ok(())
    }

    fn start_document(&mut self, container: Container) -> Result<(), WriteError> {
        let scope_of = match (container, self.pending) {
            (Container::Top, Pending::Nothing) if self.frames.is_empty() => None,
            (Container::Document | Container::Array, Pending::Nothing)
                if !self.frames.is_empty() =>
            {
                None
            }
            (Container::Scope, Pending::Scope { total_at }) => {
                self.pending = Pending::Nothing;
                Some(total_at)
            }
            _ => return Err(WriteError::TokenOrder),
        };
        let start = self.doc.len();
        self.doc.extend_from_slice(&[0; 4]);
        self.frames.push(Frame {
            start,
            next_index: (container == Container::Array).then_some(0),
            scope_of,
        });
        Ok(())
    }

    fn end_document(&mut self) -> Result<(), WriteError> {
        if self.pending != Pending::Nothing {
            return Err(WriteError::TokenOrder);
        }
        let frame = self.frames.pop().ok_or(WriteError::TokenOrder)?;
        self.doc.push(0);
        self.patch_length(frame.start);
        if let Some(total_at) = frame.scope_of {
            self.patch_length(total_at);
        }
        if self.frames.is_empty() {
            self.out.write_all(&self.doc).map_err(WriteError::Io)?;
            self.written += self.doc.len() as u64;
            self.documents += 1;
            self.doc.clear();
        }
        Ok(())
    }

    /// Writes at `at` the length of what was built from there on.
    fn patch_length(&mut self, at: usize) {
        let len = (self.doc.len() - at) as i32;
        self.doc[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }

    fn element(&mut self, ty: ElementType, key: &str) -> Result<(), WriteError> {
        if self.pending != Pending::Nothing {
            return Err(WriteError::TokenOrder);
        }
        let frame = self.frames.last_mut().ok_or(WriteError::TokenOrder)?;
        self.doc.push(ty.byte());
        match &mut frame.next_index {
            // bsonspec.org: array keys are the indices "0", "1", …, whatever the tokens said.
            Some(index) => {
                self.doc
                    .extend_from_slice(itoa::Buffer::new().format(*index).as_bytes());
                *index += 1;
            }
            None => {
                if key.as_bytes().contains(&0) {
                    return Err(WriteError::NulInCString);
                }
                self.doc.extend_from_slice(key.as_bytes());
            }
        }
        self.doc.push(0);
        self.pending = match ty {
            ElementType::String | ElementType::JavaScript | ElementType::Symbol => {
                self.length_placeholder(After::Element)
            }
            ElementType::DbPointer => self.length_placeholder(After::DbPointerId),
            ElementType::CodeWithScope => {
                let total_at = self.doc.len();
                self.doc.extend_from_slice(&[0; 4]);
                self.length_placeholder(After::Scope { total_at })
            }
            ElementType::Regex => Pending::RegexPattern,
            ElementType::Binary => Pending::BinaryHead,
            _ => Pending::Nothing,
        };
        Ok(())
    }

    fn length_placeholder(&mut self, then: After) -> Pending {
        let length_at = self.doc.len();
        self.doc.extend_from_slice(&[0; 4]);
        Pending::Text { length_at, then }
    }

    fn scalar(&mut self, scalar: Scalar) -> Result<(), WriteError> {
        if self.pending == Pending::DbPointerId {
            let Scalar::ObjectId(id) = scalar else {
                return Err(WriteError::TokenOrder);
            };
            self.doc.extend_from_slice(&id);
            self.pending = Pending::Nothing;
            return Ok(());
        }
        if self.pending != Pending::Nothing || self.frames.is_empty() {
            return Err(WriteError::TokenOrder);
        }
        match scalar {
            Scalar::Double(v) => self.doc.extend_from_slice(&v.to_le_bytes()),
            Scalar::Int32(v) => self.doc.extend_from_slice(&v.to_le_bytes()),
            Scalar::Int64(v) | Scalar::DateTime(v) => self.doc.extend_from_slice(&v.to_le_bytes()),
            Scalar::Boolean(v) => self.doc.push(u8::from(v)),
            Scalar::Timestamp { t, i } => {
                self.doc.extend_from_slice(&i.to_le_bytes());
                self.doc.extend_from_slice(&t.to_le_bytes());
            }
            Scalar::ObjectId(id) => self.doc.extend_from_slice(&id),
            Scalar::Decimal128(bytes) => self.doc.extend_from_slice(&bytes),
            Scalar::Null | Scalar::Undefined | Scalar::MinKey | Scalar::MaxKey => {}
        }
        Ok(())
    }

    /// Refuses `n` more bytes that would take the document past its bound, before they are copied.
    fn room(&self, n: usize) -> Result<(), WriteError> {
        if self.doc.len() + n > self.options.max_document_size {
            return Err(WriteError::TooLarge(self.options.max_document_size));
        }
        Ok(())
    }

    fn text(&mut self, bytes: &[u8], last: bool) -> Result<(), WriteError> {
        self.room(bytes.len())?;
        match self.pending {
            Pending::Text { length_at, then } => {
                self.doc.extend_from_slice(bytes);
                if last {
                    self.doc.push(0);
                    // The string's length counts its content and the 0x00, not the length itself.
                    let len = (self.doc.len() - length_at - 4) as i32;
                    self.doc[length_at..length_at + 4].copy_from_slice(&len.to_le_bytes());
                    self.pending = match then {
                        After::Element => Pending::Nothing,
                        After::DbPointerId => Pending::DbPointerId,
                        After::Scope { total_at } => Pending::Scope { total_at },
                    };
                }
            }
            Pending::RegexPattern => {
                if bytes.contains(&0) {
                    return Err(WriteError::NulInCString);
                }
                self.doc.extend_from_slice(bytes);
                if last {
                    self.doc.push(0);
                    self.regex_options.clear();
                    self.pending = Pending::RegexOptions;
                }
            }
            Pending::RegexOptions => {
                if bytes.contains(&0) {
                    return Err(WriteError::NulInCString);
                }
                self.regex_options.extend_from_slice(bytes);
                if last {
                    // bsonspec.org: the options are stored in alphabetical order.
                    crate::types::sort_regex_options(&mut self.regex_options);
                    self.doc.extend_from_slice(&self.regex_options);
                    self.doc.push(0);
                    self.pending = Pending::Nothing;
                }
            }
            _ => return Err(WriteError::TokenOrder),
        }
        Ok(())
    }

    fn binary_start(&mut self, subtype: u8, len: u32) -> Result<(), WriteError> {
        if self.pending != Pending::BinaryHead {
            return Err(WriteError::TokenOrder);
        }
        if subtype == 0x02 {
            // The old binary subtype repeats the data's length inside its value.
            self.doc.extend_from_slice(&(len + 4).to_le_bytes());
            self.doc.push(subtype);
            self.doc.extend_from_slice(&len.to_le_bytes());
        } else {
            self.doc.extend_from_slice(&len.to_le_bytes());
            self.doc.push(subtype);
        }
        self.pending = Pending::Bytes {
            remaining: u64::from(len),
        };
        Ok(())
    }

    fn binary_piece(&mut self, bytes: &[u8], last: bool) -> Result<(), WriteError> {
        let Pending::Bytes { remaining } = self.pending else {
            return Err(WriteError::TokenOrder);
        };
        let n = bytes.len() as u64;
        if n > remaining || (last && n != remaining) {
            return Err(WriteError::TokenOrder);
        }
        self.room(bytes.len())?;
        self.doc.extend_from_slice(bytes);
        self.pending = if last {
            Pending::Nothing
        } else {
            Pending::Bytes {
                remaining: remaining - n,
            }
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(tokens: &[Token<'_>], options: WriterOptions) -> Result<Vec<u8>, WriteError> {
        let mut writer = BsonWriter::new(Vec::new(), options);
        for token in tokens {
            writer.write_token(token)?;
        }
        writer.finish()
    }

    #[test]
    fn array_keys_are_the_indices() {
        let out = write(
            &[
                Token::DocumentStart(Container::Top),
                Token::Element {
                    ty: ElementType::Array,
                    key: "a",
                },
                Token::DocumentStart(Container::Array),
                Token::Element {
                    ty: ElementType::Boolean,
                    key: "",
                },
                Token::Scalar(Scalar::Boolean(true)),
                Token::Element {
                    ty: ElementType::Null,
                    key: "x",
                },
                Token::Scalar(Scalar::Null),
                Token::DocumentEnd,
                Token::DocumentEnd,
                Token::End,
            ],
            WriterOptions::default(),
        )
        .unwrap();
        assert_eq!(
            out,
            b"\x14\x00\x00\x00\x04a\x00\x0C\x00\x00\x00\x080\x00\x01\x0A1\x00\x00\x00"
        );
    }

    #[test]
    fn a_nul_in_a_key_and_an_oversized_document_are_refused() {
        let key = [
            Token::DocumentStart(Container::Top),
            Token::Element {
                ty: ElementType::Null,
                key: "a\0b",
            },
        ];
        assert!(matches!(
            write(&key, WriterOptions::default()),
            Err(WriteError::NulInCString)
        ));
        let big = [0u8; 100];
        let tokens = [
            Token::DocumentStart(Container::Top),
            Token::Element {
                ty: ElementType::Binary,
                key: "b",
            },
            Token::BinaryStart {
                subtype: 0,
                len: 100,
            },
            Token::Bytes {
                bytes: &big,
                last: true,
            },
        ];
        let small = WriterOptions {
            max_document_size: 64,
        };
        assert!(matches!(
            write(&tokens, small),
            Err(WriteError::TooLarge(64))
        ));
    }
}
