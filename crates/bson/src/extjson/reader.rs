//! The Extended JSON reader: MongoDB Extended JSON text (canonical, relaxed, and legacy on request) into
//! BSON documents, one at a time.
//!
//! BSON puts every length and type before the value it describes, where JSON tells them only after it
//! (how long a string or a document is, whether `{"$code": …}` gains a `$scope`). Each top-level document
//! is therefore built in one buffer: a type byte or a length is written as a placeholder and patched
//! when the value ends, and the rare wrapper whose parts come in another order than BSON's (a `$scope`
//! before its `$code`, a `subType` after its `base64`) is put in order in place. Nothing is held but that
//! document, bounded by [`ExtJsonOptions::max_document_size`] (MongoDB's 16 MiB), and whatever JSON the
//! lexer's window holds: a wrapper is decided from its first key and, at most, one short value held
//! before the next key, never by buffering the rest of the object.
//!
//! The grammar of values is walked with a stack on the heap (`max_depth` levels), never the thread's.

use std::io::Read;

use bytes::Bytes;
use dcmflow_engine::json::lexer::{LexError, LexErrorKind, Lexer};

use super::wrappers::{push_member, too_deep};
use crate::error::{Error, ErrorKind, Result};
use crate::types::ElementType;

/// How Extended JSON is read.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ExtJsonOptions {
    /// Accept the legacy forms too (pymongo's `LEGACY_JSON_OPTIONS`, mongoexport v1): `{"$date": <ms>}`,
    /// `{"$binary": "…", "$type": "…"}`, `{"$regex": "…", "$options": "…"}`, `{"$numberLong": <number>}`.
    /// extended-json.md: a parser accepts them "only if explicitly configured to do so".
    pub legacy: bool,
    /// The deepest nesting of documents and arrays (the specification asks for at least 200).
    pub max_depth: usize,
    /// The largest document built, in BSON bytes (MongoDB's limit, 16 MiB).
    pub max_document_size: usize,
    /// The lexer's window over a stream: the longest key or number (and, for pushed input, the longest
    /// document's JSON text, which stays buffered until the document is complete).
    pub max_buffer: usize,
}

impl Default for ExtJsonOptions {
    fn default() -> Self {
        ExtJsonOptions {
            legacy: false,
            max_depth: 1000,
            max_document_size: 16 << 20,
            max_buffer: 1 << 20,
        }
    }
}

/// What a frame of the value stack is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FrameKind {
    Document,
    Array {
        next_index: u32,
    },
    /// The scope document of a code with scope whose value starts at `value_start`; `code_seen` when its
    /// `$code` came before it.
    Scope {
        value_start: usize,
        code_seen: bool,
    },
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Frame {
    pub(super) kind: FrameKind,
    /// Where the document's length goes.
    pub(super) start: usize,
    /// The key of the member being read, as written in the document (for error paths).
    pub(super) key: (usize, usize),
}

/// What the top level looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Top {
    /// Nothing read yet: a `[` makes it an array of documents.
    Start,
    /// Documents one after another (NDJSON, or any whitespace between them).
    Sequence,
    /// Inside a top-level array: `first` until its first document.
    Array {
        first: bool,
    },
    Ended,
}

/// The Extended JSON reader. See the module docs.
pub struct ExtJsonReader<'a> {
    pub(super) lexer: Lexer<'a>,
    pub(super) options: ExtJsonOptions,
    /// The document being built.
    pub(super) doc: Vec<u8>,
    pub(super) frames: Vec<Frame>,
    /// Base64 characters of a group not complete yet, and other short held text.
    pub(super) scratch: Vec<u8>,
    top: Top,
    documents: u64,
    /// Pushed input: the document being read needs more than this many bytes after its start (it ran
    /// out with half as many): until then, a read says `NeedInput` at once instead of starting over. So
    /// a document pushed in many small chunks is read a number of times logarithmic in its size, not
    /// once per chunk.
    retry_when_pushed: u64,
}

impl std::fmt::Debug for ExtJsonReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtJsonReader")
            .field("offset", &self.lexer.offset())
            .field("documents", &self.documents)
            .finish()
    }
}

/// Where the value being read goes: the offset of its element's type byte.
pub(super) type TypeAt = usize;

/// What reading a value did.
pub(super) enum Value {
    /// The value is complete.
    Done,
    /// A container opened and the header of its first member is written: read that member's value.
    Opened(TypeAt),
}

impl<'a> ExtJsonReader<'a> {
    /// Over JSON text in memory (nothing is copied but what goes into the BSON).
    pub fn from_slice(json: &'a [u8], options: ExtJsonOptions) -> Self {
        let lexer = Lexer::from_slice(json, options.max_buffer);
        Self::with_lexer(lexer, options)
    }

    /// Over a stream, read in chunks.
    pub fn from_reader(reader: impl Read + Send + 'a, options: ExtJsonOptions) -> Self {
        let lexer = Lexer::new(Box::new(reader), None, options.max_buffer);
        Self::with_lexer(lexer, options)
    }

    fn with_lexer(lexer: Lexer<'a>, options: ExtJsonOptions) -> Self {
        ExtJsonReader {
            lexer,
            options,
            doc: Vec::new(),
            frames: Vec::new(),
            scratch: Vec::new(),
            top: Top::Start,
            documents: 0,
            retry_when_pushed: 0,
        }
    }

    /// Top-level documents read so far.
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// The byte offset of the next input byte.
    pub fn offset(&self) -> u64 {
        self.lexer.offset()
    }

    /// The next document as BSON, or `None` after the last. A document is returned only whole: an
    /// error leaves nothing of it behind.
    pub fn next_document(&mut self) -> Result<Option<&[u8]>> {
        if self.lexer.is_pushed()
            && !self.lexer.input_ended()
            && self.lexer.pushed_ahead() < self.retry_when_pushed
        {
            return Err(Error::new(
                ErrorKind::NeedInput,
                self.lexer.offset(),
                "",
                "the pushed input runs out inside this document",
            ));
        }
        self.lexer.mark();
        match self.read_top() {
            Ok(true) => {
                self.documents += 1;
                self.retry_when_pushed = 0;
                Ok(Some(&self.doc))
            }
            Ok(false) => Ok(None),
            Err(e) => {
                let error = self.error_at(e);
                if error.kind() == ErrorKind::NeedInput {
                    self.retry_when_pushed = self.lexer.pushed_ahead().saturating_mul(2).max(1);
                }
                Err(error)
            }
        }
    }

    /// One step at the top level: false at the end of input.
    fn read_top(&mut self) -> std::result::Result<bool, Fault> {
        self.doc.clear();
        self.frames.clear();
        let next = match self.top {
            Top::Ended => return Ok(false),
            Top::Start => match self.lexer.peek()? {
                None => {
                    self.top = Top::Ended;
                    return Ok(false);
                }
                Some(b'[') => {
                    self.lexer.bump();
                    if !self.lexer.array_has_first()? {
                        self.end_of_input_after_array()?;
                        return Ok(false);
                    }
                    Top::Array { first: false }
                }
                Some(_) => Top::Sequence,
            },
            Top::Sequence => match self.lexer.peek()? {
                None => {
                    self.top = Top::Ended;
                    return Ok(false);
                }
                Some(_) => Top::Sequence,
            },
            Top::Array { first } => {
                if !first && !self.lexer.array_has_next()? {
                    self.end_of_input_after_array()?;
                    return Ok(false);
                }
                Top::Array { first: false }
            }
        };
        match self.lexer.peek()? {
            Some(b'{') => self.lexer.bump(),
            Some(_) => {
                return Err(Fault::syntax(
                    "expected a document ('{'): every top-level value becomes one BSON document",
                ))
            }
            None => return Err(Fault::syntax("expected a document ('{')")),
        }
        self.read_document_body()?;
        // Only a whole document moves the top level on: pushed input that ran out retries from the
        // mark with the state it had.
        self.top = next;
        Ok(true)
    }

    fn end_of_input_after_array(&mut self) -> std::result::Result<(), Fault> {
        if self.lexer.peek()?.is_some() {
            return Err(Fault::syntax("text after the top-level array"));
        }
        self.top = Top::Ended;
        Ok(())
    }

    /// After the `{` of a top-level document: the whole document into `doc`.
    fn read_document_body(&mut self) -> std::result::Result<(), Fault> {
        self.doc.extend_from_slice(&[0; 4]);
        self.frames.push(Frame {
            kind: FrameKind::Document,
            start: 0,
            key: (0, 0),
        });
        if !self.lexer.object_has_first()? {
            return self.close_container().map(|_| ());
        }
        // extended-json.md: type wrappers are looked for in objects "other than the top-level object".
        let mut type_at = self.member_header(false)?;
        loop {
            if let Value::Opened(at) = self.read_value(type_at)? {
                type_at = at;
                continue;
            }
            match self.after_value()? {
                Some(at) => type_at = at,
                None => return Ok(()),
            }
        }
    }

    /// After a value: the next member's header (its type byte's offset), closing the containers that
    /// end; `None` when the top-level document has ended.
    fn after_value(&mut self) -> std::result::Result<Option<TypeAt>, Fault> {
        loop {
            let frame = *self.frames.last().expect("a frame is open");
            let more = match frame.kind {
                FrameKind::Document | FrameKind::Scope { .. } => self.lexer.object_has_next()?,
                FrameKind::Array { .. } => self.lexer.array_has_next()?,
            };
            if more {
                return match frame.kind {
                    FrameKind::Array { .. } => Ok(Some(self.array_header())),
                    _ => self.member_header(self.frames.len() > 1).map(Some),
                };
            }
            if self.close_container()? {
                return Ok(None);
            }
        }
    }

    /// Ends the innermost document or array (its `}` or `]` is consumed): true when it was the
    /// top-level document.
    fn close_container(&mut self) -> std::result::Result<bool, Fault> {
        let frame = self.frames.pop().expect("a frame is open");
        self.doc.push(0);
        self.patch_length(frame.start);
        if let FrameKind::Scope {
            value_start,
            code_seen,
        } = frame.kind
        {
            self.finish_code_with_scope(value_start, code_seen)?;
        }
        self.check_size()?;
        Ok(self.frames.is_empty())
    }

    /// The length of what starts at `at` (a length field) up to the end of the document, patched in.
    pub(super) fn patch_length(&mut self, at: usize) {
        let len = (self.doc.len() - at) as i32;
        self.doc[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }

    pub(super) fn check_size(&self) -> std::result::Result<(), Fault> {
        if self.doc.len() > self.options.max_document_size {
            return Err(self.too_large());
        }
        Ok(())
    }

    #[cold]
    pub(super) fn too_large(&self) -> Fault {
        Fault::new(
            ErrorKind::TooLarge,
            format!(
                "the document grows past {} bytes of BSON (max_document_size; MongoDB's limit is 16 MiB)",
                self.options.max_document_size
            ),
        )
    }

    /// Reads a member name and writes its element header with a placeholder type byte. `nested`: a
    /// document below the top level, where a type wrapper's key among other members is an error.
    fn member_header(&mut self, nested: bool) -> std::result::Result<TypeAt, Fault> {
        let (key, escaped) = self.lexer.read_key_bytes()?;
        let frame = self.frames.last_mut().expect("a document is open");
        // The header first, so that an error's path names this member.
        let type_at = push_member(&mut self.doc, frame, key);
        if nested && key.first() == Some(&b'$') && is_wrapper_key(key, self.options.legacy) {
            return Err(Fault::syntax(format!(
                "'{}' among other members: a type wrapper has exactly its own keys (extended-json.md, Parsers)",
                String::from_utf8_lossy(key)
            )));
        }
        if escaped && key.contains(&0) {
            return Err(Fault::syntax(
                "a key holds U+0000, which BSON cannot store (keys end at a 0x00 byte)",
            ));
        }
        Ok(type_at)
    }

    /// The element header of the next array element: its index as the key.
    fn array_header(&mut self) -> TypeAt {
        let frame = self.frames.last_mut().expect("an array is open");
        let FrameKind::Array { next_index } = &mut frame.kind else {
            unreachable!("array_header outside an array")
        };
        let index = *next_index;
        *next_index += 1;
        let type_at = self.doc.len();
        self.doc.push(0);
        let key_start = self.doc.len();
        self.doc
            .extend_from_slice(itoa::Buffer::new().format(index).as_bytes());
        let key_end = self.doc.len();
        self.doc.push(0);
        frame.key = (key_start, key_end);
        type_at
    }

    /// Opens a document or array whose `{`/`[` was consumed, as the value at `type_at`.
    pub(super) fn open_container(
        &mut self,
        type_at: TypeAt,
        ty: ElementType,
        kind: FrameKind,
    ) -> std::result::Result<(), Fault> {
        if self.frames.len() >= self.options.max_depth {
            return Err(too_deep(self.options.max_depth));
        }
        self.doc[type_at] = ty.byte();
        let start = self.doc.len();
        self.doc.extend_from_slice(&[0; 4]);
        self.frames.push(Frame {
            kind,
            start,
            key: (0, 0),
        });
        Ok(())
    }

    /// One value, whose element header ends `doc` and whose type byte is at `type_at`.
    fn read_value(&mut self, type_at: TypeAt) -> std::result::Result<Value, Fault> {
        match self.lexer.peek()? {
            Some(b'"') => {
                self.doc[type_at] = ElementType::String.byte();
                self.string_value()?;
            }
            Some(b'-' | b'0'..=b'9') => self.number_value(type_at)?,
            Some(b'{') => {
                self.lexer.bump();
                return self.object_value(type_at);
            }
            Some(b'[') => {
                self.lexer.bump();
                let kind = FrameKind::Array { next_index: 0 };
                self.open_container(type_at, ElementType::Array, kind)?;
                if self.lexer.array_has_first()? {
                    return Ok(Value::Opened(self.array_header()));
                }
                self.close_container()?;
            }
            Some(b't') => {
                self.lexer.read_literal("true")?;
                self.doc[type_at] = ElementType::Boolean.byte();
                self.doc.push(1);
            }
            Some(b'f') => {
                self.lexer.read_literal("false")?;
                self.doc[type_at] = ElementType::Boolean.byte();
                self.doc.push(0);
            }
            Some(b'n') => {
                self.lexer.read_literal("null")?;
                self.doc[type_at] = ElementType::Null.byte();
            }
            Some(b) => {
                return Err(Fault::syntax(format!(
                    "expected a value, found {}",
                    describe(b)
                )))
            }
            None => return Err(Fault::truncated("a value")),
        }
        Ok(Value::Done)
    }

    /// A relaxed JSON number (extended-json.md, "Special rules for parsing JSON numbers"): an integer as
    /// the smallest of int32 and int64 that holds it, else a double; a number with a fraction or an
    /// exponent as a double.
    fn number_value(&mut self, type_at: TypeAt) -> std::result::Result<(), Fault> {
        let text = self.lexer.read_number()?;
        write_number(&mut self.doc, type_at, text);
        Ok(())
    }

    /// [`Self::number_value`] of number text already read.
    pub(super) fn write_number(&mut self, type_at: TypeAt, text: &str) {
        write_number(&mut self.doc, type_at, text);
    }
}

/// Appends the number `text` as the value at `type_at` (see `number_value`).
fn write_number(doc: &mut Vec<u8>, type_at: TypeAt, text: &str) {
    {
        let integer = !text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
        if integer {
            if let Ok(v) = text.parse::<i64>() {
                if let Ok(v) = i32::try_from(v) {
                    doc[type_at] = ElementType::Int32.byte();
                    doc.extend_from_slice(&v.to_le_bytes());
                } else {
                    doc[type_at] = ElementType::Int64.byte();
                    doc.extend_from_slice(&v.to_le_bytes());
                }
                return;
            }
        }
        // The JSON number grammar is a subset of Rust's float grammar: this cannot fail. A number beyond
        // a double's range becomes ±infinity, as in every JSON reader that yields doubles.
        let v: f64 = text.parse().unwrap_or(f64::NAN);
        doc[type_at] = ElementType::Double.byte();
        doc.extend_from_slice(&v.to_le_bytes());
    }
}

impl ExtJsonReader<'_> {
    /// A JSON string as a BSON string value: length, the UTF-8 bytes, 0x00.
    pub(super) fn string_value(&mut self) -> std::result::Result<(), Fault> {
        let length_at = self.doc.len();
        self.doc.extend_from_slice(&[0; 4]);
        self.string_content()?;
        self.doc.push(0);
        // bsonspec.org: a string's length counts its bytes and the 0x00, not the length itself.
        let len = (self.doc.len() - length_at - 4) as i32;
        self.doc[length_at..length_at + 4].copy_from_slice(&len.to_le_bytes());
        self.check_size()
    }

    /// The content of the JSON string at the next byte, unescaped and appended to `doc` in pieces (a
    /// string of any length streams through the lexer's window); returns where it starts in `doc`.
    pub(super) fn string_content(&mut self) -> std::result::Result<usize, Fault> {
        let start = self.doc.len();
        if let Some(plain) = self.lexer.take_plain_ascii_string() {
            let n = plain.len();
            self.doc.extend_from_slice(plain);
            if self.doc.len() <= self.options.max_document_size {
                return Ok(start);
            }
            // Past the limit: read it again the careful way, which places the error.
            self.doc.truncate(start);
            self.lexer.unread(n + 2);
        }
        self.lexer.expect(b'"', "a string")?;
        let mut ascii = true;
        loop {
            let (piece, stop) = self.lexer.take_until_quote(PIECE)?;
            let taken = piece.len() + usize::from(stop == Some(b'"'));
            if has_control(piece) {
                // Reported at the character, wherever the piece ended.
                let at = piece.iter().position(|&b| b < 0x20).unwrap_or(0);
                self.lexer.unread(taken - at);
                return Err(Fault::syntax(
                    "control character in a string (RFC 8259 §7: it must be escaped)",
                ));
            }
            ascii &= piece.is_ascii();
            let piece_len = piece.len();
            self.doc.extend_from_slice(piece);
            let room = self.options.max_document_size;
            if self.doc.len() > room {
                // Reported at the byte that does not fit, wherever the piece ended.
                let over = (self.doc.len() - room - 1).min(piece_len);
                self.lexer.unread(over + taken - piece_len);
                return Err(self.too_large());
            }
            match stop {
                Some(b'"') => break,
                Some(_) => {
                    let c = self.lexer.take_escape()?;
                    let mut utf8 = [0; 4];
                    self.doc
                        .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                }
                None => {}
            }
        }
        if !ascii && std::str::from_utf8(&self.doc[start..]).is_err() {
            return Err(Fault::syntax("invalid UTF-8 in a string (RFC 8259 §8.1)"));
        }
        Ok(start)
    }

    /// The error of `fault`, placed: line, column, byte offset and key path.
    fn error_at(&mut self, fault: Fault) -> Error {
        let offset = self.lexer.offset();
        let (line, column) = self.lexer.line_column();
        let path = self.path();
        if fault.kind == ErrorKind::NeedInput {
            self.lexer.rewind();
        }
        Error::new(fault.kind, offset, &path, fault.message).with_line_column(line, column)
    }

    /// The keys from the top-level document to the member being read, joined by `.`.
    fn path(&self) -> String {
        let mut path = String::new();
        for frame in &self.frames {
            let (start, end) = frame.key;
            if end > start || matches!(frame.kind, FrameKind::Array { .. }) {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&String::from_utf8_lossy(&self.doc[start..end]));
            }
        }
        path
    }
}

impl ExtJsonReader<'static> {
    /// Over chunks the caller pushes ([`ExtJsonReader::push`], [`ExtJsonReader::end_input`]):
    /// [`ExtJsonReader::next_document`] fails with [`ErrorKind::NeedInput`] until a whole document has
    /// been pushed (its JSON text stays buffered until then: at most `max_buffer` bytes).
    pub fn pushed(options: ExtJsonOptions) -> Self {
        let lexer = Lexer::pushed(options.max_buffer);
        Self::with_lexer(lexer, options)
    }
}

impl ExtJsonReader<'_> {
    /// Appends a pushed chunk.
    pub fn push(&mut self, chunk: Bytes) {
        self.lexer.push(chunk);
    }

    /// No more chunks will be pushed.
    pub fn end_input(&mut self) {
        self.lexer.end_input();
    }
}

/// Bytes of a string taken from the lexer's window at a time.
const PIECE: usize = 1 << 16;

/// Whether `bytes` holds a control character (below U+0020), which RFC 8259 wants escaped.
fn has_control(bytes: &[u8]) -> bool {
    // A branch-free minimum vectorises, where `any` with its early exit does not.
    bytes.iter().fold(0xFF, |min, &b| min.min(b)) < 0x20
}

/// The keys that make an object a type wrapper (extended-json.md, Conversion table; `$uuid`), and the
/// legacy ones when they are accepted.
pub(super) fn is_wrapper_key(key: &[u8], legacy: bool) -> bool {
    matches!(
        key,
        b"$oid"
            | b"$symbol"
            | b"$numberInt"
            | b"$numberLong"
            | b"$numberDouble"
            | b"$numberDecimal"
            | b"$binary"
            | b"$code"
            | b"$scope"
            | b"$timestamp"
            | b"$regularExpression"
            | b"$dbPointer"
            | b"$date"
            | b"$minKey"
            | b"$maxKey"
            | b"$undefined"
            | b"$uuid"
    ) || legacy && key == b"$regex"
}

/// A problem before it is placed (line, column, offset and path are added by the reader).
#[derive(Debug)]
pub(super) struct Fault {
    pub(super) kind: ErrorKind,
    pub(super) message: String,
}

impl Fault {
    pub(super) fn new(kind: ErrorKind, message: impl Into<String>) -> Fault {
        Fault {
            kind,
            message: message.into(),
        }
    }

    #[cold]
    pub(super) fn syntax(message: impl Into<String>) -> Fault {
        Fault::new(ErrorKind::Syntax, message)
    }

    #[cold]
    pub(super) fn truncated(what: &str) -> Fault {
        Fault::new(
            ErrorKind::Truncated,
            format!("the input ends where {what} should be"),
        )
    }
}

impl From<LexError> for Fault {
    fn from(e: LexError) -> Fault {
        let e = e.into_data();
        let kind = match e.kind {
            LexErrorKind::Io(_) => ErrorKind::Io,
            LexErrorKind::Syntax => ErrorKind::Syntax,
            LexErrorKind::Limit => ErrorKind::TooLong,
            LexErrorKind::NeedInput => ErrorKind::NeedInput,
        };
        Fault::new(kind, e.message)
    }
}

/// A byte as people read it in a message.
pub(super) fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02X}")
    }
}
