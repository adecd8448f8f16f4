//! Tokens → DICOM JSON (PS3.18 F.2), streamed: each token is rendered into a staging buffer and the
//! buffer is handed to the output in large writes. Nothing the size of a value is held: text values are
//! gathered only when they arrive in chunks (they are rendered whole), binary values go through base64 or
//! a bulk sink chunk by chunk.
//!
//! Nesting, as the writer sees it:
//!
//! ```text
//! levels:   [data set] [item] [item] …      one JSON object each (crate::order::Level)
//! seqs:     [SQ]       [SQ]   …             one JSON array each; seqs[i] is inside levels[i]
//! element:  what the current element still expects (Pending → Text / Numbers / Binary / Pixels / …)
//! ```

use std::io::{self, Write};

use dcmflow_core::{dict, Encoding, Header, Tag, Token, Vr};
use dcmflow_dicom::charset::{CharacterSet, DecodeReport};
use dcmflow_simd::{Base64Encoder, SwapCarry};

use crate::bulk::{is_bulk_eligible, BulkDecision, BulkElement, BulkHandler, PathStep};
use crate::escape::write_string;
use crate::format::Formatter;
use crate::numbers::{self, DecimalOutcome, NumberPolicy};
use crate::order::{Admission, Levels};
use crate::text;
use crate::{JsonError, JsonWarning, JsonWarningKind};

/// What the writer does beyond the rules of F.2.
#[derive(Clone, Debug)]
pub struct JsonOptions {
    /// IS/DS as numbers or strings (DCMTK `-ia`/`-in`/`-is`).
    pub numbers: NumberPolicy,
    /// Include the file meta group (0002,xxxx) (DCMTK `+m`; not conformant to F.2).
    pub write_meta: bool,
    /// Do not warn about NaN/infinity in FL/FD (DCMTK `-ee`; they are still written as strings).
    pub quiet_non_finite: bool,
    /// Write (0008,0005) as `ISO_IR 192`, which is what the decoded JSON text is (`--charset-replace`).
    /// By default it keeps its source value (CP-2518).
    pub charset_replace: bool,
    /// The character set of a data set that declares none (`--charset-assume`).
    pub charset_assume: Option<CharacterSet>,
    /// Resolve UN elements from the public and private dictionaries (`--convert-un`).
    pub convert_un: bool,
    /// At most this many warnings are kept (the rest are counted).
    pub max_warnings: usize,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            numbers: NumberPolicy::Auto,
            write_meta: false,
            quiet_non_finite: false,
            charset_replace: false,
            charset_assume: None,
            convert_un: false,
            max_warnings: 256,
        }
    }
}

/// Hand the staging buffer to the output once it holds this much.
const FLUSH_AT: usize = 1 << 20;
/// Binary values longer than this are rendered in pieces of this size: a multiple of 3 (base64 groups)
/// and of 8 (every binary number size), so pieces split no group and no number.
const PIECE: usize = 192 << 10;
/// Keep this much of the newest output in staging after a flush, so that an out-of-order element can
/// still move members written just before it (see crate::order).
const KEEP_TAIL: usize = 64 << 10;

/// The bulk data handler, lent by the caller or owned by the writer.
enum Handler<'h> {
    Borrowed(&'h mut dyn BulkHandler),
    Owned(Box<dyn BulkHandler>),
}

impl Handler<'_> {
    fn get(&mut self) -> &mut dyn BulkHandler {
        match self {
            Handler::Borrowed(handler) => &mut **handler,
            Handler::Owned(handler) => handler.as_mut(),
        }
    }
}

/// The DICOM JSON writer. Feed it every token of one data set, in order, then [`JsonWriter::finish`].
pub struct JsonWriter<'h, W: Write, F: Formatter> {
    out: W,
    fmt: F,
    options: JsonOptions,
    bulk: Option<Handler<'h>>,
    buf: Vec<u8>,
    /// Bytes already handed to `out`: the absolute offset of `buf[0]`.
    flushed: u64,
    levels: Levels,
    seqs: Vec<Sequence>,
    path: Vec<PathStep>,
    element: Element,
    /// The header of the element being written (`Element::Pending`, `Text`, `TextStream`, `Numbers`). Kept out of `Element`: a header inside an enum was copied at odd offsets on every
    /// state change and reloaded in other widths, a store-forwarding stall per element.
    header: Header,
    owned: Owned,
    base64: Base64Encoder,
    swap: SwapCarry,
    /// Gathered text value bytes, swapped binary bytes.
    scratch: Vec<u8>,
    /// Decoded text.
    text: String,
    warnings: Vec<JsonWarning>,
    warnings_dropped: u64,
    started: bool,
    /// Whether source offsets address the value bytes in the source file (false for deflated input).
    offsets_in_file: bool,
    /// Where the current element's value starts in the source: the offset its warnings name, however
    /// the value arrives in pieces.
    value_start: u64,
}

impl<W: Write, F: Formatter> std::fmt::Debug for JsonWriter<'_, W, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonWriter")
            .field("written", &(self.flushed + self.buf.len() as u64))
            .field("depth", &self.seqs.len())
            .finish()
    }
}

#[derive(Debug)]
struct Sequence {
    items: u32,
}

/// What the current element still expects. Plain data only (what an element owns lives in [`Owned`]): the
/// state changes a few times per element, and a destructor run at each change showed in profiles.
#[derive(Clone, Copy)]
enum Element {
    /// Between elements.
    Idle,
    /// Inside an element or sequence that is not written (group length, duplicate, file meta);
    /// `depth` counts the sequences opened inside it.
    Skip { depth: u32 },
    /// Member and VR written; the first value chunk decides the rest.
    Pending { big_endian: bool },
    /// A text VR whose value is being gathered in `scratch`.
    Text,
    /// A long single-valued text (LT ST UT UR) in a set decodable piece by piece, written as it comes
    /// (`Owned::held` and `Owned::carry` hold what cannot be written yet).
    TextStream(TextStream),
    /// Binary numbers (US SS UL SL FL FD SV UV AT), possibly split across chunks.
    Numbers(Numbers),
    /// Base64 of OB/OW/… as InlineBinary, swapping from big-endian when `swap_unit > 1`.
    Inline { swap_unit: usize },
    /// Bytes going to the bulk sink in `Owned::sink`, little-endian.
    Sink { swap_unit: usize, tag: Tag },
    /// BulkDataURI written; the bytes are skipped.
    Referenced,
    /// Encapsulated pixel data (items of the offset table and fragments).
    Pixels(Pixels),
}

/// What the current element owns beyond plain data, kept out of [`Element`].
#[derive(Default)]
struct Owned {
    /// The bulk sink of `Element::Sink` or of `PixelTarget::Sink`.
    sink: Option<Box<dyn Write + Send>>,
    /// The URI maker of `PixelTarget::UriAfter`.
    uri_after: Option<Box<dyn FnOnce(u64) -> String + Send>>,
    /// `Element::TextStream`: trailing padding not yet known to be trailing…
    held: String,
    /// … and an incomplete UTF-8 sequence waiting for the next piece.
    carry: Vec<u8>,
}

#[derive(Clone, Copy, Debug)]
struct TextStream {
    charset: CharacterSet,
    opened: bool,
    /// Decoding problems so far, reported once at the end (as for a gathered value).
    report: DecodeReport,
}

/// Single-valued text longer than this streams (memory bounded by the chunk, not the value).
const STREAM_TEXT_AT: u32 = 1 << 20;

/// The length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence (the rest, at
/// most 3 bytes, waits for the next piece).
fn complete_utf8_prefix(bytes: &[u8]) -> usize {
    let n = bytes.len();
    for back in 1..=n.min(3) {
        let b = bytes[n - back];
        if b & 0xC0 == 0x80 {
            continue; // a continuation byte: look further back for its lead
        }
        let needed = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if needed > back { n - back } else { n };
    }
    n
}

#[derive(Clone, Copy)]
struct Numbers {
    vr: Vr,
    big_endian: bool,
    unit: usize,
    pending: [u8; 8],
    pending_len: usize,
    count: u64,
    non_finite: bool,
}

#[derive(Clone, Copy)]
struct Pixels {
    tag: Tag,
    target: PixelTarget,
    first_item_offset: Option<u64>,
}

/// Where encapsulated pixel data goes; the sink and the URI maker are in [`Owned`].
#[derive(Clone, Copy)]
enum PixelTarget {
    Undecided,
    Inline,
    Sink,
    Referenced,
    UriAfter,
}

impl<'h, W: Write, F: Formatter> JsonWriter<'h, W, F> {
    /// A writer of DICOM JSON into `out`, laid out by `fmt`.
    pub fn new(out: W, fmt: F, options: JsonOptions) -> Self {
        let charset = options.charset_assume.unwrap_or_default();
        JsonWriter {
            out,
            fmt,
            options,
            bulk: None,
            buf: Vec::with_capacity(FLUSH_AT + (FLUSH_AT >> 1)),
            flushed: 0,
            levels: Levels::new(charset),
            seqs: Vec::new(),
            path: Vec::new(),
            element: Element::Idle,
            header: Header {
                tag: Tag(0),
                vr: Vr::UN,
                len: 0,
            },
            owned: Owned::default(),
            base64: Base64Encoder::new(),
            swap: SwapCarry::new(),
            scratch: Vec::new(),
            text: String::new(),
            warnings: Vec::new(),
            warnings_dropped: 0,
            started: false,
            offsets_in_file: true,
            value_start: 0,
        }
    }

    /// Sends eligible elements (R14) to `handler` for a decision between inline and BulkDataURI.
    pub fn with_bulk_handler(mut self, handler: &'h mut dyn BulkHandler) -> Self {
        self.bulk = Some(Handler::Borrowed(handler));
        self
    }

    /// Like [`JsonWriter::with_bulk_handler`], the writer owning the handler (a conversion that lives
    /// across calls, such as one fed pushed input).
    pub fn with_owned_bulk_handler(mut self, handler: Box<dyn BulkHandler>) -> Self {
        self.bulk = Some(Handler::Owned(handler));
        self
    }

    /// Tells the writer that token offsets do not address bytes of the source file (a deflated data set
    /// is read from its inflated stream), so bulk data cannot be referenced in place.
    pub fn set_offsets_in_file(&mut self, in_file: bool) {
        self.offsets_in_file = in_file;
    }

    /// What the writer had to do about values so far (at most `max_warnings`).
    pub fn warnings(&self) -> &[JsonWarning] {
        &self.warnings
    }

    /// Warnings beyond `max_warnings`, counted only.
    pub fn warnings_dropped(&self) -> u64 {
        self.warnings_dropped
    }

    /// Bytes of JSON produced so far.
    pub fn written(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    /// Handles one token. `offset` is the token's byte offset in the source (the reader's
    /// `token_offset`, or for a `Value` where its bytes start); `encoding` the data set's encoding (the
    /// reader's `encoding()`), which says the byte order of values and whether VRs were on the wire.
    ///
    /// Always inlined: the caller's token then stays in registers. Passed through memory, it was
    /// stored field by field and reloaded in other widths, a store-forwarding stall on every token.
    #[inline(always)]
    pub fn write_token(
        &mut self,
        token: &Token<'_>,
        offset: u64,
        encoding: Encoding,
    ) -> Result<(), JsonError> {
        if self.levels.open() == 0 {
            return Err(JsonError::TokenOrder); // a token after Eof
        }
        if !self.started {
            self.started = true;
            self.fmt.begin_object(&mut self.buf);
        }
        if let Element::Skip { depth } = &mut self.element {
            match token {
                Token::SequenceStart { .. } | Token::PixelSequenceStart { .. } => *depth += 1,
                Token::SequenceEnd => {
                    *depth -= 1;
                    if *depth == 0 {
                        self.element = Element::Idle;
                    }
                }
                Token::Value { last: true, .. } if *depth == 0 => self.element = Element::Idle,
                _ => {}
            }
            return Ok(());
        }
        match *token {
            Token::Element(header) => self.start_element(header, offset, encoding),
            Token::Value { bytes, last } => self.value(bytes, last, offset)?,
            Token::SequenceStart { tag, .. } => self.start_sequence(tag, offset),
            Token::PixelSequenceStart { tag, vr } => self.start_pixels(tag, vr, offset),
            Token::ItemStart { len } => self.start_item(len, offset)?,
            Token::ItemEnd => self.end_item(),
            Token::SequenceEnd => self.end_sequence(offset)?,
            Token::Eof => return self.finish_document(),
        }
        if self.buf.len() >= FLUSH_AT {
            self.flush_staging(false)?;
        }
        Ok(())
    }

    /// The output, holding what has been flushed so far (the writer keeps up to a few hundred KiB
    /// staged until it flushes).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Flushes the output and returns it.
    pub fn finish(mut self) -> Result<W, JsonError> {
        if !matches!(self.element, Element::Idle) || !self.seqs.is_empty() {
            return Err(JsonError::TokenOrder);
        }
        self.finish_document()?;
        self.out.flush().map_err(|e| self.write_error(&e))?;
        Ok(self.out)
    }

    fn finish_document(&mut self) -> Result<(), JsonError> {
        if self.levels.open() == 0 {
            return Ok(()); // Eof was seen already
        }
        if self.levels.open() != 1 {
            return Err(JsonError::TokenOrder);
        }
        if !self.started {
            self.started = true;
            self.fmt.begin_object(&mut self.buf);
        }
        if let Some(level) = self.levels.pop() {
            let empty = level.close(&mut self.buf, self.flushed, &mut self.fmt);
            self.fmt.end_object(&mut self.buf, empty);
        }
        self.flush_staging(true)
    }

    /// Adds a warning of a token filter about the element whose tokens follow (`--convert-un`'s
    /// `dcmflow_dicom::UnSequences`), in order with the writer's own. Dropped when that element is inside
    /// one the writer skips, as the writer's own warnings would be.
    pub fn warn_before(&mut self, kind: JsonWarningKind, tag: Tag, offset: u64) {
        if !matches!(self.element, Element::Skip { .. }) {
            self.warn(kind, tag, offset);
        }
    }

    fn warn(&mut self, kind: JsonWarningKind, tag: Tag, offset: u64) {
        if self.warnings.len() < self.options.max_warnings.max(1) {
            self.warnings.push(JsonWarning { kind, tag, offset });
        } else {
            self.warnings_dropped += 1;
        }
    }

    fn write_error(&self, e: &io::Error) -> JsonError {
        JsonError::Write {
            kind: e.kind(),
            offset: self.flushed,
        }
    }

    fn flush_staging(&mut self, all: bool) -> Result<(), JsonError> {
        // A binary value being streamed is larger than the tail worth keeping: keeping its bytes would
        // only cost a copy per flush.
        let streaming = matches!(self.element, Element::Inline { .. } | Element::Pixels(_));
        let keep = if all || streaming {
            0
        } else {
            KEEP_TAIL.min(self.buf.len())
        };
        let n = self.buf.len() - keep;
        if n == 0 {
            return Ok(());
        }
        if let Err(e) = self.out.write_all(&self.buf[..n]) {
            return Err(self.write_error(&e));
        }
        self.buf.drain(..n);
        self.flushed += n as u64;
        for level in self.levels.open_levels_mut() {
            level.flushed_to(self.flushed);
        }
        Ok(())
    }

    // ---- members -------------------------------------------------------------------------------------

    /// Opens `"GGGGEEEE":{"vr":"XX"` at the current level, or returns false when the element is skipped.
    fn open_member(&mut self, tag: Tag, vr: Vr, offset: u64) -> bool {
        let level = self.levels.current_mut();
        match level.admit(tag, &mut self.buf, self.flushed, &mut self.fmt) {
            Admission::InOrder => {}
            Admission::Restored => self.warn(JsonWarningKind::OrderRestored, tag, offset),
            Admission::Unsorted => self.warn(JsonWarningKind::OrderNotRestored, tag, offset),
            Admission::Duplicate => {
                self.warn(JsonWarningKind::DuplicateDropped, tag, offset);
                return false;
            }
        }
        // PS3.18 F.2.1.1: the key is the tag as 8 uppercase hexadecimal digits (R3).
        let mut key = [0u8; 8];
        hex8(tag.0, &mut key);
        self.fmt.element_head(&mut self.buf, &key, vr.bytes());
        true
    }

    /// Opens the member that holds the value: `,"Value":[`, `,"InlineBinary":"` or `,"BulkDataURI":`.
    fn open_value_key(&mut self, key: &[u8]) {
        self.fmt.begin_member(&mut self.buf, false);
        self.buf.extend_from_slice(key);
        self.fmt.name_separator(&mut self.buf);
    }

    fn open_value_array(&mut self) {
        self.fmt.value_array_head(&mut self.buf);
    }

    fn close_value_array(&mut self) {
        self.fmt.end_array(&mut self.buf, false);
    }

    fn close_member(&mut self) {
        self.fmt.end_object(&mut self.buf, false);
        self.element = Element::Idle;
    }

    fn write_bulk_uri(&mut self, uri: &str) {
        self.open_value_key(b"\"BulkDataURI\"");
        write_string(&mut self.buf, uri);
    }

    // ---- values rendered apart (crate::render) ---------------------------------------------------------

    /// Renders one whole value alone, as `write_token` would write the element's one `Value` after its
    /// `Element`, into the emptied staging buffer. `None` (and the state reset) when that would warn or
    /// fail: such values are left to the writer of the document, which reports them in order.
    pub(crate) fn render_alone(
        &mut self,
        header: Header,
        bytes: &[u8],
        big_endian: bool,
    ) -> Option<&[u8]> {
        self.buf.clear();
        self.header = header;
        self.element = Element::Pending { big_endian };
        let clean = self.value(bytes, true, 0).is_ok()
            && matches!(self.element, Element::Idle)
            && self.warnings.is_empty()
            && self.warnings_dropped == 0;
        if !clean {
            self.element = Element::Idle;
            self.warnings.clear();
            self.warnings_dropped = 0;
            return None;
        }
        Some(&self.buf)
    }

    /// Writes the value of the current element as a [`crate::ValueRenderer`] rendered it: what
    /// `write_token` does with the element's one `Value`, given its values' JSON texts, one per line (no
    /// line at all when the element has no value). With a bulk handler, only for the VRs the handler never
    /// sees (the renderer makes no bulk decisions).
    pub fn write_rendered(&mut self, rendered: &[u8]) -> Result<(), JsonError> {
        if self.levels.open() == 0 {
            return Err(JsonError::TokenOrder);
        }
        match self.element {
            Element::Pending { .. } => {
                // (`header` is the current element's only here: skipped elements leave it as it was.)
                if self.bulk.is_some() && is_bulk_eligible(self.header.vr) {
                    return Err(JsonError::TokenOrder);
                }
                if !rendered.is_empty() {
                    self.open_value_array();
                    // No value text holds a line break: strings are escaped, numbers have none.
                    for (i, value) in rendered.split(|&b| b == b'\n').enumerate() {
                        self.fmt.begin_array_value(&mut self.buf, i == 0);
                        self.buf.extend_from_slice(value);
                    }
                    self.close_value_array();
                }
                self.close_member();
            }
            // As `write_token` with the value: a skipped element (group length, duplicate, file meta)
            // ends with it; inside a skipped sequence it is dropped.
            Element::Skip { depth: 0 } => self.element = Element::Idle,
            Element::Skip { .. } => return Ok(()),
            _ => return Err(JsonError::TokenOrder),
        }
        if self.buf.len() >= FLUSH_AT {
            self.flush_staging(false)?;
        }
        Ok(())
    }

    // ---- elements ------------------------------------------------------------------------------------

    fn skipped(&self, tag: Tag) -> bool {
        // PS3.18 F.2: group length elements are not part of the model (R2); the file meta group is
        // written only on request (R21). Only the top level holds it (PS3.10 7.1): a group 0002 element
        // inside a sequence item is data.
        tag.is_group_length()
            || (tag.group() == 0x0002 && !self.options.write_meta && self.levels.open() == 1)
    }

    fn start_element(&mut self, mut header: Header, offset: u64, encoding: Encoding) {
        if self.skipped(header.tag) {
            self.element = Element::Skip { depth: 0 };
            return;
        }
        let mut big_endian = encoding.big_endian;
        if header.vr == Vr::UN {
            if !encoding.explicit_vr {
                // Implicit VR: UN only says the reader's public dictionary does not know the tag; a
                // private tag is looked up through its creator, as DCMTK and pydicom do.
                if let Some(vr) = self.resolve_un(header.tag) {
                    header.vr = vr;
                }
            } else if self.options.convert_un {
                if let Some(vr) = self.resolve_un(header.tag) {
                    self.warn(JsonWarningKind::UnConverted(vr), header.tag, offset);
                    header.vr = vr;
                    // PS3.5 6.2.2: a UN value keeps the Little Endian encoding it had when read as UN.
                    big_endian = false;
                }
            }
        }
        if !self.open_member(header.tag, header.vr, offset) {
            self.element = Element::Skip { depth: 0 };
            return;
        }
        self.header = header;
        self.element = Element::Pending { big_endian };
    }

    /// The VR of a UN element from the dictionaries: private tags through their creator (PS3.5 7.8.1).
    /// A sequence in UN is read as one before the writer (`dcmflow_dicom::UnSequences`); one that was
    /// not stays UN.
    fn resolve_un(&self, tag: Tag) -> Option<Vr> {
        self.dictionary_vr(tag)
            .filter(|&vr| vr != Vr::SQ && vr != Vr::UN)
    }

    /// The first VR the public or (through the creator) private dictionary gives `tag`.
    fn dictionary_vr(&self, tag: Tag) -> Option<Vr> {
        let entry_vr = if tag.is_private() {
            if tag.is_private_creator() {
                return Some(Vr::LO);
            }
            let block = (tag.element() >> 8) as u8;
            let creator = self
                .levels
                .current()
                .creators
                .iter()
                .find(|(g, b, _)| *g == tag.group() && *b == block)?;
            *dict::private(&creator.2, tag)?.vrs.first()?
        } else {
            *dict::tag(tag)?.vrs.first()?
        };
        Some(entry_vr)
    }

    fn value(&mut self, bytes: &[u8], last: bool, offset: u64) -> Result<(), JsonError> {
        if let Element::Pending { big_endian } = self.element {
            self.value_start = offset;
            self.begin_value(self.header, big_endian, offset)?;
        }
        let streamed = matches!(
            self.element,
            Element::Inline { .. }
                | Element::Numbers(_)
                | Element::Pixels(_)
                | Element::TextStream(_)
        );
        if !streamed || bytes.len() <= PIECE {
            return self.value_piece(bytes, last);
        }
        // A value borrowed whole from a slice: render it piece by piece, flushing in between, so the
        // staging buffer never grows to the size of the value.
        let mut pieces = bytes.chunks(PIECE).peekable();
        while let Some(piece) = pieces.next() {
            self.value_piece(piece, last && pieces.peek().is_none())?;
            if self.buf.len() >= FLUSH_AT {
                self.flush_staging(false)?;
            }
        }
        Ok(())
    }

    fn value_piece(&mut self, bytes: &[u8], last: bool) -> Result<(), JsonError> {
        match &mut self.element {
            Element::Idle | Element::Skip { .. } => return Err(JsonError::TokenOrder),
            Element::Pending { .. } => unreachable!("begin_value decides"),
            Element::Text => {
                let header = self.header;
                if last && self.scratch.is_empty() {
                    self.write_text(header, bytes, self.value_start)?;
                } else {
                    self.scratch.extend_from_slice(bytes);
                    if last {
                        let gathered = std::mem::take(&mut self.scratch);
                        let result = self.write_text(header, &gathered, self.value_start);
                        self.scratch = gathered;
                        self.scratch.clear();
                        result?;
                    }
                }
            }
            Element::Numbers(numbers) => {
                write_numbers(numbers, bytes, &mut self.buf, &mut self.fmt);
                if last {
                    self.end_numbers(self.value_start);
                }
            }
            Element::Inline { swap_unit } => {
                if *swap_unit > 1 {
                    self.swap.push(bytes, *swap_unit, &mut self.scratch);
                    self.base64.push(&self.scratch, &mut self.buf);
                } else {
                    self.base64.push(bytes, &mut self.buf);
                }
                if last {
                    self.base64.push(self.swap.finish(), &mut self.buf);
                    self.base64.finish(&mut self.buf);
                    self.buf.push(b'"');
                    self.close_member();
                }
            }
            Element::Sink { swap_unit, tag } => {
                let tag = *tag;
                let sink = self.owned.sink.as_mut().ok_or(JsonError::TokenOrder)?;
                let result = if *swap_unit > 1 {
                    self.swap.push(bytes, *swap_unit, &mut self.scratch);
                    sink.write_all(&self.scratch)
                } else {
                    sink.write_all(bytes)
                };
                let result = result.and_then(|()| {
                    if last {
                        sink.write_all(self.swap.finish())?;
                        sink.flush()
                    } else {
                        Ok(())
                    }
                });
                result.map_err(|e| JsonError::Bulk {
                    kind: e.kind(),
                    tag,
                })?;
                if last {
                    self.owned.sink = None; // closes a side file
                    self.close_member();
                }
            }
            Element::Referenced => {
                if last {
                    self.close_member();
                }
            }
            Element::Pixels(pixels) => feed_pixels(
                pixels,
                &mut self.owned.sink,
                bytes,
                &mut self.base64,
                &mut self.buf,
            )?,
            Element::TextStream(_) => self.stream_text(bytes, last, self.value_start),
        }
        Ok(())
    }

    /// One piece of a long single-valued text: decoded up to the last whole character, written escaped;
    /// trailing padding (PS3.5 6.2: spaces, and the NULs some writers use) is held until text follows it.
    /// The output equals the gathered path's (`write_text`).
    fn stream_text(&mut self, bytes: &[u8], last: bool, offset: u64) {
        let Element::TextStream(mut stream) = self.element else {
            unreachable!("called for TextStream");
        };
        let mut input = std::mem::take(&mut self.owned.carry);
        input.extend_from_slice(bytes);
        let cut = if last || !stream.charset.is_utf8() {
            input.len()
        } else {
            complete_utf8_prefix(&input)
        };
        self.owned.carry = input[cut..].to_vec();
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        let report = stream.charset.decode(&input[..cut], b"", &mut text);
        stream.report.replaced |= report.replaced;
        stream.report.undeclared |= report.undeclared;
        let content = text.trim_end_matches([' ', '\0']).len();
        if content > 0 {
            if !stream.opened {
                stream.opened = true;
                self.open_value_array();
                self.fmt.begin_array_value(&mut self.buf, true);
                self.buf.push(b'"');
            }
            crate::escape::write_escaped(&mut self.buf, &self.owned.held);
            self.owned.held.clear();
            crate::escape::write_escaped(&mut self.buf, &text[..content]);
        }
        self.owned.held.push_str(&text[content..]);
        self.text = text;
        if !last {
            self.element = Element::TextStream(stream);
            return;
        }
        self.report_decoding(stream.report, self.header.tag, offset);
        if stream.opened {
            self.buf.push(b'"');
            self.close_value_array();
        }
        // Only padding: an empty element (R5), as `write_text_values` writes it.
        self.close_member();
    }

    /// The first value chunk of an element: bulk or inline, and the state for the rest.
    fn begin_value(
        &mut self,
        header: Header,
        big_endian: bool,
        offset: u64,
    ) -> Result<(), JsonError> {
        let vr = header.vr;
        if header.len == 0 {
            // PS3.18 F.2.5 (R5): an empty element has no Value.
            self.element = Element::Referenced;
            return Ok(());
        }
        let swap_unit = if big_endian && vr != Vr::UN {
            vr.swap_unit()
        } else {
            1
        };
        if let Some(handler) = self.bulk.as_mut().map(Handler::get) {
            if is_bulk_eligible(vr) {
                let element = BulkElement {
                    path: &self.path,
                    tag: header.tag,
                    vr,
                    offset,
                    length: Some(header.len as u64),
                    in_place: swap_unit == 1 && self.offsets_in_file,
                };
                let decision = handler.decide(&element).map_err(|e| JsonError::Bulk {
                    kind: e.kind(),
                    tag: header.tag,
                })?;
                match decision {
                    BulkDecision::Inline => {}
                    BulkDecision::Uri(uri) => {
                        self.write_bulk_uri(&uri);
                        self.element = Element::Referenced;
                        return Ok(());
                    }
                    BulkDecision::UriAfter(uri) => {
                        self.write_bulk_uri(&uri(header.len as u64));
                        self.element = Element::Referenced;
                        return Ok(());
                    }
                    BulkDecision::Stream { uri, sink } => {
                        self.write_bulk_uri(&uri);
                        self.swap = SwapCarry::new();
                        self.owned.sink = Some(sink);
                        self.element = Element::Sink {
                            swap_unit,
                            tag: header.tag,
                        };
                        return Ok(());
                    }
                }
            }
        }
        self.element = match vr {
            Vr::US | Vr::SS | Vr::UL | Vr::SL | Vr::FL | Vr::FD | Vr::SV | Vr::UV | Vr::AT => {
                Element::Numbers(Numbers {
                    vr,
                    big_endian,
                    // AT is two 16-bit numbers: its value unit is 4 bytes, its swap unit 2.
                    unit: if vr == Vr::AT { 4 } else { vr.swap_unit() },
                    pending: [0; 8],
                    pending_len: 0,
                    count: 0,
                    non_finite: false,
                })
            }
            Vr::OB | Vr::OW | Vr::OF | Vr::OD | Vr::OL | Vr::OV | Vr::UN | Vr::SQ => {
                // PS3.18 F.2.7 (R13): one base64 string for the whole value, little-endian.
                self.open_value_key(b"\"InlineBinary\"");
                self.buf.push(b'"');
                self.swap = SwapCarry::new();
                Element::Inline { swap_unit }
            }
            Vr::LT | Vr::ST | Vr::UT | Vr::UR if header.len > STREAM_TEXT_AT => {
                let charset = if text::uses_specific_charset(vr) {
                    self.levels.current().charset
                } else {
                    CharacterSet::Default
                };
                if charset.decodes_piecewise() {
                    self.owned.held.clear();
                    self.owned.carry.clear();
                    Element::TextStream(TextStream {
                        charset,
                        opened: false,
                        report: DecodeReport::default(),
                    })
                } else {
                    self.scratch.clear();
                    Element::Text
                }
            }
            _ => {
                self.scratch.clear();
                Element::Text
            }
        };
        Ok(())
    }

    fn end_numbers(&mut self, offset: u64) {
        let Element::Numbers(numbers) = &self.element else {
            return;
        };
        let (tag, count, leftover, non_finite) = (
            self.header.tag,
            numbers.count,
            numbers.pending_len,
            numbers.non_finite,
        );
        if leftover > 0 {
            self.warn(JsonWarningKind::PartialValue, tag, offset);
        }
        if non_finite && !self.options.quiet_non_finite {
            self.warn(JsonWarningKind::NonFiniteFloat, tag, offset);
        }
        if count > 0 {
            self.close_value_array();
        }
        self.close_member();
    }

    fn write_text(&mut self, header: Header, raw: &[u8], offset: u64) -> Result<(), JsonError> {
        let vr = header.vr;
        let tag = header.tag;
        if tag == Tag::SPECIFIC_CHARACTER_SET {
            let parsed = CharacterSet::parse(raw);
            if parsed.unknown_term {
                self.warn(JsonWarningKind::UnknownCharacterSet, tag, offset);
            }
            self.levels.current_mut().charset = parsed.charset;
            if self.options.charset_replace {
                self.open_value_array();
                self.fmt.begin_array_value(&mut self.buf, true);
                write_string(&mut self.buf, "ISO_IR 192");
                self.close_value_array();
                self.close_member();
                return Ok(());
            }
        }
        let charset = if text::uses_specific_charset(vr) {
            self.levels.current().charset
        } else {
            CharacterSet::Default
        };
        let resets: &[u8] = match vr {
            Vr::PN => b"\\^=",
            _ if text::is_multi_valued(vr) => b"\\",
            _ => b"",
        };
        if let Some(text) = charset.as_identity(raw) {
            // The common case: ASCII text (or valid text under ISO_IR 192) is its own UTF-8, written
            // straight from the source bytes.
            self.note_private_creator(tag, text);
            return self.write_text_values(header, text, offset);
        }
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        let report = charset.decode(raw, resets, &mut text);
        self.report_decoding(report, tag, offset);
        self.note_private_creator(tag, &text);
        let result = self.write_text_values(header, &text, offset);
        self.text = text;
        result
    }

    /// PS3.5 7.8.1: (gggg,00xx) names the creator of block xx; kept per level for resolving UN.
    fn note_private_creator(&mut self, tag: Tag, text: &str) {
        if tag.is_private_creator() {
            let creator = text::trim(Vr::LO, text).to_string();
            let level = self.levels.current_mut();
            level
                .creators
                .push((tag.group(), tag.element() as u8, creator));
        }
    }

    fn write_text_values(
        &mut self,
        header: Header,
        text: &str,
        offset: u64,
    ) -> Result<(), JsonError> {
        let vr = header.vr;
        let multi = text::is_multi_valued(vr);
        let whole = text::trim(vr, text);
        if whole.is_empty() || (multi && whole.bytes().all(|b| b == b' ' || b == b'\0')) {
            // Only padding: an empty element (R5).
            self.close_member();
            return Ok(());
        }
        self.open_value_array();
        // PS3.18 F.2.4 (R18): multi-valued strings are split on the backslash.
        let mut rest = text;
        let mut first = true;
        loop {
            // `\` is ASCII, so the byte position found is a character boundary.
            let split = if multi {
                memchr::memchr(b'\\', rest.as_bytes())
            } else {
                None
            };
            let (value, next) = match split {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            self.fmt.begin_array_value(&mut self.buf, first);
            first = false;
            self.write_text_value(header, text::trim(vr, value), offset)?;
            match next {
                Some(next) => rest = next,
                None => break,
            }
        }
        self.close_value_array();
        self.close_member();
        Ok(())
    }

    fn write_text_value(
        &mut self,
        header: Header,
        value: &str,
        offset: u64,
    ) -> Result<(), JsonError> {
        let vr = header.vr;
        if value.is_empty() {
            // PS3.18 F.2.5 (R6): an empty value among several is null.
            self.buf.extend_from_slice(b"null");
            return Ok(());
        }
        match vr {
            Vr::IS | Vr::DS => {
                match numbers::write_decimal(&mut self.buf, value, vr, self.options.numbers) {
                    Ok(DecimalOutcome::Invalid) => {
                        self.warn(JsonWarningKind::InvalidNumber, header.tag, offset)
                    }
                    Ok(DecimalOutcome::OutOfRange) => {
                        self.warn(JsonWarningKind::NumberOutOfRange, header.tag, offset)
                    }
                    Ok(_) => {}
                    Err(numbers::NotANumber) => {
                        return Err(JsonError::InvalidNumber {
                            tag: header.tag,
                            offset,
                        })
                    }
                }
            }
            Vr::PN => {
                // PS3.18 F.2.2 (R7, R8): component groups as members, only the non-empty ones.
                if !text::write_person_name(&mut self.buf, value) {
                    self.warn(JsonWarningKind::PersonNameGroups, header.tag, offset);
                }
            }
            _ => write_string(&mut self.buf, value),
        }
        Ok(())
    }

    fn report_decoding(&mut self, report: DecodeReport, tag: Tag, offset: u64) {
        if report.replaced {
            self.warn(JsonWarningKind::CharacterReplaced, tag, offset);
        }
        if report.undeclared {
            self.warn(JsonWarningKind::UndeclaredCharacterSet, tag, offset);
        }
    }

    // ---- sequences and items -------------------------------------------------------------------------

    fn start_sequence(&mut self, tag: Tag, offset: u64) {
        if !matches!(self.element, Element::Idle) {
            return;
        }
        if self.skipped(tag) || !self.open_member(tag, Vr::SQ, offset) {
            // CP-246 UN sequences are written as SQ (that is what they are); anything else skipped.
            self.element = Element::Skip { depth: 1 };
            return;
        }
        self.seqs.push(Sequence { items: 0 });
        self.path.push(PathStep {
            sequence: tag,
            item: 0,
        });
    }

    fn start_item(&mut self, _len: dcmflow_core::Length, offset: u64) -> Result<(), JsonError> {
        if let Element::Pixels(pixels) = &mut self.element {
            if pixels.first_item_offset.is_none() {
                pixels.first_item_offset = Some(offset);
                self.decide_pixels(offset)?;
            }
            if let Element::Pixels(pixels) = &mut self.element {
                // The item header goes into the encapsulated value field as it stands in the file.
                let len = match _len {
                    dcmflow_core::Length::Defined(n) => n,
                    dcmflow_core::Length::Undefined => u32::MAX,
                };
                let mut header = [0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0];
                header[4..].copy_from_slice(&len.to_le_bytes());
                feed_pixels(
                    pixels,
                    &mut self.owned.sink,
                    &header,
                    &mut self.base64,
                    &mut self.buf,
                )?;
            }
            return Ok(());
        }
        let Some(seq) = self.seqs.last_mut() else {
            return Err(JsonError::TokenOrder);
        };
        let first = seq.items == 0;
        seq.items += 1;
        if let Some(step) = self.path.last_mut() {
            step.item += 1;
        }
        if first {
            self.open_value_array();
        }
        self.fmt.begin_array_value(&mut self.buf, first);
        self.fmt.begin_object(&mut self.buf);
        let charset = self.levels.current().charset;
        self.levels.push(charset);
        Ok(())
    }

    fn end_item(&mut self) {
        if matches!(self.element, Element::Pixels(_)) {
            return;
        }
        if self.levels.open() < 2 {
            return;
        }
        let level = self.levels.pop().expect("checked");
        // PS3.18 F.2.5 (R19): an empty item is `{}`.
        let empty = level.close(&mut self.buf, self.flushed, &mut self.fmt);
        self.fmt.end_object(&mut self.buf, empty);
    }

    fn end_sequence(&mut self, offset: u64) -> Result<(), JsonError> {
        if let Element::Pixels(_) = self.element {
            return self.end_pixels(offset);
        }
        let Some(seq) = self.seqs.pop() else {
            return Err(JsonError::TokenOrder);
        };
        self.path.pop();
        if seq.items > 0 {
            self.close_value_array();
        }
        self.close_member();
        Ok(())
    }

    // ---- encapsulated pixel data ---------------------------------------------------------------------

    fn start_pixels(&mut self, tag: Tag, vr: Vr, offset: u64) {
        if !matches!(self.element, Element::Idle) {
            return;
        }
        if !self.open_member(tag, vr, offset) {
            self.element = Element::Skip { depth: 1 };
            return;
        }
        self.element = Element::Pixels(Pixels {
            tag,
            target: PixelTarget::Undecided,
            first_item_offset: None,
        });
    }

    /// docs/design.md, Decisions (R15): encapsulated pixel data is never written empty: InlineBinary of the encapsulated
    /// value field (items of the offset table and fragments), or one BulkDataURI for the element.
    fn decide_pixels(&mut self, first_item_offset: u64) -> Result<(), JsonError> {
        let Element::Pixels(pixels) = &self.element else {
            return Ok(());
        };
        let tag = pixels.tag;
        let decision = match self.bulk.as_mut().map(Handler::get) {
            Some(handler) => handler
                .decide(&BulkElement {
                    path: &self.path,
                    tag,
                    vr: Vr::OB,
                    offset: first_item_offset,
                    length: None,
                    in_place: self.offsets_in_file,
                })
                .map_err(|e| JsonError::Bulk {
                    kind: e.kind(),
                    tag,
                })?,
            None => BulkDecision::Inline,
        };
        let target = match decision {
            BulkDecision::Inline => {
                self.open_value_key(b"\"InlineBinary\"");
                self.buf.push(b'"');
                PixelTarget::Inline
            }
            BulkDecision::Uri(uri) => {
                self.write_bulk_uri(&uri);
                PixelTarget::Referenced
            }
            BulkDecision::Stream { uri, sink } => {
                self.write_bulk_uri(&uri);
                self.owned.sink = Some(sink);
                PixelTarget::Sink
            }
            BulkDecision::UriAfter(f) => {
                self.owned.uri_after = Some(f);
                PixelTarget::UriAfter
            }
        };
        if let Element::Pixels(pixels) = &mut self.element {
            pixels.target = target;
        }
        Ok(())
    }

    fn end_pixels(&mut self, offset: u64) -> Result<(), JsonError> {
        let Element::Pixels(pixels) = std::mem::replace(&mut self.element, Element::Idle) else {
            return Ok(());
        };
        let (sink, uri_after) = (self.owned.sink.take(), self.owned.uri_after.take());
        match pixels.target {
            PixelTarget::Undecided | PixelTarget::Referenced => {}
            PixelTarget::Inline => {
                self.base64.finish(&mut self.buf);
                self.buf.push(b'"');
            }
            PixelTarget::Sink => {
                if let Some(mut sink) = sink {
                    sink.flush().map_err(|e| JsonError::Bulk {
                        kind: e.kind(),
                        tag: pixels.tag,
                    })?;
                }
            }
            PixelTarget::UriAfter => {
                let start = pixels.first_item_offset.unwrap_or(offset);
                if let Some(uri) = uri_after {
                    self.write_bulk_uri(&uri(offset - start));
                }
            }
        }
        self.close_member();
        Ok(())
    }
}

fn feed_pixels(
    pixels: &Pixels,
    sink: &mut Option<Box<dyn Write + Send>>,
    bytes: &[u8],
    base64: &mut Base64Encoder,
    buf: &mut Vec<u8>,
) -> Result<(), JsonError> {
    match (pixels.target, sink) {
        (PixelTarget::Inline, _) => base64.push(bytes, buf),
        (PixelTarget::Sink, Some(sink)) => sink.write_all(bytes).map_err(|e| JsonError::Bulk {
            kind: e.kind(),
            tag: pixels.tag,
        })?,
        _ => {}
    }
    Ok(())
}

/// Writes the complete numbers in `bytes` (plus any carried partial one) as array values.
fn write_numbers<F: Formatter>(
    numbers: &mut Numbers,
    mut bytes: &[u8],
    buf: &mut Vec<u8>,
    fmt: &mut F,
) {
    let unit = numbers.unit;
    if numbers.pending_len > 0 {
        let take = (unit - numbers.pending_len).min(bytes.len());
        numbers.pending[numbers.pending_len..numbers.pending_len + take]
            .copy_from_slice(&bytes[..take]);
        numbers.pending_len += take;
        bytes = &bytes[take..];
        if numbers.pending_len < unit {
            return;
        }
        let word = numbers.pending;
        numbers.pending_len = 0;
        write_number(numbers, &word[..unit], buf, fmt);
    }
    let mut words = bytes.chunks_exact(unit);
    for word in &mut words {
        write_number(numbers, word, buf, fmt);
    }
    let rest = words.remainder();
    numbers.pending[..rest.len()].copy_from_slice(rest);
    numbers.pending_len = rest.len();
}

fn write_number<F: Formatter>(numbers: &mut Numbers, word: &[u8], buf: &mut Vec<u8>, fmt: &mut F) {
    if numbers.count == 0 {
        fmt.value_array_head(buf);
    }
    fmt.begin_array_value(buf, numbers.count == 0);
    numbers.count += 1;
    let be = numbers.big_endian;
    macro_rules! read {
        ($t:ty) => {{
            let a = word.try_into().expect("unit-sized word");
            if be {
                <$t>::from_be_bytes(a)
            } else {
                <$t>::from_le_bytes(a)
            }
        }};
    }
    match numbers.vr {
        Vr::US => numbers::write_integer(buf, read!(u16), true),
        Vr::SS => numbers::write_integer(buf, read!(i16), true),
        Vr::UL => numbers::write_integer(buf, read!(u32), true),
        Vr::SL => numbers::write_integer(buf, read!(i32), true),
        Vr::SV => numbers::write_i64(buf, read!(i64)),
        Vr::UV => numbers::write_u64(buf, read!(u64)),
        Vr::FL => {
            if !numbers::write_float(buf, read!(f32) as f64, true) {
                numbers.non_finite = true;
            }
        }
        Vr::FD => {
            if !numbers::write_float(buf, read!(f64), false) {
                numbers.non_finite = true;
            }
        }
        Vr::AT => {
            // PS3.18 F.2.3 (R12): AT as "GGGGEEEE"; the group and element are each in file byte order.
            let (group, element) = if be {
                (
                    u16::from_be_bytes([word[0], word[1]]),
                    u16::from_be_bytes([word[2], word[3]]),
                )
            } else {
                (
                    u16::from_le_bytes([word[0], word[1]]),
                    u16::from_le_bytes([word[2], word[3]]),
                )
            };
            let mut text = [0u8; 10];
            text[0] = b'"';
            text[9] = b'"';
            hex8((group as u32) << 16 | element as u32, &mut text[1..9]);
            buf.extend_from_slice(&text);
        }
        _ => unreachable!("only binary number VRs reach write_number"),
    }
}

fn hex8(value: u32, out: &mut [u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for (i, b) in out.iter_mut().enumerate().take(8) {
        *b = HEX[((value >> (28 - 4 * i)) & 0xF) as usize];
    }
}
