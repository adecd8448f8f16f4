//! Tokens → PS3.10 bytes.
//!
//! Everything is encoded into one staging buffer that is flushed to the output whenever nothing in it can
//! still change. Two things hold it back: a file meta group that waits for the data set's SOP Class/Instance
//! UIDs (when the input had no meta), and a sequence or item whose length is being computed (patched in
//! place when it closes). Held-back output beyond [`WriterOptions::spill_at`] moves to an anonymous
//! temporary file (`spill.rs`), so computed lengths cost bounded memory; they cost a second pass over the
//! bytes of the largest top-level sequence, which is why [`LengthMode::Keep`] (the default) computes only
//! where the input's lengths cannot be reused.

use std::io::{Seek, SeekFrom, Write};

use dcmflow_core::{Encoding, Error, ErrorKind, Length, Result, Tag, Token, TransferSyntax, Vr};
use dcmflow_simd::SwapCarry;
use flate2::write::DeflateEncoder;
use flate2::Compression;

use crate::meta::{MetaBuilder, MetaCapture};
use crate::reorder::Reorder;
use dcmflow_engine::spill::Spill;

/// How sequence and item lengths are written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LengthMode {
    /// The input's form: defined lengths are reused when the output encodes headers the same way
    /// (explicit/implicit VR unchanged) and computed otherwise; undefined stays undefined.
    Keep,
    /// Every sequence and item gets an undefined length and delimiters (streams in constant memory).
    Undefined,
    /// Every sequence and item gets a computed defined length (buffers each top-level sequence).
    Explicit,
}

/// What a [`DicomWriter`] writes and how the tokens it gets were read.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// The output's transfer syntax.
    pub transfer_syntax: TransferSyntax,
    /// Byte order of the `Value` bytes coming in (the source's transfer syntax).
    pub source_big_endian: bool,
    /// Whether the source encoded VRs explicitly (decides whether defined lengths can be kept).
    pub source_explicit_vr: bool,
    /// Sequence and item lengths: as given, undefined, or computed.
    pub lengths: LengthMode,
    /// Deflate level 0–9 for the deflated transfer syntax.
    pub deflate_level: u32,
    /// Write the PS3.10 preamble, `DICM` and file meta; otherwise a bare data set.
    pub part10: bool,
    /// The 128-byte preamble (zeros when `None`).
    pub preamble: Option<[u8; 128]>,
    /// Keep an incoming meta group byte for byte when it already names the output transfer syntax (a
    /// DICOM source); otherwise it is rebuilt (group length, implementation identity). Meta elements from
    /// DICOM JSON must be rebuilt: they never carry a group length (R2).
    pub keep_meta: bool,
    /// Drop data set group length elements (gggg,0000). They are retired (PS3.5 7.2) and become wrong when
    /// header sizes change.
    pub drop_group_lengths: bool,
    /// Put elements that arrive out of order into ascending tag order (PS3.5 7.1) while they are still in
    /// the staging buffer (DICOM JSON with unsorted keys). Off: elements are written as they come.
    pub sort_elements: bool,
    /// Output held back for computed sequence lengths moves to an anonymous temporary file past this many
    /// bytes, so memory stays bounded whatever the sequence's size (default 4 MiB).
    pub spill_at: usize,
}

impl WriterOptions {
    /// The defaults for writing `transfer_syntax`.
    pub fn new(transfer_syntax: TransferSyntax) -> WriterOptions {
        WriterOptions {
            transfer_syntax,
            source_big_endian: false,
            source_explicit_vr: true,
            lengths: LengthMode::Keep,
            deflate_level: 6,
            part10: true,
            preamble: None,
            keep_meta: true,
            drop_group_lengths: false,
            sort_elements: false,
            spill_at: SPILL_AT,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FrameKind {
    Sequence,
    Item,
    Pixels,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    kind: FrameKind,
    /// Where the length to patch is, as an offset in the output stream after the writer's origin (in the
    /// held-back spill/staging bytes, or already written out when the output can be patched), for
    /// computed lengths; `None` when undefined or written as given.
    patch_at: Option<u64>,
    undefined: bool,
    /// A defined length written as given: the sequence's or item's tag, where its content starts and the
    /// length. The content written must come to that length, or the output would not read back.
    given: Option<(Tag, u64, u32)>,
    /// Output encoding of the content (CP-246: a UN sequence's content is Implicit VR LE).
    encoding: Encoding,
    /// Byte order of the content's incoming values.
    source_big_endian: bool,
}

/// The element whose value bytes are arriving.
#[derive(Debug)]
struct OpenValue {
    tag: Tag,
    remaining: u64,
    swap_unit: usize,
    /// Group length element being dropped: its bytes are swallowed.
    skip: bool,
    /// A value of unknown length (see [`DicomWriter::new_seekable`]): where its length field is in the
    /// output, patched when the value ends.
    unknown_at: Option<u64>,
    /// Bytes received so far.
    count: u64,
}

enum Sink<W: Write> {
    Plain(W),
    Deflate(DeflateEncoder<W>),
}

impl<W: Write> Sink<W> {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(bytes),
            Sink::Deflate(d) => d.write_all(bytes),
        }
    }
    fn finish(self) -> std::io::Result<W> {
        match self {
            Sink::Plain(mut w) => {
                w.flush()?;
                Ok(w)
            }
            Sink::Deflate(d) => {
                let mut w = d.finish()?;
                w.flush()?;
                Ok(w)
            }
        }
    }
}

type PatchFn<W> = fn(&mut W, u64, &[u8]) -> std::io::Result<()>;

/// The output seen as the `Vec` it is (see [`DicomWriter::new_in_memory`]).
type AsVecFn<W> = fn(&mut W) -> &mut Vec<u8>;

impl<'v> DicomWriter<&'v mut Vec<u8>> {
    /// A writer appending to a `Vec` in memory. The same output as [`DicomWriter::new`]; byte-swapped
    /// values (a change of byte order) are swapped straight into the vector instead of passing through
    /// the staging buffer: one pass over the value, as a copy would be. Like a seekable output, the
    /// vector takes lengths patched in afterwards.
    pub fn new_in_memory(out: &'v mut Vec<u8>, options: WriterOptions) -> Self {
        let origin = out.len() as u64;
        let mut writer = DicomWriter::new(out, options);
        writer.as_vec = Some(|out| &mut **out);
        writer.origin = origin;
        writer.patch = Some(patch_vec);
        writer
    }
}

/// Overwrites `bytes` at absolute position `at` of a `Vec` (always within what was written).
fn patch_vec(out: &mut &mut Vec<u8>, at: u64, bytes: &[u8]) -> std::io::Result<()> {
    let place = usize::try_from(at)
        .ok()
        .and_then(|at| out.get_mut(at..at.checked_add(bytes.len())?))
        .ok_or_else(|| std::io::Error::other("patch outside the output"))?;
    place.copy_from_slice(bytes);
    Ok(())
}

/// Overwrites `bytes` at absolute position `at` and returns to where writing was.
fn patch_seekable<W: Write + Seek>(out: &mut W, at: u64, bytes: &[u8]) -> std::io::Result<()> {
    let here = out.stream_position()?;
    out.seek(SeekFrom::Start(at))?;
    out.write_all(bytes)?;
    out.seek(SeekFrom::Start(here))?;
    Ok(())
}

impl<W: Write + Seek> DicomWriter<W> {
    /// A writer for a seekable output (a file). It also takes a top-level binary element whose length is
    /// not known yet (`Header::len` = [`Length::UNDEFINED_RAW`] on a non-SQ VR, as the JSON reader sends for
    /// long InlineBinary when allowed): the header goes out with a placeholder and the length is patched in
    /// when the last value chunk has arrived. Not for the deflated syntax (its output cannot be patched).
    pub fn new_seekable(mut out: W, options: WriterOptions) -> std::io::Result<DicomWriter<W>> {
        let origin = out.stream_position()?;
        let mut writer = DicomWriter::new(out, options);
        writer.origin = origin;
        writer.patch = Some(patch_seekable::<W>);
        Ok(writer)
    }
}

/// `io::Write` over a sink, for copying the spill file into it.
struct SinkWriter<'s, W: Write>(&'s mut Sink<W>);

impl<W: Write> Write for SinkWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes a token stream as DICOM. See the module docs for buffering.
pub struct DicomWriter<W: Write> {
    options: WriterOptions,
    /// The output before the meta is written; afterwards it lives in `sink`.
    raw: Option<W>,
    sink: Option<Sink<W>>,
    staging: Vec<u8>,
    /// Held-back output older than `staging`, moved to a temporary file (see `spill.rs`).
    spill: Spill,
    frames: Vec<Frame>,
    value: Option<OpenValue>,
    carry: SwapCarry,
    meta: Option<MetaBuilder>,
    /// A top-level data set element other than file meta has been written (or staged).
    data_set_begun: bool,
    capture: MetaCapture,
    /// `Some` when sorting elements (`WriterOptions::sort_elements`).
    reorder: Option<Reorder>,
    /// Writes bytes at an absolute position of a seekable output (see [`DicomWriter::new_seekable`]).
    patch: Option<PatchFn<W>>,
    /// Set when the output is a `Vec` in memory (see [`DicomWriter::new_in_memory`]).
    as_vec: Option<AsVecFn<W>>,
    /// The output's position when the writer was created (absolute offsets = origin + written).
    origin: u64,
    written: u64,
    finished: bool,
}

impl<W: Write> std::fmt::Debug for DicomWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DicomWriter")
            .field("depth", &self.frames.len())
            .field("written", &self.written)
            .finish()
    }
}

const FLUSH_AT: usize = 256 * 1024;
/// Held-back output beyond this (a long sequence whose length is being computed) moves to a temporary file.
const SPILL_AT: usize = 4 * 1024 * 1024;
/// The most data set bytes held back while the file meta waits for the SOP Class/Instance UIDs.
const META_WAIT_LIMIT: usize = 4 * 1024 * 1024;
/// Byte-swapped values are swapped into the staging buffer in pieces of this size.
const SWAP_PIECE: usize = 64 * 1024;

impl<W: Write> DicomWriter<W> {
    /// A writer into `out`, which cannot be patched: computed lengths hold a top-level sequence back
    /// (spilled to a temporary file past 4 MiB).
    pub fn new(out: W, options: WriterOptions) -> DicomWriter<W> {
        let meta = options.part10.then(MetaBuilder::default);
        let reorder = options.sort_elements.then(Reorder::new);
        let mut capture = MetaCapture::default();
        // Unsorted input: a greater tag does not mean the SOP UIDs are past.
        capture.set_unordered(options.sort_elements);
        let mut writer = DicomWriter {
            options,
            raw: Some(out),
            sink: None,
            staging: Vec::with_capacity(FLUSH_AT),
            spill: Spill::default(),
            frames: Vec::new(),
            value: None,
            carry: SwapCarry::new(),
            meta,
            data_set_begun: false,
            capture,
            reorder,
            patch: None,
            as_vec: None,
            origin: 0,
            written: 0,
            finished: false,
        };
        if !writer.options.part10 {
            writer.open_sink_after_meta();
        }
        writer
    }

    /// Writes one token. `Eof` completes the output (as [`DicomWriter::finish`] does).
    pub fn write_token(&mut self, token: &Token<'_>) -> Result<()> {
        if self.finished {
            return Err(self.error(ErrorKind::TokenOrder));
        }
        if let Token::Value { bytes, last } = *token {
            return self.write_value(bytes, last);
        }
        if self.value.is_some() {
            return Err(self.error(ErrorKind::TokenOrder));
        }
        match *token {
            Token::Element(h) => self.write_element_header(h.tag, h.vr, h.len),
            Token::SequenceStart { tag, vr, len } => self.open_sequence(tag, vr, len),
            Token::PixelSequenceStart { tag, vr } => self.open_pixels(tag, vr),
            Token::ItemStart { len } => self.open_item(len),
            Token::ItemEnd => self.close(FrameKind::Item),
            Token::SequenceEnd => self.close_sequence(),
            Token::Eof => self.complete(),
            Token::Value { .. } => unreachable!("handled above"),
        }
    }

    /// Completes the output and returns the writer. Fails if sequences are still open.
    pub fn finish(mut self) -> Result<W> {
        if !self.finished {
            self.complete()?;
        }
        let sink = self
            .sink
            .take()
            .ok_or_else(|| Error::new(ErrorKind::TokenOrder, self.written))?;
        sink.finish().map_err(|e| Error::io(&e, self.written))
    }

    /// The output, holding what has been written so far (staged bytes go out in pieces of a few hundred
    /// KiB, or when the data set ends); a deflated output's compressed bytes.
    pub fn output_mut(&mut self) -> &mut W {
        match (self.raw.as_mut(), self.sink.as_mut()) {
            (Some(raw), _) => raw,
            (None, Some(Sink::Plain(w))) => w,
            (None, Some(Sink::Deflate(d))) => d.get_mut(),
            (None, None) => unreachable!("the output is the raw writer until the sink takes it"),
        }
    }

    fn error(&self, kind: ErrorKind) -> Error {
        Error::new(kind, self.written + self.held())
    }

    /// Output bytes held back (spilled and staged).
    fn held(&self) -> u64 {
        self.spill.len() + self.staging.len() as u64
    }

    /// The output stream offset (after the origin) of the next byte staged.
    fn position(&self) -> u64 {
        self.written + self.held()
    }

    /// Lengths can be patched in the output itself (seekable, not deflated): a computed length then
    /// holds nothing back.
    fn patches_in_output(&self) -> bool {
        self.patch.is_some() && matches!(self.sink, Some(Sink::Plain(_))) && self.meta.is_none()
    }

    /// Overwrites 4 length bytes at stream offset `at`: in the spill file or staging while held back,
    /// else in the output.
    fn patch_bytes(&mut self, at: u64, bytes: [u8; 4]) -> Result<()> {
        if let Some(rel) = at.checked_sub(self.written) {
            return match rel.checked_sub(self.spill.len()) {
                Some(i) => {
                    let i = i as usize;
                    self.staging[i..i + 4].copy_from_slice(&bytes);
                    Ok(())
                }
                None => self.spill.patch(rel, &bytes).map_err(|e| Error::io(&e, at)),
            };
        }
        let (patch, origin, written) = (self.patch, self.origin, self.written);
        match (patch, self.sink.as_mut()) {
            (Some(patch), Some(Sink::Plain(out))) => {
                patch(out, origin + at, &bytes).map_err(|e| Error::io(&e, written))
            }
            _ => Err(Error::new(ErrorKind::TokenOrder, at)),
        }
    }

    /// Rewrites the 4-byte length field just before `start` (a sequence's or an item's content) to
    /// `actual`, if that field is still held back or the output is patchable; a field already written
    /// out to a stream is a [`ErrorKind::StaleDefinedLength`].
    fn correct_given_length(
        &mut self,
        tag: Tag,
        start: u64,
        actual: u64,
        enc: Encoding,
    ) -> Result<()> {
        let at = start - 4;
        let reachable = at >= self.written || self.patches_in_output();
        let len = u32::try_from(actual)
            .ok()
            .filter(|&n| n != Length::UNDEFINED_RAW && reachable)
            .ok_or_else(|| self.error(ErrorKind::StaleDefinedLength(tag)))?;
        let bytes = if enc.big_endian {
            len.to_be_bytes()
        } else {
            len.to_le_bytes()
        };
        self.patch_bytes(at, bytes)
    }

    fn encoding(&self) -> Encoding {
        self.frames
            .last()
            .map_or(self.options.transfer_syntax.encoding, |f| f.encoding)
    }

    fn source_big_endian(&self) -> bool {
        self.frames
            .last()
            .map_or(self.options.source_big_endian, |f| f.source_big_endian)
    }

    fn in_meta(&self, tag: Tag) -> bool {
        self.meta.is_some() && self.frames.is_empty() && tag.group() == 0x0002
    }

    // ---- encoding primitives --------------------------------------------------------------------------

    fn put_u16(&mut self, v: u16, enc: Encoding) {
        let b = if enc.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.staging.extend_from_slice(&b);
    }

    fn put_u32(&mut self, v: u32, enc: Encoding) {
        let b = if enc.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.staging.extend_from_slice(&b);
    }

    fn put_tag(&mut self, tag: Tag, enc: Encoding) {
        self.put_u16(tag.group(), enc);
        self.put_u16(tag.element(), enc);
    }

    /// PS3.5 7.1.1–7.1.3: explicit VR with a 2- or 4-byte length, or implicit VR with a 4-byte length.
    /// Returns where the length field starts.
    fn put_header(&mut self, tag: Tag, vr: Vr, len: u32, enc: Encoding) -> Result<u64> {
        let base = self.staging_base();
        if let Some(reorder) = self.reorder.as_mut() {
            reorder
                .before_member(tag, &mut self.staging, base)
                .map_err(|kind| Error::new(kind, self.written + self.held()))?;
        }
        self.put_tag(tag, enc);
        if !enc.explicit_vr {
            let at = self.position();
            self.put_u32(len, enc);
            return Ok(at);
        }
        self.staging.extend_from_slice(&vr.bytes());
        if vr.has_long_length() {
            self.staging.extend_from_slice(&[0, 0]);
            let at = self.position();
            self.put_u32(len, enc);
            Ok(at)
        } else {
            let short =
                u16::try_from(len).map_err(|_| self.error(ErrorKind::ValueTooLong(tag, vr)))?;
            let at = self.position();
            self.put_u16(short, enc);
            Ok(at)
        }
    }

    // ---- elements -----------------------------------------------------------------------------------

    fn write_element_header(&mut self, tag: Tag, vr: Vr, len: u32) -> Result<()> {
        if self.in_meta(tag) {
            self.meta.as_mut().expect("in_meta").begin(tag, vr, len);
            self.value = Some(OpenValue {
                tag,
                remaining: len as u64,
                swap_unit: 1,
                skip: false,
                unknown_at: None,
                count: 0,
            });
            return Ok(());
        }
        if self.frames.is_empty() {
            self.capture.begin(tag);
            self.data_set_begun = true;
        }
        // PS3.5 7.1.3: Implicit VR leaves the VR to the reader's dictionary. A non-empty value on a tag
        // the dictionary calls SQ would be read as items, so the file would not read back: refused. (An
        // empty one reads back as an empty sequence; the reverse, a sequence on a non-SQ tag, is written
        // with undefined length, which readers take for a sequence.)
        if !self.encoding().explicit_vr
            && len != 0
            && vr != Vr::SQ
            && dcmflow_core::dict::implicit_vr(tag) == Vr::SQ
        {
            return Err(self.error(ErrorKind::ImplicitVrSequence(tag, vr)));
        }
        if len == Length::UNDEFINED_RAW && vr != Vr::SQ {
            return self.open_unknown_length(tag, vr);
        }
        self.end_meta_phase()?;
        let skip = self.options.drop_group_lengths && tag.is_group_length();
        if !skip {
            let enc = self.encoding();
            self.put_header(tag, vr, len, enc)?;
        }
        let swap_unit = if self.source_big_endian() != self.encoding().big_endian {
            vr.swap_unit()
        } else {
            1
        };
        self.value = Some(OpenValue {
            tag,
            remaining: len as u64,
            swap_unit,
            skip,
            unknown_at: None,
            count: 0,
        });
        Ok(())
    }

    /// A top-level value whose length arrives with its end (see [`DicomWriter::new_seekable`]): the
    /// meta and everything before go out, then the header with a zero length to patch.
    fn open_unknown_length(&mut self, tag: Tag, vr: Vr) -> Result<()> {
        let enc = self.encoding();
        let patchable = self.patch.is_some()
            && self.frames.is_empty()
            && !self.options.transfer_syntax.deflated
            && (!enc.explicit_vr || vr.has_long_length());
        if !patchable {
            return Err(self.error(ErrorKind::UndefinedLength(tag)));
        }
        // Nothing may stay held back behind a patched length: the meta is written now (without SOP UIDs if
        // the data set has not shown them yet).
        self.write_meta()?;
        let at = self.put_header(tag, vr, 0, enc)?;
        self.flush_staging()?;
        let swap_unit = if self.source_big_endian() != enc.big_endian {
            vr.swap_unit()
        } else {
            1
        };
        self.value = Some(OpenValue {
            tag,
            remaining: u64::MAX,
            swap_unit,
            skip: false,
            unknown_at: Some(at),
            count: 0,
        });
        Ok(())
    }

    /// The value of unknown length has ended: its length goes into the header written for it.
    fn patch_length(&mut self, tag: Tag, vr_at: u64, count: u64) -> Result<()> {
        let len = u32::try_from(count)
            .ok()
            .filter(|&n| n != Length::UNDEFINED_RAW)
            .ok_or_else(|| self.error(ErrorKind::ValueTooLong(tag, Vr::OB)))?;
        let bytes = if self.encoding().big_endian {
            len.to_be_bytes()
        } else {
            len.to_le_bytes()
        };
        self.patch_bytes(vr_at, bytes)
    }

    fn write_value(&mut self, bytes: &[u8], last: bool) -> Result<()> {
        let Some(open) = self.value.as_mut() else {
            return Err(self.error(ErrorKind::TokenOrder));
        };
        let known = open.unknown_at.is_none();
        if known
            && (bytes.len() as u64 > open.remaining
                || (last && bytes.len() as u64 != open.remaining))
        {
            let tag = open.tag;
            return Err(self.error(ErrorKind::LengthMismatch(tag)));
        }
        if known {
            open.remaining -= bytes.len() as u64;
        }
        open.count += bytes.len() as u64;
        let (tag, unit, skip) = (open.tag, open.swap_unit, open.skip);
        let unknown_at = open.unknown_at.filter(|_| last);
        let count = open.count;
        if last {
            self.value = None;
        }
        if self.in_meta(tag) {
            self.meta
                .as_mut()
                .expect("in_meta")
                .push(bytes)
                .map_err(|k| self.error(k))?;
            return Ok(());
        }
        if skip {
            return Ok(());
        }
        if self.frames.is_empty() {
            self.capture.push(bytes);
        }
        if unit > 1 && self.direct_to_vec()? {
            let (Some(as_vec), Some(Sink::Plain(out))) = (self.as_vec, self.sink.as_mut()) else {
                unreachable!("direct_to_vec checked both");
            };
            let out = as_vec(out);
            let before = out.len();
            self.carry.append(bytes, unit, out);
            self.written += (out.len() - before) as u64;
            if last {
                let tail = self.carry.finish().to_vec();
                self.emit_bytes(&tail)?;
            }
        } else if unit > 1 {
            // Swapped straight into the staging buffer in pieces smaller than a flush: one pass over the
            // value, and staging stays cache-resident whatever the value size.
            for piece in bytes.chunks(SWAP_PIECE) {
                self.carry.append(piece, unit, &mut self.staging);
                self.staging_grew()?;
            }
            if last {
                // A malformed length that is not a multiple of the word size: the tail goes out as it is.
                let tail = self.carry.finish().to_vec();
                self.emit_bytes(&tail)?;
            }
        } else {
            self.emit_bytes(bytes)?;
        }
        if let Some(at) = unknown_at {
            self.patch_length(tag, at, count)?;
        }
        Ok(())
    }

    /// Value bytes: straight to the sink when nothing is held back (large values are not copied twice),
    /// otherwise staged.
    fn emit_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.len() >= FLUSH_AT && (self.can_flush() || self.patches_in_output()) {
            self.flush_staging()?;
            let sink = self.sink.as_mut().expect("can_flush implies a sink");
            sink.write_all(bytes)
                .map_err(|e| Error::io(&e, self.written))?;
            self.written += bytes.len() as u64;
            return Ok(());
        }
        self.staging.extend_from_slice(bytes);
        self.staging_grew()
    }

    /// After bytes were added to staging: end the wait for the meta, flush or spill as the size says.
    fn staging_grew(&mut self) -> Result<()> {
        if self.staging.len() > META_WAIT_LIMIT && self.meta.is_some() {
            self.end_meta_phase()?;
        }
        if self.staging.len() >= FLUSH_AT && self.can_flush() {
            self.flush_staging()?;
        } else if self.staging.len() >= self.options.spill_at && self.meta.is_none() {
            // Past the threshold a computed length stops holding bytes back: patched later in the output
            // when it can be, else in a temporary file. (Below it, members stay sortable.)
            if self.patches_in_output() {
                self.flush_staging()?;
            } else {
                self.spill_staging()?;
            }
        }
        Ok(())
    }

    // ---- sequences, items, fragments ----------------------------------------------------------------

    fn computes_lengths(&self, given: Length) -> bool {
        match self.options.lengths {
            LengthMode::Explicit => true,
            LengthMode::Undefined => false,
            LengthMode::Keep => {
                matches!(given, Length::Defined(_))
                    && self.options.source_explicit_vr
                        != self.options.transfer_syntax.encoding.explicit_vr
            }
        }
    }

    /// The length to write now and whether it is patched later.
    fn plan_length(&self, given: Length) -> (u32, bool, bool) {
        match (self.options.lengths, given) {
            (LengthMode::Undefined, _) | (LengthMode::Keep, Length::Undefined) => {
                (Length::UNDEFINED_RAW, false, true)
            }
            _ if self.computes_lengths(given) => (0, true, false),
            (_, Length::Defined(n)) => (n, false, false),
            (_, Length::Undefined) => (Length::UNDEFINED_RAW, false, true),
        }
    }

    fn open_sequence(&mut self, tag: Tag, vr: Vr, len: Length) -> Result<()> {
        self.check_not_meta_container(tag)?;
        self.end_meta_phase()?;
        let enc = self.encoding();
        // PS3.5 7.5 / 7.1.3: in implicit VR only the dictionary says an element is a sequence. One it does
        // not know (private, UN) gets an undefined length, which readers can only take as a sequence;
        // with a defined length it would read back as opaque bytes.
        // Likewise a CP-246 UN sequence is only recognisable by its undefined length (PS3.5 6.2.2).
        let unknown_to_readers =
            vr == Vr::UN || (!enc.explicit_vr && dcmflow_core::dict::implicit_vr(tag) != Vr::SQ);
        let (raw, patch, undefined) = if unknown_to_readers {
            (Length::UNDEFINED_RAW, false, true)
        } else {
            self.plan_length(len)
        };
        let at = self.put_header(tag, vr, raw, enc)?;
        let given = (!patch && !undefined).then(|| (tag, self.position(), raw));
        // CP-246: a UN sequence's content is Implicit VR LE, in the source and in the output.
        let cp246 = vr == Vr::UN;
        let encoding = if cp246 { Encoding::IMPLICIT_LE } else { enc };
        let source_big_endian = if cp246 {
            false
        } else {
            self.source_big_endian()
        };
        self.frames.push(Frame {
            kind: FrameKind::Sequence,
            patch_at: patch.then_some(at),
            undefined,
            given,
            encoding,
            source_big_endian,
        });
        Ok(())
    }

    /// PS3.10 7.1: readers take the group 0002 elements at the start (after the preamble, or of a bare
    /// data set whose first header spells a VR) as the file meta, which holds no sequences. A top-level
    /// group 0002 sequence before any other data set element would be read as a broken file meta, so it
    /// is refused.
    fn check_not_meta_container(&mut self, tag: Tag) -> Result<()> {
        if self.frames.is_empty() {
            if tag.group() == 0x0002 && !self.data_set_begun {
                return Err(self.error(ErrorKind::SequenceInFileMeta(tag)));
            }
            self.data_set_begun = true;
        }
        Ok(())
    }

    fn open_pixels(&mut self, tag: Tag, vr: Vr) -> Result<()> {
        self.check_not_meta_container(tag)?;
        self.end_meta_phase()?;
        let enc = self.encoding();
        // PS3.5 A.4: encapsulated pixel data always has undefined length.
        self.put_header(tag, vr, Length::UNDEFINED_RAW, enc)?;
        let source_big_endian = self.source_big_endian();
        self.frames.push(Frame {
            kind: FrameKind::Pixels,
            patch_at: None,
            undefined: true,
            given: None,
            encoding: enc,
            source_big_endian,
        });
        Ok(())
    }

    fn open_item(&mut self, len: Length) -> Result<()> {
        let Some(parent) = self.frames.last().copied() else {
            return Err(self.error(ErrorKind::TokenOrder));
        };
        let enc = parent.encoding;
        self.put_tag(Tag::ITEM, enc);
        if parent.kind == FrameKind::Pixels {
            // A fragment: its bytes follow as a value, never swapped (PS3.5 A.4: OB fragments).
            let Length::Defined(n) = len else {
                return Err(self.error(ErrorKind::UndefinedLength(Tag::ITEM)));
            };
            self.put_u32(n, enc);
            self.frames.push(Frame {
                kind: FrameKind::Item,
                patch_at: None,
                undefined: false,
                given: None,
                encoding: enc,
                source_big_endian: false,
            });
            self.value = Some(OpenValue {
                tag: Tag::ITEM,
                remaining: n as u64,
                swap_unit: 1,
                skip: false,
                unknown_at: None,
                count: 0,
            });
            return Ok(());
        }
        if parent.kind != FrameKind::Sequence {
            return Err(self.error(ErrorKind::TokenOrder));
        }
        let (raw, patch, undefined) = self.plan_length(len);
        let at = self.position();
        self.put_u32(raw, enc);
        if let Some(reorder) = self.reorder.as_mut() {
            reorder.open_level();
        }
        let given = (!patch && !undefined).then(|| (Tag::ITEM, at + 4, raw));
        self.frames.push(Frame {
            kind: FrameKind::Item,
            patch_at: patch.then_some(at),
            undefined,
            given,
            encoding: enc,
            source_big_endian: parent.source_big_endian,
        });
        Ok(())
    }

    fn close_sequence(&mut self) -> Result<()> {
        match self.frames.last().map(|f| f.kind) {
            Some(FrameKind::Pixels) => self.close(FrameKind::Pixels),
            _ => self.close(FrameKind::Sequence),
        }
    }

    fn close(&mut self, kind: FrameKind) -> Result<()> {
        let frame = match self.frames.last() {
            Some(f) if f.kind == kind => *f,
            _ => return Err(self.error(ErrorKind::TokenOrder)),
        };
        self.frames.pop();
        let in_pixels = self
            .frames
            .last()
            .is_some_and(|p| p.kind == FrameKind::Pixels);
        if kind == FrameKind::Item && !in_pixels {
            let base = self.staging_base();
            if let Some(reorder) = self.reorder.as_mut() {
                reorder.close_level(&mut self.staging, base);
            }
        }
        if frame.undefined && !(kind == FrameKind::Item && in_pixels) {
            let delimiter = if kind == FrameKind::Item {
                Tag::ITEM_DELIMITATION
            } else {
                Tag::SEQUENCE_DELIMITATION
            };
            self.put_tag(delimiter, frame.encoding);
            self.put_u32(0, frame.encoding);
        }
        if let Some((tag, start, len)) = frame.given {
            // A defined length kept from the source holds only if the content came out as long: a
            // reader's recovery (an item closed at the end of a truncated input, or a parent extended
            // over an element that overran it) changes it. The length field is corrected where it can
            // still be reached, or the output would not read back; past that, it is an error.
            let actual = self.position() - start;
            if actual != u64::from(len) {
                self.correct_given_length(tag, start, actual, frame.encoding)?;
            }
        }
        if let Some(at) = frame.patch_at {
            let len = u32::try_from(self.position() - at - 4)
                .ok()
                .filter(|&n| n != Length::UNDEFINED_RAW)
                .ok_or_else(|| self.error(ErrorKind::ValueTooLong(Tag::ITEM, Vr::SQ)))?;
            let bytes = if frame.encoding.big_endian {
                len.to_be_bytes()
            } else {
                len.to_le_bytes()
            };
            self.patch_bytes(at, bytes)?;
        }
        if self.staging.len() >= FLUSH_AT && self.can_flush() {
            self.flush_staging()?;
        }
        Ok(())
    }

    // ---- meta and flushing ------------------------------------------------------------------------------

    /// The data set has begun: the meta can be written now if it names the SOP instance, else once the
    /// data set has shown its SOP Class/Instance UIDs (or cannot any more).
    fn end_meta_phase(&mut self) -> Result<()> {
        let Some(meta) = self.meta.as_ref() else {
            return Ok(());
        };
        // Never hold more than META_WAIT_LIMIT of data set back: a meta without SOP UIDs beats unbounded memory.
        if meta.has_sop_identity() || self.capture.done() || self.staging.len() > META_WAIT_LIMIT {
            self.write_meta()?;
        }
        Ok(())
    }

    fn write_meta(&mut self) -> Result<()> {
        let Some(meta) = self.meta.take() else {
            return Ok(());
        };
        let mut raw = self
            .raw
            .take()
            .ok_or_else(|| self.error(ErrorKind::TokenOrder))?;
        let mut head = Vec::with_capacity(512);
        head.extend_from_slice(&self.options.preamble.unwrap_or([0; 128]));
        head.extend_from_slice(b"DICM");
        meta.encode(
            &self.options.transfer_syntax,
            &self.capture,
            self.options.keep_meta,
            &mut head,
        );
        raw.write_all(&head).map_err(|e| Error::io(&e, 0))?;
        self.written = head.len() as u64;
        // Members staged before the meta existed move behind it.
        if let Some(reorder) = self.reorder.as_mut() {
            reorder.shift(self.written);
        }
        // Lengths to patch were located before the meta existed: they move behind it.
        for frame in &mut self.frames {
            if let Some(at) = frame.patch_at.as_mut() {
                *at += self.written;
            }
            if let Some((_, start, _)) = frame.given.as_mut() {
                *start += self.written;
            }
        }
        self.raw = Some(raw);
        self.open_sink_after_meta();
        Ok(())
    }

    fn open_sink_after_meta(&mut self) {
        let raw = self
            .raw
            .take()
            .expect("output present until the sink opens");
        self.sink = Some(if self.options.transfer_syntax.deflated {
            // PS3.5 A.5: raw deflate (no zlib header) of everything after the file meta.
            Sink::Deflate(DeflateEncoder::new(
                raw,
                Compression::new(self.options.deflate_level.min(9)),
            ))
        } else {
            Sink::Plain(raw)
        });
    }

    fn can_flush(&self) -> bool {
        self.sink.is_some()
            && self.meta.is_none()
            && self.frames.iter().all(|f| f.patch_at.is_none())
    }

    /// Moves the staging buffer to the spill file: a computed length keeps it from the output and it has
    /// grown past `SPILL_AT`. Its members can no longer be reordered.
    fn spill_staging(&mut self) -> Result<()> {
        self.spill
            .append(&self.staging)
            .map_err(|e| Error::io(&e, self.written))?;
        self.staging.clear();
        self.staging_left();
        Ok(())
    }

    /// Whether value bytes can go straight into an in-memory output: it is one, nothing is held back
    /// (staging is flushed first, keeping the order) and the data set is not deflated.
    fn direct_to_vec(&mut self) -> Result<bool> {
        let direct = self.as_vec.is_some()
            && matches!(self.sink, Some(Sink::Plain(_)))
            && self.can_flush()
            && !self.patches_in_output();
        if direct {
            self.flush_staging()?;
        }
        Ok(direct)
    }

    fn flush_staging(&mut self) -> Result<()> {
        if !self.spill.is_empty() {
            let sink = self.sink.as_mut().expect("flush only with a sink");
            let mut to_sink = SinkWriter(sink);
            let n = self
                .spill
                .drain_into(&mut to_sink)
                .map_err(|e| Error::io(&e, self.written))?;
            self.written += n;
        }
        if self.staging.is_empty() {
            return Ok(());
        }
        let sink = self.sink.as_mut().expect("flush only with a sink");
        sink.write_all(&self.staging)
            .map_err(|e| Error::io(&e, self.written))?;
        self.written += self.staging.len() as u64;
        self.staging.clear();
        self.staging_left();
        Ok(())
    }

    /// Staging was emptied into the spill file or the output: the members in it can no longer move.
    fn staging_left(&mut self) {
        let left = self.staging_base();
        if let Some(reorder) = self.reorder.as_mut() {
            reorder.flushed_to(left);
        }
    }

    /// Where `staging[0]` stands in the output stream (for the reorder's absolute positions).
    fn staging_base(&self) -> u64 {
        self.written + self.spill.len()
    }

    fn complete(&mut self) -> Result<()> {
        if self.value.is_some() || !self.frames.is_empty() {
            return Err(self.error(ErrorKind::TokenOrder));
        }
        let base = self.staging_base();
        if let Some(reorder) = self.reorder.as_mut() {
            reorder.close_level(&mut self.staging, base);
        }
        self.capture.finish();
        if self.meta.is_some() {
            self.write_meta()?;
        }
        self.flush_staging()?;
        self.finished = true;
        Ok(())
    }
}
