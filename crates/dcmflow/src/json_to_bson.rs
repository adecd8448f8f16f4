//! MongoDB Extended JSON → BSON.

use std::io::Write;

use dcmflow_bson::{ErrorKind, ExtJsonOptions, ExtJsonReader};
use dcmflow_engine::Position;

use crate::bson_to_json::codec_error;
use crate::io::{Input, Source};
use crate::{Category, Error, Report};

/// How Extended JSON becomes BSON.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct JsonToBsonOptions {
    /// How the JSON is read: legacy forms accepted or not (not, by default), nesting depth, the
    /// largest document (16 MiB).
    pub reader: ExtJsonOptions,
}

/// Extended JSON → BSON: each top-level object (one after another, as NDJSON or any whitespace
/// separates them, or the elements of one top-level array) becomes one BSON document, written one after
/// another as mongodump writes them. Memory holds one document (at most `max_document_size`).
///
/// ```
/// use dcmflow::{JsonToBson, JsonToBsonOptions};
/// let json = br#"{"n": 1, "x": 1.5}
/// {"when": {"$date": "2024-01-02T03:04:05Z"}}"#;
/// let mut bson = Vec::new();
/// let report = JsonToBson::new(JsonToBsonOptions::default()).convert(&json[..], &mut bson)?;
/// assert_eq!(report.documents, 2);
/// assert_eq!(&bson[..23], b"\x17\x00\x00\x00\x10n\x00\x01\x00\x00\x00\x01x\x00\x00\x00\x00\x00\x00\x00\xF8\x3F\x00");
/// # Ok::<(), dcmflow::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct JsonToBson {
    options: JsonToBsonOptions,
}

impl JsonToBson {
    /// A conversion with these options.
    pub fn new(options: JsonToBsonOptions) -> JsonToBson {
        JsonToBson { options }
    }

    /// Converts every document of `input` into `output`.
    pub fn convert<'i, 'o>(
        &self,
        input: impl Into<Input<'i>>,
        output: impl Into<crate::Output<'o>>,
    ) -> Result<Report, Error> {
        let input = input.into();
        let options = self.options.reader.clone();
        let reader = match input.source {
            Source::Slice(bytes) => ExtJsonReader::from_slice(bytes, options),
            Source::File(file) => ExtJsonReader::from_reader(file, options),
            Source::Reader(reader) => ExtJsonReader::from_reader(reader, options),
        };
        let out = output.into().into_write();
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        let mut conversion = Documents::new(reader);
        conversion.write_ready(&mut out)?;
        out.flush().map_err(writing_error)?;
        Ok(conversion.report())
    }

    /// A conversion fed pushed chunks instead of reading: each [`PushJsonToBson::push`] writes the
    /// documents the bytes complete, with the same output and errors as [`JsonToBson::convert`] at any
    /// chunking. A document's JSON text stays buffered until it is complete (at most
    /// `ExtJsonOptions::max_buffer` bytes).
    ///
    /// ```
    /// use dcmflow::{JsonToBson, JsonToBsonOptions};
    /// let json = br#"{"n": 7}"#;
    /// let mut conversion = JsonToBson::new(JsonToBsonOptions::default()).push(Vec::new());
    /// for piece in json.chunks(3) {
    ///     conversion.push(bytes::Bytes::copy_from_slice(piece))?;
    /// }
    /// let (bson, report) = conversion.finish()?;
    /// assert_eq!(bson, b"\x0C\x00\x00\x00\x10n\x00\x07\x00\x00\x00\x00");
    /// assert_eq!(report.documents, 1);
    /// # Ok::<(), dcmflow::Error>(())
    /// ```
    pub fn push<W: Write>(&self, output: W) -> PushJsonToBson<W> {
        let mut options = self.options.reader.clone();
        // A pushed step is a whole document: its text must fit the lexer's window.
        options.max_buffer = options
            .max_buffer
            .max(options.max_document_size.saturating_mul(2));
        PushJsonToBson {
            documents: Documents::new(ExtJsonReader::pushed(options)),
            output,
        }
    }
}

/// The documents of a reader, written as they complete.
struct Documents<'a> {
    reader: ExtJsonReader<'a>,
    written: u64,
}

impl<'a> Documents<'a> {
    fn new(reader: ExtJsonReader<'a>) -> Self {
        Documents { reader, written: 0 }
    }

    /// Writes every document the input holds so far; `Ok` also when pushed input needs more.
    fn write_ready(&mut self, out: &mut impl Write) -> Result<(), Error> {
        loop {
            match self.reader.next_document() {
                Ok(Some(doc)) => {
                    out.write_all(doc).map_err(writing_error)?;
                    self.written += doc.len() as u64;
                }
                Ok(None) => return Ok(()),
                Err(e) if e.kind() == ErrorKind::NeedInput => return Ok(()),
                Err(e) => return Err(codec_error(e, "reading Extended JSON")),
            }
        }
    }

    fn report(&self) -> Report {
        Report {
            written: self.written,
            documents: self.reader.documents(),
            ..Report::default()
        }
    }
}

/// Extended JSON → BSON from pushed chunks; made by [`JsonToBson::push`].
pub struct PushJsonToBson<W: Write> {
    documents: Documents<'static>,
    output: W,
}

impl<W: Write> std::fmt::Debug for PushJsonToBson<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushJsonToBson")
            .field("reader", &self.documents.reader)
            .finish()
    }
}

impl<W: Write> PushJsonToBson<W> {
    /// Converts the documents `chunk` completes.
    pub fn push(&mut self, chunk: bytes::Bytes) -> Result<(), Error> {
        self.documents.reader.push(chunk);
        self.documents.write_ready(&mut self.output)
    }

    /// The output, holding what has been written so far.
    pub fn output(&mut self) -> &mut W {
        &mut self.output
    }

    /// No more input: converts the rest, and returns the output and the report.
    pub fn finish(mut self) -> Result<(W, Report), Error> {
        self.documents.reader.end_input();
        self.documents.write_ready(&mut self.output)?;
        self.output.flush().map_err(writing_error)?;
        Ok((self.output, self.documents.report()))
    }
}

fn writing_error(e: std::io::Error) -> Error {
    Error::new(
        Category::OutputIo,
        format!("writing BSON: {e}"),
        Position::default(),
    )
    .with_source(Some(e))
}
