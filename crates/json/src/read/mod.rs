//! DICOM JSON (PS3.18 Annex F) → DICOM tokens, streamed: [`JsonReader`] is a lending pull parser that
//! emits the same [`Token`]s as `dcmflow_dicom::DicomReader`, so `DicomWriter` consumes them unchanged.
//!
//! Memory: the lexer's buffer (grown only for one long token, up to `max_string`), one element's value
//! (text values; binary values are handed out in `chunk_size` pieces), and a frame per nesting level.
//! Value bytes are little endian (PS3.18 F.2.7); the DICOM writer swaps them for a big-endian output.
//!
//! ```text
//!  Begin ─► Member ◄──────────────────────────────┐   one data set level per object
//!            │ key "GGGGEEEE": {"vr":…, …}        │
//!            ├─ text/number Value ─► Value ───────┤   (Element, then one Value)
//!            ├─ InlineBinary / BulkDataURI ─► Value* (chunks) ─┤
//!            ├─ SQ Value [ ─► Item ─► {Member…} ─► Item … ] ─► SequenceEnd
//!            └─ '}' ─► ItemEnd (in an item) / TopEnd ─► Eof
//! ```
//!
//! Pulling tokens (the caller owns the loop; each token borrows the reader until the next call):
//!
//! ```
//! use dcmflow_core::{Tag, Token};
//! use dcmflow_json::read::{JsonReader, ReadOptions};
//!
//! let json = br#"{"00100020":{"vr":"LO","Value":["ID-1"]},"00080060":{"vr":"CS","Value":["MR"]}}"#;
//! let mut reader = JsonReader::from_slice(json, ReadOptions::default());
//! let mut tags = Vec::new();
//! loop {
//!     match reader.read_token().unwrap() {
//!         Token::Element(h) => tags.push(h.tag),
//!         Token::Eof => break,
//!         _ => {}
//!     }
//! }
//! // Tokens come in JSON order; unsorted keys are reported (DicomWriter's sort_elements orders them).
//! assert_eq!(tags, [Tag(0x0010_0020), Tag(0x0008_0060)]);
//! assert!(reader.warnings().0[0].message.contains("not ascending"));
//! ```

mod binary;
mod bulk_uri;
mod error;
mod key_order;
mod lexer;
mod pixels;
mod resume;
mod values;
mod vr_scan;

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Arc;

use dcmflow_core::{Length, Tag, Token, TokenKind, Vr};
use dcmflow_dicom::TextEncoder;

pub use bulk_uri::{BulkRequest, BulkResolver, BulkSource, FileResolver, IgnoreBulk};
pub use error::{ReadError, ReadErrorKind, ReadWarning, ReadWarningKind};
pub use lexer::ReadAt;

use binary::{BinaryValue, Inline, Spool};
use error::Problem;
use lexer::{DicomLexing, Lexer};
use values::{Checks, Notes};

/// What to do with a top-level array of data sets (DCMTK json2dcm `-ar`, `+as N`, and our `--split`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ArrayMode {
    /// One element is unwrapped; more is an error.
    #[default]
    Single,
    /// Only the data set at this 1-based index is read; the others are validated and skipped.
    Select(usize),
    /// Every data set in turn: `Eof` after each, then [`JsonReader::next_data_set`].
    Each,
}

/// How the JSON is read and checked.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Accept what DCMTK's json2dcm tolerates (trailing commas, case-insensitive member names, a missing
    /// `vr` taken from the dictionary, a bare value instead of an array, PN as a plain string), each with
    /// a warning.
    pub lenient: bool,
    /// Strict VR rules: a value that breaks its VR's length, repertoire or format rule (PS3.5 6.2) is an
    /// error. By default (`false`) it is written as it is, with a warning, so that a DICOM source's
    /// values come back unchanged. Model errors are errors either way.
    pub strict_vr_rules: bool,
    /// Write every string as UTF-8 and declare ISO_IR 192 (instead of failing on what the declared
    /// character set cannot represent).
    pub charset_utf8: bool,
    /// The deepest nesting of sequences read; deeper is an error, never a stack overflow.
    pub max_depth: usize,
    /// The longest single JSON token (string) held in memory; longer InlineBinary is streamed.
    pub max_string: usize,
    /// Largest `Value` chunk handed out for binary values.
    pub chunk_size: usize,
    /// InlineBinary text held in memory while measuring it; a longer one is measured ahead (files),
    /// streamed unmeasured (seekable output) or spooled (pipes). Part of the ≤ 32 MiB peak RSS budget.
    pub hold_binary: usize,
    /// What a top-level array of data sets becomes.
    pub array: ArrayMode,
    /// Warnings kept (the rest are counted).
    pub max_warnings: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            lenient: false,
            strict_vr_rules: false,
            charset_utf8: false,
            max_depth: 64,
            max_string: 64 << 20,
            chunk_size: 1 << 20,
            hold_binary: 4 << 20,
            array: ArrayMode::Single,
            max_warnings: 256,
        }
    }
}

/// One data set level (the top level or a sequence item).
#[derive(Debug)]
struct Level {
    last_tag: Option<Tag>,
    encoder: Arc<TextEncoder>,
    /// The encoder in force when the level opened (the enclosing level's), for elements below
    /// (0008,0005).
    inherited: Arc<TextEncoder>,
    first: bool,
    saw_charset: bool,
    /// Where this level's keys start in `JsonReader::keys` (they are kept while the level is in order).
    keys_start: usize,
    /// Once a key arrived out of order: every key of the level, for finding duplicates.
    unsorted: Option<BTreeSet<Tag>>,
    /// A text element whose encoding depends on (0008,0005) was read at this level.
    charset_text_seen: bool,
}

impl Level {
    fn new(encoder: Arc<TextEncoder>, keys_start: usize) -> Level {
        Level {
            last_tag: None,
            inherited: Arc::clone(&encoder),
            encoder,
            first: true,
            saw_charset: false,
            keys_start,
            unsorted: None,
            charset_text_seen: false,
        }
    }

    /// Makes this level a new one, field by field.
    fn reset(&mut self, encoder: Arc<TextEncoder>, keys_start: usize) {
        self.last_tag = None;
        self.inherited = Arc::clone(&encoder);
        self.encoder = encoder;
        self.first = true;
        self.saw_charset = false;
        self.keys_start = keys_start;
        self.unsorted = None;
        self.charset_text_seen = false;
    }
}

/// The open data set levels, innermost last. Closed levels stay allocated and are reset in place when
/// an item opens: a `Level` pushed and popped whole was copied through the stack at every item, and
/// reloading it in other widths stalled store forwarding.
#[derive(Debug, Default)]
struct Levels {
    all: Vec<Level>,
    open: usize,
}

impl Levels {
    fn clear(&mut self) {
        self.open = 0;
    }

    fn push(&mut self, encoder: Arc<TextEncoder>, keys_start: usize) {
        if let Some(level) = self.all.get_mut(self.open) {
            level.reset(encoder, keys_start);
        } else {
            self.all.push(Level::new(encoder, keys_start));
        }
        self.open += 1;
    }

    /// Closes the innermost level; returns where its keys start.
    fn pop(&mut self) -> Option<usize> {
        self.open = self.open.checked_sub(1)?;
        Some(self.all[self.open].keys_start)
    }

    fn len(&self) -> usize {
        self.open
    }

    fn is_empty(&self) -> bool {
        self.open == 0
    }

    fn last(&self) -> Option<&Level> {
        self.all[..self.open].last()
    }

    fn last_mut(&mut self) -> Option<&mut Level> {
        self.all[..self.open].last_mut()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    Begin,
    Member,
    /// The element's text/number value in `value`, then the rest of its object.
    TextValue,
    /// The element's binary value, chunk by chunk.
    BinaryValue,
    /// An InlineBinary string that could not be measured, spooled piece by piece before its element.
    Spool,
    /// What is left of the element object after its value, then the next member.
    FinishElement,
    /// Encapsulated pixel data from InlineBinary/bulk bytes: item headers and fragments.
    Pixels(PixelState),
    /// In an SQ's `Value` array: the next item or the end.
    Item,
    /// A sequence without items and without a `Value` array: its end.
    CloseSequence,
    TopEnd,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PixelState {
    Header,
    Fragment {
        remaining: u64,
    },
    FragmentEnd,
    /// After the sequence delimiter: the rest of the value must be zero padding.
    Trailer,
}

#[derive(Clone, Copy, Debug)]
struct PathStep {
    tag: Tag,
    /// 1-based item number inside this element's sequence (0: not in an item).
    item: usize,
}

/// The DICOM JSON pull reader. See the module docs.
pub struct JsonReader<'a> {
    lex: Lexer<'a>,
    options: ReadOptions,
    levels: Levels,
    /// What the last `step` produced (see `Step`).
    out: Step,
    /// The keys of the open levels, each level's in ascending order (see `Level::keys_start`).
    keys: Vec<Tag>,
    path: Vec<PathStep>,
    next: Next,
    /// The current element's value (text and numbers), or the current binary chunk.
    value: Vec<u8>,
    binary: Option<BinaryValue<'a>>,
    /// Decoded pixel bytes not yet handed out (encapsulated pixel data) and the read position in them.
    pixel_pos: usize,
    pixel_exhausted: bool,
    encapsulated: bool,
    /// A Pixel Data value in a native output syntax whose first bytes are still to be looked at.
    pixel_check: bool,
    /// The first chunk of the binary value is already decoded in `value` (Pixel Data inside an item,
    /// looked at to tell native from encapsulated).
    predecoded: bool,
    /// See [`JsonReader::set_unmeasured_binary`].
    unmeasured_binary: bool,
    resolver: Option<Box<dyn BulkResolver + 'a>>,
    notes: Notes,
    warnings: Vec<ReadWarning>,
    warnings_dropped: usize,
    /// A key read but not yet handled (the ISO_IR 192 declaration went first).
    deferred: Option<Tag>,
    /// The element's "vr" member comes after its value (read ahead; skipped when reached).
    vr_after_value: bool,
    /// The same, for each open sequence (its items' elements reuse the flag).
    sequence_vr_after: Vec<bool>,
    /// The current element's JSON object still has members or its `}` to read after the value.
    open_object: bool,
    /// Encoded PN component groups; a reused chunk buffer for pixel data.
    pn_scratch: Vec<u8>,
    /// The current sequence's `Value` array has not yet been asked for its first item.
    item_first: bool,
    array_index: usize,
    in_array: bool,
    /// Where the bytes of the last `Value` token are in `value`.
    value_range: std::ops::Range<usize>,
    /// The last `Value` token was a whole chunk of InlineBinary (see [`JsonReader::take_value`]).
    takeable: bool,
    /// Line, column and offset where the current binary value starts: its warnings and base64 errors
    /// are reported there, wherever the value's bytes were decoded (measured, spooled, or as they came).
    binary_at: (u64, u64, u64),
    /// The element and the spool of an InlineBinary string being spooled (`Next::Spool`).
    spool: Option<(Tag, Vr, Spool)>,
    /// Pushed input: where the current step began, to come back to when the input runs out.
    resume: Option<Box<resume::Resume>>,
}

impl std::fmt::Debug for JsonReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonReader")
            .field("lexer", &self.lex)
            .field("next", &self.next)
            .finish()
    }
}

fn tag_key(tag: Tag) -> String {
    format!("{:08X}", tag.0)
}

impl<'a> JsonReader<'a> {
    /// Reads JSON from a slice (measured ahead in place for long InlineBinary).
    pub fn from_slice(data: &'a [u8], options: ReadOptions) -> JsonReader<'a> {
        Self::with_lexer(Lexer::from_slice(data, options.max_string), options)
    }

    /// Reads JSON from any reader (long InlineBinary from a pipe is spooled: memory, then a temp file).
    pub fn from_reader<R: Read + Send + 'a>(input: R, options: ReadOptions) -> JsonReader<'a> {
        Self::build(Box::new(input), None, options)
    }

    /// Reads JSON from a file, measuring long InlineBinary ahead with positioned reads.
    pub fn from_file(file: &'a std::fs::File, options: ReadOptions) -> JsonReader<'a> {
        Self::build(Box::new(file), Some(Box::new(file)), options)
    }

    fn build(
        input: Box<dyn Read + Send + 'a>,
        ahead: Option<Box<dyn ReadAt + Send + 'a>>,
        options: ReadOptions,
    ) -> JsonReader<'a> {
        Self::with_lexer(Lexer::new(input, ahead, options.max_string), options)
    }

    fn with_lexer(mut lex: Lexer<'a>, options: ReadOptions) -> JsonReader<'a> {
        lex.lenient = options.lenient;
        JsonReader {
            lex,
            options,
            levels: Levels::default(),
            out: Step::NOTHING,
            keys: Vec::new(),
            path: Vec::new(),
            next: Next::Begin,
            value: Vec::new(),
            binary: None,
            pixel_pos: 0,
            pixel_exhausted: false,
            pixel_check: false,
            predecoded: false,
            encapsulated: false,
            unmeasured_binary: false,
            resolver: None,
            notes: Vec::new(),
            warnings: Vec::new(),
            warnings_dropped: 0,
            deferred: None,
            open_object: false,
            vr_after_value: false,
            sequence_vr_after: Vec::new(),
            pn_scratch: Vec::new(),
            item_first: false,
            array_index: 0,
            in_array: false,
            value_range: 0..0,
            takeable: false,
            binary_at: (0, 0, 0),
            spool: None,
            resume: None,
        }
    }

    /// Reads JSON the caller pushes in chunks ([`JsonReader::push`], [`JsonReader::end_input`]):
    /// [`JsonReader::read_token`] fails with [`ReadErrorKind::NeedInput`] where the pushed bytes run
    /// out before the end of input, having undone the step it was in; it is simply called again after
    /// the next push. Long InlineBinary that cannot be measured within `hold_binary` is spooled (memory,
    /// then a temporary file); one step (an element's text values, a piece of a binary value, the
    /// look-ahead for a `"vr"` after the value) must fit in `max_string`.
    pub fn pushed(options: ReadOptions) -> JsonReader<'static> {
        let mut reader = JsonReader::with_lexer(Lexer::pushed(options.max_string), options);
        reader.resume = Some(Box::default());
        reader
    }

    /// Appends a chunk of pushed input (see [`JsonReader::pushed`]).
    pub fn push(&mut self, chunk: bytes::Bytes) {
        self.lex.push(chunk);
    }

    /// The pushed input is complete.
    pub fn end_input(&mut self) {
        self.lex.end_input();
    }

    /// Resolves BulkDataURIs; without one, a BulkDataURI is an error.
    pub fn set_bulk_resolver(&mut self, resolver: Box<dyn BulkResolver + 'a>) {
        self.resolver = Some(resolver);
    }

    /// Whether the consumer can take a top-level binary value before its length is known: the element
    /// then carries the undefined length and the length is known with the last value chunk (see
    /// `DicomWriter::new_seekable`, which patches it into a seekable output). Long InlineBinary is then
    /// decoded in one pass instead of being measured ahead or spooled.
    ///
    /// Not for pushed input ([`JsonReader::pushed`]), which measures or spools every value.
    pub fn set_unmeasured_binary(&mut self, allowed: bool) {
        self.unmeasured_binary = allowed;
    }

    /// Whether the output transfer syntax encapsulates pixel data: then an InlineBinary/bulk Pixel Data
    /// value holding an item stream (PS3.5 A.4) becomes a pixel sequence again (docs/design.md, Decisions).
    pub fn set_encapsulated_pixels(&mut self, encapsulated: bool) {
        self.encapsulated = encapsulated;
    }

    /// Warnings so far (at most `max_warnings`), and how many more were dropped.
    pub fn warnings(&self) -> (&[ReadWarning], usize) {
        (&self.warnings, self.warnings_dropped)
    }

    /// Takes the warnings so far.
    pub fn take_warnings(&mut self) -> Vec<ReadWarning> {
        std::mem::take(&mut self.warnings)
    }

    /// Under [`ArrayMode::Each`], after `Eof`: whether another data set follows (then read it).
    pub fn next_data_set(&mut self) -> Result<bool, ReadError> {
        if self.next != Next::Done || !self.in_array {
            return Ok(false);
        }
        let more = self.lex.array_has_next().map_err(|p| self.fail(p.into()))?;
        if more {
            self.begin_data_set().map_err(|p| self.fail(p))?;
            return Ok(true);
        }
        self.in_array = false;
        self.expect_end().map_err(|p| self.fail(p))?;
        Ok(false)
    }

    /// The 1-based index of the data set being read in a top-level array (0 outside an array).
    pub fn data_set_index(&self) -> usize {
        self.array_index
    }

    fn path_string(&self) -> String {
        let mut s = String::new();
        for (i, step) in self.path.iter().enumerate() {
            if i > 0 {
                s.push('.');
            }
            s.push_str(&tag_key(step.tag));
            if step.item > 0 && i + 1 < self.path.len() {
                s.push_str(&format!("[{}]", step.item));
            }
        }
        s
    }

    fn fail(&mut self, p: Problem) -> ReadError {
        let p = p.into_data();
        let (line, column, offset) = if p.at_value_start {
            self.binary_at
        } else {
            self.value_start()
        };
        ReadError {
            kind: p.kind,
            message: p.message,
            line,
            column,
            offset,
            path: self.path_string(),
        }
    }

    /// Line, column and offset of the next byte (where a binary value starts, when one does).
    fn value_start(&mut self) -> (u64, u64, u64) {
        let (line, column) = self.lex.line_column();
        (line, column, self.lex.offset())
    }

    /// Turns the notes of the last step into warnings (with its position and path).
    #[inline(always)] // called per token; almost always there is nothing to do
    fn flush_notes(&mut self) {
        if !(self.notes.is_empty() && self.lex.notes.is_empty()) {
            self.flush_notes_now();
        }
    }

    #[inline(never)]
    fn flush_notes_now(&mut self) {
        let (line, column) = self.lex.line_column();
        let path = self.path_string();
        let lex_notes = std::mem::take(&mut self.lex.notes)
            .into_iter()
            .map(|(m, _)| (ReadWarningKind::LenientSyntax, m));
        for (kind, message) in std::mem::take(&mut self.notes).into_iter().chain(lex_notes) {
            let (line, column) = match kind {
                ReadWarningKind::PixelData | ReadWarningKind::OddLengthPadded => {
                    (self.binary_at.0, self.binary_at.1)
                }
                _ => (line, column),
            };
            if self.warnings.len() < self.options.max_warnings {
                self.warnings.push(ReadWarning {
                    kind,
                    message,
                    line,
                    column,
                    path: path.clone(),
                });
            } else {
                self.warnings_dropped += 1;
            }
        }
    }

    /// The bytes of the `Value` token just returned, again (empty after [`JsonReader::take_value`]).
    pub fn last_value(&self) -> &[u8] {
        &self.value[self.value_range.clone()]
    }

    /// The bytes of the `Value` token just returned as an owned buffer, when they were a whole chunk of
    /// InlineBinary: `spare` (emptied) takes their place, so a consumer on another thread gets a long
    /// decoded chunk without a copy. Otherwise `Err(spare)`, and [`JsonReader::last_value`] still has
    /// the bytes.
    pub fn take_value(&mut self, mut spare: Vec<u8>) -> Result<Vec<u8>, Vec<u8>> {
        if !self.takeable || self.value_range != (0..self.value.len()) {
            return Err(spare);
        }
        spare.clear();
        std::mem::swap(&mut self.value, &mut spare);
        self.takeable = false;
        self.value_range = 0..0;
        Ok(spare)
    }

    /// Sets the step produced (see `Step`).
    #[inline(always)]
    fn emit(&mut self, step: Step) -> Emitted {
        self.out = step;
        Emitted
    }

    /// The next token. `Eof` after the (selected) data set; errors carry line, column and path.
    #[inline(always)] // the caller builds the token in registers from `out` (see `Step`)
    pub fn read_token(&mut self) -> Result<Token<'_>, ReadError> {
        self.takeable = false;
        if self.resume.is_some() && self.waits_for_input() {
            return Err(self.need_input());
        }
        match self.step() {
            Ok(Emitted) => {
                self.flush_notes();
                let step = self.out;
                let (range, last) = match step.kind {
                    StepKind::Token(TokenKind::Value) => {
                        (self.pixel_pos..self.value.len(), step.last)
                    }
                    StepKind::PixelValue => (self.value_range.clone(), step.last),
                    _ => {
                        self.value_range = 0..0;
                        return Ok(step.token());
                    }
                };
                self.value_range = range.clone();
                Ok(Token::Value {
                    bytes: &self.value[range],
                    last,
                })
            }
            Err(p) if p.kind == ReadErrorKind::NeedInput && self.resume.is_some() => {
                self.rewind();
                Err(self.need_input())
            }
            Err(p) => {
                self.next = Next::Done;
                Err(self.fail(p))
            }
        }
    }

    fn step(&mut self) -> Result<Emitted, Problem> {
        loop {
            if self.resume.is_some() {
                self.checkpoint();
            }
            match self.next {
                Next::Begin => {
                    self.begin()?;
                }
                Next::Member => {
                    self.member()?;
                    if self.out.kind != StepKind::Nothing {
                        return Ok(Emitted);
                    }
                }
                Next::TextValue => {
                    self.pixel_pos = 0;
                    self.finish_element()?;
                    self.next = Next::Member;
                    return Ok(self.emit(Step::value(StepKind::Token(TokenKind::Value), true)));
                }
                Next::BinaryValue => {
                    let chunk = self.options.chunk_size;
                    let bin = self.binary.as_mut().expect("binary value open");
                    if !std::mem::take(&mut self.predecoded) {
                        bin.next_chunk(&mut self.lex, &mut self.value, chunk)?;
                    }
                    self.pixel_pos = 0;
                    let last = bin.is_done();
                    if std::mem::take(&mut self.pixel_check)
                        && self.value.starts_with(&[0xFE, 0xFF, 0x00, 0xE0])
                    {
                        // PS3.5 A.4: an item tag first is the encapsulated form, which a native
                        // transfer syntax cannot carry; the JSON does not say which syntax it was.
                        self.notes.push((ReadWarningKind::PixelData,
                            "Pixel Data holds an encapsulated item stream (PS3.5 A.4) but the output \
                             transfer syntax is native: written as OB bytes that readers will not \
                             decode as pixels; name the source's transfer syntax (option \
                             `transfer_syntax`), or keep the file meta in the JSON"
                                .to_string(),
                        ));
                    }
                    if let Some(total) = bin.unmeasured_total().filter(|_| last && bin.pad) {
                        self.notes.push((
                            ReadWarningKind::OddLengthPadded,
                            format!("odd length {total}: padded with a zero byte (PS3.5 7.1.1)"),
                        ));
                    }
                    if last {
                        // The rest of the element object is read with the next token: a value from a
                        // reader is never read twice when pushed input runs out there.
                        self.binary = None;
                        self.next = Next::FinishElement;
                    }
                    self.takeable = true;
                    return Ok(self.emit(Step::value(StepKind::Token(TokenKind::Value), last)));
                }
                Next::Spool => {
                    let (tag, vr, spool) = self.spool.as_mut().expect("spooling");
                    let (tag, vr) = (*tag, *vr);
                    if let Some(value) = spool.step(&mut self.lex)? {
                        self.spool = None;
                        return self.start_binary(tag, vr, value);
                    }
                }
                Next::FinishElement => {
                    self.finish_element()?;
                    self.next = Next::Member;
                }
                Next::Pixels(state) => {
                    self.pixels(state)?;
                    if self.out.kind != StepKind::Nothing {
                        return Ok(Emitted);
                    }
                }
                Next::Item => return self.item(),
                Next::CloseSequence => {
                    self.finish_element()?;
                    self.next = Next::Member;
                    return Ok(self.emit(Step::SEQUENCE_END));
                }
                Next::TopEnd => {
                    self.next = Next::Done;
                    self.path.clear();
                    if !self.in_array {
                        self.expect_end()?;
                    } else if self.options.array != ArrayMode::Each {
                        self.finish_array()?;
                    }
                    return Ok(self.emit(Step::EOF));
                }
                Next::Done => return Ok(self.emit(Step::EOF)),
            }
        }
    }

    fn expect_end(&mut self) -> Result<(), Problem> {
        match self.lex.peek()? {
            None => Ok(()),
            Some(_) => Err(Problem::syntax(
                "content after the end of the JSON document (RFC 8259 §2)",
            )),
        }
    }

    // ---- top level ----------------------------------------------------------------------------------

    fn begin(&mut self) -> Result<(), Problem> {
        match self.lex.peek()? {
            Some(b'{') => self.begin_data_set(),
            Some(b'[') => {
                // PS3.18 F.2.1: a response may be an array of data sets (DCMTK json2dcm semantics, docs/design.md, Decisions).
                self.lex.bump();
                if !self.lex.array_has_first()? {
                    return Err(Problem::model("the top-level array holds no data set"));
                }
                self.in_array = true;
                if let ArrayMode::Select(n) = self.options.array {
                    for _ in 1..n.max(1) {
                        self.array_index += 1;
                        self.lex.skip_value(self.options.max_depth)?;
                        if !self.lex.array_has_next()? {
                            return Err(Problem::model(format!(
                                "+as {n}: the array holds only {} data set(s)",
                                self.array_index
                            )));
                        }
                    }
                }
                self.begin_data_set()
            }
            Some(_) => Err(Problem::model(
                "a DICOM JSON document is an object (a data set) or an array of them (PS3.18 F.2)",
            )),
            None => Err(Problem::syntax("empty input: no JSON value")),
        }
    }

    fn begin_data_set(&mut self) -> Result<(), Problem> {
        self.lex.expect(b'{', "'{' (a data set)")?;
        self.array_index += usize::from(self.in_array);
        let encoder = Arc::new(if self.options.charset_utf8 {
            TextEncoder::utf8()
        } else {
            TextEncoder::undeclared()
        });
        self.levels.clear();
        self.keys.clear();
        self.levels.push(encoder, 0);
        self.next = Next::Member;
        Ok(())
    }

    fn finish_array(&mut self) -> Result<(), Problem> {
        let more = self.lex.array_has_next()?;
        match self.options.array {
            ArrayMode::Single if more => {
                return Err(Problem::model(
                    "the top-level array holds more than one data set: choose one with option `array` = \
                     ArrayMode::Select(n), or read each (ArrayMode::Each)",
                ))
            }
            ArrayMode::Select(_) if more => {
                self.lex.skip_value(self.options.max_depth)?;
                while self.lex.array_has_next()? {
                    self.lex.skip_value(self.options.max_depth)?;
                }
            }
            _ => {}
        }
        self.in_array = false;
        self.expect_end()
    }

    // ---- data set members ---------------------------------------------------------------------------

    fn level(&mut self) -> &mut Level {
        self.levels.last_mut().expect("inside a data set")
    }

    /// The next member of the current data set: an element token, or the end of the data set.
    #[inline(always)] // into `step`, once per element: measured faster than the call
    fn member(&mut self) -> Result<Emitted, Problem> {
        let tag = match self.deferred.take() {
            Some(tag) => tag,
            None => {
                let first = std::mem::replace(&mut self.level().first, false);
                let more = if first {
                    self.lex.object_has_first()?
                } else {
                    self.lex.object_has_next()?
                };
                if !more {
                    return Ok(self.end_data_set());
                }
                if let Some(tag) = self.lex.tag_key_fast() {
                    self.check_order(tag)?;
                    tag
                } else {
                    self.read_tag_key()?
                }
            }
        };
        self.member_for(tag)
    }

    /// The general path for a data set member's name: whitespace, escapes, lower case under --lenient.
    fn read_tag_key(&mut self) -> Result<Tag, Problem> {
        let key = self.lex.read_key()?;
        let tag = match values::parse_tag_hex(key) {
            // R3: 8 uppercase hexadecimal digits.
            Some(t) if key.bytes().all(|b| !b.is_ascii_lowercase()) => Tag(t),
            Some(t) if self.options.lenient => {
                self.notes.push((
                    ReadWarningKind::LenientModel,
                    format!("key \"{key}\" in lower case (accepted: option `lenient`)"),
                ));
                Tag(t)
            }
            _ => {
                return Err(Problem::model(format!(
                "member \"{key}\" is not a tag as 8 uppercase hexadecimal digits (PS3.18 F.2.1.1)"
            )))
            }
        };
        self.check_order(tag)?;
        Ok(tag)
    }

    /// The member `tag` of the current data set: its element token (or nothing, for a skipped member).
    fn member_for(&mut self, tag: Tag) -> Result<Emitted, Problem> {
        // --charset-utf8: declare ISO_IR 192 on the top level before the first element after it.
        if self.options.charset_utf8
            && self.levels.len() == 1
            && !self.level().saw_charset
            && tag > Tag::SPECIFIC_CHARACTER_SET
            && tag.group() != 0x0002
        {
            self.level().saw_charset = true;
            self.deferred = Some(tag);
            self.value.clear();
            self.value.extend_from_slice(b"ISO_IR 192");
            self.next = Next::TextValue;
            self.pixel_pos = 0;
            self.open_object = false;
            self.path.push(PathStep {
                tag: Tag::SPECIFIC_CHARACTER_SET,
                item: 0,
            });
            return Ok(self.emit(Step::element(dcmflow_core::Header {
                tag: Tag::SPECIFIC_CHARACTER_SET,
                vr: Vr::CS,
                len: 10,
            })));
        }
        if tag == Tag::SPECIFIC_CHARACTER_SET
            && self.options.charset_utf8
            && self.levels.len() == 1
            && self.level().saw_charset
        {
            // Unsorted keys: ISO_IR 192 was declared before the first element after (0008,0005).
            self.notes.push((
                ReadWarningKind::ElementDropped,
                "\"00080005\" replaced by ISO_IR 192 (option `charset_utf8`)".into(),
            ));
            self.lex.skip_value(self.options.max_depth)?;
            return Ok(self.emit(Step::NOTHING));
        }
        if tag.group() == 0xFFFE {
            // PS3.5 7.5: (FFFE,E000), (FFFE,E00D) and (FFFE,E0DD) delimit items and sequences; they are
            // no data elements, and one written as such would be read back as an item.
            if !self.options.lenient {
                return Err(Problem::model(format!(
                    "\"{}\" is an item or delimitation tag, not a data element (PS3.5 7.5; option `lenient` \
                     skips it)",
                    tag_key(tag)
                )));
            }
            self.notes.push((ReadWarningKind::LenientModel, format!(
                "\"{}\" is an item or delimitation tag, not a data element: skipped (option `lenient`)",
                tag_key(tag)
            )));
            self.lex.skip_value(self.options.max_depth)?;
            return Ok(self.emit(Step::NOTHING));
        }
        if tag.is_group_length() {
            // R2: group lengths are not part of DICOM JSON (pydicom writes them); the DICOM writer
            // computes none, as they are retired (PS3.5 7.2).
            self.notes.push((
                ReadWarningKind::ElementDropped,
                format!("group length \"{}\" ignored (R2)", tag_key(tag)),
            ));
            self.lex.skip_value(self.options.max_depth)?;
            return Ok(self.emit(Step::NOTHING));
        }
        self.path.push(PathStep { tag, item: 0 });
        self.element(tag)
    }

    /// The next member name of an element object, under the lenient case rule.
    fn read_member_name(&mut self) -> Result<Member, Problem> {
        // Compact JSON names the value member exactly: no string scan or validation for it.
        const FAST: [(&[u8], Member); 3] = [
            (b"\"Value\":", Member::Value),
            (b"\"InlineBinary\":", Member::InlineBinary),
            (b"\"BulkDataURI\":", Member::BulkDataUri),
        ];
        if let Some(i) = self.lex.known_key_fast(&FAST.map(|(name, _)| name)) {
            return Ok(FAST[i].1);
        }
        let key = self.lex.read_key()?;
        let exact = match key {
            "vr" => Some(Member::Vr),
            "Value" => Some(Member::Value),
            "InlineBinary" => Some(Member::InlineBinary),
            "BulkDataURI" => Some(Member::BulkDataUri),
            _ => None,
        };
        if let Some(m) = exact {
            return Ok(m);
        }
        if self.options.lenient {
            let folded = match key.to_ascii_lowercase().as_str() {
                "vr" => Some(Member::Vr),
                "value" => Some(Member::Value),
                "inlinebinary" => Some(Member::InlineBinary),
                "bulkdatauri" => Some(Member::BulkDataUri),
                _ => None,
            };
            if let Some(m) = folded {
                self.notes.push((
                    ReadWarningKind::LenientModel,
                    format!("member \"{key}\" matched case-insensitively (option `lenient`)"),
                ));
                return Ok(m);
            }
        }
        Err(Problem::model(format!(
            "unknown member \"{key}\" (PS3.18 F.2.2: vr, Value, InlineBinary, BulkDataURI)"
        )))
    }

    /// The element object of `tag`: `vr`, then at most one value member (R4).
    fn element(&mut self, tag: Tag) -> Result<Emitted, Problem> {
        let mut vr = None;
        let mut value_member = None;
        if let Some(bytes) = self.lex.vr_head_fast() {
            // Compact `{"vr":"XX"` (the common case): no member-name matching, no string validation.
            vr = Some(parse_vr(&bytes)?);
            if self.lex.object_has_next()? {
                match self.read_member_name()? {
                    Member::Vr => return Err(Problem::model("two \"vr\" members")),
                    m => value_member = Some(m),
                }
            }
        } else {
            self.element_members(&mut vr, &mut value_member)?;
        }
        let vr = match vr {
            Some(vr) => vr,
            None if self.options.lenient => {
                let vr = dcmflow_core::dict::implicit_vr(tag);
                self.notes.push((
                    ReadWarningKind::LenientModel,
                    format!("no \"vr\": {vr} from the data dictionary (option `lenient`)"),
                ));
                vr
            }
            None if value_member.is_some() => return Err(Problem::model(
                "\"vr\" must come before the value member (PS3.18 F.2.2; this streaming reader \
                     does not buffer elements)",
            )),
            None => return Err(Problem::model("element without \"vr\" (PS3.18 F.2.2)")),
        };
        // PS3.10 7.1: the file meta group (top-level group 0002) holds no sequences; one would be written
        // into the data set, where a reader takes it for a malformed meta.
        if vr == Vr::SQ && tag.group() == 0x0002 && self.levels.len() == 1 {
            return Err(Problem::model(format!(
                "\"{}\" is a sequence in the file meta group 0002, which holds none (PS3.10 7.1)",
                tag_key(tag)
            )));
        }
        // PS3.5 6.1.2.3: these VRs (and items, which inherit the set) are encoded per (0008,0005); those
        // below it in tag order per the enclosing level's set (see `encoder`).
        if matches!(
            vr,
            Vr::SH | Vr::LO | Vr::ST | Vr::LT | Vr::PN | Vr::UC | Vr::UT | Vr::SQ
        ) && tag > Tag::SPECIFIC_CHARACTER_SET
        {
            self.level().charset_text_seen = true;
        }
        let Some(member) = value_member else {
            // R5: no value member → zero-length element (an empty sequence for SQ).
            return Ok(self.empty_element(tag, vr));
        };
        self.open_object = true;
        match member {
            Member::Value => self.value_member(tag, vr),
            Member::InlineBinary => self.inline_binary(tag, vr),
            Member::BulkDataUri => self.bulk_data(tag, vr),
            Member::Vr => unreachable!("handled above"),
        }
    }

    /// The general path of [`Self::element`]: members in any layout, `vr` possibly after the value.
    fn element_members(
        &mut self,
        vr: &mut Option<Vr>,
        value_member: &mut Option<Member>,
    ) -> Result<(), Problem> {
        self.lex.expect(b'{', "'{' (an element object)")?;
        if self.lex.object_has_first()? {
            loop {
                match self.read_member_name()? {
                    Member::Vr => {
                        // Refused before its value is read, as the compact path refuses it.
                        if vr.is_some() {
                            return Err(Problem::model("two \"vr\" members"));
                        }
                        *vr = Some(parse_vr(self.lex.read_string()?.as_bytes())?);
                    }
                    m => {
                        if vr.is_none() {
                            // "vr" after the value (pydicom's key order): found by looking ahead.
                            let hold = self.options.max_string.min(self.options.hold_binary);
                            if let Some(text) = self.lex.find_vr_ahead(hold)? {
                                *vr = Some(parse_vr(text.as_bytes())?);
                                self.vr_after_value = true;
                            }
                        }
                        *value_member = Some(m);
                        break;
                    }
                }
                if !self.lex.object_has_next()? {
                    break;
                }
            }
        }
        Ok(())
    }

    fn end_data_set(&mut self) -> Emitted {
        if let Some(keys_start) = self.levels.pop() {
            self.keep_closed_keys(keys_start);
            self.keys.truncate(keys_start);
        }
        if self.levels.is_empty() {
            self.next = Next::TopEnd;
            return self.emit(Step::NOTHING);
        }
        self.next = Next::Item;
        self.emit(Step::ITEM_END)
    }

    /// Reads what is left of the element object after its value (R4: no second value member) and
    /// leaves the element's path.
    fn finish_element(&mut self) -> Result<(), Problem> {
        if std::mem::take(&mut self.open_object) && self.lex.object_has_next()? {
            let mut member = self.read_member_name()?;
            if std::mem::take(&mut self.vr_after_value) && member == Member::Vr {
                // Already read ahead; its value was checked then.
                self.lex.read_string()?;
                if !self.lex.object_has_next()? {
                    self.path.pop();
                    return Ok(());
                }
                member = self.read_member_name()?;
            }
            return Err(match member {
                Member::Vr => Problem::model("\"vr\" after the value: it must come first, once"),
                _ => Problem::model(
                    "more than one of Value, InlineBinary, BulkDataURI (PS3.18 F.2.2; R4)",
                ),
            });
        }
        self.path.pop();
        Ok(())
    }

    fn empty_element(&mut self, tag: Tag, vr: Vr) -> Emitted {
        self.open_object = false;
        if vr == Vr::SQ {
            self.next = Next::CloseSequence;
            return self.emit(Step::sequence_start(
                StepKind::Token(TokenKind::SequenceStart),
                tag,
                vr,
            ));
        }
        self.value.clear();
        self.pixel_pos = 0;
        self.next = Next::TextValue;
        self.emit(Step::element(dcmflow_core::Header { tag, vr, len: 0 }))
    }

    // ---- values -------------------------------------------------------------------------------------

    /// `"Value": [...]`: items of a sequence, or values gathered into one DICOM value.
    fn value_member(&mut self, tag: Tag, vr: Vr) -> Result<Emitted, Problem> {
        if vr == Vr::SQ {
            self.lex.expect(b'[', "'[' (the items of a sequence)")?;
            if self.levels.len() >= self.options.max_depth {
                return Err(Problem::new(
                    ReadErrorKind::Limit,
                    format!("sequences nested deeper than {}", self.options.max_depth),
                ));
            }
            self.item_first = true;
            self.sequence_vr_after
                .push(std::mem::take(&mut self.vr_after_value));
            self.next = Next::Item;
            return Ok(self.emit(Step::sequence_start(
                StepKind::Token(TokenKind::SequenceStart),
                tag,
                vr,
            )));
        }
        if is_binary_only(vr) {
            return Err(Problem::model(format!(
                "{vr} takes InlineBinary or BulkDataURI, not Value (PS3.18 F.2.3)"
            )));
        }
        self.value.clear();
        if self.lex.peek()? != Some(b'[') {
            if !self.options.lenient {
                return Err(Problem::model(
                    "\"Value\" must be an array (PS3.18 F.2.4; a bare value is accepted with option `lenient`)",
                ));
            }
            self.notes.push((
                ReadWarningKind::LenientModel,
                "a bare value instead of a one-element array (option `lenient`)".into(),
            ));
            self.one_value(vr, true)?;
        } else {
            self.lex.bump();
            let mut first = true;
            while if first {
                self.lex.array_has_first()?
            } else {
                self.lex.array_has_next()?
            } {
                self.one_value(vr, first)?;
                first = false;
            }
        }
        // PS3.5 7.1.1: even length; UI pads with NUL, other text with a space.
        if self.value.len() % 2 == 1 {
            self.value.push(if vr == Vr::UI { 0 } else { b' ' });
        }
        if tag == Tag::SPECIFIC_CHARACTER_SET {
            self.declare_charset()?;
        }
        let len = u32::try_from(self.value.len())
            .ok()
            .filter(|&n| n != Length::UNDEFINED_RAW)
            .ok_or_else(|| Problem::new(ReadErrorKind::Limit, "value of 4 GiB or more"))?;
        self.pixel_pos = 0;
        self.next = Next::TextValue;
        Ok(self.emit(Step::element(dcmflow_core::Header { tag, vr, len })))
    }

    /// (0008,0005) scopes the character set of this data set level (PS3.3 C.12.1.1.2; CP-2518).
    fn declare_charset(&mut self) -> Result<(), Problem> {
        if let Some(r) = self.resume.as_deref_mut() {
            let level = self.levels.last().expect("inside a data set");
            r.replaced_encoder = Some(Arc::clone(&level.encoder));
        }
        if self.options.charset_utf8 {
            self.value.clear();
            self.value.extend_from_slice(b"ISO_IR 192");
            self.level().encoder = Arc::new(TextEncoder::utf8());
            self.level().saw_charset = true;
            return Ok(());
        }
        let terms = String::from_utf8_lossy(&self.value).into_owned();
        // An unknown term is read as the default repertoire (ISO 8859-1 for 8-bit bytes): so written.
        let encoder =
            TextEncoder::from_terms_or_undeclared(&terms).unwrap_or_else(|(encoder, u)| {
                self.notes.push((
                    ReadWarningKind::UnknownCharacterSet,
                    format!(
                "unknown Specific Character Set term '{}' (PS3.3 C.12.1.1.2): text written as the \
                 default repertoire, other characters as ISO 8859-1, as such a data set is read",
                u.0
            ),
                ));
                encoder
            });
        self.level().encoder = Arc::new(encoder);
        self.level().saw_charset = true;
        Ok(())
    }

    /// The encoder for the current element's text. PS3.5 7.1: the DICOM written is in tag order, so an
    /// element below (0008,0005) comes before the level's own declaration, and a reader decoding in
    /// order (dcm2json does) reads it under the enclosing level's set: it is encoded under that set too,
    /// whatever the order of the JSON's keys.
    fn encoder(&self) -> Arc<TextEncoder> {
        let level = self.levels.last().expect("in a data set");
        let before_declaration = self
            .path
            .last()
            .is_some_and(|step| step.tag < Tag::SPECIFIC_CHARACTER_SET);
        if before_declaration {
            Arc::clone(&level.inherited)
        } else {
            Arc::clone(&level.encoder)
        }
    }

    /// One element of a `Value` array, appended to `value`.
    fn one_value(&mut self, vr: Vr, first: bool) -> Result<(), Problem> {
        if vr.is_text() && !first {
            self.value.push(b'\\');
        }
        let lenient = self.options.lenient;
        match self.lex.peek()? {
            Some(b'n') => {
                self.lex.read_literal("null")?;
                // R6: an empty value inside a multi-valued one; only text VRs can hold it.
                if !vr.is_text() {
                    if !lenient {
                        return Err(Problem::value(format!(
                            "null in a {vr} value: a binary number cannot be empty (option `lenient` drops it)"
                        )));
                    }
                    self.notes.push((
                        ReadWarningKind::LenientModel,
                        format!("null in a {vr} value dropped (option `lenient`)"),
                    ));
                }
            }
            Some(b'"') => {
                let encoder = self.encoder();
                let text = self.lex.read_string()?;
                let out = &mut self.value;
                let mut checks = Checks {
                    strict: self.options.strict_vr_rules,
                    notes: &mut self.notes,
                };
                let notes = &mut *checks.notes;
                match vr {
                    Vr::DS | Vr::IS => values::push_decimal(vr, text, true, &mut checks, out)?,
                    Vr::AT => values::push_at(text, out)?,
                    Vr::SV | Vr::UV => values::push_binary_integer(vr, text, notes, out)?,
                    Vr::FL | Vr::FD => values::push_float(vr, text, true, lenient, notes, out)?,
                    Vr::US | Vr::SS | Vr::UL | Vr::SL if lenient => {
                        notes.push((
                            ReadWarningKind::LenientModel,
                            format!("{vr} given as a string (option `lenient`)"),
                        ));
                        values::push_binary_integer(vr, text, notes, out)?
                    }
                    Vr::PN if lenient => {
                        notes.push((
                            ReadWarningKind::LenientModel,
                            "PN given as a plain string, taken as is (option `lenient`)".into(),
                        ));
                        values::encode_text(vr, text, &encoder, b"^=\\", notes, out)?
                    }
                    Vr::PN => return Err(Problem::value(
                        "PN values are objects {\"Alphabetic\": …} (PS3.18 F.2.2; a plain string \
                             is accepted with option `lenient`)",
                    )),
                    _ if vr.is_text() => values::push_text(vr, text, &encoder, &mut checks, out)?,
                    Vr::US | Vr::SS | Vr::UL | Vr::SL => {
                        return Err(Problem::value(format!(
                        "{vr} values are JSON numbers, not strings (PS3.18 F.2.3; numeric strings \
                             are accepted with option `lenient`)"
                    )))
                    }
                    _ => return Err(Problem::value(format!("{vr} does not take strings"))),
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let text = self.lex.read_number()?;
                let out = &mut self.value;
                let mut checks = Checks {
                    strict: self.options.strict_vr_rules,
                    notes: &mut self.notes,
                };
                let notes = &mut *checks.notes;
                match vr {
                    // Every JSON number (RFC 8259 §6, checked by the lexer) is a valid DS (PS3.5 6.2):
                    // up to 16 bytes it is written as it is, with no second check.
                    Vr::DS if text.len() <= 16 => out.extend_from_slice(text.as_bytes()),
                    Vr::DS | Vr::IS => values::push_decimal(vr, text, false, &mut checks, out)?,
                    Vr::US | Vr::SS | Vr::UL | Vr::SL | Vr::SV | Vr::UV => {
                        values::push_binary_integer(vr, text, notes, out)?
                    }
                    Vr::FL | Vr::FD => values::push_float(vr, text, false, lenient, notes, out)?,
                    _ => {
                        return Err(Problem::value(format!(
                            "{vr} takes strings, not the number {text} (PS3.18 F.2.3)"
                        )))
                    }
                }
            }
            Some(b'{') if vr == Vr::PN => self.person_name()?,
            Some(b) => {
                let what = match b {
                    b'{' => "an object",
                    b'[' => "an array",
                    b't' | b'f' => "a boolean",
                    _ => "a character",
                };
                return Err(Problem::value(format!("unexpected {what} in a {vr} value")));
            }
            None => return Err(Problem::syntax("unexpected end of input in a Value array")),
        }
        Ok(())
    }

    /// PS3.18 F.2.2: {"Alphabetic", "Ideographic", "Phonetic"} → groups joined with `=`, trailing empty
    /// groups dropped (R7, R8).
    fn person_name(&mut self) -> Result<(), Problem> {
        self.lex.bump();
        let encoder = self.encoder();
        let mut groups: [Option<(usize, usize)>; 3] = [None; 3];
        let mut scratch = std::mem::take(&mut self.pn_scratch);
        scratch.clear();
        if self.lex.object_has_first()? {
            loop {
                let index = match self.lex.read_key()? {
                    "Alphabetic" => 0,
                    "Ideographic" => 1,
                    "Phonetic" => 2,
                    other => {
                        return Err(Problem::value(format!(
                        "PN component group \"{other}\" (PS3.18 F.2.2: Alphabetic, Ideographic, \
                             Phonetic; R8)"
                    )))
                    }
                };
                let text = self.lex.read_string()?;
                if groups[index].is_some() {
                    return Err(Problem::value("a PN component group given twice"));
                }
                if text.contains(['=', '\\']) {
                    return Err(Problem::value(
                        "a PN component group holds '=' or '\\' (PS3.5 6.2 PN delimiters)",
                    ));
                }
                let from = scratch.len();
                values::encode_text(
                    Vr::PN,
                    text,
                    &encoder,
                    b"^=\\",
                    &mut self.notes,
                    &mut scratch,
                )?;
                groups[index] = Some((from, scratch.len()));
                if !self.lex.object_has_next()? {
                    break;
                }
            }
        }
        let used = groups
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |i| i + 1);
        for (i, group) in groups[..used].iter().enumerate() {
            if i > 0 {
                self.value.push(b'=');
            }
            if let Some((a, b)) = *group {
                self.value.extend_from_slice(&scratch[a..b]);
            }
        }
        self.pn_scratch = scratch;
        Ok(())
    }

    fn inline_binary(&mut self, tag: Tag, vr: Vr) -> Result<Emitted, Problem> {
        if !is_binary_only(vr) {
            return Err(Problem::model(format!(
                "InlineBinary is only for OB OD OF OL OV OW UN, not {vr} (PS3.18 F.2.3)"
            )));
        }
        self.binary_at = self.value_start();
        let hold = self.options.max_string.min(self.options.hold_binary);
        // A top-level value the consumer can write before knowing its length (its output is seekable):
        // decoded in one pass, not measured ahead or spooled. Encapsulated Pixel Data is parsed into
        // fragments instead and keeps the measured path.
        // The SOP Class and Instance UIDs feed the file meta (PS3.10 7.1), which must go out before a
        // value whose length is patched: theirs are measured, so the meta can hold them.
        // Pushed input is never read unmeasured: an unmeasured value is read straight from the lexer
        // step after step, and such a step could run out half way (see `resume.rs`).
        let unmeasured = self.unmeasured_binary
            && self.resume.is_none()
            && self.levels.len() == 1
            && !(tag == Tag::PIXEL_DATA && self.encapsulated)
            && !matches!(tag, Tag::SOP_CLASS_UID | Tag::SOP_INSTANCE_UID);
        match BinaryValue::inline(&mut self.lex, hold, unmeasured)? {
            Inline::Value(value) => self.start_binary(tag, vr, value),
            Inline::Spool(spool) => {
                // Warnings so far go out here, at the string's start, where a measured value's step
                // ends: the same place whichever way the value is read.
                self.flush_notes();
                self.spool = Some((tag, vr, spool));
                self.next = Next::Spool;
                Ok(self.emit(Step::NOTHING))
            }
        }
    }

    fn bulk_data(&mut self, tag: Tag, vr: Vr) -> Result<Emitted, Problem> {
        // R14: PS3.18 F.2.6 lists the VRs a BulkDataURI may stand for.
        if !crate::bulk::is_bulk_eligible(vr) {
            return Err(Problem::model(format!(
                "BulkDataURI is not allowed for {vr} (PS3.18 F.2.6; R14)"
            )));
        }
        self.binary_at = self.value_start();
        let uri = self.lex.read_string()?.to_string();
        let path = self.path_string();
        let request = BulkRequest {
            uri: &uri,
            tag,
            vr,
            path: &path,
        };
        let resolved = match self.resolver.as_mut() {
            Some(r) => r.resolve(&request),
            None => Err(format!(
                "BulkDataURI '{uri}' not read: no bulk data resolver allows it"
            )),
        }
        .map_err(|m| Problem::new(ReadErrorKind::BulkData, m))?;
        let value = match resolved {
            Some(source) => BinaryValue::from_reader(source.reader, source.length),
            None => {
                self.notes.push((
                    ReadWarningKind::ElementDropped,
                    format!(
                        "BulkDataURI '{uri}' ignored: element written empty (bulk data ignored)"
                    ),
                ));
                BinaryValue::from_reader(Box::new(std::io::empty()), 0)
            }
        };
        self.start_binary(tag, vr, value)
    }

    fn start_binary(
        &mut self,
        tag: Tag,
        vr: Vr,
        value: BinaryValue<'a>,
    ) -> Result<Emitted, Problem> {
        // An unmeasured value announces the undefined length; the consumer patches the real one in.
        let len = match value.length() {
            None => Length::UNDEFINED_RAW,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|&n| n != Length::UNDEFINED_RAW)
                .ok_or_else(|| {
                    Problem::new(ReadErrorKind::Limit, "binary value of 4 GiB or more")
                })?,
        };
        let pixel_data = tag == Tag::PIXEL_DATA && self.encapsulated && len > 0;
        self.pixel_check = tag == Tag::PIXEL_DATA && !self.encapsulated && len >= 8;
        self.binary = Some(value);
        self.value.clear();
        self.pixel_pos = 0;
        let encapsulated = if pixel_data && self.levels.len() > 1 {
            // PS3.5 A.4 lets Pixel Data inside items (icon images) of an encapsulated syntax be native or
            // encapsulated, and the JSON does not say which: an item tag first is the encapsulated form.
            // The first bytes are decoded to tell; a native value then starts with them.
            self.pixel_exhausted = false;
            self.pixel_bytes(4)?;
            let item_stream = self.value.starts_with(&[0xFE, 0xFF, 0x00, 0xE0]);
            self.predecoded = !item_stream;
            item_stream
        } else {
            pixel_data
        };
        let pad = self.binary.as_ref().is_some_and(|b| b.pad);
        if pad && !encapsulated {
            let remaining = self.binary.as_ref().map_or(0, |b| b.remaining);
            self.notes.push((
                ReadWarningKind::OddLengthPadded,
                format!(
                    "odd length {}: padded with a zero byte (PS3.5 7.1.1)",
                    remaining - 1
                ),
            ));
        }
        if encapsulated {
            // docs/design.md, Decisions: encapsulated pixel data travels as the bytes of its item stream.
            self.pixel_exhausted = false;
            self.next = Next::Pixels(PixelState::Header);
            return Ok(self.emit(Step::sequence_start(
                StepKind::Token(TokenKind::PixelSequenceStart),
                tag,
                vr,
            )));
        }
        self.next = Next::BinaryValue;
        Ok(self.emit(Step::element(dcmflow_core::Header { tag, vr, len })))
    }

    // ---- sequences and items ------------------------------------------------------------------------

    fn item(&mut self) -> Result<Emitted, Problem> {
        let first = std::mem::replace(&mut self.item_first, false);
        let more = if first {
            self.lex.array_has_first()?
        } else {
            self.lex.array_has_next()?
        };
        if !more {
            // The sequence's element object is open (its Value array was read); the flag itself was
            // reused by the elements of its items.
            self.open_object = true;
            self.vr_after_value = self.sequence_vr_after.pop().unwrap_or(false);
            self.finish_element()?;
            self.next = Next::Member;
            return Ok(self.emit(Step::SEQUENCE_END));
        }
        if self.lex.peek()? != Some(b'{') {
            return Err(Problem::model(
                "a sequence item must be an object (PS3.18 F.2.4)",
            ));
        }
        self.lex.bump();
        if let Some(step) = self.path.last_mut() {
            step.item += 1;
        }
        let encoder = self.encoder();
        self.levels.push(encoder, self.keys.len());
        self.next = Next::Member;
        Ok(self.emit(Step::item_start(Length::UNDEFINED_RAW)))
    }
}

/// PS3.18 F.2.3: these VRs carry InlineBinary or a BulkDataURI, never a Value array.
/// A `vr` member's value (PS3.5 6.2: two uppercase letters naming a VR).
#[inline] // once per element: the VR comes back in a register
fn parse_vr(text: &[u8]) -> Result<Vr, Problem> {
    match <[u8; 2]>::try_from(text).ok().and_then(Vr::from_bytes) {
        Some(vr) => Ok(vr),
        None => Err(not_a_vr(text)),
    }
}

#[cold]
fn not_a_vr(text: &[u8]) -> Problem {
    Problem::model(format!(
        "\"vr\": \"{}\" is not a VR (PS3.5 6.2)",
        String::from_utf8_lossy(text)
    ))
}

fn is_binary_only(vr: Vr) -> bool {
    matches!(
        vr,
        Vr::OB | Vr::OD | Vr::OF | Vr::OL | Vr::OV | Vr::OW | Vr::UN
    )
}

/// What `step` produced: a token other than `Value`, or a value whose bytes are in the reader's buffer.
///
/// It is not returned: the member path sets `JsonReader::out` where it decides (`emit`) and returns the
/// mark [`Emitted`], so every `Result` on the way is one pointer, in a register. Returned, the step went
/// through the stack at each `?` and merge and was reloaded in other widths than it was stored: a
/// store-forwarding stall per token (a `Token` inside once cost a sixth of the reader's time; an enum,
/// then a returned struct, still a few percent). A struct of scalars in two aligned words, so that its
/// fields are stored and read alike.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(8))]
struct Step {
    /// `Element`, `SequenceStart`, `PixelSequenceStart`: the element's tag and VR.
    tag: Tag,
    /// `Element`: the value length; `ItemStart`: the item's length as stored (FFFFFFFFH undefined).
    len: u32,
    kind: StepKind,
    vr: Vr,
    /// `Value`, `PixelValue`: the last chunk of the element or fragment.
    last: bool,
}

/// `JsonReader::out` holds the step just produced.
#[derive(Clone, Copy, Debug)]
struct Emitted;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StepKind {
    /// That token; a `Value`'s bytes are `value[pixel_pos..]`. (JSON gives sequences no length: a
    /// `SequenceStart`'s is undefined.)
    Token(TokenKind),
    /// A fragment's bytes, `value[value_range]`.
    PixelValue,
    /// No token yet (a member skipped, the top level closed): `step` goes on.
    Nothing,
}

impl Step {
    const fn of(kind: StepKind) -> Step {
        Step {
            kind,
            tag: Tag(0),
            vr: Vr::UN,
            len: 0,
            last: false,
        }
    }
    const ITEM_END: Step = Step::of(StepKind::Token(TokenKind::ItemEnd));
    const SEQUENCE_END: Step = Step::of(StepKind::Token(TokenKind::SequenceEnd));
    const EOF: Step = Step::of(StepKind::Token(TokenKind::Eof));
    const NOTHING: Step = Step::of(StepKind::Nothing);

    fn element(header: dcmflow_core::Header) -> Step {
        Step {
            tag: header.tag,
            vr: header.vr,
            len: header.len,
            ..Step::of(StepKind::Token(TokenKind::Element))
        }
    }
    /// `SequenceStart` or `PixelSequenceStart`.
    fn sequence_start(kind: StepKind, tag: Tag, vr: Vr) -> Step {
        Step {
            tag,
            vr,
            ..Step::of(kind)
        }
    }
    fn item_start(len: u32) -> Step {
        Step {
            len,
            ..Step::of(StepKind::Token(TokenKind::ItemStart))
        }
    }
    /// `Value` or `PixelValue`.
    fn value(kind: StepKind, last: bool) -> Step {
        Step {
            last,
            ..Step::of(kind)
        }
    }

    /// The token of any step but the two value steps (whose bytes `read_token` lends).
    fn token(self) -> Token<'static> {
        match self.kind {
            StepKind::Token(TokenKind::Element) => Token::Element(dcmflow_core::Header {
                tag: self.tag,
                vr: self.vr,
                len: self.len,
            }),
            StepKind::Token(TokenKind::SequenceStart) => Token::SequenceStart {
                tag: self.tag,
                vr: self.vr,
                len: Length::Undefined,
            },
            StepKind::Token(TokenKind::PixelSequenceStart) => Token::PixelSequenceStart {
                tag: self.tag,
                vr: self.vr,
            },
            StepKind::Token(TokenKind::ItemStart) => Token::ItemStart {
                len: Length::from_raw(self.len),
            },
            StepKind::Token(TokenKind::ItemEnd) => Token::ItemEnd,
            StepKind::Token(TokenKind::SequenceEnd) => Token::SequenceEnd,
            StepKind::Token(TokenKind::Eof) => Token::Eof,
            StepKind::Token(TokenKind::Value) | StepKind::PixelValue => {
                unreachable!("values are lent by read_token")
            }
            StepKind::Nothing => unreachable!("step goes on"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member {
    Vr,
    Value,
    InlineBinary,
    BulkDataUri,
}
