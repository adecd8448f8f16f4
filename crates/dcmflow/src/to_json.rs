//! DICOM → DICOM JSON: the reader's tokens straight into the JSON writer.

use std::io::{Read, Write};

use dcmflow_core::{Encoding, Error, Header, Token, TransferSyntax, Warning};
use dcmflow_dicom::{DicomReader, ReaderOptions};
use dcmflow_json::{
    BulkHandler, Compact, Formatter, JsonError, JsonOptions, JsonWarning, JsonWriter, Pretty,
    ValueRenderer,
};

use crate::pipeline::{self, Replay, Tokens};

/// How DICOM is converted to DICOM JSON: the JSON writer's rules, layout and reading options.
#[derive(Clone, Debug, Default)]
pub struct ToJsonOptions {
    /// The JSON writer's rules (IS/DS policy, bulk data thresholds, character set handling, …).
    pub json: JsonOptions,
    /// Indented output (DCMTK `+fc`); compact by default.
    pub pretty: bool,
    /// How the DICOM input is read.
    pub reader: ReaderOptions,
    /// Which thread of [`dicom_to_json_pipelined`] renders the values that render alone (numbers and
    /// default-repertoire text). The output is the same whatever it says.
    pub value_rendering: ValueRendering,
}

/// See [`ToJsonOptions::value_rendering`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ValueRendering {
    /// The reading thread renders them while the writing thread lags behind, so the two share the work
    /// whichever side a file makes the heavier (metadata-heavy files load the writer).
    #[default]
    Balanced,
    /// Always the reading thread (with bulk data, for the VRs the bulk handler never decides on).
    Reader,
    /// Always the writing thread.
    Writer,
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
    /// The input's transfer syntax, once known.
    pub transfer_syntax: Option<TransferSyntax>,
    /// Tolerances of the DICOM reader (broken input it read anyway).
    pub read_warnings: Vec<Warning>,
    /// Reader warnings beyond its limit, counted only.
    pub read_warnings_dropped: u64,
    /// What the JSON writer had to do about values (invalid numbers, undecodable text, …).
    pub json_warnings: Vec<JsonWarning>,
    /// Writer warnings beyond its limit, counted only.
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
pub fn dicom_to_json_reader<R: Read + Send, W: Write>(
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
    // With a bulk handler, the reading thread renders only the VRs it never decides on (see
    // `ValueRenderer::takes`).
    let with_bulk = bulk.is_some();
    let rendering = (options.value_rendering != ValueRendering::Writer)
        .then(|| (options.json.clone(), options.value_rendering));
    let mut feed = Feed::new(output, fmt, options, bulk);
    let (producer, consumer) = pipeline::channel();
    let (written, end) = std::thread::scope(|scope| {
        // Named, so that profiles and debuggers tell the two sides apart.
        let reading = std::thread::Builder::new()
            .name("dcmflow-read".into())
            .spawn_scoped(scope, move || {
                // Made here: a writer, even one with no output, is not `Send`.
                let renderer = rendering.map(|(json, rendering)| Renderer {
                    values: ValueRenderer::new(json, with_bulk),
                    always: rendering == ValueRendering::Reader,
                });
                read_into(make_reader(), producer, renderer)
            })
            .expect("failed to spawn thread"); // as `scope.spawn` does
        let written = consumer.replay_tokens(
            |r| match r.token {
                Token::Value { bytes, .. } if r.rendered => feed.rendered(bytes),
                token => feed
                    .token(&token, r.offset, r.encoding, || r.transfer_syntax)
                    .map(|_| ()),
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

/// The reading thread's share of value rendering (see [`ValueRendering`]).
struct Renderer {
    values: ValueRenderer,
    always: bool,
}

/// The reading thread: every token into the pipeline, until `Eof`, an error, or the writer stops.
fn read_into(
    mut reader: DicomReader<'_>,
    mut producer: pipeline::Producer,
    mut renderer: Option<Renderer>,
) -> ReaderEnd {
    let mut error = None;
    let mut syntax_known = false;
    // The element just read, when its value may be rendered here: its header and byte order.
    let mut renderable: Option<(Header, bool)> = None;
    loop {
        // A value chunk starts where the reader stands; other tokens report their own offset.
        let position = reader.position();
        let (pushed, eof) = match reader.read_token() {
            Ok(Token::Value { bytes, last }) => {
                let rendered = match (renderable.take(), renderer.as_mut()) {
                    (Some((header, big_endian)), Some(renderer))
                        if last && (renderer.always || producer.consumer_lags()) =>
                    {
                        renderer.values.render(header, bytes, big_endian)
                    }
                    _ => None,
                };
                let pushed = match rendered {
                    Some(text) => producer.push_rendered(text, position),
                    None => producer.push(
                        &Token::Value { bytes, last },
                        position,
                        Encoding::EXPLICIT_LE,
                    ),
                };
                (pushed, false)
            }
            Ok(other) => {
                // Not a Value (matched above): its record ends the borrow of the reader.
                let token = pipeline::Unplaced::of(&other).expect("not a value");
                let element = match (other, &renderer) {
                    (Token::Element(header), Some(r)) if r.values.takes(header) => Some(header),
                    _ => None,
                };
                if !syntax_known {
                    // Known once the file meta (or the bare data set's first bytes) has been read.
                    let ts = reader.transfer_syntax();
                    syntax_known = ts.is_some();
                    producer.set_transfer_syntax(ts);
                }
                let encoding = reader.encoding();
                renderable = element.map(|header| (header, encoding.big_endian));
                let pushed = producer.push_placed(token, reader.token_offset(), encoding);
                (pushed, token.is_eof())
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
pub(crate) struct ReaderEnd {
    transfer_syntax: Option<TransferSyntax>,
    warnings: Vec<Warning>,
    warnings_dropped: u64,
}

impl ReaderEnd {
    pub(crate) fn of(reader: &mut DicomReader<'_>) -> ReaderEnd {
        ReaderEnd {
            transfer_syntax: reader.transfer_syntax(),
            warnings: reader.take_warnings(),
            warnings_dropped: reader.warnings_dropped(),
        }
    }
}

/// The JSON writer fed token by token, from either loop (and from pushed input).
pub(crate) struct Feed<'h, W: Write, F: Formatter> {
    writer: JsonWriter<'h, W, F>,
    deflate_checked: bool,
}

impl<'h, W: Write, F: Formatter> Feed<'h, W, F> {
    pub(crate) fn new(
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
    pub(crate) fn token(
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

    /// Writes the current element's value as the reading thread rendered it.
    #[inline(always)]
    fn rendered(&mut self, bytes: &[u8]) -> Result<(), ToJsonError> {
        self.writer.write_rendered(bytes).map_err(ToJsonError::Json)
    }

    /// The output, as far as it has been flushed.
    pub(crate) fn output(&mut self) -> &mut W {
        self.writer.get_mut()
    }

    fn finish(self, end: ReaderEnd) -> Result<JsonReport, ToJsonError> {
        self.finish_with_output(end).map(|(_, report)| report)
    }

    pub(crate) fn finish_with_output(self, end: ReaderEnd) -> Result<(W, JsonReport), ToJsonError> {
        let json_warnings = self.writer.warnings().to_vec();
        let json_warnings_dropped = self.writer.warnings_dropped();
        let written = self.writer.written();
        let output = self.writer.finish().map_err(ToJsonError::Json)?;
        Ok((
            output,
            JsonReport {
                transfer_syntax: end.transfer_syntax,
                read_warnings: end.warnings,
                read_warnings_dropped: end.warnings_dropped,
                json_warnings,
                json_warnings_dropped,
                written,
            },
        ))
    }
}
