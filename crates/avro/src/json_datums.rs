//! A stream of JSON values → data of one schema: values one after another (NDJSON, or any whitespace
//! between them, as avro-tools' `fromjson` reads) or the elements of one top-level array.

use std::io::Read;

use dcmflow_engine::json::lexer::{LexErrorKind, Lexer};

use crate::from_json::{EncodeFault, JsonEncoder};
use crate::schema::{Schema, SchemaError};
use crate::to_json::Encoding;

/// What kind of problem a [`JsonInputError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonInputErrorKind {
    /// The input is not JSON (RFC 8259).
    Syntax,
    /// Valid JSON that is not a value of the schema.
    Schema,
    /// A limit was passed (value size, nesting depth).
    Limit,
    /// The input could not be read.
    Io,
    /// Pushed input (see [`JsonDatumReader::pushed`]) ran out inside a datum: push more, then ask again.
    NeedInput,
}

/// An error reading JSON into Avro: where (line, column, byte offset, datum, path) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonInputError {
    /// What kind of problem.
    pub kind: JsonInputErrorKind,
    /// 1-based line of the problem.
    pub line: u64,
    /// 1-based column (in bytes).
    pub column: u64,
    /// Byte offset in the input.
    pub offset: u64,
    /// The datum's index, from 0 (messages count from 1).
    pub datum: u64,
    /// Fields, indices and map keys down to the value (`calls[3].genotype`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for JsonInputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {} (byte {}), datum {}",
            self.line,
            self.column,
            self.offset,
            self.datum + 1
        )?;
        if !self.path.is_empty() {
            write!(f, " ({})", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for JsonInputError {}

/// Options of [`JsonDatumReader`].
#[derive(Clone, Copy, Debug)]
pub struct JsonDatumOptions {
    /// Which JSON encoding the input is in.
    pub encoding: Encoding,
    /// The data are the elements of one top-level array (else values one after another).
    pub array: bool,
    /// Largest token (a string) held whole, in bytes.
    pub max_buffer: usize,
    /// Largest datum encoded, in bytes.
    pub max_datum_size: usize,
    /// Deepest nesting of arrays, maps, records and union wrappers.
    pub max_depth: usize,
}

impl Default for JsonDatumOptions {
    fn default() -> Self {
        JsonDatumOptions {
            encoding: Encoding::Avro,
            array: false,
            max_buffer: 64 << 20,
            max_datum_size: 64 << 20,
            max_depth: crate::from_json::DEFAULT_MAX_DEPTH,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Start,
    InArray,
    Done,
}

/// Reads JSON values and encodes each as a datum of the schema.
pub struct JsonDatumReader<'s, 'a> {
    lexer: Lexer<'a>,
    encoder: JsonEncoder<'s>,
    options: JsonDatumOptions,
    place: Place,
    datums: u64,
    /// Pushed input: a datum that ran out is read again only once this many bytes are ahead (twice
    /// what it ran out with), so a datum pushed in small pieces is not re-read per piece.
    retry_when_pushed: u64,
}

impl std::fmt::Debug for JsonDatumReader<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonDatumReader")
            .field("datums", &self.datums)
            .finish()
    }
}

impl<'s> JsonDatumReader<'s, 'static> {
    /// Over JSON the caller pushes ([`JsonDatumReader::push`], [`JsonDatumReader::end_input`]); a
    /// datum's JSON stays buffered until it is complete (at most `max_buffer` bytes).
    pub fn pushed(schema: &'s Schema, options: JsonDatumOptions) -> Result<Self, SchemaError> {
        Self::with_lexer(Lexer::pushed(options.max_buffer), schema, options)
    }
}

impl<'s, 'a> JsonDatumReader<'s, 'a> {
    /// Appends a pushed chunk.
    pub fn push(&mut self, chunk: bytes::Bytes) {
        self.lexer.push(chunk);
    }

    /// No more chunks will be pushed.
    pub fn end_input(&mut self) {
        self.lexer.end_input();
    }

    /// Over JSON held in memory.
    pub fn from_slice(
        json: &'a [u8],
        schema: &'s Schema,
        options: JsonDatumOptions,
    ) -> Result<Self, SchemaError> {
        Self::with_lexer(Lexer::from_slice(json, options.max_buffer), schema, options)
    }

    /// Over JSON read from `input` in chunks.
    pub fn from_reader(
        input: impl Read + Send + 'a,
        schema: &'s Schema,
        options: JsonDatumOptions,
    ) -> Result<Self, SchemaError> {
        let lexer = Lexer::new(Box::new(input), None, options.max_buffer);
        Self::with_lexer(lexer, schema, options)
    }

    fn with_lexer(
        lexer: Lexer<'a>,
        schema: &'s Schema,
        options: JsonDatumOptions,
    ) -> Result<Self, SchemaError> {
        Ok(JsonDatumReader {
            lexer,
            encoder: JsonEncoder::new(schema, options.encoding)?
                .with_max_depth(options.max_depth)
                .with_max_size(options.max_datum_size),
            options,
            place: Place::Start,
            datums: 0,
            retry_when_pushed: 0,
        })
    }

    /// Data read so far.
    pub fn datums(&self) -> u64 {
        self.datums
    }

    /// Bytes of JSON consumed so far.
    pub fn offset(&self) -> u64 {
        self.lexer.offset()
    }

    /// Appends the next datum's binary encoding to `out`: false at the end of the input. After an error
    /// `out` is as it was. Over pushed input, an error of kind
    /// [`JsonInputErrorKind::NeedInput`] until the datum's JSON has been pushed whole.
    pub fn next_datum(&mut self, out: &mut Vec<u8>) -> Result<bool, JsonInputError> {
        let need_input = || EncodeFault {
            lex: Some(LexErrorKind::NeedInput),
            message: "the pushed input runs out inside this datum".into(),
        };
        if self.lexer.is_pushed()
            && !self.lexer.input_ended()
            && self.lexer.pushed_ahead() < self.retry_when_pushed
        {
            return Err(self.error(need_input(), String::new()));
        }
        let (start, place) = (out.len(), self.place);
        self.lexer.mark();
        match self.step(out) {
            Ok(more) => {
                self.retry_when_pushed = 0;
                Ok(more)
            }
            Err(fault) if fault.lex == Some(LexErrorKind::NeedInput) => {
                // Undone whole: read again from the datum's start once more has been pushed.
                self.lexer.rewind();
                self.place = place;
                out.truncate(start);
                self.retry_when_pushed = self.lexer.pushed_ahead().saturating_mul(2).max(1);
                Err(self.error(need_input(), String::new()))
            }
            Err(fault) => {
                let path = self.encoder.path(out);
                out.truncate(start);
                Err(self.error(fault, path))
            }
        }
    }

    fn step(&mut self, out: &mut Vec<u8>) -> Result<bool, EncodeFault> {
        let more = match self.place {
            Place::Done => false,
            Place::Start if self.options.array => {
                match self.lexer.peek()? {
                    Some(b'[') => self.lexer.bump(),
                    _ => {
                        return Err(EncodeFault {
                            lex: Some(LexErrorKind::Syntax),
                            message: "expected '[' (the data are one JSON array)".into(),
                        })
                    }
                }
                self.place = Place::InArray;
                self.lexer.array_has_first()?
            }
            Place::InArray => self.lexer.array_has_next()?,
            Place::Start => self.lexer.peek()?.is_some(),
        };
        if !more {
            if self.place == Place::InArray {
                self.place = Place::Done;
                if let Some(b) = self.lexer.peek()? {
                    return Err(EncodeFault {
                        lex: Some(LexErrorKind::Syntax),
                        message: format!(
                            "'{}' after the array of data (it must be the only value)",
                            b.escape_ascii()
                        ),
                    });
                }
            }
            return Ok(false);
        }
        self.encoder.encode(&mut self.lexer, out)?;
        self.datums += 1;
        Ok(true)
    }

    fn error(&mut self, fault: EncodeFault, path: String) -> JsonInputError {
        let (line, column) = self.lexer.line_column();
        JsonInputError {
            kind: match fault.lex {
                None => JsonInputErrorKind::Schema,
                Some(LexErrorKind::Syntax) => JsonInputErrorKind::Syntax,
                Some(LexErrorKind::NeedInput) => JsonInputErrorKind::NeedInput,
                Some(LexErrorKind::Limit) => JsonInputErrorKind::Limit,
                Some(LexErrorKind::Io(_)) => JsonInputErrorKind::Io,
            },
            line,
            column,
            offset: self.lexer.offset(),
            datum: self.datums,
            path,
            // The lexer names its `lenient` option, which this reader does not have: RFC 8259 is the rule.
            message: fault
                .message
                .replace("; accepted with option `lenient`", ""),
        }
    }
}
