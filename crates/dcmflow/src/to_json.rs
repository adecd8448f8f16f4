//! DICOM → DICOM JSON: the reader's tokens straight into the JSON writer.

use std::io::Write;

use dcmflow_core::{Encoding, Header, Token, TransferSyntax, Vr, Warning};
use dcmflow_dicom::{DicomReader, Filtered, ReaderOptions, UnSequences};
use dcmflow_json::{
    BulkHandler, Compact, Formatter, JsonError, JsonOptions, JsonWarningKind, JsonWriter, Pretty,
    ValueRenderer,
};

use crate::io::{Input, IoErrors, KeepErrors, Output, Source};
use crate::pipeline::{self, Replay, Tokens};
use crate::{Report, Threads};

/// How DICOM is converted to DICOM JSON: the JSON writer's rules, layout, reading options and threads.
///
/// ```
/// let mut options = dcmflow::ToJsonOptions::default();
/// options.pretty = true;
/// options.json.write_meta = true; // the file meta group too (not conformant to PS3.18 F.2)
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ToJsonOptions {
    /// The JSON writer's rules (IS/DS policy, bulk data thresholds, character set handling, …).
    pub json: JsonOptions,
    /// Indented output; compact by default.
    pub pretty: bool,
    /// How the DICOM input is read.
    pub reader: ReaderOptions,
    /// One thread or two.
    pub threads: Threads,
    /// With two threads, which one renders the values that render alone (numbers and
    /// default-repertoire text). The output is the same whatever it says.
    pub value_rendering: ValueRendering,
}

/// See [`ToJsonOptions::value_rendering`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
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

/// Which side failed, inside this crate: the reader (input) or the JSON writer (output, bulk data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToJsonError {
    /// The input is not readable DICOM (with its byte offset).
    Read(dcmflow_core::Error),
    /// The JSON could not be written (output failure, bulk sink failure, an invalid number refused).
    Json(JsonError),
}

impl ToJsonError {
    /// The public error, with the I/O error the input or output really returned.
    pub(crate) fn public(self, input: &IoErrors, output: &IoErrors) -> crate::Error {
        match self {
            ToJsonError::Read(e) => crate::Error::from_dicom(e, true).with_source(input.take()),
            ToJsonError::Json(e @ JsonError::Write { .. }) => {
                crate::Error::from_json_writer(e).with_source(output.take())
            }
            ToJsonError::Json(e) => crate::Error::from_json_writer(e),
        }
    }
}

/// DICOM → DICOM JSON (PS3.18 Annex F), streamed: the reader's tokens go straight into the JSON
/// writer, in memory bounded by the reader's chunk size whatever the input's size.
///
/// ```
/// use dcmflow::{DicomToJson, ToJsonOptions};
/// // A bare data set, Explicit VR Little Endian: (0010,0010) PN "Doe^John".
/// let dicom = [0x10, 0x00, 0x10, 0x00, b'P', b'N', 8, 0, b'D', b'o', b'e', b'^', b'J', b'o', b'h', b'n'];
/// let mut json = Vec::new();
/// let report = DicomToJson::new(ToJsonOptions::default()).convert(&dicom[..], &mut json)?;
/// assert_eq!(json, br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]}}"#);
/// assert!(report.warnings.is_empty());
/// # Ok::<(), dcmflow::Error>(())
/// ```
///
/// Bulk data, as pydicom's `bulk_data_threshold` and `bulk_data_element_handler` do it: values above a
/// size become a BulkDataURI that a handler chooses (here, files beside the JSON are not written; the
/// handler only names a URI).
///
/// ```
/// use dcmflow::json::bulk::{BulkDecision, BulkElement, BulkHandler};
/// use dcmflow::{DicomToJson, ToJsonOptions};
///
/// struct ByTag;
/// impl BulkHandler for ByTag {
///     fn decide(&mut self, element: &BulkElement<'_>) -> std::io::Result<BulkDecision> {
///         Ok(if element.length.is_some_and(|n| n > 4) {
///             BulkDecision::Uri(format!("https://pacs.example/bulk/{:08X}", element.tag.0))
///         } else {
///             BulkDecision::Inline
///         })
///     }
/// }
/// // (7FE0,0010) OW, 8 bytes.
/// let dicom = [0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
/// let mut json = Vec::new();
/// let mut handler = ByTag;
/// DicomToJson::new(ToJsonOptions::default())
///     .bulk_handler(&mut handler)
///     .convert(&dicom[..], &mut json)?;
/// assert_eq!(json, br#"{"7FE00010":{"vr":"OW","BulkDataURI":"https://pacs.example/bulk/7FE00010"}}"#);
/// # Ok::<(), dcmflow::Error>(())
/// ```
pub struct DicomToJson<'h> {
    options: ToJsonOptions,
    bulk: Option<BulkSlot<'h>>,
}

/// A bulk data handler lent by the caller or owned by the conversion.
pub(crate) enum BulkSlot<'h> {
    Borrowed(&'h mut dyn BulkHandler),
    Owned(Box<dyn BulkHandler>),
}

impl BulkSlot<'_> {
    fn lend(&mut self) -> BulkSlot<'_> {
        match self {
            BulkSlot::Borrowed(handler) => BulkSlot::Borrowed(&mut **handler),
            BulkSlot::Owned(handler) => BulkSlot::Borrowed(handler.as_mut()),
        }
    }
}

impl<'h> DicomToJson<'h> {
    /// A conversion with `options`.
    pub fn new(options: ToJsonOptions) -> DicomToJson<'h> {
        DicomToJson {
            options,
            bulk: None,
        }
    }

    /// Values are offered to `handler`, which keeps them inline or names a BulkDataURI for them (and
    /// may write them somewhere: see `dcmflow::json::bulk::SideFiles`).
    pub fn bulk_handler(mut self, handler: &'h mut dyn BulkHandler) -> DicomToJson<'h> {
        self.bulk = Some(BulkSlot::Borrowed(handler));
        self
    }

    /// Like [`DicomToJson::bulk_handler`], the conversion owning the handler: for a conversion that must
    /// be `'static` (a push conversion kept across a server's tasks, [`crate::DicomToJsonDecoder`]).
    pub fn bulk_handler_owned(mut self, handler: Box<dyn BulkHandler>) -> DicomToJson<'h> {
        self.bulk = Some(BulkSlot::Owned(handler));
        self
    }

    /// The options this conversion uses.
    pub fn options(&self) -> &ToJsonOptions {
        &self.options
    }

    /// Converts `input` to `output`, on one thread or two as [`ToJsonOptions::threads`] says.
    pub fn convert<'i, 'o>(
        &mut self,
        input: impl Into<Input<'i>>,
        output: impl Into<Output<'o>>,
    ) -> Result<Report, crate::Error> {
        let input = input.into();
        let (in_errors, out_errors) = (IoErrors::default(), IoErrors::default());
        let two = self.options.threads.two(input.size());
        let reader_options = self.options.reader.clone();
        let errors = in_errors.clone();
        let make_reader = move || match input.source {
            Source::Slice(bytes) => DicomReader::from_slice(bytes, reader_options),
            Source::File(file) => {
                DicomReader::from_reader(KeepErrors::new(file, &errors), reader_options)
            }
            Source::Reader(reader) => {
                DicomReader::from_reader(KeepErrors::new(reader, &errors), reader_options)
            }
        };
        let mut output = output.into();
        let mut sink = KeepErrors::new(output.sink.as_write(), &out_errors);
        let bulk = self.bulk.as_mut().map(BulkSlot::lend);
        let options = &self.options;
        let result = match (two, options.pretty) {
            (true, true) => run_pipelined(make_reader, &mut sink, Pretty::default(), options, bulk),
            (true, false) => run_pipelined(make_reader, &mut sink, Compact, options, bulk),
            (false, true) => run(make_reader(), &mut sink, Pretty::default(), options, bulk),
            (false, false) => run(make_reader(), &mut sink, Compact, options, bulk),
        };
        result.map_err(|e| e.public(&in_errors, &out_errors))
    }

    /// A conversion of input pushed in chunks (see [`PushDicomToJson`](crate::PushDicomToJson)), its
    /// JSON written to `output`, with this conversion's options and bulk data handler.
    pub fn push<W: Write>(self, output: W) -> crate::PushDicomToJson<'h, W> {
        crate::PushDicomToJson::new(output, &self.options, self.bulk)
    }
}

impl std::fmt::Debug for DicomToJson<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DicomToJson")
            .field("options", &self.options)
            .field("bulk_handler", &self.bulk.is_some())
            .finish()
    }
}

/// DICOM → DICOM JSON of bytes in memory, with the default options: the common case in one line.
///
/// ```
/// let dicom = [0x10, 0x00, 0x10, 0x00, b'P', b'N', 4, 0, b'D', b'o', b'e', b' '];
/// assert_eq!(dcmflow::dicom_to_json(&dicom)?, br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe"}]}}"#);
/// # Ok::<(), dcmflow::Error>(())
/// ```
pub fn dicom_to_json(dicom: &[u8]) -> Result<Vec<u8>, crate::Error> {
    let mut json = Vec::new();
    DicomToJson::new(ToJsonOptions::default()).convert(dicom, &mut json)?;
    Ok(json)
}

/// One thread: the reader's tokens straight into the writer.
fn run<W: Write, F: Formatter>(
    reader: DicomReader<'_>,
    output: W,
    fmt: F,
    options: &ToJsonOptions,
    bulk: Option<BulkSlot<'_>>,
) -> Result<Report, ToJsonError> {
    let feed = Feed::new(output, fmt, options, bulk);
    // Two loops: the one without the UN-sequence filter does not test for it on every token.
    if feed.filters() {
        run_loop::<W, F, true>(reader, feed)
    } else {
        run_loop::<W, F, false>(reader, feed)
    }
}

fn run_loop<W: Write, F: Formatter, const FILTERED: bool>(
    mut reader: DicomReader<'_>,
    mut feed: Feed<'_, W, F>,
) -> Result<Report, ToJsonError> {
    loop {
        // A value chunk starts where the reader stands; other tokens report their own offset.
        let position = reader.position();
        match reader.read_token().map_err(ToJsonError::Read)? {
            Token::Value { bytes, last } => {
                let value = Token::Value { bytes, last };
                feed.token_as::<FILTERED>(&value, position, Encoding::EXPLICIT_LE, || None)?;
            }
            other => {
                // Not a Value (matched above), so it converts, ending the borrow of the reader.
                let token = other.to_static().unwrap_or(Token::Eof);
                let (offset, encoding) = (reader.token_offset(), reader.encoding());
                if feed
                    .token_as::<FILTERED>(&token, offset, encoding, || reader.transfer_syntax())?
                {
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
    bulk: Option<BulkSlot<'_>>,
) -> Result<Report, ToJsonError> {
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
    /// `convert_un`: sequences in UN read as sequences before the writer. Boxed: telling `None` apart
    /// is one test of a pointer, on every token.
    un_sequences: Option<Box<UnSequences>>,
    deflate_checked: bool,
}

impl<'h, W: Write, F: Formatter> Feed<'h, W, F> {
    pub(crate) fn new(
        output: W,
        fmt: F,
        options: &ToJsonOptions,
        bulk: Option<BulkSlot<'h>>,
    ) -> Self {
        let mut writer = JsonWriter::new(output, fmt, options.json.clone());
        match bulk {
            Some(BulkSlot::Borrowed(handler)) => writer = writer.with_bulk_handler(handler),
            Some(BulkSlot::Owned(handler)) => writer = writer.with_owned_bulk_handler(handler),
            None => {}
        }
        Feed {
            un_sequences: options
                .json
                .convert_un
                .then(|| Box::new(UnSequences::new())),
            writer,
            deflate_checked: false,
        }
    }

    /// Whether tokens pass the UN-sequence filter (`convert_un`).
    pub(crate) fn filters(&self) -> bool {
        self.un_sequences.is_some()
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
        if self.filters() {
            self.token_as::<true>(token, offset, encoding, transfer_syntax)
        } else {
            self.token_as::<false>(token, offset, encoding, transfer_syntax)
        }
    }

    /// [`Feed::token`] for a loop that knows whether the feed [`Feed::filters`].
    #[inline(always)]
    pub(crate) fn token_as<const FILTERED: bool>(
        &mut self,
        token: &Token<'_>,
        offset: u64,
        encoding: Encoding,
        transfer_syntax: impl FnOnce() -> Option<TransferSyntax>,
    ) -> Result<bool, ToJsonError> {
        debug_assert_eq!(FILTERED, self.filters());
        if !self.deflate_checked && !matches!(token, Token::Value { .. } | Token::Eof) {
            if let Some(ts) = transfer_syntax() {
                // Offsets into an inflated stream do not address the file.
                self.writer.set_offsets_in_file(!ts.deflated);
                self.deflate_checked = true;
            }
        }
        let written = match self.un_sequences.as_deref_mut() {
            Some(filter) if FILTERED && filter.concerns(token) => {
                // A copy: the caller's token, never borrowed by a call, stays in registers.
                let copy = *token;
                filtered(filter, &mut self.writer, &copy, offset, encoding)
            }
            _ => self.writer.write_token(token, offset, encoding),
        };
        written.map_err(ToJsonError::Json)?;
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

    fn finish(self, end: ReaderEnd) -> Result<Report, ToJsonError> {
        self.finish_with_output(end).map(|(_, report)| report)
    }

    pub(crate) fn finish_with_output(self, end: ReaderEnd) -> Result<(W, Report), ToJsonError> {
        let mut warnings: Vec<crate::Warning> = end
            .warnings
            .into_iter()
            .map(crate::Warning::from_dicom)
            .collect();
        warnings.extend(
            self.writer
                .warnings()
                .iter()
                .map(crate::Warning::from_json_writer),
        );
        let warnings_dropped = end.warnings_dropped + self.writer.warnings_dropped();
        let written = self.writer.written();
        let output = self.writer.finish().map_err(ToJsonError::Json)?;
        Ok((
            output,
            Report {
                transfer_syntax: end.transfer_syntax,
                warnings,
                warnings_dropped,
                written,
                ..Report::default()
            },
        ))
    }
}

/// Writes one token through the UN-sequence filter. Never inlined: the loop without the filter stays as
/// it is.
#[inline(never)]
fn filtered<W: Write, F: Formatter>(
    filter: &mut UnSequences,
    writer: &mut JsonWriter<'_, W, F>,
    token: &Token<'_>,
    offset: u64,
    encoding: Encoding,
) -> Result<(), JsonError> {
    filter.feed(token, offset, encoding, &mut |filtered| match filtered {
        Filtered::Token {
            token,
            offset,
            encoding,
        } => writer.write_token(token, offset, encoding),
        Filtered::Parsed { tag, offset } => {
            writer.warn_before(JsonWarningKind::UnConverted(Vr::SQ), tag, offset);
            Ok(())
        }
        Filtered::Unparsed { tag, offset } => {
            writer.warn_before(JsonWarningKind::UnSequenceUnparsed, tag, offset);
            Ok(())
        }
    })
}
