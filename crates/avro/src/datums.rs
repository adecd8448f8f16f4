//! Data without a container: bare data one after another with a schema given, or single-object encoding
//! (specification.md, "Single-object encoding": `C3 01`, the schema's 8-byte little-endian CRC-64-AVRO
//! fingerprint, the datum) with a set of schemas to choose from by fingerprint. A datum's length is known
//! only once it is decoded, so the input is read into a window that grows (up to `max_datum_size`) until
//! the datum decodes whole.

use std::io::Read;

use dcmflow_engine::json::format::Formatter;

use crate::binary::{is_truncation, Cursor};
use crate::canonical::{fingerprint64, parsing_canonical_form};
use crate::error::AvroError;
use crate::schema::Schema;
use crate::to_json::{Encoding, JsonDecoder};

/// The marker of single-object encoding, version 1.
const SINGLE_OBJECT: [u8; 2] = [0xC3, 0x01];

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
    max_datum_size: usize,
    /// Decided by the first datum: single-object encoding (`C3 01`) or bare data.
    single_object: Option<bool>,
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
    /// schema whose fingerprint the datum names).
    pub fn new(input: R, schemas: &'s [Schema], encoding: Encoding, max_datum_size: usize) -> Self {
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
            max_datum_size,
            single_object: None,
        }
    }

    /// Whether the input has ended (no byte of another datum is left).
    pub fn at_end(&mut self) -> Result<bool, AvroError> {
        Ok(self.start == self.window.len() && !self.fill()?)
    }

    /// The next datum's JSON appended to `out`; false at the end of the input.
    pub fn next_json<F: Formatter>(
        &mut self,
        format: &mut F,
        out: &mut Vec<u8>,
    ) -> Result<bool, AvroError> {
        if self.start == self.window.len() && !self.fill()? {
            return Ok(false);
        }
        let mark = out.len();
        loop {
            let at = self.base + self.start as u64;
            let bytes = &self.window[self.start..];
            let single = *self
                .single_object
                .get_or_insert(bytes.len() >= 2 && bytes[..2] == SINGLE_OBJECT);
            let (decoder, header) = if single {
                if bytes.len() < 10 {
                    if self.fill()? {
                        continue;
                    }
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
                (&mut self.decoders[index], 10)
            } else {
                (&mut self.decoders[0], 0)
            };
            let mut cursor = Cursor::new(&bytes[header..]);
            match decoder.decode(&mut cursor, format, out) {
                Ok(()) if header + cursor.position() == 0 => {
                    return Err(AvroError::new(
                        at,
                        "a datum of no bytes (the schema's type takes none): a stream of them has no end",
                    ))
                }
                Ok(()) => {
                    self.start += header + cursor.position();
                    return Ok(true);
                }
                Err(fault) if is_truncation(fault.message) => {
                    out.truncate(mark);
                    if !self.fill()? {
                        return Err(AvroError::new(at, "the input ends inside a datum"));
                    }
                }
                Err(fault) => {
                    return Err(AvroError {
                        offset: at + (header + cursor.position()) as u64 + fault.ahead,
                        in_block: None,
                        path: fault.path,
                        message: fault.message.to_string(),
                    })
                }
            }
        }
    }

    /// Reads more input into the window (keeping the datum being read); false at the end of input.
    fn fill(&mut self) -> Result<bool, AvroError> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.window.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        let held = self.window.len();
        if held >= self.max_datum_size {
            return Err(AvroError::new(
                self.base,
                format!(
                    "a datum longer than {} bytes (max_datum_size)",
                    self.max_datum_size
                ),
            ));
        }
        // Twice what is held, at least 64 KiB, at most up to the limit.
        let want = (held.max(1 << 16)).min(self.max_datum_size - held);
        let got = (&mut self.input)
            .take(want as u64)
            .read_to_end(&mut self.window)
            .map_err(|e| AvroError::new(self.base + held as u64, format!("reading: {e}")))?;
        if got == 0 {
            self.eof = true;
            return Ok(false);
        }
        Ok(true)
    }
}
