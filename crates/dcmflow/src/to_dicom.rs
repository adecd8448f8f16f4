//! DICOM JSON → DICOM: the JSON reader's tokens into the DICOM writer, with the file meta taken from the
//! JSON's group 0002 keys when asked (docs/design.md, Decisions).

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;

use dcmflow_core::{Header, Tag, Token, TransferSyntax, Vr};
use dcmflow_dicom::{DicomWriter, LengthMode, WriterOptions};
use dcmflow_engine::Position;
use dcmflow_json::read::{
    ArrayMode, BulkResolver, JsonReader, ReadError, ReadOptions, ReadWarning, ReadWarningKind,
};

use crate::io::{Input, IoErrors, KeepErrors, Output, Sink, Source};
use crate::pipeline::{self, Replay, Tokens};
use crate::{Report, Threads};

/// How DICOM JSON is read and the DICOM written.
///
/// ```
/// use dcmflow::core::TransferSyntax;
/// let mut options = dcmflow::ToDicomOptions::default();
/// options.transfer_syntax = Some(TransferSyntax::IMPLICIT_VR_LE);
/// options.reader.lenient = true; // accept what RFC 8259 or PS3.18 F.2 refuse, with a warning
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ToDicomOptions {
    /// Output transfer syntax; `None`: the JSON's (0002,0010) if present, else Explicit VR Little
    /// Endian.
    pub transfer_syntax: Option<TransferSyntax>,
    /// PS3.10 file with preamble and meta (the default) or a bare data set.
    pub part10: bool,
    /// Group 0002 keys of the JSON feed the file meta (the default); otherwise they are dropped.
    pub meta_from_json: bool,
    /// Sequence and item lengths: computed (the default) or undefined.
    pub lengths: LengthMode,
    /// Compression level 0–9 of a Deflated output syntax.
    pub deflate_level: u32,
    /// New Study, Series and SOP Instance UIDs, in the 2.25 (UUID) form of PS3.5 B.2.
    pub new_uids: bool,
    /// Every data set of a top-level array becomes one item of the private sequence (0009,1000), creator
    /// `JSON2DCM_LIST_OF_DATASETS` (as DCMTK's json2dcm writes arrays).
    pub array_sequence: bool,
    /// How the JSON is read: strict or lenient, limits, which data set of a top-level array.
    pub reader: ReadOptions,
    /// One thread or two.
    pub threads: Threads,
}

impl Default for ToDicomOptions {
    fn default() -> Self {
        ToDicomOptions {
            transfer_syntax: None,
            part10: true,
            meta_from_json: true,
            lengths: LengthMode::Explicit,
            deflate_level: 6,
            new_uids: false,
            array_sequence: false,
            reader: ReadOptions::default(),
            threads: Threads::default(),
        }
    }
}

/// Why the DICOM could not be written, inside this crate.
#[derive(Debug)]
pub(crate) enum ToDicomError {
    /// The JSON is not valid DICOM JSON, or a value cannot be written (line, column, path inside).
    Read(ReadError),
    /// The DICOM writer failed (the output, or a value its transfer syntax cannot hold).
    Write(dcmflow_core::Error),
    /// (0002,0010) names no transfer syntax this writer knows.
    TransferSyntax(String),
}

impl ToDicomError {
    /// The public error, with the I/O error the input or output really returned.
    pub(crate) fn public(self, input: &IoErrors, output: &IoErrors) -> crate::Error {
        match self {
            ToDicomError::Read(e) => crate::Error::from_json_reader(e).with_source(input.take()),
            ToDicomError::Write(e) => crate::Error::from_dicom(e, false).with_source(output.take()),
            ToDicomError::TransferSyntax(uid) => crate::Error::new(
                crate::Category::Unsupported,
                format!(
                    "transfer syntax '{uid}' in (0002,0010) is not one this writer knows (choose one \
                     with option `transfer_syntax`)"
                ),
                Position::default().with_path("00020010"),
            ),
        }
    }
}

/// What one data set's conversion adds to the report: the output's syntax and the conversion's own
/// warnings (the reader keeps its own).
#[derive(Debug, Default)]
pub(crate) struct DicomReport {
    pub(crate) transfer_syntax: Option<TransferSyntax>,
    pub(crate) warnings: Vec<ReadWarning>,
}

/// DICOM JSON (PS3.18 Annex F) → DICOM, streamed: the JSON reader's tokens go straight into the DICOM
/// writer. Long InlineBinary values are decoded in windows, never held whole.
///
/// ```
/// use dcmflow::{JsonToDicom, ToDicomOptions};
///
/// let json = br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]}}"#;
/// let mut options = ToDicomOptions::default();
/// options.part10 = false; // a bare data set, no file meta
/// let mut dicom = Vec::new();
/// JsonToDicom::new(options).convert(&json[..], &mut dicom)?;
/// assert_eq!(dicom, b"\x10\x00\x10\x00PN\x08\x00Doe^John");
/// # Ok::<(), dcmflow::Error>(())
/// ```
///
/// BulkDataURIs are read through a resolver, as pydicom's `bulk_data_uri_handler` does (here, one that
/// serves every URI from memory):
///
/// ```
/// use dcmflow::json::read::{BulkRequest, BulkResolver, BulkSource};
/// use dcmflow::{JsonToDicom, ToDicomOptions};
///
/// struct FromMemory(Vec<u8>);
/// impl BulkResolver for FromMemory {
///     fn resolve(&mut self, request: &BulkRequest<'_>) -> Result<Option<BulkSource<'static>>, String> {
///         assert_eq!(request.uri, "https://pacs.example/bulk/7FE00010");
///         let bytes = self.0.clone();
///         Ok(Some(BulkSource { length: bytes.len() as u64, reader: Box::new(std::io::Cursor::new(bytes)) }))
///     }
/// }
/// let json = br#"{"7FE00010":{"vr":"OW","BulkDataURI":"https://pacs.example/bulk/7FE00010"}}"#;
/// let mut options = ToDicomOptions::default();
/// options.part10 = false;
/// let mut dicom = Vec::new();
/// JsonToDicom::new(options)
///     .bulk_resolver(FromMemory(vec![1, 2, 3, 4]))
///     .convert(&json[..], &mut dicom)?;
/// assert_eq!(dicom, [0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]);
/// # Ok::<(), dcmflow::Error>(())
/// ```
pub struct JsonToDicom {
    options: ToDicomOptions,
    resolver: Option<Box<dyn BulkResolver>>,
}

impl JsonToDicom {
    /// A conversion with `options`.
    pub fn new(options: ToDicomOptions) -> JsonToDicom {
        JsonToDicom {
            options,
            resolver: None,
        }
    }

    /// BulkDataURIs are resolved by `resolver` (without one, a BulkDataURI is an error; see
    /// `dcmflow::json::read::FileResolver` for files below allowed directories).
    pub fn bulk_resolver(mut self, resolver: impl BulkResolver + 'static) -> JsonToDicom {
        self.resolver = Some(Box::new(resolver));
        self
    }

    /// The options this conversion uses.
    pub fn options(&self) -> &ToDicomOptions {
        &self.options
    }

    /// A conversion of JSON pushed in chunks (see [`PushJsonToDicom`](crate::PushJsonToDicom)), its
    /// DICOM written to `output` as a stream, with this conversion's options and bulk data resolver.
    /// The data set is the one `options.reader.array` selects; `array_sequence` is not available.
    pub fn push<W: Write>(self, output: W) -> crate::PushJsonToDicom<W> {
        crate::PushJsonToDicom::new(output, self.options, self.resolver)
    }

    /// Converts the data set of `input` (of a top-level array: the one `options.reader.array` selects,
    /// or all of them into one sequence under `array_sequence`) to `output`.
    pub fn convert<'i, 'o>(
        &mut self,
        input: impl Into<Input<'i>>,
        output: impl Into<Output<'o>>,
    ) -> Result<Report, crate::Error> {
        let input: Input<'_> = input.into();
        let array = self.options.reader.array;
        let mut data_sets = self.reader_of(input, array);
        let report = data_sets.convert_next(output)?;
        Ok(report.unwrap_or_default())
    }

    /// The data sets of `input` one by one, each into an output of its own: every element of a
    /// top-level array (or the one data set of an object).
    ///
    /// ```
    /// use dcmflow::{JsonToDicom, ToDicomOptions};
    /// let json = br#"[{"00100020":{"vr":"LO","Value":["A1"]}}, {"00100020":{"vr":"LO","Value":["B2"]}}]"#;
    /// let mut options = ToDicomOptions::default();
    /// options.part10 = false;
    /// let mut conversion = JsonToDicom::new(options);
    /// let mut data_sets = conversion.data_sets(&json[..]);
    /// let mut files = Vec::new();
    /// let mut file = Vec::new();
    /// while data_sets.convert_next(&mut file)?.is_some() {
    ///     files.push(std::mem::take(&mut file));
    /// }
    /// assert_eq!(files.len(), 2);
    /// assert!(files[1].ends_with(b"B2"));
    /// # Ok::<(), dcmflow::Error>(())
    /// ```
    ///
    /// `options.reader.array` = `ArrayMode::Select(n)` still picks the one data set `n`.
    pub fn data_sets<'a>(&'a mut self, input: impl Into<Input<'a>>) -> DataSets<'a> {
        let array = match self.options.reader.array {
            ArrayMode::Select(n) => ArrayMode::Select(n),
            _ => ArrayMode::Each,
        };
        self.reader_of(input.into(), array)
    }

    fn reader_of<'a>(&'a mut self, input: Input<'a>, array: ArrayMode) -> DataSets<'a> {
        let mut read = self.options.reader.clone();
        read.array = if self.options.array_sequence {
            ArrayMode::Each
        } else {
            array
        };
        let in_errors = IoErrors::default();
        let size = input.size();
        let mut reader = match input.source {
            Source::Slice(bytes) => JsonReader::from_slice(bytes, read),
            Source::File(file) => JsonReader::from_file(file, read),
            Source::Reader(inner) => {
                JsonReader::from_reader(KeepErrors::new(inner, &in_errors), read)
            }
        };
        if let Some(resolver) = self.resolver.as_deref_mut() {
            reader.set_bulk_resolver(Box::new(resolver));
        }
        DataSets {
            reader,
            options: self.options.clone(),
            two_threads: self.options.threads.two(size),
            in_errors,
            started: false,
            warnings_reported: 0,
        }
    }
}

impl std::fmt::Debug for JsonToDicom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonToDicom")
            .field("options", &self.options)
            .field("bulk_resolver", &self.resolver.is_some())
            .finish()
    }
}

/// The data sets of one JSON input, converted one by one (see [`JsonToDicom::data_sets`]).
#[derive(Debug)]
pub struct DataSets<'i> {
    reader: JsonReader<'i>,
    options: ToDicomOptions,
    two_threads: bool,
    in_errors: IoErrors,
    started: bool,
    /// Reader warnings already handed out in a report.
    warnings_reported: usize,
}

impl DataSets<'_> {
    /// Converts the next data set to `output`; `Ok(None)` when there is none left (nothing is written
    /// then).
    pub fn convert_next<'o>(
        &mut self,
        output: impl Into<Output<'o>>,
    ) -> Result<Option<Report>, crate::Error> {
        if self.started && !self.next_exists()? {
            return Ok(None);
        }
        self.started = true;
        let out_errors = IoErrors::default();
        let mut output = output.into();
        let options = &self.options;
        let reader = &mut self.reader;
        let converted = match (&mut output.sink, self.two_threads) {
            (Sink::Seekable(w), two) => {
                let start = w.stream_position().ok();
                let out = KeepErrors::new(&mut **w, &out_errors);
                let seekable = Seekable::Yes(DicomWriter::new_seekable);
                if two {
                    convert_next(reader, out, options, seekable, write_data_set_pipelined)
                } else {
                    convert_next(reader, out, options, seekable, write_data_set)
                }
                .map(|(mut out, report)| (out.written_since(start), report))
            }
            (sink, two) => {
                let out = KeepErrors::new(sink.as_write(), &out_errors);
                if two {
                    convert_next(reader, out, options, Seekable::No, write_data_set_pipelined)
                } else {
                    convert_next(reader, out, options, Seekable::No, write_data_set)
                }
                .map(|(out, report)| (out.count, report))
            }
        };
        let (written, report) = converted.map_err(|e| e.public(&self.in_errors, &out_errors))?;
        let mut report = self.report(report);
        report.written = written;
        Ok(Some(report))
    }

    /// Whether another data set follows the one converted (moving the reader to it).
    fn next_exists(&mut self) -> Result<bool, crate::Error> {
        if self.options.array_sequence {
            return Ok(false); // one output holds them all
        }
        self.reader
            .next_data_set()
            .map_err(|e| ToDicomError::Read(e).public(&self.in_errors, &IoErrors::default()))
    }

    /// The reader's new warnings, then the conversion's own.
    fn report(&mut self, own: DicomReport) -> Report {
        report(&self.reader, &mut self.warnings_reported, own)
    }
}

/// The report of one data set: the reader's warnings after the `reported` first, then the conversion's
/// own.
pub(crate) fn report(reader: &JsonReader<'_>, reported: &mut usize, own: DicomReport) -> Report {
    let (all, dropped) = reader.warnings();
    let new = all[(*reported).min(all.len())..].iter().cloned();
    *reported = all.len();
    let warnings = new
        .chain(own.warnings)
        .map(crate::Warning::from_json_reader)
        .collect();
    Report {
        transfer_syntax: own.transfer_syntax,
        warnings,
        warnings_dropped: dropped as u64,
        ..Report::default()
    }
}

/// DICOM JSON → DICOM of bytes in memory, with the default options (a PS3.10 file): the common case in
/// one line.
///
/// ```
/// let json = br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]}}"#;
/// let dicom = dcmflow::json_to_dicom(json)?;
/// assert_eq!(&dicom[128..132], b"DICM");
/// # Ok::<(), dcmflow::Error>(())
/// ```
pub fn json_to_dicom(json: &[u8]) -> Result<Vec<u8>, crate::Error> {
    let mut dicom = Vec::new();
    JsonToDicom::new(ToDicomOptions::default()).convert(json, &mut dicom)?;
    Ok(dicom)
}

/// Writes the data set from its first token after the meta to the end, and completes the output.
type WriteDataSet<W> =
    fn(&mut JsonReader<'_>, DicomWriter<W>, Token<'static>, NewUids) -> Result<W, ToDicomError>;

/// How the DICOM writer is made: plain, or over a seekable output (unknown lengths patched).
pub(crate) enum Seekable<W: Write> {
    No,
    Yes(fn(W, WriterOptions) -> std::io::Result<DicomWriter<W>>),
}

impl<W: Write> Seekable<W> {
    fn writer(
        &self,
        reader: &mut JsonReader<'_>,
        out: W,
        options: WriterOptions,
    ) -> Result<DicomWriter<W>, ToDicomError> {
        match self {
            Seekable::Yes(make) if !options.transfer_syntax.deflated => {
                reader.set_unmeasured_binary(true);
                make(out, options).map_err(|e| ToDicomError::Write(dcmflow_core::Error::io(&e, 0)))
            }
            _ => {
                reader.set_unmeasured_binary(false);
                Ok(DicomWriter::new(out, options))
            }
        }
    }
}

fn convert_next<W: Write>(
    reader: &mut JsonReader<'_>,
    out: W,
    options: &ToDicomOptions,
    seekable: Seekable<W>,
    write_rest: WriteDataSet<W>,
) -> Result<(W, DicomReport), ToDicomError> {
    if options.array_sequence {
        return data_sets_as_private_sequence(reader, out, options);
    }
    // PS3.18 F.2 / docs/design.md, Decisions: the top-level group 0002 keys come first (keys ascending); they decide the
    // transfer syntax and feed the meta, so they are gathered before the writer exists.
    let mut meta: Vec<(Header, Vec<u8>)> = Vec::new();
    let first =
        loop {
            let token = reader.read_token().map_err(ToDicomError::Read)?;
            match token {
                Token::Element(h) if h.tag.group() == 0x0002 => meta.push((h, Vec::new())),
                Token::Value { bytes, .. } if !meta.is_empty() => {
                    let value = &mut meta.last_mut().expect("non-empty").1;
                    value.extend_from_slice(bytes);
                }
                other => {
                    break other.to_static().ok_or(ToDicomError::Write(
                        dcmflow_core::Error::new(dcmflow_core::ErrorKind::TokenOrder, 0),
                    ))?
                }
            }
        };
    let (writer, ts) = start_writer(reader, out, options, &meta, seekable)?;
    let out = write_rest(reader, writer, first, NewUids::new(options.new_uids))?;
    Ok((
        out,
        DicomReport {
            transfer_syntax: Some(ts),
            ..Default::default()
        },
    ))
}

/// The DICOM writer for a data set whose file meta elements (group 0002) the JSON gave as `meta`: the
/// transfer syntax chosen (option, else the JSON's (0002,0010), else Explicit VR Little Endian) and the
/// meta written.
pub(crate) fn start_writer<W: Write>(
    reader: &mut JsonReader<'_>,
    out: W,
    options: &ToDicomOptions,
    meta: &[(Header, Vec<u8>)],
    seekable: Seekable<W>,
) -> Result<(DicomWriter<W>, TransferSyntax), ToDicomError> {
    let declared = meta
        .iter()
        .find(|(h, _)| h.tag == Tag::TRANSFER_SYNTAX_UID)
        .map(|(_, v)| {
            String::from_utf8_lossy(v)
                .trim_end_matches(['\0', ' '])
                .to_string()
        });
    let ts = match (options.transfer_syntax, &declared) {
        (Some(ts), _) => ts,
        (None, Some(uid)) => TransferSyntax::from_uid(uid)
            .ok_or_else(|| ToDicomError::TransferSyntax(uid.clone()))?,
        (None, None) => TransferSyntax::EXPLICIT_VR_LE,
    };
    reader.set_encapsulated_pixels(!ts.is_uncompressed());
    let mut writer = seekable.writer(reader, out, writer_options(ts, options))?;
    let write_err = ToDicomError::Write;
    if options.part10 && options.meta_from_json {
        for (h, value) in meta {
            // +Ug: the new SOP Instance UID goes into the meta from the data set, not the old one.
            if options.new_uids && h.tag == Tag(0x0002_0003) {
                continue;
            }
            let header = Header {
                len: value.len() as u32,
                ..*h
            };
            writer
                .write_token(&Token::Element(header))
                .map_err(write_err)?;
            writer
                .write_token(&Token::Value {
                    bytes: value,
                    last: true,
                })
                .map_err(write_err)?;
        }
    }
    Ok((writer, ts))
}

/// Where [`feed_data_set`] sends a data set's tokens. Errors are the writer's small type, converted only
/// on failure: returning the large `ToDicomError` from every call measured 7% slower.
trait DataSetSink {
    fn token(&mut self, token: &Token<'_>) -> Result<(), dcmflow_core::Error>;

    /// Value chunks at least this long are first offered to [`DataSetSink::take_value`].
    fn long_value(&self) -> usize {
        usize::MAX
    }

    /// Takes the `Value` chunk just read from `reader` as a buffer (`JsonReader::take_value`); false
    /// when the reader cannot hand it over (the caller then passes it as a token).
    fn take_value(
        &mut self,
        _reader: &mut JsonReader<'_>,
        _last: bool,
    ) -> Result<bool, dcmflow_core::Error> {
        Ok(false)
    }
}

impl<W: Write> DataSetSink for DicomWriter<W> {
    fn token(&mut self, token: &Token<'_>) -> Result<(), dcmflow_core::Error> {
        self.write_token(token)
    }
}

/// Hands `first` and the rest of the data set's tokens to `sink`, in order, with `+Ug` replacements.
fn feed_data_set(
    reader: &mut JsonReader<'_>,
    first: Token<'static>,
    mut uids: NewUids,
    sink: &mut impl DataSetSink,
) -> Result<(), ToDicomError> {
    let long_value = sink.long_value();
    let mut pending = Some(first);
    loop {
        let token = match pending.take() {
            Some(t) => t,
            None => reader.read_token().map_err(ToDicomError::Read)?,
        };
        match token {
            Token::Element(h) if uids.replaces(h.tag) => {
                replace_uid(reader, h.tag, &mut uids, sink)?;
                continue;
            }
            Token::Value { bytes, last } if bytes.len() >= long_value => {
                if !sink.take_value(reader, last).map_err(ToDicomError::Write)? {
                    let value = Token::Value {
                        bytes: reader.last_value(),
                        last,
                    };
                    sink.token(&value).map_err(ToDicomError::Write)?;
                }
                continue;
            }
            _ => {}
        }
        uids.track(&token);
        sink.token(&token).map_err(ToDicomError::Write)?;
        if token == Token::Eof {
            return Ok(());
        }
    }
}

/// `+Ug`: reads the old value of the element `tag` just read and passes its replacement.
fn replace_uid(
    reader: &mut JsonReader<'_>,
    tag: Tag,
    uids: &mut NewUids,
    sink: &mut impl DataSetSink,
) -> Result<(), ToDicomError> {
    let old = read_short_value(reader)?;
    let (header, uid) = uids.replacement(tag, &old);
    sink.token(&Token::Element(header))
        .map_err(ToDicomError::Write)?;
    sink.token(&Token::Value {
        bytes: &uid,
        last: true,
    })
    .map_err(ToDicomError::Write)
}

fn write_data_set<W: Write>(
    reader: &mut JsonReader<'_>,
    mut writer: DicomWriter<W>,
    first: Token<'static>,
    uids: NewUids,
) -> Result<W, ToDicomError> {
    feed_data_set(reader, first, uids, &mut writer)?;
    writer.finish().map_err(ToDicomError::Write)
}

/// The reading side of [`write_data_set_pipelined`].
struct PipelineSink {
    producer: pipeline::Producer,
    /// The writer's thread stopped taking tokens (its own error says why).
    stopped: bool,
}

impl PipelineSink {
    fn sent(&mut self, sent: Result<(), pipeline::Stopped>) -> Result<(), dcmflow_core::Error> {
        sent.map_err(|pipeline::Stopped| {
            // Replaced by the writer's own error once its thread is joined.
            self.stopped = true;
            dcmflow_core::Error::new(dcmflow_core::ErrorKind::TokenOrder, 0)
        })
    }
}

impl DataSetSink for PipelineSink {
    #[inline(always)] // with `push_inlined`: the token goes from the reader's registers into the batch
    fn token(&mut self, token: &Token<'_>) -> Result<(), dcmflow_core::Error> {
        let sent = self
            .producer
            .push_inlined(token, 0, dcmflow_core::Encoding::EXPLICIT_LE);
        self.sent(sent)
    }

    /// Long decoded InlineBinary chunks travel as the reader's own buffers: copying them into the
    /// batches cost more than the overlap gained (a 512 MiB value: 1.32× the roofline against 1.24× on
    /// one thread, into `/dev/null`).
    fn long_value(&self) -> usize {
        64 << 10
    }

    fn take_value(
        &mut self,
        reader: &mut JsonReader<'_>,
        last: bool,
    ) -> Result<bool, dcmflow_core::Error> {
        let spare = self.producer.spare();
        match reader.take_value(spare) {
            Ok(value) => {
                let sent =
                    self.producer
                        .push_owned(value, last, 0, dcmflow_core::Encoding::EXPLICIT_LE);
                self.sent(sent).map(|()| true)
            }
            Err(spare) => {
                self.producer.give_back(spare);
                Ok(false)
            }
        }
    }
}

/// [`write_data_set`] with the writer on a spawned thread: this one reads (the JSON reader is not
/// `Send`) and sends the tokens through the pipeline.
fn write_data_set_pipelined<W: Write + Send>(
    reader: &mut JsonReader<'_>,
    mut writer: DicomWriter<W>,
    first: Token<'static>,
    uids: NewUids,
) -> Result<W, ToDicomError> {
    let (producer, consumer) = pipeline::channel();
    std::thread::scope(|scope| {
        // Named, so that profiles and debuggers tell the two sides apart.
        let writing = std::thread::Builder::new()
            .name("dcmflow-write".into())
            .spawn_scoped(scope, move || {
                // Only this side's errors come back: a read error stays with the reader.
                consumer.replay_tokens(|r| writer.write_token(&r.token), |e| e)?;
                writer.finish()
            })
            .expect("failed to spawn thread"); // as `scope.spawn` does
        let mut sink = PipelineSink {
            producer,
            stopped: false,
        };
        let read = feed_data_set(reader, first, uids, &mut sink);
        let stopped = sink.stopped;
        if read.is_ok() {
            sink.producer.finish(None);
        } else {
            // The writer sees the tokens end where they are; its output is not used.
            drop(sink);
        }
        let written = writing.join().expect("the writer thread does not panic");
        match (read, written) {
            (Ok(()), Ok(out)) => Ok(out),
            // The writer stopped first: its own error says why.
            (_, Err(e)) if stopped => Err(ToDicomError::Write(e)),
            (Err(e), _) => Err(e),
            (Ok(()), Err(e)) => Err(ToDicomError::Write(e)),
        }
    })
}

fn writer_options(ts: TransferSyntax, options: &ToDicomOptions) -> WriterOptions {
    let mut writer_options = WriterOptions::new(ts);
    writer_options.lengths = options.lengths;
    writer_options.part10 = options.part10;
    writer_options.deflate_level = options.deflate_level;
    writer_options.keep_meta = false;
    // PS3.18 F.2.1.1 / docs/design.md, Decisions: unsorted keys are accepted (the reader warns) and written in tag order.
    writer_options.sort_elements = true;
    writer_options
}

/// The private creator of DCMTK json2dcm's `+ar` sequence.
const LIST_CREATOR: &[u8] = b"JSON2DCM_LIST_OF_DATASETS ";
const LIST_CREATOR_TAG: Tag = Tag(0x0009_0010);
const LIST_SEQUENCE_TAG: Tag = Tag(0x0009_1000);

/// `+ar`: one data set holding every data set of the array as an item of (0009,1000). Group 0002 keys
/// inside the data sets are dropped (an item has no file meta; PS3.10 7.1), with a warning.
fn data_sets_as_private_sequence<W: Write>(
    reader: &mut JsonReader<'_>,
    out: W,
    options: &ToDicomOptions,
) -> Result<(W, DicomReport), ToDicomError> {
    let ts = options
        .transfer_syntax
        .unwrap_or(TransferSyntax::EXPLICIT_VR_LE);
    reader.set_encapsulated_pixels(!ts.is_uncompressed());
    // Items are not the top level: every length must be known before its value.
    reader.set_unmeasured_binary(false);
    let mut writer = DicomWriter::new(out, writer_options(ts, options));
    let write_err = ToDicomError::Write;
    // PS3.5 7.8.1: the creator (0009,0010) reserves block 10xx of group 0009.
    let creator = Header {
        tag: LIST_CREATOR_TAG,
        vr: Vr::LO,
        len: LIST_CREATOR.len() as u32,
    };
    for token in [
        Token::Element(creator),
        Token::Value {
            bytes: LIST_CREATOR,
            last: true,
        },
        Token::SequenceStart {
            tag: LIST_SEQUENCE_TAG,
            vr: Vr::SQ,
            len: dcmflow_core::Length::Undefined,
        },
    ] {
        writer.write_token(&token).map_err(write_err)?;
    }
    let mut report = DicomReport {
        transfer_syntax: Some(ts),
        ..Default::default()
    };
    let mut uids = NewUids::new(options.new_uids);
    loop {
        writer
            .write_token(&Token::ItemStart {
                len: dcmflow_core::Length::Undefined,
            })
            .map_err(write_err)?;
        let mut dropped_meta = 0usize;
        loop {
            let token = reader.read_token().map_err(ToDicomError::Read)?;
            match token {
                Token::Eof => break,
                Token::Element(h) if uids.depth == 0 && h.tag.group() == 0x0002 => {
                    dropped_meta += 1;
                    skip_value(reader)?;
                    continue;
                }
                // Each data set of the array is a top level for +Ug.
                Token::Element(h) if uids.replaces(h.tag) => {
                    replace_uid(reader, h.tag, &mut uids, &mut writer)?;
                    continue;
                }
                _ => {}
            }
            uids.track(&token);
            writer.write_token(&token).map_err(write_err)?;
        }
        if dropped_meta > 0 {
            report.warnings.push(ReadWarning {
                kind: ReadWarningKind::MetaInItem,
                message: format!(
                    "data set {}: {dropped_meta} file meta (group 0002) element(s) dropped: an item \
                     of (0009,1000) has no file meta",
                    reader.data_set_index().max(1)
                ),
                line: 0,
                column: 0,
                path: String::new(),
            });
        }
        writer.write_token(&Token::ItemEnd).map_err(write_err)?;
        if !reader.next_data_set().map_err(ToDicomError::Read)? {
            break;
        }
    }
    writer.write_token(&Token::SequenceEnd).map_err(write_err)?;
    writer.write_token(&Token::Eof).map_err(write_err)?;
    let out = writer.finish().map_err(write_err)?;
    Ok((out, report))
}

/// The most of an old UID's value kept for `+Ug` (a UID has at most 64 bytes; the rest is skipped).
pub(crate) const LIMIT: usize = 1024;

/// The value of the element just read, up to 1 KiB (a UID has at most 64 bytes; the rest is skipped).
fn read_short_value(reader: &mut JsonReader<'_>) -> Result<Vec<u8>, ToDicomError> {
    let mut value = Vec::new();
    loop {
        match reader.read_token().map_err(ToDicomError::Read)? {
            Token::Value { bytes, last } => {
                let room = LIMIT.saturating_sub(value.len());
                value.extend_from_slice(&bytes[..bytes.len().min(room)]);
                if last {
                    return Ok(value);
                }
            }
            _ => {
                return Err(ToDicomError::Write(dcmflow_core::Error::new(
                    dcmflow_core::ErrorKind::TokenOrder,
                    0,
                )))
            }
        }
    }
}

/// Reads past the value tokens of the element just read.
fn skip_value(reader: &mut JsonReader<'_>) -> Result<(), ToDicomError> {
    loop {
        match reader.read_token().map_err(ToDicomError::Read)? {
            Token::Value { last: true, .. } => return Ok(()),
            Token::Value { .. } => {}
            _ => {
                return Err(ToDicomError::Write(dcmflow_core::Error::new(
                    dcmflow_core::ErrorKind::TokenOrder,
                    0,
                )))
            }
        }
    }
}

/// `+Ug`: Study, Series and SOP Instance UIDs of the top level (of each data set under `+ar`) replaced by
/// new ones. The same old UID gets the same new one, so data sets of one array that shared a study or a
/// series still do.
pub(crate) struct NewUids {
    enabled: bool,
    depth: usize,
    issued: HashMap<Vec<u8>, Vec<u8>>,
}

/// Old → new UIDs remembered per conversion; past this many, further UIDs still get new values but are
/// not remembered (memory stays bounded for any array).
const MAX_REMEMBERED_UIDS: usize = 1 << 16;

impl NewUids {
    pub(crate) fn new(enabled: bool) -> NewUids {
        NewUids {
            enabled,
            depth: 0,
            issued: HashMap::new(),
        }
    }

    /// Whether the element's value is replaced (the caller reads the old value and asks for the new one).
    pub(crate) fn replaces(&self, tag: Tag) -> bool {
        let replaced = matches!(tag.0, 0x0020_000D | 0x0020_000E | 0x0008_0018);
        self.enabled && self.depth == 0 && replaced
    }

    /// The header and value that replace an element whose old value is `old`.
    pub(crate) fn replacement(&mut self, tag: Tag, old: &[u8]) -> (Header, Vec<u8>) {
        let old = trim_uid_padding(old);
        let uid = match self.issued.get(old) {
            Some(uid) => uid.clone(),
            None => {
                let mut uid = new_uid().into_bytes();
                if uid.len() % 2 == 1 {
                    uid.push(0); // PS3.5 6.2: UI is padded with NUL
                }
                if !old.is_empty() && self.issued.len() < MAX_REMEMBERED_UIDS {
                    self.issued.insert(old.to_vec(), uid.clone());
                }
                uid
            }
        };
        let header = Header {
            tag,
            vr: Vr::UI,
            len: uid.len() as u32,
        };
        (header, uid)
    }

    pub(crate) fn track(&mut self, token: &Token<'_>) {
        match token {
            Token::SequenceStart { .. } | Token::PixelSequenceStart { .. } => self.depth += 1,
            Token::SequenceEnd => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
    }
}

/// A UID value without its padding (PS3.5 6.2: a trailing NUL, though writers also use spaces).
fn trim_uid_padding(value: &[u8]) -> &[u8] {
    let end = value
        .iter()
        .rposition(|&b| b != 0 && b != b' ')
        .map_or(0, |i| i + 1);
    &value[..end]
}

/// PS3.5 B.2: a UID derived from a random (version 4) UUID: "2.25." and the UUID as one decimal integer.
/// The 122 random bits come from std's `RandomState`, which the OS seeds per process.
pub fn new_uid() -> String {
    let mut bits: u128 = 0;
    for i in 0..2u64 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        bits = (bits << 64) | u128::from(h.finish());
    }
    // RFC 9562 §5.4: version 4, variant 10.
    bits = (bits & !(0xF << 76)) | (0x4 << 76);
    bits = (bits & !(0x3 << 62)) | (0x2 << 62);
    format!("2.25.{bits}")
}
