//! Binary values arriving as InlineBinary text or from a BulkDataURI, handed out in bounded chunks.
//!
//! A DICOM value's length precedes its bytes, so the decoded length must be known before the first chunk:
//! - InlineBinary text measured without consuming it (in the buffer, or ahead with `ReadAt` from a file):
//!   decoded straight from the lexer's buffer, piece by piece, with a 0–3 character carry;
//! - text that cannot be measured (a pipe, an escape): decoded once into a spool — memory up to a limit,
//!   then an anonymous temporary file — and read back;
//! - or, when the consumer can patch the length into its output afterwards (a seekable file), not measured
//!   at all: decoded in one pass, its length known only with the last chunk ([`BinaryValue::length`]
//!   is `None`);
//! - bulk data: a reader and a length from the resolver.

use std::io::{self, Read, Seek, Write};

use dcmflow_simd::{append_decoded, decoded_len};

use super::error::{Problem, ReadErrorKind};
use super::lexer::{Lexer, Measured};

/// Base64 text taken from the lexer per step (4/3 of the decoded chunk).
const TEXT_PIECE: usize = 1 << 20;
/// Unmeasured base64 windows at least this long are decoded before the quote is looked for.
const OPTIMISTIC_AT: usize = 4096;

pub(crate) enum BinarySource<'a> {
    /// Base64 text still in the input: `remaining` characters before the closing quote.
    Text { remaining: u64 },
    /// Base64 text still in the input, of unknown length: read up to the closing quote.
    Unmeasured { decoded: u64, ended: bool },
    /// Decoded bytes from a spool or a bulk data reader.
    Reader {
        reader: Box<dyn Read + Send + 'a>,
        remaining: u64,
    },
}

/// What an InlineBinary string at the lexer's position becomes.
pub(crate) enum Inline<'a> {
    /// A value to hand out.
    Value(BinaryValue<'a>),
    /// A string that could not be measured: spooled first, step by step.
    Spool(Spool),
}

/// An InlineBinary string decoded whole into memory (up to `hold`) or an anonymous temporary file, then
/// read back: for text that cannot be measured (a pipe, an escape, pushed input). One piece per
/// [`Spool::step`], each read from the lexer before anything changes, so that a step can be retried.
pub(crate) struct Spool {
    hold: usize,
    /// Base64 characters not yet decoded (fewer than 4 after each step).
    text: Vec<u8>,
    decoded: Vec<u8>,
    file: Option<io::BufWriter<std::fs::File>>,
    total: u64,
    decoder: PieceDecoder,
    /// A `\` stopped the last piece: the escape is taken by the next step.
    escape: bool,
}

impl Spool {
    fn new(hold: usize) -> Spool {
        Spool {
            hold,
            text: Vec::new(),
            decoded: Vec::new(),
            file: None,
            total: 0,
            decoder: PieceDecoder::default(),
            escape: false,
        }
    }

    /// Spools the next piece of the string; the value once its closing quote has been read.
    pub fn step<'a>(&mut self, lex: &mut Lexer<'_>) -> Result<Option<BinaryValue<'a>>, Problem> {
        let mut ended = false;
        if std::mem::take(&mut self.escape) {
            // Only "\/" can stand for a base64 character (some writers escape '/').
            if lex.take_escape()? != '/' {
                return Err(base64_problem());
            }
            self.text.push(b'/');
        } else {
            let (piece, stop) = lex.take_until_quote(TEXT_PIECE)?;
            self.text.extend_from_slice(piece);
            match stop {
                Some(b'"') => ended = true,
                Some(_) => self.escape = true,
                None => {}
            }
        }
        let whole = if ended {
            self.text.len()
        } else {
            self.text.len() / 4 * 4
        };
        if ended && whole % 4 != 0 {
            return Err(base64_problem());
        }
        self.decoder
            .decode(&self.text[..whole], &mut self.decoded)?;
        self.text.drain(..whole);
        if self.file.is_none() && self.decoded.len() > self.hold {
            let spill = tempfile::tempfile().map_err(|e| io_problem(&e))?;
            self.file = Some(io::BufWriter::with_capacity(1 << 20, spill));
        }
        if let Some(f) = self.file.as_mut() {
            f.write_all(&self.decoded).map_err(|e| io_problem(&e))?;
            self.total += self.decoded.len() as u64;
            self.decoded.clear();
        }
        if !ended {
            return Ok(None);
        }
        let value = match self.file.take() {
            Some(f) => {
                let mut f = f.into_inner().map_err(|e| io_problem(e.error()))?;
                f.rewind().map_err(|e| io_problem(&e))?;
                let reader: Box<dyn Read + Send + 'a> =
                    Box::new(io::BufReader::with_capacity(1 << 20, f));
                BinaryValue::from_reader(reader, self.total)
            }
            None => {
                let decoded = std::mem::take(&mut self.decoded);
                let n = decoded.len() as u64;
                BinaryValue::from_reader(Box::new(io::Cursor::new(decoded)), n)
            }
        };
        Ok(Some(value))
    }
}

/// A binary value being handed out.
pub(crate) struct BinaryValue<'a> {
    pub source: BinarySource<'a>,
    /// Decoded bytes still to hand out, the pad byte included.
    pub remaining: u64,
    /// Append one zero byte (PS3.5 7.1.1: value lengths are even).
    pub pad: bool,
    carry: [u8; 4],
    carry_len: usize,
    decoder: PieceDecoder,
}

/// Base64 decoded piece by piece. RFC 4648 §3.2: padding ends the data, so a piece that ends in `=` must
/// be the string's last; text after it is an error on every path, whatever the pieces' boundaries.
#[derive(Default)]
struct PieceDecoder {
    padded: bool,
}

impl PieceDecoder {
    fn decode(&mut self, text: &[u8], out: &mut Vec<u8>) -> Result<(), Problem> {
        if !self.try_decode(text, out) {
            return Err(base64_problem());
        }
        Ok(())
    }

    /// [`Self::decode`] that only says whether it decoded (`out` unchanged when not).
    fn try_decode(&mut self, text: &[u8], out: &mut Vec<u8>) -> bool {
        if text.is_empty() {
            return true;
        }
        if self.padded || append_decoded(text, out).is_err() {
            return false;
        }
        self.padded = text.last() == Some(&b'=');
        true
    }
}

impl std::fmt::Debug for BinaryValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinaryValue")
            .field("remaining", &self.remaining)
            .finish()
    }
}

fn base64_problem() -> Problem {
    Problem::value("InlineBinary is not padded base64 (RFC 4648 §4, PS3.18 F.2.7)").at_value_start()
}

fn io_problem(e: &io::Error) -> Problem {
    Problem::new(ReadErrorKind::Io(e.kind()), e.to_string())
}

impl<'a> BinaryValue<'a> {
    /// The InlineBinary string at the lexer's position: measured, or spooled when it cannot be — or,
    /// with `unmeasured`, streamed without its length when it is not in the buffer.
    pub fn inline(
        lex: &mut Lexer<'_>,
        hold: usize,
        unmeasured: bool,
    ) -> Result<Inline<'a>, Problem> {
        let value = match lex.measure_string(hold, !unmeasured)? {
            Measured::Plain { len, tail } => {
                let decoded = decoded_len(len, tail).ok_or_else(base64_problem)?;
                if len == 0 {
                    lex.expect(b'"', "the end of InlineBinary")?;
                }
                BinaryValue::new(BinarySource::Text { remaining: len }, decoded)
            }
            Measured::Unknown if unmeasured => BinaryValue::new(
                BinarySource::Unmeasured {
                    decoded: 0,
                    ended: false,
                },
                0,
            ),
            Measured::Unknown => return Ok(Inline::Spool(Spool::new(hold))),
        };
        Ok(Inline::Value(value))
    }

    /// From a reader that yields exactly `length` bytes.
    pub fn from_reader(reader: Box<dyn Read + Send + 'a>, length: u64) -> BinaryValue<'a> {
        BinaryValue::new(
            BinarySource::Reader {
                reader,
                remaining: length,
            },
            length,
        )
    }

    fn new(source: BinarySource<'a>, decoded: u64) -> BinaryValue<'a> {
        BinaryValue {
            source,
            remaining: decoded + decoded % 2,
            pad: decoded % 2 == 1,
            carry: [0; 4],
            carry_len: 0,
            decoder: PieceDecoder::default(),
        }
    }

    /// The value's length as written (even); `None` until an unmeasured value has ended.
    pub fn length(&self) -> Option<u64> {
        match self.source {
            BinarySource::Unmeasured { .. } => None,
            _ => Some(self.remaining),
        }
    }

    /// The decoded length of an unmeasured value so far (its data length once it has ended).
    pub fn unmeasured_total(&self) -> Option<u64> {
        match self.source {
            BinarySource::Unmeasured { decoded, .. } => Some(decoded),
            _ => None,
        }
    }

    /// Every byte has been handed out.
    pub fn is_done(&self) -> bool {
        match self.source {
            BinarySource::Unmeasured { ended, .. } => ended && self.remaining == 0,
            _ => self.remaining == 0,
        }
    }

    /// Replaces `out` with the next at most `chunk` decoded bytes (≥ 1 unless the value is empty).
    pub fn next_chunk(
        &mut self,
        lex: &mut Lexer<'_>,
        out: &mut Vec<u8>,
        chunk: usize,
    ) -> Result<(), Problem> {
        out.clear();
        if let BinarySource::Unmeasured { .. } = self.source {
            return self.next_unmeasured_chunk(lex, out, chunk);
        }
        let data_left = self.remaining - u64::from(self.pad);
        if data_left > 0 {
            match &mut self.source {
                BinarySource::Text { remaining } => {
                    let want_text = (chunk / 3 * 4).max(4) as u64;
                    let mut taken = 0u64;
                    while taken < want_text && *remaining > 0 {
                        let take = (*remaining).min(want_text - taken);
                        let mut piece = lex.take_content(take as usize)?;
                        *remaining -= piece.len() as u64;
                        taken += piece.len() as u64;
                        if self.carry_len > 0 {
                            let n = (4 - self.carry_len).min(piece.len());
                            self.carry[self.carry_len..self.carry_len + n]
                                .copy_from_slice(&piece[..n]);
                            self.carry_len += n;
                            piece = &piece[n..];
                            if self.carry_len < 4 {
                                continue;
                            }
                            self.decoder.decode(&self.carry, out)?;
                            self.carry_len = 0;
                        }
                        let whole = piece.len() / 4 * 4;
                        self.decoder.decode(&piece[..whole], out)?;
                        let rest = &piece[whole..];
                        self.carry[..rest.len()].copy_from_slice(rest);
                        self.carry_len = rest.len();
                        let back = rest.len();
                        lex.line_free_before(whole, back);
                    }
                    if *remaining == 0 {
                        lex.expect(b'"', "the end of InlineBinary")?;
                    }
                }
                BinarySource::Unmeasured { .. } => unreachable!("handled above"),
                BinarySource::Reader { reader, remaining } => {
                    let n = (*remaining).min(chunk as u64) as usize;
                    out.resize(n, 0);
                    reader.read_exact(out).map_err(|e| {
                        Problem::new(ReadErrorKind::BulkData, format!("bulk data: {e}"))
                    })?;
                    *remaining -= n as u64;
                }
            }
        }
        if out.len() as u64 > data_left {
            // Only a malformed text can decode to more than its padding announced.
            return Err(base64_problem());
        }
        self.remaining -= out.len() as u64;
        if self.remaining == u64::from(self.pad) && self.pad {
            out.push(0);
            self.remaining = 0;
            self.pad = false;
        }
        Ok(())
    }

    /// An unmeasured value: base64 pieces up to the closing quote, with the 0–3 character carry; the
    /// zero pad byte (odd total) goes out with the last chunk.
    fn next_unmeasured_chunk(
        &mut self,
        lex: &mut Lexer<'_>,
        out: &mut Vec<u8>,
        chunk: usize,
    ) -> Result<(), Problem> {
        let BinarySource::Unmeasured { decoded, ended } = &mut self.source else {
            unreachable!("called for unmeasured values only");
        };
        let want_text = (chunk / 3 * 4).max(4);
        let mut taken = 0usize;
        while !*ended && taken < want_text {
            if self.carry_len == 0 {
                // Decode first, look for the quote only when the decoder refuses: one pass over the
                // text instead of two (the quote search was 5% of a large InlineBinary conversion).
                let window = lex.peek_content(want_text - taken)?;
                let whole = window.len() / 4 * 4;
                if whole >= OPTIMISTIC_AT && self.decoder.try_decode(&window[..whole], out) {
                    lex.consume_line_free(whole);
                    taken += whole;
                    continue;
                }
            }
            let (text, stop) = lex.take_until_quote(want_text - taken)?;
            taken += text.len();
            let escaped;
            let mut piece = if stop == Some(b'\\') {
                let mut owned = text.to_vec();
                // Only "\/" can stand for a base64 character (some writers escape '/').
                if lex.take_escape()? != '/' {
                    return Err(base64_problem());
                }
                owned.push(b'/');
                taken += 2;
                escaped = owned;
                &escaped[..]
            } else {
                text
            };
            *ended = stop == Some(b'"');
            if self.carry_len > 0 {
                let n = (4 - self.carry_len).min(piece.len());
                self.carry[self.carry_len..self.carry_len + n].copy_from_slice(&piece[..n]);
                self.carry_len += n;
                piece = &piece[n..];
                if self.carry_len == 4 {
                    self.decoder.decode(&self.carry, out)?;
                    self.carry_len = 0;
                }
            }
            let whole = piece.len() / 4 * 4;
            self.decoder.decode(&piece[..whole], out)?;
            let rest = &piece[whole..];
            self.carry[self.carry_len..self.carry_len + rest.len()].copy_from_slice(rest);
            self.carry_len += rest.len();
        }
        *decoded += out.len() as u64;
        if *decoded >= u64::from(u32::MAX) - 1 {
            return Err(Problem::new(
                ReadErrorKind::Limit,
                "binary value of 4 GiB or more",
            ));
        }
        if *ended {
            if self.carry_len != 0 {
                return Err(base64_problem());
            }
            // PS3.5 7.1.1: even length.
            self.pad = *decoded % 2 == 1;
            if self.pad {
                out.push(0);
            }
            self.remaining = 0;
        }
        Ok(())
    }
}
