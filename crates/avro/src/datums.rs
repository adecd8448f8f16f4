//! Data without a container: bare data one after another with a schema given, or single-object encoding
//! (specification.md, "Single-object encoding": `C3 01`, the schema's 8-byte little-endian CRC-64-AVRO
//! fingerprint, the datum) with a set of schemas to choose from by fingerprint. A datum's length is known
//! only once it is decoded, so it is decoded in pieces as the input is read (`JsonDecoder::resume`): its
//! JSON comes out a piece at a time ([`Step::Part`]), and a value of any length is never held whole.
//! What is held back between pieces is a few bytes, or a map key (at most `max_held`).

use std::io::Read;

use dcmflow_engine::json::format::Formatter;

use crate::binary::{is_truncation, Cursor};
use crate::canonical::{fingerprint64, parsing_canonical_form};
use crate::error::AvroError;
use crate::schema::Schema;
use crate::streamed::Layout;
use crate::to_json::{Encoding, JsonDecoder, Progress};

/// The marker of single-object encoding, version 1.
const SINGLE_OBJECT: [u8; 2] = [0xC3, 0x01];

/// Bytes read from the input at a time.
const READ_PIECE: usize = 1 << 16;

/// JSON appended before [`DatumReader::next_json`] returns a datum's part to be written.
const PART: usize = 1 << 18;

/// What [`DatumReader::next_json`] appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A datum's JSON up to its end.
    Done,
    /// Part of a datum's JSON (write it and call again: the rest follows).
    Part,
    /// Nothing: the input has ended.
    End,
    /// Nothing yet: pushed input has run out for now ([`PushedInput`]); push more and call again.
    Pending,
}

/// Input pushed in chunks, for a [`DatumReader`] fed by a network stack: reads what was pushed, then
/// `WouldBlock` until more comes or [`PushedInput::end`] is called.
#[derive(Debug, Default)]
pub struct PushedInput {
    bytes: std::collections::VecDeque<u8>,
    ended: bool,
}

impl PushedInput {
    /// More input.
    pub fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend(chunk);
    }

    /// No more input will come.
    pub fn end(&mut self) {
        self.ended = true;
    }
}

impl Read for PushedInput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.bytes.is_empty() && !self.ended {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        let (front, _) = self.bytes.as_slices();
        let n = front.len().min(buf.len());
        buf[..n].copy_from_slice(&front[..n]);
        self.bytes.drain(..n);
        Ok(n)
    }
}

/// What reading more input gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fill {
    More,
    End,
    /// Pushed input ran out for now.
    Pending,
}

/// The datum being decoded: its decoder, where it began, its bytes so far.
#[derive(Clone, Copy, Debug)]
struct Open {
    decoder: usize,
    at: u64,
    bytes: u64,
}

/// Reads data one after another and writes each as JSON.
pub struct DatumReader<'s, R: Read> {
    input: R,
    decoders: Vec<JsonDecoder<'s>>,
    fingerprints: Vec<u64>,
    window: Vec<u8>,
    start: usize,
    eof: bool,
    /// Bytes consumed before `window[0]`.
    base: u64,
    max_held: usize,
    /// Decided by the first datum: single-object encoding (`C3 01`) or bare data.
    single_object: Option<bool>,
    open: Option<Open>,
    /// Data begun so far.
    datums: u64,
}

impl<R: Read> std::fmt::Debug for DatumReader<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatumReader")
            .field("offset", &(self.base + self.start as u64))
            .finish()
    }
}

impl<'s, R: Read> DatumReader<'s, R> {
    /// Data of `schemas` from `input` (bare data: of the first schema; single-object encoding: of the
    /// schema whose fingerprint the datum names); at most `max_held` bytes are held back (a map key).
    pub fn new(input: R, schemas: &'s [Schema], encoding: Encoding, max_held: usize) -> Self {
        DatumReader {
            input,
            decoders: schemas
                .iter()
                .map(|s| JsonDecoder::new(s, encoding))
                .collect(),
            fingerprints: schemas
                .iter()
                .map(|s| fingerprint64(parsing_canonical_form(s).as_bytes()))
                .collect(),
            window: Vec::new(),
            start: 0,
            eof: false,
            base: 0,
            max_held,
            single_object: None,
            open: None,
            datums: 0,
        }
    }

    /// The input, to push more to (see [`PushedInput`]).
    pub fn input_mut(&mut self) -> &mut R {
        &mut self.input
    }

    /// Appends the next datum's JSON to `out` — all of it ([`Step::Done`]) or, for a long datum, the
    /// part the input read so far completes ([`Step::Part`]; call again for the rest) — or nothing at
    /// the end of the input ([`Step::End`]) or while pushed input is awaited ([`Step::Pending`]). With
    /// `array`, the data are elements of one array (a separator before each but the first); else each
    /// ends with a newline.
    pub fn next_json<F: Formatter>(
        &mut self,
        format: &mut F,
        out: &mut Vec<u8>,
        array: bool,
    ) -> Result<Step, AvroError> {
        let layout = Layout { array, first: 0 };
        let mut open = match self.open {
            Some(open) => open,
            None => match self.begin()? {
                Ok(open) => {
                    layout.before(self.datums, format, out);
                    self.datums += 1;
                    open
                }
                Err(step) => return Ok(step),
            },
        };
        let mark = out.len();
        loop {
            let decoder = &mut self.decoders[open.decoder];
            let piece = &self.window[self.start..];
            let mut cursor = Cursor::new(piece);
            let result = decoder.resume(&mut cursor, format, out, self.eof);
            let used = cursor.position();
            let offset = self.base + (self.start + used) as u64;
            let progress = match result {
                Ok(progress) => progress,
                Err(fault) if is_truncation(fault.message) => {
                    return Err(AvroError::new(open.at, "the input ends inside a datum"))
                }
                Err(fault) => {
                    return Err(AvroError {
                        offset: offset + fault.ahead,
                        in_block: None,
                        path: fault.path,
                        message: fault.message.to_string(),
                    })
                }
            };
            if progress == Progress::NeedInput {
                decoder.forget_before(piece, used);
            }
            self.start += used;
            open.bytes += used as u64;
            if progress == Progress::Done {
                self.open = None;
                if open.bytes == 0 {
                    return Err(AvroError::new(
                        open.at,
                        "a datum of no bytes (the schema's type takes none): a stream of them has no end",
                    ));
                }
                layout.after(out);
                return Ok(Step::Done);
            }
            self.open = Some(open);
            if out.len() - mark >= PART {
                return Ok(Step::Part);
            }
            // More input; at its end the datum is decoded once more as the last piece (an error).
            if self.fill()? == Fill::Pending {
                return Ok(if out.len() > mark {
                    Step::Part
                } else {
                    Step::Pending
                });
            }
            if self.window.len() - self.start > self.max_held {
                return Err(AvroError::new(
                    self.base + self.start as u64,
                    format!(
                        "a map key longer than {} bytes (max_block_size)",
                        self.max_held
                    ),
                ));
            }
        }
    }

    /// Starts the next datum: its single-object header read and its schema found; else the step to
    /// return (the input's end, or pushed input awaited).
    fn begin(&mut self) -> Result<Result<Open, Step>, AvroError> {
        loop {
            let at = self.base + self.start as u64;
            let held = self.window.len() - self.start;
            // Bare data or single-object encoding is decided by the first two bytes; a single-object
            // header takes ten.
            let wanted = match self.single_object {
                None => 2,
                Some(true) => 10,
                Some(false) => 1,
            };
            if held < wanted {
                match self.fill()? {
                    Fill::More => continue,
                    Fill::Pending => return Ok(Err(Step::Pending)),
                    Fill::End if held == 0 => return Ok(Err(Step::End)),
                    Fill::End => {}
                }
            }
            let bytes = &self.window[self.start..];
            let Some(single) = self.single_object else {
                self.single_object = Some(bytes.len() >= 2 && bytes[..2] == SINGLE_OBJECT);
                continue;
            };
            if !single {
                self.decoders[0].begin();
                let open = Open {
                    decoder: 0,
                    at,
                    bytes: 0,
                };
                self.open = Some(open);
                return Ok(Ok(open));
            }
            if bytes.len() < 10 {
                return Err(AvroError::new(
                    at,
                    "the input ends inside a single-object header",
                ));
            }
            if bytes[..2] != SINGLE_OBJECT {
                return Err(AvroError::new(
                    at,
                    "a datum without the single-object marker C3 01",
                ));
            }
            let fingerprint = u64::from_le_bytes(bytes[2..10].try_into().expect("8 bytes"));
            let index = self
                .fingerprints
                .iter()
                .position(|&f| f == fingerprint)
                .ok_or_else(|| {
                    AvroError::new(at + 2, format!(
                        "a datum written with the schema of fingerprint {} (0x{fingerprint:016x}), which none of the schemas given has",
                        fingerprint as i64
                    ))
                })?;
            self.start += 10;
            self.decoders[index].begin();
            let open = Open {
                decoder: index,
                at,
                bytes: 10,
            };
            self.open = Some(open);
            return Ok(Ok(open));
        }
    }

    /// Reads more input after the bytes not yet decoded.
    fn fill(&mut self) -> Result<Fill, AvroError> {
        if self.eof {
            return Ok(Fill::End);
        }
        if self.start > 0 {
            self.window.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        let held = self.window.len();
        let read = (&mut self.input)
            .take(READ_PIECE as u64)
            .read_to_end(&mut self.window);
        let got = self.window.len() - held;
        match read {
            Ok(0) => {
                self.eof = true;
                Ok(Fill::End)
            }
            Ok(_) => Ok(Fill::More),
            // Pushed input: what had come is kept.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                Ok(if got > 0 { Fill::More } else { Fill::Pending })
            }
            Err(e) => Err(AvroError::new(
                self.base + held as u64,
                format!("reading: {e}"),
            )),
        }
    }
}
