//! DICOM → DICOM JSON: the reader's tokens straight into the JSON writer.

use std::io::{Read, Write};

use dcmflow_core::{Encoding, Error, Token, TransferSyntax, Warning};
use dcmflow_dicom::{DicomReader, ReaderOptions};
use dcmflow_json::{
    BulkHandler, Compact, Formatter, JsonError, JsonOptions, JsonWarning, JsonWriter, Pretty,
};

use crate::pipeline;

#[derive(Clone, Debug, Default)]
pub struct ToJsonOptions {
    pub json: JsonOptions,
    /// Indented output (DCMTK `+fc`); compact by default.
    pub pretty: bool,
    pub reader: ReaderOptions,
}

/// Which side failed, so callers can map it to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToJsonError {
    /// The input is not readable DICOM (with its byte offset).
    Read(Error),
    /// The JSON could not be written (output failure, bulk sink failure, `-in` on an invalid number).
    Json(JsonError),
}

impl std::fmt::Display for ToJsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToJsonError::Read(e) => write!(f, "reading DICOM: {e}"),
            ToJsonError::Json(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ToJsonError {}

/// What the conversion noticed.
#[derive(Debug, Default)]
pub struct JsonReport {
    pub transfer_syntax: Option<TransferSyntax>,
    /// Tolerances of the DICOM reader (broken input it read anyway).
    pub read_warnings: Vec<Warning>,
    pub read_warnings_dropped: u64,
    /// What the JSON writer had to do about values (invalid numbers, undecodable text, …).
    pub json_warnings: Vec<JsonWarning>,
    pub json_warnings_dropped: u64,
    /// Bytes of JSON written.
    pub written: u64,
}

/// Converts DICOM held in memory (values are borrowed, never copied).
///
/// ```
/// use dcmflow::{dicom_to_json, ToJsonOptions};
/// // A bare data set, Explicit VR Little Endian: (0010,0010) PN "Doe^John".
/// let dicom = [0x10, 0x00, 0x10, 0x00, b'P', b'N', 8, 0, b'D', b'o', b'e', b'^', b'J', b'o', b'h', b'n'];
/// let mut json = Vec::new();
/// dicom_to_json(&dicom[..], &mut json, &ToJsonOptions::default()).unwrap();
/// assert_eq!(json, br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]}}"#);
/// ```
pub fn dicom_to_json<W: Write>(
    input: &[u8],
    output: W,
    options: &ToJsonOptions,
) -> Result<JsonReport, ToJsonError> {
    let reader = DicomReader::from_slice(input, options.reader.clone());
    dicom_to_json_with(reader, output, options, None)
}

/// Converts DICOM from a stream, in memory bounded by the reader's chunk size.
pub fn dicom_to_json_reader<R: Read, W: Write>(
    input: R,
    output: W,
    options: &ToJsonOptions,
) -> Result<JsonReport, ToJsonError> {
    let reader = DicomReader::from_reader(input, options.reader.clone());
    dicom_to_json_with(reader, output, options, None)
}

/// Like [`dicom_to_json_reader`] with an optional bulk data handler, reading on a second thread while
/// this one writes (the two overlap: faster on a machine with a core to spare; the tokens, and so the
/// output, are the same). Memory stays bounded: a few batches of at most 256 KiB of value bytes each.
pub fn dicom_to_json_pipelined<R: Read + Send, W: Write>(
    input: R,
    output: W,
    options: &ToJsonOptions,
    bulk: Option<&mut dyn BulkHandler>,
) -> Result<JsonReport, ToJsonError> {
    let reader_options = options.reader.clone();
    let make_reader = move || DicomReader::from_reader(input, reader_options);
    if options.pretty {
        run_pipelined(make_reader, output, Pretty::default(), options, bulk)
    } else {
        run_pipelined(make_reader, output, Compact, options, bulk)
    }
}

/// The general form: any reader, and an optional bulk data handler (see `dcmflow_json::bulk`).
pub fn dicom_to_json_with<W: Write>(
    reader: DicomReader<'_>,
    output: W,
    options: &ToJsonOptions,
    bulk: Option<&mut dyn BulkHandler>,
) -> Result<JsonReport, ToJsonError> {
    if options.pretty {
        run(reader, output, Pretty::default(), options, bulk)
    } else {
        run(reader, output, Compact, options, bulk)
    }
}

/// One thread: the reader's tokens straight into the writer.
fn run<W: Write, F: Formatter>(
    mut reader: DicomReader<'_>,
    output: W,
    fmt: F,
    options: &ToJsonOptions,
    bulk: Option<&mut dyn BulkHandler>,
) -> Result<JsonReport, ToJsonError> {
    let mut feed = Feed::new(output, fmt, options, bulk);
    loop {
        // A value chunk starts where the reader stands; other tokens report their own offset.
        let position = reader.position();
        match reader.read_token().map_err(ToJsonError::Read)? {
            Token::Value { bytes, last } => {
                let value = Token::Value { bytes, last };
                feed.token(&value, position, Encoding::EXPLICIT_LE, || None)?;
            }
            other => {
                // Not a Value (matched above), so it converts, ending the borrow of the reader.
                let token = other.to_static().unwrap_or(Token::Eof);
                let (offset, encoding) = (reader.token_offset(), reader.encoding());
                if feed.token(&token, offset, encoding, || reader.transfer_syntax())? {
                    break;
                }
            }
        }
    }
    feed.finish(ReaderEnd::of(&mut reader))
}

fn run_pipelined<'r, W: Write, F: Formatter>(
    make_reader: impl FnOnce() -> DicomReader<'r> + Send,
    output: W,
    fmt: F,
    options: &ToJsonOptions,
    bulk: Option<&mut dyn BulkHandler>,
) -> Result<JsonReport, ToJsonError> {
    let mut feed = Feed::new(output, fmt, options, bulk);
    let (producer, consumer) = pipeline::channel();
    let (written, end) = std::thread::scope(|scope| {
        // Named, so that profiles and debuggers tell the two sides apart.
        let reading = std::thread::Builder::new()
            .name("dcmflow-read".into())
            .spawn_scoped(scope, move || read_into(make_reader(), producer))
            .expect("failed to spawn thread"); // as `scope.spawn` does
        let written = consumer.replay(
            |r| {
                feed.token(&r.token, r.offset, r.encoding, || r.transfer_syntax)
                    .map(|_| ())
            },
            ToJsonError::Read,
        );
        (
            written,
            reading.join().expect("the reader thread does not panic"),
        )
    });
    written?;
    feed.finish(end)
}

/// The reading thread: every token into the pipeline, until `Eof`, an error, or the writer stops.
fn read_into(mut reader: DicomReader<'_>, mut producer: pipeline::Producer) -> ReaderEnd {
    let mut error = None;
    let mut syntax_known = false;
    loop {
        // A value chunk starts where the reader stands; other tokens report their own offset.
        let position = reader.position();
        let (pushed, eof) = match reader.read_token() {
            Ok(value @ Token::Value { .. }) => (
                producer.push(&value, position, Encoding::EXPLICIT_LE),
                false,
            ),
            Ok(other) => {
                // Not a Value (matched above), so it converts, ending the borrow of the reader.
                let token = other.to_static().unwrap_or(Token::Eof);
                if !syntax_known {
                    // Known once the file meta (or the bare data set's first bytes) has been read.
                    let ts = reader.transfer_syntax();
                    syntax_known = ts.is_some();
                    producer.set_transfer_syntax(ts);
                }
                let pushed = producer.push(&token, reader.token_offset(), reader.encoding());
                (pushed, token == Token::Eof)
            }
            Err(e) => {
                error = Some(e);
                (Ok(()), true)
            }
        };
        if pushed.is_err() {
            break; // the writer stopped: its error is the one reported
        }
        if eof {
            producer.finish(error);
            break;
        }
    }
    ReaderEnd::of(&mut reader)
}

/// What the reader leaves behind for the report.
struct ReaderEnd {
    transfer_syntax: Option<TransferSyntax>,
    warnings: Vec<Warning>,
    warnings_dropped: u64,
}

impl ReaderEnd {
    fn of(reader: &mut DicomReader<'_>) -> ReaderEnd {
        ReaderEnd {
            transfer_syntax: reader.transfer_syntax(),
            warnings: reader.take_warnings(),
            warnings_dropped: reader.warnings_dropped(),
        }
    }
}

/// The JSON writer fed token by token, from either loop.
struct Feed<'h, W: Write, F: Formatter> {
    writer: JsonWriter<'h, W, F>,
    deflate_checked: bool,
}

impl<'h, W: Write, F: Formatter> Feed<'h, W, F> {
    fn new(
        output: W,
        fmt: F,
        options: &ToJsonOptions,
        bulk: Option<&'h mut dyn BulkHandler>,
    ) -> Self {
        let mut writer = JsonWriter::new(output, fmt, options.json.clone());
        if let Some(handler) = bulk {
            writer = writer.with_bulk_handler(handler);
        }
        Feed {
            writer,
            deflate_checked: false,
        }
    }

    /// Writes one token; true at `Eof`.
    #[inline(always)]
    fn token(
        &mut self,
        token: &Token<'_>,
        offset: u64,
        encoding: Encoding,
        transfer_syntax: impl FnOnce() -> Option<TransferSyntax>,
    ) -> Result<bool, ToJsonError> {
        if !self.deflate_checked && !matches!(token, Token::Value { .. } | Token::Eof) {
            if let Some(ts) = transfer_syntax() {
                // Offsets into an inflated stream do not address the file.
                self.writer.set_offsets_in_file(!ts.deflated);
                self.deflate_checked = true;
            }
        }
        self.writer
            .write_token(token, offset, encoding)
            .map_err(ToJsonError::Json)?;
        Ok(*token == Token::Eof)
    }

    fn finish(self, end: ReaderEnd) -> Result<JsonReport, ToJsonError> {
        let json_warnings = self.writer.warnings().to_vec();
        let json_warnings_dropped = self.writer.warnings_dropped();
        let written = self.writer.written();
        self.writer.finish().map_err(ToJsonError::Json)?;
        Ok(JsonReport {
            transfer_syntax: end.transfer_syntax,
            read_warnings: end.warnings,
            read_warnings_dropped: end.warnings_dropped,
            json_warnings,
            json_warnings_dropped,
            written,
        })
    }
}
