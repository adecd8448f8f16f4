//! The DICOM pull parser: bytes in, [`Token`]s out, one at a time, with no tree and no allocation sized by
//! a length field.
//!
//! Nesting is an explicit state plus a stack of frames:
//!
//! ```text
//!   state      what the next bytes are                 frames (innermost last)
//!   ---------  --------------------------------------  ----------------------------------------
//!   Start      preamble / DICM / bare data set          []
//!   Meta       group 0002 elements, Explicit VR LE      []
//!   DataSet    element header or item delimiter         [.., Sequence, Item]   (or [] at top level)
//!   Items      item or sequence delimiter               [.., Sequence]
//!   Fragments  fragment item or sequence delimiter      [.., PixelSequence]
//!   Value      `remaining` bytes of a value/fragment    unchanged
//!   FragmentEnd  emit ItemEnd after a fragment          [.., PixelSequence]
//!   Done       Eof (or the stored error) for ever
//! ```
//! A frame with a defined length records its end offset; reaching it closes the frame (PS3.5 7.5.1).

use std::io::Read;

use bytes::Bytes;
use dcmflow_engine::push::PushInput;

use dcmflow_core::{
    dict, Encoding, Error, ErrorKind, Header, Length, Result, Tag, Token, TransferSyntax, Vr,
    Warning, WarningKind,
};

use crate::source::{Source, MAX_PEEK};

/// PS3.10 7.1: the Type 1 file meta elements (version, media storage SOP class/instance, transfer syntax).
const REQUIRED_META: [Tag; 4] = [
    Tag(0x0002_0001),
    Tag(0x0002_0002),
    Tag(0x0002_0003),
    Tag::TRANSFER_SYNTAX_UID,
];

/// How the reader behaves. Every tolerance of a broken file is on by default and reported as a [`Warning`].
#[derive(Clone, Debug)]
pub struct ReaderOptions {
    /// The largest `Value` chunk delivered from an `io::Read` (slices always give a value whole).
    pub chunk_size: usize,
    /// The deepest nesting of sequences accepted.
    pub max_depth: usize,
    /// Read the data set with this transfer syntax whatever the file says (DCMTK `-t?`); for bare data sets
    /// without it the encoding is detected from the first bytes (DCMTK `-f`).
    pub transfer_syntax: Option<TransferSyntax>,
    /// At most this many warnings are kept; the rest are counted in [`DicomReader::warnings_dropped`].
    pub max_warnings: usize,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            chunk_size: 256 * 1024,
            max_depth: 64,
            transfer_syntax: None,
            max_warnings: 256,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FrameKind {
    Sequence,
    Item,
    PixelSequence,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    kind: FrameKind,
    /// Absolute end offset for a defined length.
    end: Option<u64>,
    /// The encoding of the frame's content (CP-246: a UN sequence's content is Implicit VR LE).
    encoding: Encoding,
    /// An item's Pixel Representation (0028,0103), once read: 1 = signed.
    pixel_representation: Option<u16>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Start,
    Meta,
    DataSet,
    Items,
    Fragments,
    Value { remaining: u64, then: Resume },
    FragmentEnd,
    Done,
}

/// Where parsing resumes once a value has been delivered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Resume {
    Meta,
    DataSet,
    FragmentEnd,
}

impl Resume {
    fn state(self) -> State {
        match self {
            Resume::Meta => State::Meta,
            Resume::DataSet => State::DataSet,
            Resume::FragmentEnd => State::FragmentEnd,
        }
    }
}

/// What a length field measures: a value's bytes (must exist in the input) or a sequence/item (whose
/// content is checked element by element, so a short input closes it instead).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Extent {
    Value,
    Container,
}

/// What the state machine decided to emit; `Value` is materialised from the source afterwards so the
/// borrow of the input lives only in [`DicomReader::read_token`].
enum Step {
    Token(Token<'static>),
    Value { remaining: u64, then: Resume },
}

/// A lending pull parser over a DICOM file or bare data set. See the module docs for its states.
pub struct DicomReader<'a> {
    source: Source<'a>,
    options: ReaderOptions,
    state: State,
    frames: Vec<Frame>,
    /// The top-level data set encoding (known after the file meta).
    encoding: Encoding,
    transfer_syntax: Option<TransferSyntax>,
    preamble: Option<Box<[u8; 128]>>,
    /// (0002,0010) as read, for the transfer syntax switch at the end of the meta group.
    meta_ts_uid: Option<([u8; 64], usize)>,
    /// (0002,0000) value and the offset where the group it counts starts.
    meta_group_length: Option<(u32, u64)>,
    /// Which of the Type 1 meta elements (0002,0001/0002/0003/0010) were seen, as bits 0–3.
    meta_seen: u8,
    last_meta_tag: Option<Tag>,
    /// The first data set element has been checked against the declared VR encoding.
    encoding_checked: bool,
    token_offset: u64,
    /// The top-level data set's Pixel Representation (0028,0103), once read.
    pixel_representation: Option<u16>,
    warnings: Vec<Warning>,
    warnings_dropped: u64,
    failed: Option<Error>,
    /// Push input only: the reader as it was before the step under way, to step back to when the pushed
    /// bytes run out inside it.
    checkpoint: Option<Box<Checkpoint>>,
}

/// The most bytes one pass of the step loop peeks or consumes before it yields or loops: the preamble
/// and `DICM` (132), or an element header and a file meta value read whole (12 + 64); 512 leaves room.
const STEP_READS_AT_MOST: usize = 512;

/// Everything a step may change besides the input position (which the push input marks itself).
#[derive(Clone, Debug, Default)]
struct Checkpoint {
    state: Option<State>,
    frames: Vec<Frame>,
    encoding: Option<Encoding>,
    transfer_syntax: Option<TransferSyntax>,
    preamble_set: bool,
    meta_ts_uid: Option<([u8; 64], usize)>,
    meta_group_length: Option<(u32, u64)>,
    meta_seen: u8,
    last_meta_tag: Option<Tag>,
    encoding_checked: bool,
    token_offset: u64,
    pixel_representation: Option<u16>,
    warnings: usize,
    warnings_dropped: u64,
}

impl std::fmt::Debug for DicomReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DicomReader")
            .field("state", &self.state)
            .field("depth", &self.frames.len())
            .field("position", &self.source.position())
            .finish_non_exhaustive()
    }
}

impl<'a> DicomReader<'a> {
    /// Reads from memory; values are borrowed from `data` whole.
    pub fn from_slice(data: &'a [u8], options: ReaderOptions) -> DicomReader<'a> {
        Self::new(Source::Slice { data, pos: 0 }, options)
    }

    /// Reads from any `io::Read` through one buffer of about twice `options.chunk_size`.
    pub fn from_reader<R: Read + Send + 'a>(reader: R, options: ReaderOptions) -> DicomReader<'a> {
        let source = Source::stream(Box::new(reader), options.chunk_size.max(1), 0);
        Self::new(source, options)
    }

    fn new(source: Source<'a>, mut options: ReaderOptions) -> DicomReader<'a> {
        options.chunk_size = options.chunk_size.max(1);
        DicomReader {
            source,
            options,
            state: State::Start,
            frames: Vec::new(),
            encoding: Encoding::EXPLICIT_LE,
            transfer_syntax: None,
            preamble: None,
            meta_ts_uid: None,
            meta_group_length: None,
            meta_seen: 0,
            last_meta_tag: None,
            encoding_checked: false,
            token_offset: 0,
            pixel_representation: None,
            warnings: Vec::new(),
            warnings_dropped: 0,
            failed: None,
            checkpoint: None,
        }
    }

    /// A reader of input the caller pushes in chunks (sans-IO): [`DicomReader::push`] hands over bytes,
    /// [`DicomReader::end_input`] says there are no more. [`DicomReader::read_token`] then returns an
    /// error of kind [`ErrorKind::NeedInput`] where a pull reader would wait for its input; it is not an
    /// error of the input (push more and call again). Tokens, warnings and errors are those of
    /// [`DicomReader::from_reader`] over the same bytes, whatever the chunks; value chunks are handed out
    /// from the pushed `Bytes` without a copy where they lie within one chunk.
    pub fn pushed(options: ReaderOptions) -> DicomReader<'static> {
        let mut reader = DicomReader::new(Source::Push(Box::new(PushInput::new())), options);
        reader.checkpoint = Some(Box::default());
        reader
    }

    /// Hands over the next chunk of a [`DicomReader::pushed`] reader's input (ignored by other readers).
    pub fn push(&mut self, chunk: Bytes) {
        if let Some(input) = self.source.pushed() {
            input.push(chunk);
        }
    }

    /// No more input will be pushed: what is left is read to the end.
    pub fn end_input(&mut self) {
        if let Some(input) = self.source.pushed() {
            input.end();
        }
    }

    /// The next token. After `Eof` or an error, the same result is returned again.
    pub fn read_token(&mut self) -> Result<Token<'_>> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.checkpoint.is_some() {
            self.save_checkpoint();
        }
        let step = match self.step() {
            Ok(s) => s,
            Err(e) if e.kind == ErrorKind::NeedInput => {
                self.restore_checkpoint();
                return Err(e);
            }
            Err(e) => return Err(self.fail(e)),
        };
        match step {
            Step::Token(t) => Ok(t),
            Step::Value { remaining, then } => {
                self.token_offset = self.source.position();
                if remaining == 0 {
                    self.state = then.state();
                    return Ok(Token::Value {
                        bytes: &[],
                        last: true,
                    });
                }
                match self.source.take(remaining, self.options.chunk_size) {
                    Ok(bytes) => {
                        let left = remaining - bytes.len() as u64;
                        self.state = if left == 0 {
                            then.state()
                        } else {
                            State::Value {
                                remaining: left,
                                then,
                            }
                        };
                        Ok(Token::Value {
                            bytes,
                            last: left == 0,
                        })
                    }
                    // The state still says this value: asked again, it takes up where it stopped.
                    Err(e) if e.kind == ErrorKind::NeedInput => Err(e),
                    Err(e) => {
                        self.state = State::Done;
                        self.failed = Some(e);
                        Err(e)
                    }
                }
            }
        }
    }

    /// Byte offset where the last token returned starts (header of an element, first byte of a value chunk).
    /// After a deflated transfer syntax switch, offsets count inflated bytes.
    pub fn token_offset(&self) -> u64 {
        self.token_offset
    }

    /// Current byte offset in the input.
    pub fn position(&self) -> u64 {
        self.source.position()
    }

    /// Number of open sequences and items.
    pub fn depth(&self) -> usize {
        self.frames.len()
    }

    /// The transfer syntax of the data set, once the file meta has been read (`None` before, and for a bare
    /// data set whose encoding was detected rather than named).
    pub fn transfer_syntax(&self) -> Option<TransferSyntax> {
        self.transfer_syntax
    }

    /// The encoding of the top-level data set (valid once the first data set token has been read).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The 128-byte PS3.10 preamble, when the input had one.
    pub fn preamble(&self) -> Option<&[u8; 128]> {
        self.preamble.as_deref()
    }

    /// What the reader tolerated so far, each with its byte offset (at most `max_warnings`).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Takes the warnings so far.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }

    /// Warnings beyond `max_warnings`, counted only.
    pub fn warnings_dropped(&self) -> u64 {
        self.warnings_dropped
    }

    /// A step went on without emitting (a stray delimiter passed over, the file meta ended): with push
    /// input, what it read need not be read again, so the bytes held for a step back stay few.
    #[inline]
    fn step_boundary(&mut self) {
        if self.checkpoint.is_some() {
            self.save_checkpoint();
        }
    }

    /// Push input: the reader is between tokens; remember it (and mark the input) to come back to.
    ///
    /// Not needed when the input already holds more than one pass of the step loop can read
    /// ([`STEP_READS_AT_MOST`]): that pass cannot run out, and the next pass starts at another call
    /// here. So the last checkpoint saved is always the start of the pass that ran out.
    fn save_checkpoint(&mut self) {
        let Some(input) = self.source.pushed() else {
            return;
        };
        if input.holds_at_least(STEP_READS_AT_MOST) {
            return;
        }
        input.mark();
        let Some(mut c) = self.checkpoint.take() else {
            return;
        };
        c.state = Some(self.state);
        c.frames.clear();
        c.frames.extend_from_slice(&self.frames);
        c.encoding = Some(self.encoding);
        c.transfer_syntax = self.transfer_syntax;
        c.preamble_set = self.preamble.is_some();
        c.meta_ts_uid = self.meta_ts_uid;
        c.meta_group_length = self.meta_group_length;
        c.meta_seen = self.meta_seen;
        c.last_meta_tag = self.last_meta_tag;
        c.encoding_checked = self.encoding_checked;
        c.token_offset = self.token_offset;
        c.pixel_representation = self.pixel_representation;
        c.warnings = self.warnings.len();
        c.warnings_dropped = self.warnings_dropped;
        self.checkpoint = Some(c);
    }

    /// Push input ran out inside a step: undo what the step did, so that it runs again whole.
    fn restore_checkpoint(&mut self) {
        let Some(c) = self.checkpoint.take() else {
            return;
        };
        if let Some(input) = self.source.pushed() {
            input.rewind();
        }
        if let Some(state) = c.state {
            self.state = state;
        }
        self.frames.clear();
        self.frames.extend_from_slice(&c.frames);
        if let Some(encoding) = c.encoding {
            self.encoding = encoding;
        }
        self.transfer_syntax = c.transfer_syntax;
        if !c.preamble_set {
            self.preamble = None;
        }
        self.meta_ts_uid = c.meta_ts_uid;
        self.meta_group_length = c.meta_group_length;
        self.meta_seen = c.meta_seen;
        self.last_meta_tag = c.last_meta_tag;
        self.encoding_checked = c.encoding_checked;
        self.token_offset = c.token_offset;
        self.pixel_representation = c.pixel_representation;
        self.warnings.truncate(c.warnings);
        self.warnings_dropped = c.warnings_dropped;
        self.checkpoint = Some(c);
    }

    fn fail(&mut self, e: Error) -> Error {
        self.state = State::Done;
        self.failed = Some(e);
        e
    }

    fn warn(&mut self, kind: WarningKind, offset: u64) {
        if self.warnings.len() < self.options.max_warnings {
            self.warnings.push(Warning { kind, offset });
        } else {
            self.warnings_dropped += 1;
        }
    }

    fn current_encoding(&self) -> Encoding {
        self.frames.last().map_or(self.encoding, |f| f.encoding)
    }

    fn emit(&mut self, offset: u64, token: Token<'static>) -> Result<Step> {
        self.token_offset = offset;
        Ok(Step::Token(token))
    }

    fn step(&mut self) -> Result<Step> {
        loop {
            match self.state {
                State::Start => {
                    self.read_start()?;
                    self.step_boundary();
                }
                State::Meta => {
                    if let Some(step) = self.read_meta_element()? {
                        return Ok(step);
                    }
                    self.step_boundary();
                }
                State::DataSet => {
                    if let Some(step) = self.read_data_set_entry()? {
                        return Ok(step);
                    }
                    self.step_boundary();
                }
                State::Items => return self.read_item_or_end(),
                State::Fragments => return self.read_fragment_or_end(),
                State::Value { remaining, then } => return Ok(Step::Value { remaining, then }),
                State::FragmentEnd => {
                    self.state = State::Fragments;
                    let at = self.source.position();
                    return self.emit(at, Token::ItemEnd);
                }
                State::Done => {
                    let at = self.source.position();
                    return self.emit(at, Token::Eof);
                }
            }
        }
    }

    // ---- start: preamble, DICM, or a bare data set -------------------------------------------------

    fn read_start(&mut self) -> Result<()> {
        let (buf, n) = self.peek_array::<MAX_PEEK>()?;
        let head = &buf[..n];
        if head.is_empty() {
            return Err(Error::new(ErrorKind::UnexpectedEof, 0));
        }
        // PS3.10 7.1: 128-byte preamble, then "DICM", then the file meta information.
        if head.len() >= 132 && &head[128..132] == b"DICM" {
            let mut preamble = Box::new([0u8; 128]);
            preamble.copy_from_slice(&head[..128]);
            self.preamble = Some(preamble);
            self.source.advance(132);
            self.state = State::Meta;
            return Ok(());
        }
        if head.starts_with(b"DICM") {
            self.warn(WarningKind::MissingPreamble, 0);
            self.source.advance(4);
            self.state = State::Meta;
            return Ok(());
        }
        // No DICM: file meta without its preamble (group 0002, explicit LE), or a bare data set.
        if head.len() >= 6
            && head[0..2] == [0x02, 0x00]
            && Vr::from_bytes([head[4], head[5]]).is_some()
        {
            self.warn(WarningKind::MissingPreamble, 0);
            self.state = State::Meta;
            return Ok(());
        }
        self.begin_data_set(self.options.transfer_syntax)
    }

    /// Sets up the top-level data set: the named transfer syntax, or detection from the first bytes.
    fn begin_data_set(&mut self, ts: Option<TransferSyntax>) -> Result<()> {
        self.state = State::DataSet;
        match ts {
            Some(ts) => {
                self.transfer_syntax = Some(ts);
                self.encoding = ts.encoding;
                if ts.deflated {
                    self.source.start_inflate(self.options.chunk_size);
                }
                self.encoding_checked = false;
            }
            None => {
                self.encoding = self.detect_encoding()?;
                self.encoding_checked = true;
            }
        }
        Ok(())
    }

    /// DCMTK-style detection of a data set's encoding from its first element header: the byte order that
    /// gives the smaller group number, explicit VR when bytes 4–5 spell a VR.
    fn detect_encoding(&mut self) -> Result<Encoding> {
        let (head, n) = self.peek_array::<8>()?;
        if n < 8 {
            return Ok(Encoding::EXPLICIT_LE);
        }
        let le_group = u16::from_le_bytes([head[0], head[1]]);
        let be_group = u16::from_be_bytes([head[0], head[1]]);
        let explicit = Vr::from_bytes([head[4], head[5]]).is_some();
        let big_endian = be_group < le_group && explicit;
        Ok(Encoding {
            explicit_vr: explicit,
            big_endian,
        })
    }

    /// The transfer syntax says one VR encoding; check the first element against it (both ways round are
    /// seen in real files) and follow the data, with a warning.
    fn check_declared_encoding(&mut self) -> Result<()> {
        self.encoding_checked = true;
        let offset = self.source.position();
        let (head, n) = self.peek_array::<8>()?;
        if n < 8 || self.encoding.big_endian {
            return Ok(());
        }
        let looks_explicit = Vr::from_bytes([head[4], head[5]]).is_some();
        if looks_explicit != self.encoding.explicit_vr {
            // An implicit length whose two low bytes spell a VR would be over 16 KiB for the first element;
            // an explicit header read as implicit gives a nonsense length. Trust the bytes.
            let declared_explicit = self.encoding.explicit_vr;
            self.encoding.explicit_vr = looks_explicit;
            self.warn(
                WarningKind::VrEncodingMismatch { declared_explicit },
                offset,
            );
        }
        Ok(())
    }

    // ---- file meta (group 0002) --------------------------------------------------------------------

    fn read_meta_element(&mut self) -> Result<Option<Step>> {
        let offset = self.source.position();
        let (buf, n) = self.peek_array::<12>()?;
        let head = &buf[..n];
        let is_meta = head.len() >= 8 && head[0..2] == [0x02, 0x00];
        if !is_meta {
            self.end_meta(offset)?;
            return Ok(None);
        }
        let tag = Tag::new(0x0002, u16::from_le_bytes([head[2], head[3]]));
        // PS3.10 7.1: the file meta is always Explicit VR Little Endian; some writers used implicit VR.
        let (vr, len, header_len) = match Vr::from_bytes([head[4], head[5]]) {
            Some(vr) if vr.has_long_length() => {
                if head.len() < 12 {
                    return Err(Error::new(ErrorKind::UnexpectedEof, offset));
                }
                (
                    vr,
                    u32::from_le_bytes([head[8], head[9], head[10], head[11]]),
                    12,
                )
            }
            Some(vr) => (vr, u16::from_le_bytes([head[6], head[7]]) as u32, 8),
            None => {
                // Some writers put an implicit-VR meta group in front of the data set.
                self.warn(WarningKind::ImplicitVrFileMeta, offset);
                (
                    dict::implicit_vr(tag),
                    u32::from_le_bytes([head[4], head[5], head[6], head[7]]),
                    8,
                )
            }
        };
        if len == Length::UNDEFINED_RAW || vr == Vr::SQ {
            return Err(Error::new(ErrorKind::BadFileMeta, offset));
        }
        self.check_fits(tag, len as u64, offset + header_len as u64, Extent::Value)?;
        self.source.advance(header_len);
        if self.last_meta_tag.is_some_and(|last| tag <= last) {
            // PS3.5 7.1: elements ascend. Some files carry the meta group twice; the last value counts.
            self.warn(WarningKind::OutOfOrder(tag), offset);
        }
        self.last_meta_tag = Some(tag);
        if let Some(bit) = REQUIRED_META.iter().position(|&t| t == tag) {
            self.meta_seen |= 1 << bit;
        }
        if tag == Tag::TRANSFER_SYNTAX_UID && len as usize <= 64 {
            let value = self.source.peek(len as usize)?;
            let mut uid = [0u8; 64];
            uid[..value.len()].copy_from_slice(value);
            self.meta_ts_uid = Some((uid, value.len()));
        }
        if tag == Tag::FILE_META_GROUP_LENGTH && len == 4 {
            let v = self.source.peek(4)?;
            if v.len() == 4 {
                let value = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
                self.meta_group_length = Some((value, offset + header_len as u64 + 4));
            }
        }
        self.state = State::Value {
            remaining: len as u64,
            then: Resume::Meta,
        };
        self.token_offset = offset;
        Ok(Some(Step::Token(Token::Element(Header { tag, vr, len }))))
    }

    /// The meta group is over: check its group length, then switch to the data set's transfer syntax.
    fn end_meta(&mut self, offset: u64) -> Result<()> {
        for (bit, &tag) in REQUIRED_META.iter().enumerate() {
            if self.meta_seen & (1 << bit) == 0 {
                self.warn(WarningKind::MissingMetaElement(tag), offset);
            }
        }
        if let Some((value, start)) = self.meta_group_length {
            if start + value as u64 != offset {
                self.warn(
                    WarningKind::WrongGroupLength(Tag::FILE_META_GROUP_LENGTH),
                    start - 12,
                );
            }
        }
        let ts = match (self.options.transfer_syntax, self.meta_ts_uid) {
            (Some(forced), _) => Some(forced),
            (None, Some((uid, n))) => {
                let text = String::from_utf8_lossy(&uid[..n]);
                match TransferSyntax::from_uid(&text) {
                    Some(ts) => Some(ts),
                    None => {
                        self.warn(WarningKind::UnknownTransferSyntax, offset);
                        Some(TransferSyntax::EXPLICIT_VR_LE)
                    }
                }
            }
            (None, None) => {
                self.warn(WarningKind::MissingTransferSyntax, offset);
                None
            }
        };
        self.begin_data_set(ts)
    }

    // ---- data set: elements, sequences, delimiters -------------------------------------------------

    /// Reads one entry of a data set (top level or inside an item). `None` means "nothing to emit, go on".
    fn read_data_set_entry(&mut self) -> Result<Option<Step>> {
        if let Some(step) = self.close_defined_frame()? {
            return Ok(Some(step));
        }
        if !self.encoding_checked && self.frames.is_empty() {
            self.check_declared_encoding()?;
        }
        let offset = self.source.position();
        let enc = self.current_encoding();
        let (buf, n) = self.peek_array::<12>()?;
        let head = &buf[..n];
        if n < 8 {
            return self.end_of_input_in_data_set(offset, n).map(Some);
        }
        let tag = read_tag(head, enc.big_endian);

        if tag.is_delimiter_group() {
            return self.read_delimiter_in_data_set(tag, offset);
        }

        let (vr, raw_len, header_len) = if enc.explicit_vr {
            match Vr::from_bytes([head[4], head[5]]) {
                Some(vr) if vr.has_long_length() => {
                    if head.len() < 12 {
                        return Err(Error::new(ErrorKind::UnexpectedEof, offset));
                    }
                    (vr, read_u32(&head[8..12], enc.big_endian), 12)
                }
                Some(vr) => (vr, read_u16(&head[6..8], enc.big_endian) as u32, 8),
                None => {
                    // Bytes that name no VR inside an explicit data set (often two spaces): DCMTK's rule,
                    // a 2-byte length and the dictionary VR. Reading a 4-byte length instead, as pydicom
                    // does, swallows the rest of such files (fo-dicom GH179A).
                    self.warn(WarningKind::InvalidVr([head[4], head[5]]), offset);
                    (
                        self.implicit_vr(tag),
                        read_u16(&head[6..8], enc.big_endian) as u32,
                        8,
                    )
                }
            }
        } else {
            (
                self.implicit_vr(tag),
                read_u32(&head[4..8], enc.big_endian),
                8,
            )
        };
        let value_start = offset + header_len as u64;
        self.source.advance(header_len);
        self.token_offset = offset;

        if raw_len == Length::UNDEFINED_RAW {
            return self.open_undefined(tag, vr, enc, offset).map(Some);
        }
        let extent = if vr == Vr::SQ {
            Extent::Container
        } else {
            Extent::Value
        };
        self.check_fits(tag, raw_len as u64, value_start, extent)?;
        // Implicit VR: the dictionary says SQ (PS3.5 7.5.1 allows defined-length sequences).
        if vr == Vr::SQ {
            self.push_frame(
                FrameKind::Sequence,
                Some(value_start + raw_len as u64),
                enc,
                offset,
            )?;
            self.state = State::Items;
            return Ok(Some(Step::Token(Token::SequenceStart {
                tag,
                vr,
                len: Length::Defined(raw_len),
            })));
        }
        if raw_len % 2 == 1 {
            // PS3.5 7.1.1: lengths shall be even. Read as stored; writers keep the bytes as they are.
            self.warn(WarningKind::OddLength(tag), offset);
        }
        if tag == Tag::PIXEL_REPRESENTATION && raw_len == 2 {
            self.note_pixel_representation(enc)?;
        }
        self.state = State::Value {
            remaining: raw_len as u64,
            then: Resume::DataSet,
        };
        Ok(Some(Step::Token(Token::Element(Header {
            tag,
            vr,
            len: raw_len,
        }))))
    }

    /// The VR of an element whose header does not say it. "US or SS" elements (PS3.6) follow Pixel
    /// Representation (0028,0103) of their data set or, failing that, of the nearest enclosing one, as
    /// pydicom does: SS when it is 1. The LUT Descriptors stay US: only their second value is signed
    /// (PS3.3 C.11.1.1.1), and one VR cannot say that.
    fn implicit_vr(&self, tag: Tag) -> Vr {
        let vr = dict::implicit_vr(tag);
        let lut_descriptor = matches!(tag.0, 0x0028_1101..=0x0028_1103 | 0x0028_3002);
        let us_or_ss = dict::tag(tag).is_some_and(|e| e.vrs.starts_with(&[Vr::US, Vr::SS]));
        if vr == Vr::US
            && us_or_ss
            && !lut_descriptor
            && self.pixel_representation_in_scope() == Some(1)
        {
            return Vr::SS;
        }
        vr
    }

    fn pixel_representation_in_scope(&self) -> Option<u16> {
        self.frames
            .iter()
            .rev()
            .filter(|f| f.kind == FrameKind::Item)
            .find_map(|f| f.pixel_representation)
            .or(self.pixel_representation)
    }

    /// Pixel Representation's value, read ahead (it is 2 bytes) for the "US or SS" elements after it.
    fn note_pixel_representation(&mut self, enc: Encoding) -> Result<()> {
        let (value, n) = self.peek_array::<2>()?;
        if n < 2 {
            return Ok(());
        }
        let value = read_u16(&value, enc.big_endian);
        match self.frames.last_mut() {
            Some(f) if f.kind == FrameKind::Item => f.pixel_representation = Some(value),
            Some(_) => {}
            None => self.pixel_representation = Some(value),
        }
        Ok(())
    }

    /// An element of undefined length (PS3.5 7.1.2): a sequence, a CP-246 UN sequence, or encapsulated pixels.
    fn open_undefined(&mut self, tag: Tag, vr: Vr, enc: Encoding, offset: u64) -> Result<Step> {
        let token = match vr {
            Vr::SQ => {
                self.push_frame(FrameKind::Sequence, None, enc, offset)?;
                self.state = State::Items;
                Token::SequenceStart {
                    tag,
                    vr,
                    len: Length::Undefined,
                }
            }
            // PS3.5 A.4: encapsulated pixel data is OB (or OW) of undefined length holding fragment items.
            Vr::OB | Vr::OW if enc.explicit_vr || tag == Tag::PIXEL_DATA => {
                self.push_frame(FrameKind::PixelSequence, None, enc, offset)?;
                self.state = State::Fragments;
                Token::PixelSequenceStart { tag, vr }
            }
            // PS3.5 6.2.2 Note / CP-246: UN of undefined length is a sequence encoded as Implicit VR LE.
            Vr::UN => {
                let vr = if enc.explicit_vr { Vr::UN } else { Vr::SQ };
                self.push_frame(FrameKind::Sequence, None, Encoding::IMPLICIT_LE, offset)?;
                self.state = State::Items;
                Token::SequenceStart {
                    tag,
                    vr,
                    len: Length::Undefined,
                }
            }
            // Implicit VR with a dictionary VR that is not SQ (a private or mis-registered tag): only a
            // sequence can have undefined length, so read it as one.
            _ if !enc.explicit_vr => {
                self.push_frame(FrameKind::Sequence, None, enc, offset)?;
                self.state = State::Items;
                Token::SequenceStart {
                    tag,
                    vr: Vr::SQ,
                    len: Length::Undefined,
                }
            }
            _ => return Err(Error::new(ErrorKind::UndefinedLength(tag), offset)),
        };
        Ok(Step::Token(token))
    }

    fn read_delimiter_in_data_set(&mut self, tag: Tag, offset: u64) -> Result<Option<Step>> {
        let in_item = matches!(self.frames.last(), Some(f) if f.kind == FrameKind::Item);
        match tag {
            Tag::ITEM_DELIMITATION => {
                self.source.advance(8);
                match self.frames.last() {
                    Some(f) if f.kind == FrameKind::Item && f.end.is_none() => {
                        self.frames.pop();
                        self.state = State::Items;
                        self.emit(offset, Token::ItemEnd).map(Some)
                    }
                    _ => {
                        self.warn(WarningKind::StrayDelimiter(tag), offset);
                        Ok(None)
                    }
                }
            }
            Tag::SEQUENCE_DELIMITATION if in_item => {
                // The item had no delimiter of its own; close it here and let Items see the delimiter.
                let item = self.frames[self.frames.len() - 1];
                if item.end.is_some() {
                    return Err(Error::new(ErrorKind::UnexpectedTag(tag), offset));
                }
                self.warn(WarningKind::MissingItemDelimiter, offset);
                self.frames.pop();
                self.state = State::Items;
                self.emit(offset, Token::ItemEnd).map(Some)
            }
            Tag::SEQUENCE_DELIMITATION => {
                self.source.advance(8);
                self.warn(WarningKind::StrayDelimiter(tag), offset);
                Ok(None)
            }
            _ => Err(Error::new(ErrorKind::UnexpectedTag(tag), offset)),
        }
    }

    /// Input ended where a data set entry was expected (`n` < 8 bytes left).
    fn end_of_input_in_data_set(&mut self, offset: u64, n: usize) -> Result<Step> {
        if self.frames.is_empty() {
            if n > 0 {
                self.warn(WarningKind::TrailingBytes(n as u32), offset);
                self.source.advance(n);
            }
            self.state = State::Done;
            return self.emit(offset, Token::Eof);
        }
        self.close_at_end_of_input(offset)
    }

    /// At the end of input, open sequences and items are closed with a warning (a common truncation).
    /// A defined-length item or sequence that claims more bytes than the input has is closed the same way
    /// (DICOMDIR-nooffset's last item; pydicom and DCMTK read such files too). A value cut short stays an
    /// error.
    fn close_at_end_of_input(&mut self, offset: u64) -> Result<Step> {
        if !self
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::UnterminatedSequence)
        {
            self.warn(WarningKind::UnterminatedSequence, offset);
        }
        let frame = self
            .frames
            .pop()
            .expect("caller checked frames is not empty");
        let (token, next) = match frame.kind {
            FrameKind::Item => (Token::ItemEnd, State::Items),
            FrameKind::Sequence | FrameKind::PixelSequence => (Token::SequenceEnd, State::DataSet),
        };
        self.state = next;
        self.emit(offset, token)
    }

    /// Closes the innermost frame when its defined length has been read to the end.
    fn close_defined_frame(&mut self) -> Result<Option<Step>> {
        let Some(frame) = self.frames.last().copied() else {
            return Ok(None);
        };
        let Some(end) = frame.end else {
            return Ok(None);
        };
        let pos = self.source.position();
        if pos < end {
            return Ok(None);
        }
        if pos > end {
            return Err(Error::new(ErrorKind::OverrunsParent(Tag::ITEM), pos));
        }
        self.frames.pop();
        let (token, next) = match frame.kind {
            FrameKind::Item => (Token::ItemEnd, State::Items),
            FrameKind::Sequence | FrameKind::PixelSequence => (Token::SequenceEnd, State::DataSet),
        };
        self.state = next;
        self.emit(pos, token).map(Some)
    }

    // ---- inside sequences ---------------------------------------------------------------------------

    fn read_item_or_end(&mut self) -> Result<Step> {
        if let Some(step) = self.close_defined_frame()? {
            return Ok(step);
        }
        let offset = self.source.position();
        let enc = self.current_encoding();
        let Some((tag, len)) = self.peek_item_header(enc)? else {
            return self.close_at_end_of_input(offset);
        };
        match tag {
            Tag::ITEM => {
                self.source.advance(8);
                let end = match Length::from_raw(len) {
                    Length::Defined(n) => {
                        self.check_fits(tag, n as u64, offset + 8, Extent::Container)?;
                        Some(offset + 8 + n as u64)
                    }
                    Length::Undefined => None,
                };
                self.push_frame(FrameKind::Item, end, enc, offset)?;
                self.state = State::DataSet;
                self.emit(
                    offset,
                    Token::ItemStart {
                        len: Length::from_raw(len),
                    },
                )
            }
            Tag::SEQUENCE_DELIMITATION => self.end_sequence(offset),
            _ => Err(Error::new(ErrorKind::UnexpectedTag(tag), offset)),
        }
    }

    /// The tag and 4-byte length of an item or delimiter (PS3.5 7.5: no VR, even in explicit VR);
    /// `None` when fewer than 8 bytes are left.
    fn peek_item_header(&mut self, enc: Encoding) -> Result<Option<(Tag, u32)>> {
        let (head, n) = self.peek_array::<8>()?;
        if n < 8 {
            return Ok(None);
        }
        Ok(Some((
            read_tag(&head, enc.big_endian),
            read_u32(&head[4..8], enc.big_endian),
        )))
    }

    /// A sequence delimitation item closes the innermost sequence (or pixel sequence).
    fn end_sequence(&mut self, offset: u64) -> Result<Step> {
        self.source.advance(8);
        self.frames.pop();
        self.state = State::DataSet;
        self.emit(offset, Token::SequenceEnd)
    }

    fn read_fragment_or_end(&mut self) -> Result<Step> {
        let offset = self.source.position();
        let enc = self.current_encoding();
        let Some((tag, len)) = self.peek_item_header(enc)? else {
            return self.close_at_end_of_input(offset);
        };
        match tag {
            // PS3.5 A.4: each fragment is an item of defined length.
            Tag::ITEM if len != Length::UNDEFINED_RAW => {
                self.check_fits(tag, len as u64, offset + 8, Extent::Value)?;
                self.source.advance(8);
                self.state = State::Value {
                    remaining: len as u64,
                    then: Resume::FragmentEnd,
                };
                self.emit(
                    offset,
                    Token::ItemStart {
                        len: Length::Defined(len),
                    },
                )
            }
            Tag::ITEM => Err(Error::new(ErrorKind::UndefinedLength(tag), offset)),
            Tag::SEQUENCE_DELIMITATION => self.end_sequence(offset),
            _ => Err(Error::new(ErrorKind::UnexpectedTag(tag), offset)),
        }
    }

    /// Copies up to `N` bytes of lookahead out of the source, so the borrow of the input ends here.
    fn peek_array<const N: usize>(&mut self) -> Result<([u8; N], usize)> {
        let bytes = self.source.peek(N)?;
        if let Some(head) = bytes.first_chunk::<N>() {
            // The usual case, a fixed-size copy: a few loads. (Written as one `copy_from_slice` of
            // `n` bytes for both cases, it compiled to a call to `memcpy` per element header.)
            return Ok((*head, N));
        }
        let mut out = [0u8; N];
        let n = bytes.len().min(N);
        out[..n].copy_from_slice(&bytes[..n]);
        Ok((out, n))
    }

    fn push_frame(
        &mut self,
        kind: FrameKind,
        end: Option<u64>,
        encoding: Encoding,
        offset: u64,
    ) -> Result<()> {
        // Sequences and items alternate, so depth in sequences is half the frame count.
        if self.frames.len() / 2 >= self.options.max_depth {
            return Err(Error::new(
                ErrorKind::DepthLimit(self.options.max_depth),
                offset,
            ));
        }
        self.frames.push(Frame {
            kind,
            end,
            encoding,
            pixel_representation: None,
        });
        Ok(())
    }

    /// A value (or item) of `len` bytes starting at `start` must fit in the input: a length field is never
    /// trusted further than the bytes that exist (slices know their size up front; streams find out when
    /// they run dry). Running past the end of an enclosing defined-length item or sequence is a wrong
    /// length in that parent, common in real files (DICOMDIR-nooffset): the parent is extended to cover it,
    /// with a warning, as pydicom and DCMTK do.
    fn check_fits(&mut self, tag: Tag, len: u64, start: u64, extent: Extent) -> Result<()> {
        let end = start + len;
        if let (Extent::Value, Some(left)) = (extent, self.source.remaining_hint()) {
            // `start` may be ahead of the source position by a header not yet consumed. Reported at
            // the end of the input, where a stream finds out it ran dry: the same offset either way.
            let input_end = self.source.position() + left;
            if end > input_end {
                return Err(Error::new(ErrorKind::UnexpectedEof, input_end));
            }
        }
        let mut extended = false;
        for frame in self.frames.iter_mut() {
            if let Some(frame_end) = frame.end.as_mut() {
                if end > *frame_end {
                    *frame_end = end;
                    extended = true;
                }
            }
        }
        if extended {
            self.warn(WarningKind::OverrunsParent(tag), start);
        }
        Ok(())
    }
}

fn read_u16(b: &[u8], big_endian: bool) -> u16 {
    let a = [b[0], b[1]];
    if big_endian {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

fn read_u32(b: &[u8], big_endian: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if big_endian {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

fn read_tag(head: &[u8], big_endian: bool) -> Tag {
    Tag::new(
        read_u16(&head[0..2], big_endian),
        read_u16(&head[2..4], big_endian),
    )
}
