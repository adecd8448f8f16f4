//! The BSON pull reader: one document or a concatenated stream of them (mongodump's `.bson`), read token
//! by token with no tree, values of any size in bounded pieces.
//!
//! Every length is checked against the end of the document that holds it before anything is read past
//! it (bsonspec.org; the corpus's `decodeErrors`), so a length field never sizes an allocation and a bad
//! one is reported where it stands. Nesting is a stack on the heap: depth is bounded by
//! [`ReaderOptions::max_depth`], never by the thread's stack.

use bytes::Bytes;
use dcmflow_engine::input::{Input, InputError};

use crate::error::{Error, ErrorKind, Result};
use crate::types::ElementType;

/// How the reader reads.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReaderOptions {
    /// The largest piece of a string or binary value handed out from a stream (a slice hands out a
    /// value whole).
    pub chunk_size: usize,
    /// The deepest nesting of documents and arrays accepted (the top-level document is 1).
    pub max_depth: usize,
    /// The longest key or regular expression part accepted (these end at a 0x00 byte, so they are held
    /// whole to be found).
    pub max_cstring: usize,
    /// Read documents one after another to the end of the input (mongodump's `.bson`); otherwise the
    /// input is one document and anything after it is an error.
    pub stream: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            chunk_size: 64 * 1024,
            max_depth: 1000,
            max_cstring: 1 << 20,
            stream: false,
        }
    }
}

/// Which kind of document opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// A top-level document.
    Top,
    /// An embedded document.
    Document,
    /// An array.
    Array,
    /// The scope of a JavaScript code with scope.
    Scope,
}

/// A value of fixed size, decoded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// 0x01.
    Double(f64),
    /// 0x10.
    Int32(i32),
    /// 0x12.
    Int64(i64),
    /// 0x08.
    Boolean(bool),
    /// 0x09: milliseconds since the Unix epoch.
    DateTime(i64),
    /// 0x11: seconds and increment.
    Timestamp {
        /// Seconds since the epoch (the high 32 bits).
        t: u32,
        /// The increment (the low 32 bits).
        i: u32,
    },
    /// 0x07.
    ObjectId([u8; 12]),
    /// 0x13: the 16 bytes as stored (little endian).
    Decimal128([u8; 16]),
    /// 0x0A.
    Null,
    /// 0x06.
    Undefined,
    /// 0xFF.
    MinKey,
    /// 0x7F.
    MaxKey,
}

/// One step of a BSON input, in order:
///
/// ```text
/// input    := document* End            (one document unless ReaderOptions::stream)
/// document := DocumentStart element* DocumentEnd
/// element  := Element value
/// value    := Scalar | text | document                  (string, symbol, code: text)
///           | BinaryStart Bytes+                         (binary)
///           | text text                                  (regex: pattern, options)
///           | text Scalar(ObjectId)                      (DBPointer: namespace, id)
///           | text document                              (code with scope: code, scope)
/// text     := Text+                                      (the last has last: true)
/// ```
/// Text is valid UTF-8 as a whole; a piece may end inside a character.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Token<'a> {
    /// A document opens.
    DocumentStart(Container),
    /// An element: its type and key.
    Element {
        /// The type byte's type.
        ty: ElementType,
        /// The key (for arrays, what the file says, not checked against the index).
        key: &'a str,
    },
    /// A value of fixed size.
    Scalar(Scalar),
    /// A piece of text.
    Text {
        /// The bytes of this piece.
        bytes: &'a [u8],
        /// The text's last piece.
        last: bool,
    },
    /// A binary value opens.
    BinaryStart {
        /// The subtype byte.
        subtype: u8,
        /// The length of the data (for the old subtype 0x02, without its inner length, which the
        /// reader checks and drops).
        len: u32,
    },
    /// A piece of binary data (one empty piece for an empty value).
    Bytes {
        /// The bytes of this piece.
        bytes: &'a [u8],
        /// The value's last piece.
        last: bool,
    },
    /// The innermost open document ends.
    DocumentEnd,
    /// The input ends.
    End,
}

/// What follows a text value's last piece.
#[derive(Clone, Copy, Debug)]
enum AfterText {
    /// The element is complete.
    Element,
    /// The options of a regular expression.
    RegexOptions,
    /// The ObjectId of a DBPointer.
    DbPointerId,
    /// The scope of a code with scope: a document of exactly this length.
    Scope(u32),
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Before a top-level document (or the end of input).
    DocumentHead,
    /// Before a type byte or the terminator of the innermost document.
    Elements,
    /// After an element's key.
    Value(ElementType),
    /// Inside a length-prefixed string: `remaining` content bytes, then its 0x00.
    Text { remaining: u64, then: AfterText },
    /// Before a 0x00-terminated text (regex parts).
    CString { then: AfterText },
    /// Before a DBPointer's ObjectId.
    DbPointerId,
    /// Before a code with scope's scope document, which must have this length.
    Scope(u32),
    /// Inside a binary value.
    Bytes { remaining: u64 },
    /// The input has ended.
    Done,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    /// The offset of the document's terminating 0x00 (from its length).
    end: u64,
    /// The length of `path` before this document's keys.
    path_len: usize,
}

/// Checks UTF-8 across pieces: the bytes of a character cut by a piece boundary wait for the next piece.
#[derive(Clone, Copy, Debug, Default)]
struct Utf8Carry {
    bytes: [u8; 4],
    len: usize,
}

impl Utf8Carry {
    /// Checks `piece`; false when the text so far cannot be UTF-8.
    fn check(&mut self, mut piece: &[u8], last: bool) -> bool {
        if self.len > 0 {
            let need = utf8_width(self.bytes[0]);
            while self.len < need {
                let Some((&b, rest)) = piece.split_first() else {
                    // Still short: the bytes so far must be the start of a character (as a check of
                    // the whole text would find at once).
                    let prefix = std::str::from_utf8(&self.bytes[..self.len]);
                    return !last && prefix.map_or_else(|e| e.error_len().is_none(), |_| true);
                };
                self.bytes[self.len] = b;
                self.len += 1;
                piece = rest;
            }
            if std::str::from_utf8(&self.bytes[..self.len]).is_err() {
                return false;
            }
            self.len = 0;
        }
        if piece.is_ascii() {
            return true;
        }
        match std::str::from_utf8(piece) {
            Ok(_) => true,
            Err(e) if e.error_len().is_none() && !last => {
                let tail = &piece[e.valid_up_to()..];
                self.bytes[..tail.len()].copy_from_slice(tail);
                self.len = tail.len();
                true
            }
            Err(_) => false,
        }
    }
}

/// `bytes` as text when they are UTF-8: ASCII (most keys and text) by the word-at-a-time check first.
#[inline]
fn utf8(bytes: &[u8]) -> Option<&str> {
    dcmflow_simd::ascii_str(bytes).or_else(|| std::str::from_utf8(bytes).ok())
}

/// The length of the UTF-8 sequence a lead byte starts (1 for a byte no sequence starts with, which
/// the check then refuses).
fn utf8_width(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// The BSON pull reader. See the module docs and [`Token`].
#[derive(Debug)]
pub struct BsonReader<'a> {
    input: Input<'a>,
    options: ReaderOptions,
    state: State,
    frames: Vec<Frame>,
    /// The keys of the open elements, joined by `.` (for error messages).
    path: String,
    /// Bytes of the last token still to consume (a borrowed token holds the input until the next call).
    pending: usize,
    utf8: Utf8Carry,
    /// Where the content of the string being read starts: its UTF-8 errors are reported there, however
    /// it is read in pieces.
    text_start: u64,
    documents: u64,
    /// Where the last token started.
    token_offset: u64,
}

impl<'a> BsonReader<'a> {
    /// Reads BSON in memory, handing out values in place.
    pub fn from_slice(data: &'a [u8], options: ReaderOptions) -> BsonReader<'a> {
        Self::new(Input::from_slice(data), options)
    }

    /// Reads BSON from a stream through one buffer of `options.chunk_size` bytes.
    pub fn from_reader(reader: impl std::io::Read + Send + 'a, options: ReaderOptions) -> Self {
        let chunk = options.chunk_size;
        Self::new(Input::from_reader(reader, chunk), options)
    }

    /// Reads BSON the caller pushes in chunks ([`BsonReader::push`], [`BsonReader::end_input`]); a step
    /// that runs out of bytes returns an error of kind [`ErrorKind::NeedInput`] and is tried again by the
    /// next `read_token`.
    pub fn pushed(options: ReaderOptions) -> BsonReader<'static> {
        BsonReader::new(Input::pushed(), options)
    }

    fn new(input: Input<'a>, options: ReaderOptions) -> Self {
        BsonReader {
            input,
            options,
            state: State::DocumentHead,
            frames: Vec::new(),
            path: String::new(),
            pending: 0,
            utf8: Utf8Carry::default(),
            text_start: 0,
            documents: 0,
            token_offset: 0,
        }
    }

    /// Appends a pushed chunk.
    pub fn push(&mut self, chunk: Bytes) {
        self.input.push(chunk);
    }

    /// No more chunks will be pushed.
    pub fn end_input(&mut self) {
        self.input.end_input();
    }

    /// The byte offset where the last token started.
    pub fn token_offset(&self) -> u64 {
        self.token_offset
    }

    /// The top-level documents begun so far.
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// The key path of the current element, `.`-joined.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The byte offset of the next byte to read.
    pub fn position(&self) -> u64 {
        self.input.position() + self.pending as u64
    }

    /// The next token. After an error other than [`ErrorKind::NeedInput`], reading further gives the
    /// same error's kind again (the reader does not resynchronise).
    pub fn read_token(&mut self) -> Result<Token<'_>> {
        self.input.advance(std::mem::take(&mut self.pending));
        self.input.mark();
        self.token_offset = self.input.position();
        match self.step() {
            Ok(step) => Ok(self.token(step)),
            Err(mut e) => {
                if matches!(e.kind(), ErrorKind::NeedInput | ErrorKind::Io) {
                    e.set_offset(self.input.position());
                }
                if e.kind() == ErrorKind::NeedInput {
                    self.input.rewind();
                } else {
                    self.state = State::Done;
                    self.frames.clear();
                }
                Err(e)
            }
        }
    }

    /// A token whose bytes are still in the input (`len` of them, consumed by the next call) is built
    /// here, after every state change, so that it can borrow the input.
    fn token(&mut self, step: Step) -> Token<'_> {
        match step {
            Step::Token(token) => token,
            Step::Key { ty, len } => {
                self.pending = len + 1;
                let key = self.input.peek(len).map(|b| &b[..len]).unwrap_or(&[]);
                Token::Element {
                    ty,
                    // Checked in `step` (the bytes are the same).
                    key: utf8(key).unwrap_or_default(),
                }
            }
            Step::CString { len } => {
                self.pending = len + 1;
                let bytes = self.input.peek(len).map(|b| &b[..len]).unwrap_or(&[]);
                Token::Text { bytes, last: true }
            }
            Step::Taken { text, last } => {
                let bytes = self.input.last_taken();
                if text {
                    Token::Text { bytes, last }
                } else {
                    Token::Bytes { bytes, last }
                }
            }
        }
    }

    fn error(&self, kind: ErrorKind, offset: u64, message: impl Into<String>) -> Error {
        Error::new(kind, offset, &self.path, message)
    }

    fn truncated(&self, at: u64, what: &str) -> Error {
        self.error(
            ErrorKind::Truncated,
            at,
            format!("the input ends inside {what}"),
        )
    }

    /// Exactly `N` bytes, or a truncation error naming `what`.
    fn fixed<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let bytes = self.input.peek(N).map_err(|e| input_error(e, &self.path))?;
        if bytes.len() < N {
            let at = self.input.position();
            return Err(self.truncated(at, what));
        }
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// The offset of the innermost document's terminator.
    fn frame_end(&self) -> u64 {
        self.frames.last().map_or(u64::MAX, |f| f.end)
    }

    /// Checks that `len` bytes from `at` end before the innermost document's terminator; `what` names
    /// them in the error (made only then).
    #[inline]
    fn fits(&self, at: u64, len: u64, what: impl FnOnce() -> String) -> Result<()> {
        if at + len > self.frame_end() {
            return Err(self.error(
                ErrorKind::Invalid,
                at,
                format!("{} runs past the end of its document", what()),
            ));
        }
        Ok(())
    }

    fn step(&mut self) -> Result<Step> {
        match self.state {
            State::DocumentHead => self.document_head(),
            State::Elements => self.element(),
            State::Value(ty) => self.value(ty),
            State::Text { remaining, then } => self.text_piece(remaining, then),
            State::CString { then } => self.cstring(then),
            State::DbPointerId => {
                let at = self.token_offset; // the step starts where the token does
                self.fits(at, 12, || "a DBPointer's ObjectId".to_string())?;
                let id = self.fixed::<12>("a DBPointer's ObjectId")?;
                self.input.advance(12);
                self.state = State::Elements;
                Ok(Step::Token(Token::Scalar(Scalar::ObjectId(id))))
            }
            State::Scope(expected) => {
                let at = self.token_offset; // the step starts where the token does
                let len = i32::from_le_bytes(self.fixed::<4>("a code's scope length")?);
                if len != expected as i32 || len < 5 {
                    return Err(self.error(
                        ErrorKind::Invalid,
                        at,
                        format!(
                            "the scope's length {len} does not fill the code with scope (which leaves {expected})"
                        ),
                    ));
                }
                self.open(at, len as u32)?;
                Ok(Step::Token(Token::DocumentStart(Container::Scope)))
            }
            State::Bytes { remaining } => self.bytes_piece(remaining),
            State::Done => Ok(Step::Token(Token::End)),
        }
    }

    fn document_head(&mut self) -> Result<Step> {
        let at = self.token_offset; // the step starts where the token does
        let ended = self
            .input
            .at_end()
            .map_err(|e| input_error(e, &self.path))?;
        if ended {
            if self.documents == 0 && !self.options.stream {
                return Err(self.error(ErrorKind::Truncated, at, "the input is empty"));
            }
            self.state = State::Done;
            return Ok(Step::Token(Token::End));
        }
        if self.documents > 0 && !self.options.stream {
            return Err(self.error(
                ErrorKind::Invalid,
                at,
                "bytes after the document (documents one after another are read with ReaderOptions::stream)",
            ));
        }
        let head = self.input.peek(4).map_err(|e| input_error(e, &self.path))?;
        if head.len() < 4 {
            return Err(self.truncated(at, "a document's length"));
        }
        let len = i32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        if len < 5 {
            return Err(self.error(
                ErrorKind::Invalid,
                at,
                format!("a document length of {len} (at least 5: the length and the terminator)"),
            ));
        }
        self.open(at, len as u32)?;
        self.documents += 1;
        Ok(Step::Token(Token::DocumentStart(Container::Top)))
    }

    /// Opens a document of `len` bytes whose length field is at `at` (and already peeked).
    fn open(&mut self, at: u64, len: u32) -> Result<()> {
        if self.frames.len() >= self.options.max_depth {
            return Err(self.error(
                ErrorKind::TooDeep,
                at,
                format!(
                    "documents nest deeper than {} levels (ReaderOptions::max_depth)",
                    self.options.max_depth
                ),
            ));
        }
        self.input.advance(4);
        self.frames.push(Frame {
            end: at + u64::from(len) - 1,
            path_len: self.path.len(),
        });
        self.state = State::Elements;
        Ok(())
    }

    fn element(&mut self) -> Result<Step> {
        let at = self.token_offset; // the step starts where the token does
        let end = self.frame_end();
        let type_byte = self.fixed::<1>("a document")?[0];
        if at == end {
            if type_byte != 0 {
                return Err(self.error(
                    ErrorKind::Invalid,
                    at,
                    format!(
                        "0x{type_byte:02X} where the document's length puts its terminating 0x00"
                    ),
                ));
            }
            self.input.advance(1);
            return Ok(self.close());
        }
        if type_byte == 0 {
            return Err(self.error(
                ErrorKind::Invalid,
                at,
                format!(
                    "the document ends {} bytes before its length says",
                    end - at
                ),
            ));
        }
        let Some(ty) = ElementType::from_byte(type_byte) else {
            return Err(self.error(
                ErrorKind::Invalid,
                at,
                format!("0x{type_byte:02X} is not a BSON element type"),
            ));
        };
        // The key's end in the bytes at hand when it is there (most keys), else by peeks.
        let limit = ((end - at) as usize).min(self.options.max_cstring + 1);
        let window = self.input.buffered();
        let span = &window[1.min(window.len())..window.len().min(limit)];
        let len = match memchr::memchr(0, span) {
            Some(len) => len,
            None => self.find_nul(at + 1, "a key")?,
        };
        let key = &self
            .input
            .peek(1 + len)
            .map_err(|e| input_error(e, &self.path))?[1..];
        let Some(key) = utf8(key) else {
            return Err(self.error(ErrorKind::Invalid, at + 1, "a key that is not UTF-8"));
        };
        let frame = *self.frames.last().expect("inside a document");
        self.path.truncate(frame.path_len);
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(key);
        self.input.advance(1);
        self.state = State::Value(ty);
        Ok(Step::Key { ty, len })
    }

    /// The length of the 0x00-terminated string at `at` (the current position plus what was peeked
    /// before it): it must end before the document's terminator.
    fn find_nul(&mut self, at: u64, what: &str) -> Result<usize> {
        let skip = (at - self.input.position()) as usize;
        let limit = (self.frame_end() - at) as usize; // the terminator itself cannot end it
        let max = limit.min(self.options.max_cstring + 1);
        let mut want = 64usize.min(max + skip);
        loop {
            let window = self
                .input
                .peek(skip + want)
                .map_err(|e| input_error(e, &self.path))?;
            let body = &window[skip.min(window.len())..];
            let body = &body[..body.len().min(max)];
            if let Some(i) = memchr::memchr(0, body) {
                return Ok(i);
            }
            if body.len() >= max {
                if limit <= self.options.max_cstring {
                    return Err(self.error(
                        ErrorKind::Invalid,
                        at,
                        format!("{what} runs past the end of its document"),
                    ));
                }
                return Err(self.error(
                    ErrorKind::TooLong,
                    at,
                    format!(
                        "{what} longer than {} bytes (ReaderOptions::max_cstring)",
                        self.options.max_cstring
                    ),
                ));
            }
            if window.len() < skip + want {
                return Err(self.truncated(at, what));
            }
            want = (want * 4).min(max);
        }
    }

    /// The innermost document ends.
    fn close(&mut self) -> Step {
        let frame = self.frames.pop().expect("inside a document");
        self.path.truncate(frame.path_len);
        self.state = if self.frames.is_empty() {
            State::DocumentHead
        } else {
            State::Elements
        };
        Step::Token(Token::DocumentEnd)
    }

    fn value(&mut self, ty: ElementType) -> Result<Step> {
        let at = self.token_offset; // the step starts where the token does
        if let Some(size) = ty.fixed_size() {
            self.fits(at, size as u64, || "the value".to_string())?;
            let scalar = self.scalar(ty, at)?;
            self.input.advance(size);
            self.state = State::Elements;
            return Ok(Step::Token(Token::Scalar(scalar)));
        }
        match ty {
            ElementType::String | ElementType::JavaScript | ElementType::Symbol => {
                self.string_head(at, AfterText::Element)
            }
            ElementType::DbPointer => self.string_head(at, AfterText::DbPointerId),
            ElementType::Document | ElementType::Array => {
                let len = i32::from_le_bytes(self.fixed::<4>("a document's length")?);
                if len < 5 {
                    return Err(self.error(
                        ErrorKind::Invalid,
                        at,
                        format!("a document length of {len} (at least 5)"),
                    ));
                }
                self.fits(at, len as u64, || format!("a document of length {len}"))?;
                let container = if ty == ElementType::Array {
                    Container::Array
                } else {
                    Container::Document
                };
                self.open(at, len as u32)?;
                Ok(Step::Token(Token::DocumentStart(container)))
            }
            ElementType::Binary => self.binary_head(at),
            ElementType::Regex => {
                self.state = State::CString {
                    then: AfterText::RegexOptions,
                };
                self.cstring(AfterText::RegexOptions)
            }
            ElementType::CodeWithScope => self.code_with_scope_head(at),
            _ => unreachable!("fixed-size types are handled above"),
        }
    }

    fn scalar(&mut self, ty: ElementType, at: u64) -> Result<Scalar> {
        Ok(match ty {
            ElementType::Double => Scalar::Double(f64::from_le_bytes(self.fixed("a double")?)),
            ElementType::Int32 => Scalar::Int32(i32::from_le_bytes(self.fixed("an int32")?)),
            ElementType::Int64 => Scalar::Int64(i64::from_le_bytes(self.fixed("an int64")?)),
            ElementType::DateTime => {
                Scalar::DateTime(i64::from_le_bytes(self.fixed("a datetime")?))
            }
            ElementType::Timestamp => {
                let v = u64::from_le_bytes(self.fixed("a timestamp")?);
                Scalar::Timestamp {
                    t: (v >> 32) as u32,
                    i: v as u32,
                }
            }
            ElementType::ObjectId => Scalar::ObjectId(self.fixed("an ObjectId")?),
            ElementType::Decimal128 => Scalar::Decimal128(self.fixed("a decimal128")?),
            ElementType::Boolean => match self.fixed::<1>("a boolean")?[0] {
                0 => Scalar::Boolean(false),
                1 => Scalar::Boolean(true),
                b => {
                    return Err(self.error(
                        ErrorKind::Invalid,
                        at,
                        format!("a boolean byte 0x{b:02X} (only 0x00 and 0x01)"),
                    ))
                }
            },
            ElementType::Null => Scalar::Null,
            ElementType::Undefined => Scalar::Undefined,
            ElementType::MinKey => Scalar::MinKey,
            ElementType::MaxKey => Scalar::MaxKey,
            _ => unreachable!("only fixed-size types"),
        })
    }

    /// A length-prefixed string's length (which counts its terminating 0x00).
    fn string_head(&mut self, at: u64, then: AfterText) -> Result<Step> {
        let len = i32::from_le_bytes(self.fixed::<4>("a string's length")?);
        if len < 1 {
            return Err(self.error(
                ErrorKind::Invalid,
                at,
                format!("a string length of {len} (at least 1: the terminating 0x00)"),
            ));
        }
        self.fits(at, 4 + len as u64, || format!("a string of length {len}"))?;
        self.input.advance(4);
        self.utf8 = Utf8Carry::default();
        self.text_start = at + 4;
        self.text_piece(len as u64 - 1, then)
    }

    /// The next piece of a length-prefixed string with `remaining` bytes before its 0x00.
    fn text_piece(&mut self, remaining: u64, then: AfterText) -> Result<Step> {
        let at = self.input.position();
        if remaining == 0 {
            let nul = self.fixed::<1>("a string")?[0];
            if nul != 0 {
                return Err(self.error(
                    ErrorKind::Invalid,
                    at,
                    "the string does not end with 0x00 where its length says",
                ));
            }
            if !self.utf8.check(&[], true) {
                return Err(self.not_utf8());
            }
            self.input.advance(1);
            self.after_text(then);
            return Ok(Step::Token(Token::Text {
                bytes: &[],
                last: true,
            }));
        }
        let max = remaining.min(self.options.chunk_size.max(1) as u64) as usize;
        // A piece that ends the content also takes the terminator, so a string read whole is one token.
        // Pushed input holds a short string whole; a longer one is taken piece by piece as it arrives.
        let whole =
            remaining as usize == max && (!self.input.is_pushed() || max <= PUSHED_WHOLE_TEXT);
        if whole {
            let window = self
                .input
                .peek(max + 1)
                .map_err(|e| input_error(e, &self.path))?;
            if window.len() == max + 1 {
                // The checks in the order pieces meet them: bad UTF-8 in the content, the terminator,
                // a character cut off by the terminator.
                let mut utf8 = self.utf8;
                if !utf8.check(&window[..max], false) {
                    return Err(self.not_utf8());
                }
                if window[max] != 0 {
                    return Err(self.error(
                        ErrorKind::Invalid,
                        at + max as u64,
                        "the string does not end with 0x00 where its length says",
                    ));
                }
                if !utf8.check(&[], true) {
                    return Err(self.not_utf8());
                }
                self.after_text(then);
                return Ok(Step::CString { len: max });
            }
        }
        let piece = self
            .input
            .take(max)
            .map_err(|e| input_error(e, &self.path))?;
        if piece.is_empty() {
            return Err(self.truncated(at, "a string"));
        }
        let n = piece.len();
        if !self.utf8.check(piece, false) {
            return Err(self.not_utf8());
        }
        self.state = State::Text {
            remaining: remaining - n as u64,
            then,
        };
        Ok(Step::Taken {
            text: true,
            last: false,
        })
    }

    fn not_utf8(&self) -> Error {
        self.error(
            ErrorKind::Invalid,
            self.text_start,
            "a string that is not UTF-8",
        )
    }

    fn after_text(&mut self, then: AfterText) {
        self.state = match then {
            AfterText::Element => State::Elements,
            AfterText::RegexOptions => State::CString {
                then: AfterText::Element,
            },
            AfterText::DbPointerId => State::DbPointerId,
            AfterText::Scope(len) => State::Scope(len),
        };
    }

    /// A regular expression's pattern or options: held whole (up to `max_cstring`), one token.
    fn cstring(&mut self, then: AfterText) -> Result<Step> {
        let at = self.token_offset; // the step starts where the token does
        let len = self.find_nul(at, "a regular expression")?;
        let bytes = self
            .input
            .peek(len)
            .map_err(|e| input_error(e, &self.path))?;
        if utf8(bytes).is_none() {
            return Err(self.error(
                ErrorKind::Invalid,
                at,
                "a regular expression that is not UTF-8",
            ));
        }
        self.after_text(then);
        Ok(Step::CString { len })
    }

    fn binary_head(&mut self, at: u64) -> Result<Step> {
        let head = self.fixed::<5>("a binary value's length")?;
        let len = i32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let subtype = head[4];
        if len < 0 {
            return Err(self.error(ErrorKind::Invalid, at, format!("a binary length of {len}")));
        }
        self.fits(at, 5 + len as u64, || {
            format!("a binary value of length {len}")
        })?;
        if subtype == 0x02 {
            // bsonspec.org: the old binary subtype repeats the length of the data inside it.
            let inner = self.input.peek(9).map_err(|e| input_error(e, &self.path))?;
            let inner = if inner.len() == 9 {
                i32::from_le_bytes([inner[5], inner[6], inner[7], inner[8]])
            } else {
                return Err(self.truncated(at, "a binary value"));
            };
            if len < 4 || inner != len - 4 {
                return Err(self.error(
                    ErrorKind::Invalid,
                    at + 5,
                    format!(
                        "a subtype 0x02 binary of {len} bytes whose inner length is {inner} (must be {})",
                        len - 4
                    ),
                ));
            }
        }
        // The data of subtype 0x02 is what follows its inner length (extended-json.md encodes only that).
        let (head, len) = if subtype == 0x02 {
            (9, len - 4)
        } else {
            (5, len)
        };
        self.input.advance(head);
        self.state = State::Bytes {
            remaining: len as u64,
        };
        Ok(Step::Token(Token::BinaryStart {
            subtype,
            len: len as u32,
        }))
    }

    fn bytes_piece(&mut self, remaining: u64) -> Result<Step> {
        let at = self.token_offset; // the step starts where the token does
        if remaining == 0 {
            self.state = State::Elements;
            return Ok(Step::Token(Token::Bytes {
                bytes: &[],
                last: true,
            }));
        }
        let max = remaining.min(self.options.chunk_size.max(1) as u64) as usize;
        let piece = self
            .input
            .take(max)
            .map_err(|e| input_error(e, &self.path))?;
        if piece.is_empty() {
            return Err(self.truncated(at, "a binary value"));
        }
        let n = piece.len() as u64;
        let last = n == remaining;
        self.state = if last {
            State::Elements
        } else {
            State::Bytes {
                remaining: remaining - n,
            }
        };
        Ok(Step::Taken { text: false, last })
    }

    fn code_with_scope_head(&mut self, at: u64) -> Result<Step> {
        let head = self.fixed::<8>("a code with scope")?;
        let total = i32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let code_len = i32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        // bsonspec.org: int32 total, then a string (4 + at least 1), then a document (at least 5).
        if total < 14 {
            return Err(self.error(
                ErrorKind::Invalid,
                at,
                format!("a code with scope length of {total} (at least 14)"),
            ));
        }
        self.fits(at, total as u64, || {
            format!("a code with scope of length {total}")
        })?;
        if code_len < 1 || 4 + 4 + i64::from(code_len) + 5 > i64::from(total) {
            return Err(self.error(
                ErrorKind::Invalid,
                at + 4,
                format!("a code length of {code_len} that does not fit its code with scope of {total} bytes"),
            ));
        }
        self.input.advance(4);
        let scope = (total - 8 - code_len) as u32;
        self.string_head(at + 4, AfterText::Scope(scope))
    }
}

/// An input failure, placed at the step's start by `read_token`.
fn input_error(e: InputError, path: &str) -> Error {
    match e {
        InputError::NeedInput => Error::new(ErrorKind::NeedInput, 0, path, "more input needed"),
        InputError::Io(e) => Error::io(e, 0, path),
    }
}

/// The longest string a pushed reader waits for whole (one token); longer ones come in pieces.
const PUSHED_WHOLE_TEXT: usize = 4096;

/// What a step produced; see [`BsonReader::token`].
enum Step {
    /// A token that borrows nothing from the input.
    Token(Token<'static>),
    /// A key of `len` bytes after the type byte (both consumed with the next call).
    Key { ty: ElementType, len: usize },
    /// A whole text of `len` bytes and its 0x00 (consumed with the next call).
    CString { len: usize },
    /// A piece just taken from the input.
    Taken { text: bool, last: bool },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(data: &[u8]) -> Result<Vec<String>> {
        let mut reader = BsonReader::from_slice(data, ReaderOptions::default());
        let mut out = Vec::new();
        loop {
            let token = reader.read_token()?;
            out.push(format!("{token:?}"));
            if token == Token::End {
                return Ok(out);
            }
        }
    }

    #[test]
    fn a_document_reads_as_its_tokens() {
        // {"a": 1, "b": "xy"}
        let doc = b"\x16\x00\x00\x00\x10a\x00\x01\x00\x00\x00\x02b\x00\x03\x00\x00\x00xy\x00\x00";
        let seen = tokens(doc).unwrap();
        assert_eq!(seen.len(), 7, "{seen:?}");
        assert!(seen[2].contains("Int32(1)"));
        assert!(seen[4].contains("[120, 121]") && seen[4].contains("last: true"));
    }

    #[test]
    fn lengths_are_checked_against_their_document() {
        // The string's length eats the terminator.
        let doc = b"\x10\x00\x00\x00\x02a\x00\x05\x00\x00\x00bb\x00\x00";
        let e = tokens(doc).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(e.offset(), 7);
        assert_eq!(e.path(), "a");
    }
}
