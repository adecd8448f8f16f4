//! A block too large to hold, decoded as its bytes arrive: the compressed bytes are fed in pieces,
//! decompressed a piece at a time into a small window, and each datum's JSON written as far as the
//! window goes ([`JsonDecoder::resume`]). Memory holds a piece of data and its JSON, whatever the
//! block's size or the size of one value in it.

use dcmflow_engine::json::format::Formatter;

use crate::binary::Cursor;
use crate::error::AvroError;
use crate::inflate::Inflater;
use crate::to_json::{DatumFault, JsonDecoder, Progress, Suspended};

/// Decompressed bytes decoded at a time.
pub const PIECE: usize = 1 << 18;

/// Where the data of a block go in the output: one per line, or as elements of one array.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Elements of one array (a separator before each but the first) rather than lines.
    pub array: bool,
    /// Data of the file before this block.
    pub first: u64,
}

impl Layout {
    /// Before datum `index` of the block.
    #[inline]
    pub fn before<F: Formatter>(&self, index: u64, format: &mut F, out: &mut Vec<u8>) {
        if self.array {
            format.begin_array_value(out, self.first + index == 0);
        }
    }

    /// After a datum.
    #[inline]
    pub fn after(&self, out: &mut Vec<u8>) {
        if !self.array {
            out.push(b'\n');
        }
    }
}

/// An error in datum `index` of a block (at `in_block` in its decompressed data).
pub fn datum_error(
    block_offset: u64,
    in_block: u64,
    layout: &Layout,
    index: u64,
    fault: DatumFault,
) -> AvroError {
    AvroError {
        offset: block_offset,
        in_block: Some(in_block + fault.ahead),
        path: fault.path,
        message: format!(
            "datum {} of the file (the block's {}): {}",
            layout.first + index + 1,
            index + 1,
            fault.message
        ),
    }
}

/// A block's count beyond what its bytes can hold: data of no bytes (a `null` schema, an empty
/// record) are few to a block, so a lying count is an error rather than endless output.
pub fn count_beyond_bytes(done: u64, bytes: u64) -> bool {
    done > bytes.saturating_add(1 << 16)
}

/// One streamed block: its count, where it starts, the decoding so far.
#[derive(Debug)]
pub struct StreamedBlock {
    /// Data in the block.
    pub count: u64,
    /// Where the block starts in the file.
    pub offset: u64,
    inflater: Inflater,
    /// Decompressed bytes not yet decoded (a datum's unfinished end).
    window: Vec<u8>,
    /// Offset in the block's decompressed data of `window[0]`.
    window_at: u64,
    /// Data written whole.
    done: u64,
    /// A datum begun and not finished, and its decoding.
    open: Option<Suspended>,
    /// The most held back between pieces (a map key cannot be written in parts).
    max_held: usize,
}

impl StreamedBlock {
    /// A block of `count` data starting at `offset`, decompressed by `inflater`; at most `max_held`
    /// bytes are held back for one key.
    pub fn new(count: u64, offset: u64, inflater: Inflater, max_held: usize) -> Self {
        StreamedBlock {
            count,
            offset,
            inflater,
            window: Vec::with_capacity(PIECE),
            window_at: 0,
            done: 0,
            open: None,
            max_held,
        }
    }

    /// Decompresses the block's next compressed bytes (a piece's worth at most) and decodes them,
    /// appending JSON to `out`; returns how many bytes of `raw` were used (call again with the rest).
    pub fn feed<F: Formatter>(
        &mut self,
        raw: &[u8],
        decoder: &mut JsonDecoder<'_>,
        format: &mut F,
        out: &mut Vec<u8>,
        layout: &Layout,
    ) -> Result<usize, AvroError> {
        let inflated = self.inflater.inflate(raw, &mut self.window, PIECE);
        // Errors come in the order of the data: what decompressed before damage is decoded first.
        self.decode(decoder, format, out, layout, false)?;
        inflated.map_err(|e| self.codec_error(e))
    }

    /// Every compressed byte has been fed: decodes the rest (a piece at a time — call until it
    /// returns true, taking `out` between calls) and checks the block ends where its data do.
    pub fn finish<F: Formatter>(
        &mut self,
        decoder: &mut JsonDecoder<'_>,
        format: &mut F,
        out: &mut Vec<u8>,
        layout: &Layout,
    ) -> Result<bool, AvroError> {
        let held = self.window.len();
        let inflated = self.inflater.inflate(&[], &mut self.window, PIECE);
        if let Err(e) = inflated {
            self.decode(decoder, format, out, layout, false)?;
            return Err(self.codec_error(e));
        }
        if self.window.len() > held {
            self.decode(decoder, format, out, layout, false)?;
            return Ok(false);
        }
        if !self.inflater.complete() {
            return Err(self.codec_error("the compressed data ends early".into()));
        }
        self.decode(decoder, format, out, layout, true)?;
        Ok(true)
    }

    /// Decodes what the window holds: data begun, finished, or stopped where the window ends.
    fn decode<F: Formatter>(
        &mut self,
        decoder: &mut JsonDecoder<'_>,
        format: &mut F,
        out: &mut Vec<u8>,
        layout: &Layout,
        last: bool,
    ) -> Result<(), AvroError> {
        let mut cursor = Cursor::new(&self.window);
        while self.done < self.count {
            match self.open.take() {
                Some(suspended) => decoder.restore(suspended),
                None => {
                    if cursor.remaining() == 0 && !last {
                        break;
                    }
                    if count_beyond_bytes(self.done, self.window_at + cursor.position() as u64) {
                        return Err(AvroError {
                            offset: self.offset,
                            in_block: Some(self.window_at + cursor.position() as u64),
                            path: String::new(),
                            message: "a block count beyond what the data can hold".into(),
                        });
                    }
                    layout.before(self.done, format, out);
                    decoder.begin();
                }
            }
            let progress = decoder
                .resume(&mut cursor, format, out, last)
                .map_err(|fault| {
                    datum_error(
                        self.offset,
                        self.window_at + cursor.position() as u64,
                        layout,
                        self.done,
                        fault,
                    )
                })?;
            match progress {
                Progress::Done => {
                    layout.after(out);
                    self.done += 1;
                }
                Progress::NeedInput => {
                    decoder.forget_before(cursor.data(), cursor.position());
                    self.open = Some(decoder.suspend());
                    break;
                }
            }
        }
        let used = cursor.position();
        self.window.drain(..used);
        self.window_at += used as u64;
        if self.done == self.count && !self.window.is_empty() {
            return Err(AvroError {
                offset: self.offset,
                in_block: Some(self.window_at),
                path: String::new(),
                message: format!(
                    "bytes left in a block after its {} data (its count or data is wrong)",
                    self.count
                ),
            });
        }
        if self.window.len() > self.max_held {
            return Err(AvroError {
                offset: self.offset,
                in_block: Some(self.window_at),
                path: String::new(),
                message: format!(
                    "a map key longer than {} bytes (max_block_size)",
                    self.max_held
                ),
            });
        }
        Ok(())
    }

    fn codec_error(&self, message: String) -> AvroError {
        AvroError {
            offset: self.offset,
            in_block: Some(self.window_at + self.window.len() as u64),
            path: String::new(),
            message: format!("the block's {} data: {message}", self.inflater.name()),
        }
    }
}
