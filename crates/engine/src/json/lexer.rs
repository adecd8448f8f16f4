//! A streaming JSON tokenizer (RFC 8259) over one bounded buffer, for every codec's JSON reader.
//!
//! The reader above it drives the grammar (it knows which value comes next); this layer turns bytes into
//! strings, numbers and structural characters, validates them (UTF-8, control characters, escapes, number
//! syntax) and keeps line numbers for messages. Strings are found with memchr and returned borrowed from
//! the buffer when they hold no escape. A string longer than the buffer may hold is never needed whole:
//! it can be measured ahead ([`Lexer::measure_string`]) and taken in pieces ([`Lexer::take_content`]),
//! and a codec can look ahead for a member it needs first ([`Lexer::scan_ahead`]) with a scanner of its
//! own.
//!
//! ```text
//!  buf: [ consumed | pos ......... end | free ]      base = absolute offset of buf[0]
//!                    ^ next byte        ^ end of what was read
//! ```

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{self, Read};

use bytes::{Buf, Bytes};

use memchr::{memchr, memchr2};

use crate::json::number::{is_json_number, json_number_prefix};

/// What kind of problem a [`LexError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LexErrorKind {
    /// The input could not be read.
    Io(io::ErrorKind),
    /// Not JSON (RFC 8259): a syntax error, invalid UTF-8, a control character in a string, …
    Syntax,
    /// A token longer than the buffer may grow to.
    Limit,
    /// Pushed input (see [`Lexer::pushed`]) ran out before the input's end: push more, then retry the
    /// step from its [`Lexer::mark`].
    NeedInput,
}

/// A lexing error; the reader above attaches its position and path.
///
/// Boxed so that `Result<T, LexError>` stays as small as `T` plus a pointer: the lexer's many small
/// results (`Result<bool, LexError>`, …) then come back in registers instead of through memory, which
/// matters on the per-token path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError(Box<LexErrorData>);

/// What a [`LexError`] holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexErrorData {
    /// What kind of problem it is.
    pub kind: LexErrorKind,
    /// What is wrong, for people.
    pub message: String,
}

impl std::ops::Deref for LexError {
    type Target = LexErrorData;
    fn deref(&self) -> &LexErrorData {
        &self.0
    }
}

impl LexError {
    /// An error of `kind`.
    #[cold]
    pub fn new(kind: LexErrorKind, message: impl Into<String>) -> LexError {
        LexError(Box::new(LexErrorData {
            kind,
            message: message.into(),
        }))
    }

    /// A syntax error.
    #[cold]
    pub fn syntax(message: impl Into<String>) -> LexError {
        LexError::new(LexErrorKind::Syntax, message)
    }

    /// An I/O error of the input.
    #[cold]
    pub fn io(e: &io::Error) -> LexError {
        LexError::new(LexErrorKind::Io(e.kind()), e.to_string())
    }

    /// The error's parts, moved out.
    pub fn into_data(self) -> LexErrorData {
        *self.0
    }
}

/// A look-ahead scanner for [`Lexer::scan_ahead`]: fed the bytes after the current position in pieces
/// (where a piece ends never changes what it finds).
pub trait AheadScan {
    /// What the scan looks for.
    type Found;
    /// Scans the next bytes: `Some(Some(found))`, `Some(None)` when it is decided that there is none,
    /// `None` when nothing is decided yet.
    fn feed(&mut self, bytes: &[u8]) -> Option<Option<Self::Found>>;
}

/// Random access to the input, for measuring a long string ahead of the buffer without consuming it
/// (a regular file; a slice). Pipes have none: their long strings are spooled.
pub trait ReadAt {
    /// Reads up to `buf.len()` bytes at absolute `offset`; 0 at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl ReadAt for &std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_at(*self, buf, offset)
        }
        #[cfg(windows)]
        {
            std::os::windows::fs::FileExt::seek_read(*self, buf, offset)
        }
    }
}

impl ReadAt for &[u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

/// The rest of a pipe in a temporary file: absolute input offset `origin` is byte 0 of `file`.
struct SpooledInput {
    file: std::fs::File,
    origin: u64,
}

impl ReadAt for SpooledInput {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let at = offset.checked_sub(self.origin).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "before the spooled input")
        })?;
        (&self.file).read_at(buf, at)
    }
}

/// The first read size; the buffer grows (up to the configured limit) only for a longer token.
const INITIAL_BUFFER: usize = 256 * 1024;
/// Block size for measuring a string ahead with [`ReadAt`].
const AHEAD_BLOCK: usize = 1 << 20;

/// How long a string starting at the current position is, found without consuming it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measured {
    /// `len` bytes of content without any escape, then the closing quote; `tail` holds its last two bytes.
    Plain {
        /// Content bytes.
        len: u64,
        /// The content's last two bytes.
        tail: [u8; 2],
    },
    /// Longer than can be measured here, or holding escapes: read it once, without knowing its length.
    Unknown,
}

/// The tokenizer: see the module docs.
pub struct Lexer<'a> {
    input: Box<dyn Read + Send + 'a>,
    ahead: Option<Box<dyn ReadAt + Send + 'a>>,
    /// The input window; the whole input, borrowed, when it is a slice (nothing is copied then).
    buf: Cow<'a, [u8]>,
    pos: usize,
    end: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    eof: bool,
    max_buffer: usize,
    /// Line bookkeeping: newlines before `buf[counted]` are counted in `line`; `line_start` is the
    /// absolute offset where the current line begins.
    line: u64,
    line_start: u64,
    counted: usize,
    /// Unescaped string content, when a string holds escapes.
    scratch: String,
    /// The last member name (short; copied so the `:` after it can be consumed).
    key: String,
    /// Trailing commas are accepted (with a note) instead of refused.
    pub lenient: bool,
    /// Tolerated problems (lenient mode) with the offset where each was seen; drained by the reader.
    pub notes: Vec<(String, u64)>,
    /// Chunks pushed by the caller instead of a `Read` (see [`Lexer::pushed`]).
    pushed: Option<Box<Pushed>>,
}

/// Input pushed in chunks, and the mark a step that runs out of it rewinds to.
#[derive(Debug, Default)]
struct Pushed {
    chunks: VecDeque<Bytes>,
    /// Bytes in `chunks`.
    queued: usize,
    ended: bool,
    mark: Mark,
}

impl Pushed {
    /// Copies queued bytes into `buf[*end..]`: false at the end of input, `NeedInput` before it.
    fn fill(&mut self, buf: &mut [u8], end: &mut usize, eof: &mut bool) -> Result<bool, LexError> {
        while let Some(front) = self.chunks.front_mut() {
            let n = front.len().min(buf.len() - *end);
            buf[*end..*end + n].copy_from_slice(&front[..n]);
            front.advance(n);
            self.queued -= n;
            *end += n;
            if front.is_empty() {
                self.chunks.pop_front();
            }
            if n > 0 {
                return Ok(true);
            }
        }
        if self.ended {
            *eof = true;
            return Ok(false);
        }
        Err(LexError::new(
            LexErrorKind::NeedInput,
            "the pushed input runs out here",
        ))
    }
}

/// Where a step of pushed input began: the position and the line bookkeeping there.
#[derive(Debug, Default, Clone, Copy)]
struct Mark {
    offset: u64,
    line: u64,
    line_start: u64,
    notes: usize,
}

impl std::fmt::Debug for Lexer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lexer")
            .field("offset", &self.offset())
            .finish()
    }
}

#[inline]
/// JSON whitespace (RFC 8259 §2).
pub fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

impl<'a> Lexer<'a> {
    /// Over a stream read in chunks; `ahead` gives positioned reads of the same input when it has them
    /// (a file); a token may grow the buffer up to `max_buffer` bytes.
    pub fn new(
        input: Box<dyn Read + Send + 'a>,
        ahead: Option<Box<dyn ReadAt + Send + 'a>>,
        max_buffer: usize,
    ) -> Self {
        Lexer {
            input,
            ahead,
            buf: Cow::Owned(vec![0; INITIAL_BUFFER.min(max_buffer.max(4096))]),
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
            max_buffer: max_buffer.max(4096),
            line: 1,
            line_start: 0,
            counted: 0,
            scratch: String::new(),
            key: String::new(),
            lenient: false,
            notes: Vec::new(),
            pushed: None,
        }
    }

    /// Over input the caller pushes in chunks ([`Lexer::push`], [`Lexer::end_input`]) instead of a
    /// `Read`. A request that runs past the pushed bytes before the end of input fails with
    /// [`LexErrorKind::NeedInput`]; the reader above then [rewinds](Lexer::rewind) to its last
    /// [`Lexer::mark`] and tries the step again once more has been pushed. The bytes of the current step
    /// stay in the buffer for that (up to `max_buffer`), so a step must fit in it.
    pub fn pushed(max_buffer: usize) -> Self {
        let mut lexer = Lexer::new(Box::new(io::empty()), None, max_buffer);
        lexer.pushed = Some(Box::default());
        lexer
    }

    /// Whether the input is pushed ([`Lexer::pushed`]).
    pub fn is_pushed(&self) -> bool {
        self.pushed.is_some()
    }

    /// Appends a pushed chunk (kept, not copied, until the lexer needs its bytes).
    pub fn push(&mut self, chunk: Bytes) {
        if let Some(p) = self.pushed.as_mut() {
            debug_assert!(!p.ended, "push after the end of input");
            p.queued += chunk.len();
            p.chunks.push_back(chunk);
        }
    }

    /// No more chunks will be pushed.
    pub fn end_input(&mut self) {
        if let Some(p) = self.pushed.as_mut() {
            p.ended = true;
        }
    }

    /// Whether the pushed input has ended.
    pub fn input_ended(&self) -> bool {
        self.pushed.as_ref().is_none_or(|p| p.ended)
    }

    /// A step of pushed input begins here: [`Lexer::rewind`] comes back to it, and the buffer keeps the
    /// bytes from here on. Without pushed input, nothing to do.
    #[inline]
    pub fn mark(&mut self) {
        if self.pushed.is_some() {
            self.count_lines_to(self.pos);
            let mark = Mark {
                offset: self.offset(),
                line: self.line,
                line_start: self.line_start,
                notes: self.notes.len(),
            };
            if let Some(p) = self.pushed.as_mut() {
                p.mark = mark;
            }
        }
    }

    /// Back to the last [`Lexer::mark`]: the step that ran out of pushed input is undone here.
    pub fn rewind(&mut self) {
        if let Some(p) = self.pushed.as_ref() {
            let mark = p.mark;
            self.pos = (mark.offset - self.base) as usize;
            self.line = mark.line;
            self.line_start = mark.line_start;
            self.counted = self.pos;
            self.notes.truncate(mark.notes);
        }
    }

    /// Pushed bytes after the current position, in the buffer or still queued.
    pub fn pushed_ahead(&self) -> u64 {
        self.pushed
            .as_ref()
            .map_or(0, |p| (self.end - self.pos + p.queued) as u64)
    }

    /// Over input that is all in memory: the buffer is the input, strings are measured in place, and no
    /// byte is copied (docs/design.md: zero copy where the input is in memory).
    pub fn from_slice(data: &'a [u8], max_buffer: usize) -> Self {
        let mut lexer = Lexer::new(Box::new(io::empty()), None, max_buffer);
        lexer.buf = Cow::Borrowed(data);
        lexer.end = data.len();
        lexer.eof = true;
        lexer
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// 1-based line and column of the next byte.
    pub fn line_column(&mut self) -> (u64, u64) {
        self.count_lines_to(self.pos);
        (self.line, self.offset() - self.line_start + 1)
    }

    fn count_lines_to(&mut self, to: usize) {
        if to <= self.counted {
            return;
        }
        let seen = &self.buf[self.counted..to];
        let mut last = None;
        for i in memchr::memchr_iter(b'\n', seen) {
            self.line += 1;
            last = Some(i);
        }
        if let Some(i) = last {
            self.line_start = self.base + (self.counted + i + 1) as u64;
        }
        self.counted = to;
    }

    // ---- buffer -------------------------------------------------------------------------------------

    /// Reads more input, keeping `buf[pos..end]`; false at the end of input. Grows the buffer when it is
    /// full of one unfinished token, up to the limit.
    #[inline(never)]
    fn refill(&mut self) -> Result<bool, LexError> {
        if self.eof {
            return Ok(false);
        }
        // Pushed input keeps the current step's bytes, for a rewind to its mark.
        let keep = match self.pushed.as_ref() {
            Some(p) => ((p.mark.offset - self.base) as usize).min(self.pos),
            None => self.pos,
        };
        if keep > 0 {
            self.count_lines_to(self.pos);
            self.buf.to_mut().copy_within(keep..self.end, 0);
            self.base += keep as u64;
            self.end -= keep;
            self.counted -= keep;
            self.pos -= keep;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= self.max_buffer {
                return Err(self.too_long());
            }
            let grown = (self.buf.len() * 2).min(self.max_buffer);
            self.buf.to_mut().resize(grown, 0);
        }
        if let Some(p) = self.pushed.as_mut() {
            return p.fill(self.buf.to_mut(), &mut self.end, &mut self.eof);
        }
        loop {
            match self.input.read(&mut self.buf.to_mut()[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(LexError::new(LexErrorKind::Io(e.kind()), e.to_string())),
            }
        }
    }

    #[cold]
    fn too_long(&self) -> LexError {
        let what = if self.pushed.is_some() {
            "one step of pushed JSON (a token, or an element's text values, or the look-ahead for its \"vr\")"
        } else {
            "a single JSON token"
        };
        LexError::new(
            LexErrorKind::Limit,
            format!(
                "{what} is longer than the {} MiB this reader holds (raise option `max_string`)",
                self.max_buffer >> 20
            ),
        )
    }

    /// The next byte that is not whitespace, not consumed; `None` at the end of input.
    #[inline]
    pub fn peek(&mut self) -> Result<Option<u8>, LexError> {
        loop {
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if !is_ws(b) {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.refill()? {
                return Ok(None);
            }
        }
    }

    /// Consumes the byte `peek` returned.
    #[inline]
    pub fn bump(&mut self) {
        self.pos += 1;
    }

    /// Consumes `want` after any whitespace, or fails naming `what` was expected.
    pub fn expect(&mut self, want: u8, what: &str) -> Result<(), LexError> {
        match self.peek()? {
            Some(b) if b == want => {
                self.pos += 1;
                Ok(())
            }
            Some(b) => Err(LexError::syntax(format!(
                "expected {what}, found {}",
                describe(b)
            ))),
            None => Err(eof(what)),
        }
    }

    // ---- structure ----------------------------------------------------------------------------------

    // The four structure steps below run a few times per element. Each has an inlined fast path for
    // compact JSON (the byte it looks for is next, no whitespace) and an out-of-line general path: the
    // result then stays in registers, where the call returned it through memory.

    /// The byte at `pos` and the one after it, when both are in the buffer.
    #[inline]
    fn next_two(&self) -> Option<(u8, u8)> {
        (self.pos + 1 < self.end).then(|| (self.buf[self.pos], self.buf[self.pos + 1]))
    }

    /// After `{` was consumed: whether a member follows (false consumes the `}` of an empty object).
    #[inline]
    pub fn object_has_first(&mut self) -> Result<bool, LexError> {
        match self.next_two() {
            Some((b'"', _)) => Ok(true),
            _ => self.object_has_first_general(),
        }
    }

    #[inline(never)]
    fn object_has_first_general(&mut self) -> Result<bool, LexError> {
        match self.peek()? {
            Some(b'}') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b'"') => Ok(true),
            Some(b) => Err(LexError::syntax(format!(
                "expected a member name or '}}', found {}",
                describe(b)
            ))),
            None => Err(eof("a member name or '}'")),
        }
    }

    /// After a member's value: whether another member follows (consumes `,`), or the object ends
    /// (consumes `}`). A trailing comma is an error, or a note under `lenient` (DCMTK accepts it).
    #[inline]
    pub fn object_has_next(&mut self) -> Result<bool, LexError> {
        match self.compact_has_next(b'}', |b| b == b'"') {
            Some(more) => Ok(more),
            None => self.object_has_next_general(),
        }
    }

    /// The compact fast path of `object_has_next` and `array_has_next`: a `,` right before something
    /// that `starts` the next element or member (consumed, true), or the `close` byte (consumed, false).
    /// `None` leaves the rest (whitespace, trailing commas, errors) to the general path.
    // Always inlined: it is a few compares on the per-member path, and out of line its result would come
    // back through memory.
    #[inline(always)]
    fn compact_has_next(&mut self, close: u8, starts: impl Fn(u8) -> bool) -> Option<bool> {
        let (b, after) = self.next_two()?;
        let more = match b {
            b',' if starts(after) => true,
            // `, ` before the next one: Python's `json.dumps` (and so pymongo) separates so.
            b',' if after == b' ' && self.pos + 2 < self.end && starts(self.buf[self.pos + 2]) => {
                self.pos += 2;
                return Some(true);
            }
            _ if b == close => false,
            _ => return None,
        };
        self.pos += 1;
        Some(more)
    }

    #[inline(never)]
    fn object_has_next_general(&mut self) -> Result<bool, LexError> {
        match self.peek()? {
            Some(b',') => {
                self.pos += 1;
                if self.peek()? == Some(b'}') {
                    if !self.lenient {
                        return Err(LexError::syntax(
                            "trailing comma before '}' (RFC 8259; accepted with option `lenient`)",
                        ));
                    }
                    self.note("trailing comma before '}' ignored");
                    self.pos += 1;
                    return Ok(false);
                }
                Ok(true)
            }
            Some(b'}') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b) => Err(LexError::syntax(format!(
                "expected ',' or '}}' after a member, found {}",
                describe(b)
            ))),
            None => Err(eof("',' or '}'")),
        }
    }

    /// After `[` was consumed: whether an element follows (false consumes the `]`).
    #[inline]
    pub fn array_has_first(&mut self) -> Result<bool, LexError> {
        match self.next_two() {
            Some((b']', _)) => {
                self.pos += 1;
                Ok(false)
            }
            Some((b, _)) if !is_ws(b) => Ok(true),
            _ => self.array_has_first_general(),
        }
    }

    #[inline(never)]
    fn array_has_first_general(&mut self) -> Result<bool, LexError> {
        match self.peek()? {
            Some(b']') => {
                self.pos += 1;
                Ok(false)
            }
            Some(_) => Ok(true),
            None => Err(eof("a value or ']'")),
        }
    }

    /// After an array element: whether another follows (consumes `,`), or the array ends (consumes `]`).
    #[inline]
    pub fn array_has_next(&mut self) -> Result<bool, LexError> {
        match self.compact_has_next(b']', |b| !is_ws(b) && b != b']') {
            Some(more) => Ok(more),
            None => self.array_has_next_general(),
        }
    }

    #[inline(never)]
    fn array_has_next_general(&mut self) -> Result<bool, LexError> {
        match self.peek()? {
            Some(b',') => {
                self.pos += 1;
                if self.peek()? == Some(b']') {
                    if !self.lenient {
                        return Err(LexError::syntax(
                            "trailing comma before ']' (RFC 8259; accepted with option `lenient`)",
                        ));
                    }
                    self.note("trailing comma before ']' ignored");
                    self.pos += 1;
                    return Ok(false);
                }
                Ok(true)
            }
            Some(b']') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b) => Err(LexError::syntax(format!(
                "expected ',' or ']' after an array element, found {}",
                describe(b)
            ))),
            None => Err(eof("',' or ']'")),
        }
    }

    /// A member name and the `:` after it.
    pub fn read_key(&mut self) -> Result<&str, LexError> {
        // Compact JSON: `"name":` wholly in the buffer is returned borrowed. Otherwise the name is copied,
        // as finding the `:` may refill (and move) the buffer.
        if self.buf[self.pos..self.end].first() == Some(&b'"') {
            let start = self.pos + 1;
            if let Some(k) = memchr2(b'"', b'\\', &self.buf[start..self.end]) {
                let stop = start + k;
                if self.buf[stop] == b'"' && self.buf[stop + 1..self.end].first() == Some(&b':') {
                    self.pos = stop + 2;
                    // A bad name is reported after its closing quote, as the general path does: where
                    // an error is must not depend on how much input was in the buffer.
                    return checked_str(&self.buf[start..stop])
                        .inspect_err(|_| self.pos = stop + 1);
                }
            }
        }
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        key.push_str(self.read_string()?);
        self.expect(b':', "':' after a member name")?;
        self.key = key;
        Ok(&self.key)
    }

    /// [`Lexer::read_key`] as the name's bytes (valid UTF-8), and whether the name may have held
    /// escapes: a name read without them holds no control character (those are refused unescaped), so
    /// U+0000 need not be looked for in it. Names of printable ASCII are found and validated in one pass.
    #[inline]
    pub fn read_key_bytes(&mut self) -> Result<(&[u8], bool), LexError> {
        let rest = &self.buf[self.pos..self.end];
        if rest.first() == Some(&b'"') {
            let n = dcmflow_simd::plain_json_ascii(&rest[1..]).len();
            if rest[1 + n..].starts_with(b"\":") {
                let start = self.pos + 1;
                self.pos = start + n + 2;
                return Ok((&self.buf[start..start + n], false));
            }
        }
        self.read_key().map(|key| (key.as_bytes(), true))
    }

    /// Compact fast path: one of `names` (each written with its quotes and colon, `"Value":`) wholly in
    /// the buffer, consumed; its index. `None` leaves everything to [`Lexer::read_key`].
    #[inline]
    pub fn known_key_fast(&mut self, names: &[&[u8]]) -> Option<usize> {
        let rest = &self.buf[self.pos..self.end];
        let found = names.iter().position(|name| rest.starts_with(name))?;
        self.pos += names[found].len();
        Some(found)
    }

    /// The bytes read but not consumed yet (a codec's fast paths look at them in place).
    #[inline]
    pub fn window(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Consumes `n` bytes of [`Lexer::window`] that hold no line break.
    #[inline]
    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.pos);
        self.pos += n;
    }

    fn note(&mut self, message: &str) {
        let at = self.offset();
        self.notes.push((message.to_string(), at));
    }

    // ---- scalars ------------------------------------------------------------------------------------

    /// A string of printable ASCII without escapes, whole in the window at the next byte: consumed with
    /// its quotes and returned (it needs no validation). `None`, with nothing consumed, for any other
    /// string (or when the next byte is not `"`): read it another way.
    #[inline]
    pub fn take_plain_ascii_string(&mut self) -> Option<&[u8]> {
        let rest = &self.buf[self.pos..self.end];
        if rest.first() != Some(&b'"') {
            return None;
        }
        let n = dcmflow_simd::plain_json_ascii(&rest[1..]).len();
        if rest.get(1 + n) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        self.pos = start + n + 1;
        Some(&self.buf[start..start + n])
    }

    /// A string value (the next non-whitespace byte must be `"`), unescaped and validated.
    pub fn read_string(&mut self) -> Result<&str, LexError> {
        self.expect(b'"', "a string")?;
        let mut i = self.pos;
        loop {
            match memchr2(b'"', b'\\', &self.buf[i..self.end]) {
                Some(k) if self.buf[i + k] == b'"' => {
                    let (start, stop) = (self.pos, i + k);
                    self.pos = stop + 1;
                    return checked_str(&self.buf[start..stop]);
                }
                Some(k) => return self.read_escaped_string(i + k),
                None => {
                    let rel = self.end - self.pos;
                    if !self.refill()? {
                        return Err(eof("the end of a string"));
                    }
                    i = self.pos + rel;
                }
            }
        }
    }

    /// The slow path: the string holds an escape at `buf[first_escape]`. The whole string is brought into
    /// the buffer, then unescaped into `scratch`.
    fn read_escaped_string(&mut self, first_escape: usize) -> Result<&str, LexError> {
        let mut i = first_escape;
        let stop = loop {
            match memchr2(b'"', b'\\', &self.buf[i..self.end]) {
                Some(k) if self.buf[i + k] == b'"' => break i + k,
                Some(k) if i + k + 1 < self.end => i += k + 2,
                _ => {
                    let rel = i - self.pos;
                    if !self.refill()? {
                        return Err(eof("the end of a string"));
                    }
                    i = self.pos + rel;
                }
            }
        };
        let start = self.pos;
        self.pos = stop + 1;
        self.scratch.clear();
        unescape(&self.buf[start..stop], &mut self.scratch)?;
        Ok(&self.scratch)
    }

    /// A number (RFC 8259 §6 grammar), as its text.
    pub fn read_number(&mut self) -> Result<&str, LexError> {
        // One pass when the number is whole in the buffer: the grammar scan finds its end.
        let rest = &self.buf[self.pos..self.end];
        let n = json_number_prefix(rest);
        if n > 0 && rest.get(n).is_some_and(|&b| !is_number_byte(b)) {
            let start = self.pos;
            self.pos += n;
            return Ok(dcmflow_simd::ascii_str(&self.buf[start..start + n]).unwrap_or_default());
        }
        self.read_number_general()
    }

    /// [`Self::read_number`] across buffer refills, and with the error for what is not a number.
    #[inline(never)]
    fn read_number_general(&mut self) -> Result<&str, LexError> {
        let mut i = self.pos;
        loop {
            while i < self.end && is_number_byte(self.buf[i]) {
                i += 1;
            }
            if i < self.end || self.eof {
                break;
            }
            let rel = i - self.pos;
            if !self.refill()? {
                i = self.pos + rel;
                break;
            }
            i = self.pos + rel;
        }
        let text = &self.buf[self.pos..i];
        if !is_json_number(text) {
            if text == b"-" && self.buf[i..self.end].first() == Some(&b'I') {
                return Err(LexError::syntax(
                    "'-Infinity' is not a JSON number (RFC 8259 §6: NaN and the infinities have no JSON form)",
                ));
            }
            return Err(LexError::syntax(format!(
                "'{}' is not a JSON number (RFC 8259 §6)",
                String::from_utf8_lossy(text)
            )));
        }
        let start = self.pos;
        self.pos = i;
        // ASCII only, checked above.
        Ok(dcmflow_simd::ascii_str(&self.buf[start..i]).unwrap_or_default())
    }

    /// `true`, `false` or `null`, whichever `word` is.
    pub fn read_literal(&mut self, word: &'static str) -> Result<(), LexError> {
        let n = word.len();
        while self.end - self.pos < n {
            if !self.refill()? {
                break;
            }
        }
        let have = &self.buf[self.pos..self.end.min(self.pos + n)];
        if have != word.as_bytes() {
            return Err(LexError::syntax(format!(
                "invalid literal (expected '{word}')"
            )));
        }
        self.pos += n;
        Ok(())
    }

    /// Consumes any one JSON value, validating it. `max_depth` bounds the container stack.
    pub fn skip_value(&mut self, max_depth: usize) -> Result<(), LexError> {
        // true: inside an object, false: inside an array.
        let mut open: Vec<bool> = Vec::new();
        loop {
            match self.peek()? {
                Some(c @ (b'{' | b'[')) => {
                    self.pos += 1;
                    if open.len() >= max_depth {
                        return Err(LexError::new(LexErrorKind::Limit, "nesting too deep"));
                    }
                    let is_object = c == b'{';
                    let non_empty = if is_object {
                        self.object_has_first()?
                    } else {
                        self.array_has_first()?
                    };
                    if non_empty {
                        open.push(is_object);
                        if is_object {
                            self.read_key()?;
                        }
                        continue;
                    }
                }
                Some(b'"') => {
                    self.read_string()?;
                }
                Some(b't') => self.read_literal("true")?,
                Some(b'f') => self.read_literal("false")?,
                Some(b'n') => self.read_literal("null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.read_number()?;
                }
                Some(b) => {
                    return Err(LexError::syntax(format!(
                        "expected a value, found {}",
                        describe(b)
                    )))
                }
                None => return Err(eof("a value")),
            }
            // A value is complete: close containers until one has another element.
            loop {
                let Some(&is_object) = open.last() else {
                    return Ok(());
                };
                let more = if is_object {
                    self.object_has_next()?
                } else {
                    self.array_has_next()?
                };
                if more {
                    if is_object {
                        self.read_key()?;
                    }
                    break;
                }
                open.pop();
            }
        }
    }

    /// Runs `scan` over the bytes after the current position without consuming them, until it decides.
    /// The buffer grows up to `hold` bytes to hold the lookahead; beyond that an input with positioned
    /// reads (file, slice) is scanned ahead without buffering, and a pipe is spooled to a temporary file
    /// (memory stays bounded either way).
    pub fn scan_ahead<S: AheadScan>(
        &mut self,
        hold: usize,
        mut scan: S,
    ) -> Result<Option<S::Found>, LexError> {
        // One scan state across refills: a read may end anywhere.
        let mut scanned = 0;
        loop {
            if let Some(found) = scan.feed(&self.buf[self.pos + scanned..self.end]) {
                return Ok(found);
            }
            scanned = self.end - self.pos;
            if scanned >= hold && self.pushed.is_none() {
                if self.ahead.is_none() {
                    self.spool_rest_of_input()?;
                }
                if let Some(ahead) = self.ahead.as_ref() {
                    let offset = self.base + (self.pos + scanned) as u64;
                    return scan_at(ahead.as_ref(), offset, scan);
                }
            }
            if !self.refill()? || self.end - self.pos <= scanned {
                return Ok(None);
            }
        }
    }

    /// A pipe that must be looked far ahead into: the rest of it (from the current position) goes to an
    /// anonymous temporary file, which is read from then on and gives positioned reads. Memory stays
    /// bounded at the cost of copying the rest of the input to disk once.
    #[cold]
    #[inline(never)] // `io::copy`'s 8 KiB stack buffer would otherwise enlarge the reader's hot frame
    fn spool_rest_of_input(&mut self) -> Result<(), LexError> {
        let io = |e: io::Error| LexError::io(&e);
        let mut file = tempfile::tempfile().map_err(io)?;
        {
            use std::io::Write;
            file.write_all(&self.buf[self.pos..self.end]).map_err(io)?;
            io::copy(&mut self.input, &mut file).map_err(io)?;
        }
        self.count_lines_to(self.pos);
        let origin = self.base + self.pos as u64;
        let reader = file.try_clone().map_err(io)?;
        {
            use std::io::{Seek, SeekFrom};
            let mut reader = &reader;
            reader.seek(SeekFrom::Start(0)).map_err(io)?;
        }
        self.input = Box::new(reader);
        self.ahead = Some(Box::new(SpooledInput { file, origin }));
        self.base = origin;
        self.counted -= self.pos;
        self.pos = 0;
        self.end = 0;
        self.eof = false;
        Ok(())
    }

    // ---- long strings (base64 payloads and other values too long to hold) ------------------------

    /// Measures the string at the next non-whitespace byte (which must be `"`; it is consumed) without
    /// consuming its content: from the buffer (growing it up to `hold` bytes), then ahead with
    /// [`ReadAt`] when the input has it and `ahead` allows.
    pub fn measure_string(&mut self, hold: usize, ahead: bool) -> Result<Measured, LexError> {
        self.expect(b'"', "a string")?;
        let mut i = self.pos;
        loop {
            match memchr2(b'"', b'\\', &self.buf[i..self.end]) {
                Some(k) if self.buf[i + k] == b'"' => {
                    let stop = i + k;
                    let len = (stop - self.pos) as u64;
                    let tail = [
                        if stop >= self.pos + 2 {
                            self.buf[stop - 2]
                        } else {
                            0
                        },
                        if stop > self.pos {
                            self.buf[stop - 1]
                        } else {
                            0
                        },
                    ];
                    return Ok(Measured::Plain { len, tail });
                }
                Some(_) => return Ok(Measured::Unknown),
                None => {}
            }
            if self.end - self.pos >= hold
                || self.end == self.buf.len() && self.buf.len() >= self.max_buffer
            {
                return if ahead {
                    self.measure_ahead()
                } else {
                    Ok(Measured::Unknown)
                };
            }
            let rel = self.end - self.pos;
            if !self.refill()? {
                return Err(eof("the end of a string"));
            }
            i = self.pos + rel;
        }
    }

    fn measure_ahead(&mut self) -> Result<Measured, LexError> {
        let Some(ahead) = self.ahead.as_ref() else {
            return Ok(Measured::Unknown);
        };
        let content_start = self.offset();
        let mut at = self.base + self.end as u64;
        let mut block = vec![0u8; AHEAD_BLOCK];
        let mut last_two = [self.buf[self.end - 2], self.buf[self.end - 1]];
        loop {
            let n = ahead
                .read_at(&mut block, at)
                .map_err(|e| LexError::new(LexErrorKind::Io(e.kind()), e.to_string()))?;
            if n == 0 {
                return Err(eof("the end of a string"));
            }
            match memchr2(b'"', b'\\', &block[..n]) {
                Some(k) if block[k] == b'"' => {
                    let tail = match k {
                        0 => last_two,
                        1 => [last_two[1], block[0]],
                        _ => [block[k - 2], block[k - 1]],
                    };
                    return Ok(Measured::Plain {
                        len: at + k as u64 - content_start,
                        tail,
                    });
                }
                Some(_) => return Ok(Measured::Unknown),
                None => {}
            }
            last_two = if n >= 2 {
                [block[n - 2], block[n - 1]]
            } else {
                [last_two[1], block[0]]
            };
            at += n as u64;
        }
    }

    /// Up to `max` bytes from the next one on, not consumed, with no look for the closing quote (empty
    /// at the end of input). For base64 text: the caller decodes them and, when the decoder took them
    /// all, consumes them with [`Lexer::consume_line_free`]; when it refused them (the closing quote, an
    /// escape, a bad character is among them) it takes the string the careful way instead.
    pub fn peek_content(&mut self, max: usize) -> Result<&[u8], LexError> {
        if self.pos == self.end {
            self.refill()?;
        }
        Ok(&self.buf[self.pos..self.end.min(self.pos + max)])
    }

    /// Consumes `n` bytes from [`Lexer::peek_content`] that hold no line break (the base64 decoder
    /// accepted them): the line count then skips them instead of scanning them again.
    pub fn consume_line_free(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.pos);
        self.pos += n;
        self.line_free_before(n, 0);
    }

    /// The `n` bytes that end `back` bytes before the next one hold no line break (they are base64 the
    /// decoder accepted): the line count skips them, instead of a pass over every byte of a long
    /// payload.
    pub fn line_free_before(&mut self, n: usize, back: usize) {
        let end = self.pos - back;
        self.count_lines_to(end - n);
        if self.counted == end - n {
            self.counted = end;
        }
    }

    /// Up to `max` bytes of string content that [`Lexer::measure_string`] found plain; the caller
    /// counts them and then calls `expect(b'"')`.
    pub fn take_content(&mut self, max: usize) -> Result<&[u8], LexError> {
        if self.pos == self.end && !self.refill()? {
            return Err(eof("the end of a string"));
        }
        let n = max.min(self.end - self.pos);
        let start = self.pos;
        self.pos += n;
        Ok(&self.buf[start..start + n])
    }

    /// For a string of unknown length: the content up to the next `"` or `\`, at most `max` bytes.
    /// Returns the bytes and what stopped them: `Some(b'"')` (consumed: the string ended), `Some(b'\\')`
    /// (not consumed: call [`Lexer::take_escape`]) or `None` (more follows).
    pub fn take_until_quote(&mut self, max: usize) -> Result<(&[u8], Option<u8>), LexError> {
        if self.pos == self.end && !self.refill()? {
            return Err(eof("the end of a string"));
        }
        let window = &self.buf[self.pos..self.end.min(self.pos + max)];
        let start = self.pos;
        match memchr2(b'"', b'\\', window) {
            Some(k) => {
                let stop = self.buf[start + k];
                self.pos = start + k + usize::from(stop == b'"');
                Ok((&self.buf[start..start + k], Some(stop)))
            }
            None => {
                self.pos = start + window.len();
                Ok((&self.buf[start..self.pos], None))
            }
        }
    }

    /// Gives back the last `n` bytes that [`Lexer::take_until_quote`] or [`Lexer::take_content`] just
    /// took (they are still in the buffer, and their lines are not counted yet): an error found inside
    /// a piece is then reported where it is, wherever the piece happened to end.
    pub fn unread(&mut self, n: usize) {
        debug_assert!(n <= self.pos && self.counted <= self.pos - n);
        self.pos -= n;
    }

    /// The escape at the next byte (`\`), decoded (a `\uXXXX` pair to one character).
    pub fn take_escape(&mut self) -> Result<char, LexError> {
        // The longest escape is a surrogate pair, `\uD83D\uDE00`: 12 bytes.
        while self.end - self.pos < 12 {
            if !self.refill()? {
                break;
            }
        }
        let window = &self.buf[self.pos..self.end.min(self.pos + 12)];
        let (c, consumed) = escaped_char(window)?;
        self.pos += consumed;
        Ok(c)
    }
}

/// [`Lexer::scan_ahead`] continued over positioned reads from `offset`.
fn scan_at<S: AheadScan>(
    input: &dyn ReadAt,
    mut offset: u64,
    mut scan: S,
) -> Result<Option<S::Found>, LexError> {
    let mut block = vec![0u8; AHEAD_BLOCK];
    loop {
        let n = input
            .read_at(&mut block, offset)
            .map_err(|e| LexError::io(&e))?;
        if n == 0 {
            return Ok(None);
        }
        if let Some(found) = scan.feed(&block[..n]) {
            return Ok(found);
        }
        offset += n as u64;
    }
}

fn eof(what: &str) -> LexError {
    LexError::syntax(format!("unexpected end of input, expected {what}"))
}

fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02X}")
    }
}

/// RFC 8259 §7: no unescaped control characters; RFC 8259 §8.1: UTF-8.
fn checked_str(bytes: &[u8]) -> Result<&str, LexError> {
    // A branch-free minimum vectorises; `any` with its early exit does not (this is on every string).
    if bytes.iter().fold(0xFF, |min, &b| min.min(b)) < 0x20 {
        return Err(LexError::syntax(
            "control character in a string (RFC 8259 §7: it must be escaped)",
        ));
    }
    // Most JSON text is ASCII: the ASCII check is cheaper than full UTF-8 validation.
    if let Some(ascii) = dcmflow_simd::ascii_str(bytes) {
        return Ok(ascii);
    }
    dcmflow_simd::utf8_str(bytes)
        .ok_or_else(|| LexError::syntax("invalid UTF-8 in a string (RFC 8259 §8.1)"))
}

/// RFC 8259 §7 escapes, from the raw content of a string into `out`.
fn unescape(raw: &[u8], out: &mut String) -> Result<(), LexError> {
    // The raw content is checked whole, once: escapes are ASCII, so it is valid UTF-8 exactly when the
    // runs between them are, and every escape starts and ends on a character boundary.
    let mut text = checked_str(raw)?;
    while !text.is_empty() {
        let plain = memchr(b'\\', text.as_bytes()).unwrap_or(text.len());
        out.push_str(&text[..plain]);
        text = &text[plain..];
        if !text.is_empty() {
            let n = unescape_one(text.as_bytes(), out)?;
            text = &text[n..];
        }
    }
    Ok(())
}

/// One escape at the start of `raw` (`\` included); returns how many bytes it took.
fn unescape_one(raw: &[u8], out: &mut String) -> Result<usize, LexError> {
    let (c, n) = escaped_char(raw)?;
    out.push(c);
    Ok(n)
}

/// The character of the escape that starts `raw` (at its `\`) and the bytes it takes.
fn escaped_char(raw: &[u8]) -> Result<(char, usize), LexError> {
    let bad = || LexError::syntax("invalid escape in a string (RFC 8259 §7)");
    let c = match raw.get(1).ok_or_else(bad)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let hi = hex4(raw.get(2..6).ok_or_else(bad)?).ok_or_else(bad)?;
            if (0xD800..0xDC00).contains(&hi) {
                // A surrogate pair: the low half must follow as another \u escape.
                let lo = raw
                    .get(6..12)
                    .filter(|r| r.starts_with(b"\\u"))
                    .and_then(|r| hex4(&r[2..]))
                    .filter(|lo| (0xDC00..0xE000).contains(lo))
                    .ok_or_else(|| LexError::syntax("unpaired UTF-16 surrogate in a \\u escape"))?;
                let code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Ok((char::from_u32(code).ok_or_else(bad)?, 12));
            }
            let c = char::from_u32(hi)
                .ok_or_else(|| LexError::syntax("unpaired UTF-16 surrogate in a \\u escape"))?;
            return Ok((c, 6));
        }
        _ => return Err(bad()),
    };
    Ok((c, 2))
}

/// Four hexadecimal digits (of either case) as their value.
fn hex4(b: &[u8]) -> Option<u32> {
    let digits: &[u8; 4] = b.try_into().ok()?;
    digits.iter().try_fold(0, |value, &d| {
        Some(value << 4 | char::from(d).to_digit(16)?)
    })
}

/// A byte that can be part of a JSON number's text.
fn is_number_byte(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One member `"key": value` per step, the value a string or a number, as text.
    fn member_step(l: &mut Lexer<'_>, first: bool) -> Result<Option<String>, LexError> {
        let more = if first {
            l.expect(b'{', "'{'")?;
            l.object_has_first()?
        } else {
            l.object_has_next()?
        };
        if !more {
            return Ok(None);
        }
        let key = l.read_key()?.to_string();
        let value = if l.peek()? == Some(b'"') {
            l.read_string()?.to_string()
        } else {
            l.read_number()?.to_string()
        };
        let (line, column) = l.line_column();
        Ok(Some(format!("{key}={value}@{line}:{column}")))
    }

    #[test]
    fn pushed_input_runs_out_rewinds_and_reads_the_same() {
        let text: &[u8] = b"{\"a\": 12345,\n \"bee\": \"x\\u00e9z\", \"c\":-0.5e3\n}";
        let mut whole = Lexer::from_slice(text, 1 << 20);
        let mut expected = Vec::new();
        let mut first = true;
        while let Some(m) = member_step(&mut whole, first).unwrap() {
            expected.push(m);
            first = false;
        }
        for size in [1, 2, 3, 7, 64] {
            let mut l = Lexer::pushed(1 << 20);
            let mut chunks = text.chunks(size);
            let mut got = Vec::new();
            let mut first = true;
            loop {
                l.mark();
                match member_step(&mut l, first) {
                    Ok(Some(m)) => {
                        got.push(m);
                        first = false;
                    }
                    Ok(None) => break,
                    Err(e) if e.kind == LexErrorKind::NeedInput => {
                        l.rewind();
                        match chunks.next() {
                            Some(c) => l.push(Bytes::copy_from_slice(c)),
                            None => l.end_input(),
                        }
                    }
                    Err(e) => panic!("chunks of {size}: {e:?}"),
                }
            }
            assert_eq!(got, expected, "chunks of {size}");
            assert_eq!(l.offset(), text.len() as u64);
        }
    }

    #[test]
    fn a_bad_member_name_is_reported_at_its_closing_quote_whatever_the_buffer() {
        let text: &[u8] = b"{\"\xFF\xFE\": 1}";
        let mut whole = Lexer::from_slice(text, 1 << 20);
        whole.expect(b'{', "'{'").unwrap();
        assert!(whole.read_key().is_err());
        assert_eq!(whole.offset(), 5);
        // Pushed up to the quote only: the general path, which must agree.
        let mut cut = Lexer::pushed(1 << 20);
        cut.push(Bytes::from_static(&text[..5]));
        cut.end_input();
        cut.expect(b'{', "'{'").unwrap();
        assert!(cut.read_key().is_err());
        assert_eq!(cut.offset(), 5);
    }

    #[test]
    fn a_step_longer_than_the_buffer_is_a_limit() {
        let mut l = Lexer::pushed(4096);
        l.mark();
        l.push(Bytes::from(format!("\"{}", "a".repeat(10_000))));
        let e = l.read_string().unwrap_err();
        assert_eq!(e.kind, LexErrorKind::Limit, "{e:?}");
        assert!(e.message.contains("pushed JSON"), "{}", e.message);
    }

    fn lexer(text: &'static [u8]) -> Lexer<'static> {
        Lexer::new(Box::new(text), None, 1 << 20)
    }

    #[test]
    fn json_numbers_follow_rfc_8259() {
        for good in ["0", "-0", "1.5", "1e5", "1E+5", "-12.5e-3", "123"] {
            assert!(is_json_number(good.as_bytes()), "{good}");
        }
        for bad in [
            "", "-", "01", "+1", "1.", ".5", "1e", "NaN", "1.5.5", "0x10", "--1",
        ] {
            assert!(!is_json_number(bad.as_bytes()), "{bad}");
        }
    }

    /// A number read whole from the buffer and one read across refills (a 1-byte reader) give the same
    /// text or the same error.
    #[test]
    fn numbers_read_alike_in_one_pass_and_across_refills() {
        struct OneByte(&'static [u8]);
        impl Read for OneByte {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let cases: [&'static [u8]; 12] = [
            b"0,",
            b"-0]",
            b"1.5}",
            b"1e5 ",
            b"-12.5e-3,",
            b"123",
            b"01,",
            b"1.,",
            b"1.5.5,",
            b"-,",
            b"1e+,",
            b"2.25e1x",
        ];
        for case in cases {
            // `peek` fills the buffer, as `one_value` does before it reads a number.
            let mut whole = lexer(case);
            whole.peek().unwrap();
            let whole = whole.read_number().map(str::to_owned);
            let mut bytewise = Lexer::new(Box::new(OneByte(case)), None, 1 << 20);
            bytewise.peek().unwrap();
            let bytewise = bytewise.read_number().map(str::to_owned);
            assert_eq!(whole, bytewise, "{}", String::from_utf8_lossy(case));
        }
        let mut l = lexer(b"-12.5e-3,");
        l.peek().unwrap();
        assert_eq!(l.read_number().unwrap(), "-12.5e-3");
        assert_eq!(l.peek().unwrap(), Some(b','));
    }

    #[test]
    fn strings_unescape_and_validate() {
        let mut l = lexer(br#""plain" "a\"b\\c\/d\n\u00e9\ud83d\ude00""#);
        assert_eq!(l.read_string().unwrap(), "plain");
        assert_eq!(l.read_string().unwrap(), "a\"b\\c/d\né😀");
        for bad in [
            &b"\"\x01\""[..],
            b"\"\\x\"",
            b"\"\\ud800\"",
            b"\"\xff\"",
            b"\"open",
        ] {
            let mut l = Lexer::new(Box::new(bad), None, 1 << 20);
            assert!(l.read_string().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn trailing_commas_only_when_lenient() {
        let mut l = lexer(b"{\"a\":1,}");
        l.expect(b'{', "{").unwrap();
        assert!(l.object_has_first().unwrap());
        l.read_key().unwrap();
        l.read_number().unwrap();
        assert!(l.object_has_next().is_err());
        let mut l = lexer(b"{\"a\":1,}");
        l.lenient = true;
        l.expect(b'{', "{").unwrap();
        l.object_has_first().unwrap();
        l.read_key().unwrap();
        l.read_number().unwrap();
        assert!(!l.object_has_next().unwrap());
        assert_eq!(l.notes.len(), 1);
    }

    #[test]
    fn skip_value_skips_nested_values() {
        let mut l = lexer(br#"{"a":[1,{"b":"x"},[]],"c":{}} 7"#);
        l.skip_value(64).unwrap();
        l.peek().unwrap();
        assert_eq!(l.read_number().unwrap(), "7");
        let mut l = lexer(br#"["k", "v"] 8"#);
        l.skip_value(64).unwrap();
        assert_eq!(l.peek().unwrap(), Some(b'8'));
    }

    #[test]
    fn line_and_column_count_across_refills() {
        let text: &'static [u8] = b"{\n  \"a\" :\n\n   x";
        let mut l = Lexer::new(Box::new(text), None, 4096);
        l.expect(b'{', "{").unwrap();
        l.read_key().unwrap();
        l.peek().unwrap();
        assert_eq!(l.line_column(), (4, 4));
    }

    /// Finds the first `!` ahead.
    struct Bang(u64);

    impl AheadScan for Bang {
        type Found = u64;
        fn feed(&mut self, bytes: &[u8]) -> Option<Option<u64>> {
            match memchr(b'!', bytes) {
                Some(i) => Some(Some(self.0 + i as u64)),
                None => {
                    self.0 += bytes.len() as u64;
                    None
                }
            }
        }
    }

    #[test]
    fn scans_ahead_past_the_buffer_without_consuming() {
        let long = "A".repeat(3 << 20);
        let data: &'static [u8] = Box::leak(format!("\"{long}!\"").into_bytes().into_boxed_slice());
        let want = Some((3 << 20) + 1);
        // With positioned reads and a 1 MiB hold: the scan goes past the buffer.
        let mut l = Lexer::new(Box::new(data), Some(Box::new(data)), 64 << 20);
        assert_eq!(l.scan_ahead(1 << 20, Bang(0)).unwrap(), want);
        assert!(l.buf.len() <= 2 << 20, "the buffer grew to {}", l.buf.len());
        // From a slice, all in the buffer already.
        let mut l = Lexer::from_slice(data, 64 << 20);
        assert_eq!(l.scan_ahead(1 << 20, Bang(0)).unwrap(), want);
        // From a pipe: the rest is spooled to a temporary file, then read from it as before.
        let mut l = Lexer::new(Box::new(data), None, 64 << 20);
        assert_eq!(l.scan_ahead(1 << 20, Bang(0)).unwrap(), want);
        assert!(l.buf.len() <= 2 << 20, "the buffer grew to {}", l.buf.len());
        assert_eq!(l.read_string().unwrap().len(), (3 << 20) + 1);
        let mut l = Lexer::from_slice(b"\"no bang\"", 64 << 20);
        assert_eq!(l.scan_ahead(1 << 20, Bang(0)).unwrap(), None);
    }

    #[test]
    fn long_strings_are_measured_ahead_or_reported_unknown() {
        let mut text = b"\"".to_vec();
        text.extend(std::iter::repeat_n(b'A', 10_000));
        text.extend_from_slice(b"==\" ");
        let data: &'static [u8] = Box::leak(text.into_boxed_slice());
        let mut l = Lexer::new(Box::new(data), Some(Box::new(data)), 4096);
        assert_eq!(
            l.measure_string(4096, true).unwrap(),
            Measured::Plain {
                len: 10_002,
                tail: *b"=="
            }
        );
        let mut taken = 0;
        while taken < 10_002 {
            taken += l.take_content(10_002 - taken).unwrap().len();
        }
        l.expect(b'"', "quote").unwrap();
        let mut l = Lexer::new(Box::new(data), None, 4096);
        assert_eq!(l.measure_string(4096, true).unwrap(), Measured::Unknown);
    }
}
