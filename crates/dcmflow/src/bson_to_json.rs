//! BSON → MongoDB Extended JSON.

use std::io::Write;

use dcmflow_bson::{
    BsonReader, Compact, ExtJsonWriter, Formatter, Layout, Mode, Pretty, ReaderOptions, Token,
};
use dcmflow_engine::Position;

use crate::io::{Input, Source};
use crate::{Category, Error, Report};

/// How BSON becomes Extended JSON.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BsonToJsonOptions {
    /// Canonical, relaxed (the default, as the specification asks of generators) or legacy.
    pub mode: Mode,
    /// One document per line (the default), or one JSON array.
    pub layout: Layout,
    /// Indented output; compact by default.
    pub pretty: bool,
    /// How the BSON is read (`stream`: documents one after another, the default here, as mongodump
    /// writes them; nesting depth; piece sizes).
    pub reader: ReaderOptions,
    /// One thread, or (`Two`, on request only: `Auto` is one here) documents converted on two while this
    /// one reads and writes; streams of documents, one per line, only.
    pub threads: crate::Threads,
}

impl Default for BsonToJsonOptions {
    fn default() -> Self {
        let mut reader = ReaderOptions::default();
        reader.stream = true;
        BsonToJsonOptions {
            mode: Mode::default(),
            layout: Layout::default(),
            pretty: false,
            reader,
            threads: crate::Threads::Auto,
        }
    }
}

/// BSON → Extended JSON, streamed: no document is ever held whole.
///
/// ```
/// use dcmflow::{BsonToJson, BsonToJsonOptions};
/// // {"n": 1, "x": 1.5}
/// let bson = b"\x17\x00\x00\x00\x10n\x00\x01\x00\x00\x00\x01x\x00\x00\x00\x00\x00\x00\x00\xF8\x3F\x00";
/// let mut json = Vec::new();
/// let report = BsonToJson::new(BsonToJsonOptions::default()).convert(&bson[..], &mut json)?;
/// assert_eq!(json, b"{\"n\":1,\"x\":1.5}\n");
/// assert_eq!(report.documents, 1);
/// # Ok::<(), dcmflow::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct BsonToJson {
    options: BsonToJsonOptions,
}

impl BsonToJson {
    /// A conversion with these options.
    pub fn new(options: BsonToJsonOptions) -> BsonToJson {
        BsonToJson { options }
    }

    /// Converts every document of `input` into `output`.
    pub fn convert<'i, 'o>(
        &self,
        input: impl Into<Input<'i>>,
        output: impl Into<crate::Output<'o>>,
    ) -> Result<Report, Error> {
        let input = input.into();
        let reader_options = self.options.reader.clone();
        // Two threads only on request: measured, they gain little on small documents (1.2× on tweets) and
        // lose on large ones (1 MiB binaries: copies cost more than the second thread saves).
        if self.options.threads == crate::Threads::Two
            && reader_options.stream
            && self.options.layout == Layout::Lines
        {
            let read: Box<dyn std::io::Read + Send + '_> = match input.source {
                Source::Slice(bytes) => Box::new(bytes),
                Source::File(file) => Box::new(std::io::BufReader::with_capacity(1 << 16, file)),
                Source::Reader(reader) => {
                    Box::new(std::io::BufReader::with_capacity(1 << 16, reader))
                }
            };
            return crate::bson_threads::convert(&self.options, read, output.into().into_write());
        }
        let reader = match input.source {
            Source::Slice(bytes) => BsonReader::from_slice(bytes, reader_options),
            Source::File(file) => BsonReader::from_reader(file, reader_options),
            Source::Reader(reader) => BsonReader::from_reader(reader, reader_options),
        };
        let out = output.into().into_write();
        let (mode, layout) = (self.options.mode, self.options.layout);
        if self.options.pretty {
            run(
                reader,
                ExtJsonWriter::new(out, Pretty::default(), mode, layout),
            )
        } else {
            run(reader, ExtJsonWriter::new(out, Compact, mode, layout))
        }
    }
}

fn run<W: Write, F: Formatter>(
    mut reader: BsonReader<'_>,
    mut writer: ExtJsonWriter<W, F>,
) -> Result<Report, Error> {
    loop {
        let token = reader.read_token().map_err(reading_error)?;
        writer.write_token(&token).map_err(writing_error)?;
        if token == Token::End {
            break;
        }
    }
    let documents = writer.documents();
    let written = writer.written();
    writer.finish().map_err(writing_error)?;
    Ok(Report {
        written,
        documents,
        ..Report::default()
    })
}

fn reading_error(e: dcmflow_bson::Error) -> Error {
    codec_error(e, "reading BSON")
}

/// A BSON reading error of a reader that started `base` bytes into the input.
pub(crate) fn reading_error_at(e: dcmflow_bson::Error, base: u64) -> Error {
    codec_error_at(e, "reading BSON", base)
}

/// An error of the BSON crate (reading BSON or Extended JSON), placed and categorised.
pub(crate) fn codec_error(e: dcmflow_bson::Error, doing: &str) -> Error {
    codec_error_at(e, doing, 0)
}

/// [`codec_error`] of a reader that started `base` bytes into the input.
fn codec_error_at(e: dcmflow_bson::Error, doing: &str, base: u64) -> Error {
    use dcmflow_bson::ErrorKind;
    let category = match e.kind() {
        ErrorKind::Io => Category::InputIo,
        ErrorKind::TooDeep | ErrorKind::TooLong | ErrorKind::TooLarge => Category::Limit,
        _ => Category::InvalidInput,
    };
    let offset = e.offset() + base;
    let position = match e.line_column() {
        Some((line, column)) => Position::in_text(line, column, Some(offset), e.path()),
        None => Position::at_offset(offset).with_path(e.path()),
    };
    let message = format!("{doing}: {}", e.message());
    let source = std::error::Error::source(&e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .map(|io| std::io::Error::new(io.kind(), io.to_string()));
    Error::new(category, message, position).with_source(source)
}

pub(crate) fn writing_error(e: std::io::Error) -> Error {
    Error::new(
        Category::OutputIo,
        format!("writing JSON: {e}"),
        Position::default(),
    )
    .with_source(Some(e))
}

impl BsonToJson {
    /// A conversion fed pushed chunks (`bytes::Bytes` from a network stack) instead of reading: each
    /// [`PushBsonToJson::push`] converts as far as the bytes go, with the same output and errors as
    /// [`BsonToJson::convert`] at any chunking.
    ///
    /// ```
    /// use dcmflow::{BsonToJson, BsonToJsonOptions};
    /// let bson = b"\x0C\x00\x00\x00\x10n\x00\x07\x00\x00\x00\x00";
    /// let mut conversion = BsonToJson::new(BsonToJsonOptions::default()).push(Vec::new());
    /// for piece in bson.chunks(5) {
    ///     conversion.push(bytes::Bytes::copy_from_slice(piece))?;
    /// }
    /// let (json, report) = conversion.finish()?;
    /// assert_eq!(json, b"{\"n\":7}\n");
    /// assert_eq!(report.documents, 1);
    /// # Ok::<(), dcmflow::Error>(())
    /// ```
    pub fn push<W: Write>(&self, output: W) -> PushBsonToJson<W> {
        let (mode, layout) = (self.options.mode, self.options.layout);
        let writer = if self.options.pretty {
            AnyWriter::Pretty(ExtJsonWriter::new(output, Pretty::default(), mode, layout))
        } else {
            AnyWriter::Compact(ExtJsonWriter::new(output, Compact, mode, layout))
        };
        PushBsonToJson {
            reader: BsonReader::pushed(self.options.reader.clone()),
            writer,
            ended: false,
        }
    }
}

/// BSON → Extended JSON from pushed chunks; made by [`BsonToJson::push`].
#[derive(Debug)]
pub struct PushBsonToJson<W: Write> {
    reader: BsonReader<'static>,
    writer: AnyWriter<W>,
    ended: bool,
}

#[derive(Debug)]
enum AnyWriter<W: Write> {
    Compact(ExtJsonWriter<W, Compact>),
    Pretty(ExtJsonWriter<W, Pretty>),
}

impl<W: Write> PushBsonToJson<W> {
    /// Converts what `chunk` completes; the JSON goes to the output as it is written (a document's
    /// text may stay staged until about 64 KiB have gathered, and always until [`Self::finish`]).
    pub fn push(&mut self, chunk: bytes::Bytes) -> Result<(), Error> {
        self.reader.push(chunk);
        self.convert()
    }

    /// The output, holding what has been written so far.
    pub fn output(&mut self) -> &mut W {
        match &mut self.writer {
            AnyWriter::Compact(w) => w.get_mut(),
            AnyWriter::Pretty(w) => w.get_mut(),
        }
    }

    /// No more input: converts the rest, and returns the output and the report.
    pub fn finish(mut self) -> Result<(W, Report), Error> {
        self.reader.end_input();
        self.convert()?;
        let (documents, written) = match &self.writer {
            AnyWriter::Compact(w) => (w.documents(), w.written()),
            AnyWriter::Pretty(w) => (w.documents(), w.written()),
        };
        let output = match self.writer {
            AnyWriter::Compact(w) => w.finish(),
            AnyWriter::Pretty(w) => w.finish(),
        }
        .map_err(writing_error)?;
        let report = Report {
            written,
            documents,
            ..Report::default()
        };
        Ok((output, report))
    }

    fn convert(&mut self) -> Result<(), Error> {
        while !self.ended {
            let token = match self.reader.read_token() {
                Err(e) if e.kind() == dcmflow_bson::ErrorKind::NeedInput => return Ok(()),
                other => other.map_err(reading_error)?,
            };
            match &mut self.writer {
                AnyWriter::Compact(w) => w.write_token(&token),
                AnyWriter::Pretty(w) => w.write_token(&token),
            }
            .map_err(writing_error)?;
            self.ended = token == Token::End;
        }
        Ok(())
    }
}
