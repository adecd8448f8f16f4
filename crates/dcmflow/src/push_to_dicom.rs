//! DICOM JSON → DICOM from input the caller pushes in chunks (sans-IO): a server hands over a request
//! body's `Bytes` as they arrive and takes DICOM out as it is written, with no thread and no `io::Read`
//! adapter. The DICOM is the same as [`crate::JsonToDicom::convert`] writes for the same JSON into a
//! stream output, whatever the chunks, and so are the warnings and errors.
//!
//! Memory: the JSON reader keeps the bytes of its current step (one element's JSON, or a piece of a
//! long InlineBinary string; see `dcmflow_json::read::JsonReader::pushed`) and the chunks pushed and not
//! yet read; the writer stages up to a few hundred KiB. A step that runs out of pushed bytes is retried
//! after the next push.

use std::io::Write;

use bytes::Bytes;
use dcmflow_core::{Header, Tag, Token, TransferSyntax};
use dcmflow_dicom::DicomWriter;
use dcmflow_json::read::{JsonReader, ReadErrorKind};

use crate::io::{IoErrors, KeepErrors};
use crate::to_dicom::{
    report, start_writer, DicomReport, NewUids, Seekable, ToDicomError, ToDicomOptions, LIMIT,
};
use crate::Report;

/// A DICOM JSON → DICOM conversion fed by [`PushJsonToDicom::push`] (made by
/// [`JsonToDicom::push`](crate::JsonToDicom::push)).
///
/// ```
/// use dcmflow::{JsonToDicom, ToDicomOptions};
/// let json = br#"{"00080060":{"vr":"CS","Value":["MR"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]}}"#;
/// let mut conversion = JsonToDicom::new(ToDicomOptions::default()).push(Vec::new());
/// let mut dicom = Vec::new();
/// for chunk in json.chunks(10) {
///     conversion.push(bytes::Bytes::copy_from_slice(chunk))?;   // as a network stack delivers them
///     dicom.append(conversion.output());                        // DICOM written so far
/// }
/// let (rest, report) = conversion.finish()?;
/// dicom.extend(rest);
/// assert_eq!(&dicom[128..132], b"DICM");
/// assert!(dicom.ends_with(b"Doe^John"));
/// # Ok::<(), dcmflow::Error>(())
/// ```
pub struct PushJsonToDicom<W: Write> {
    reader: JsonReader<'static>,
    options: ToDicomOptions,
    state: State<KeepErrors<W>>,
    /// The output's I/O errors, kept whole.
    errors: IoErrors,
    warnings_reported: usize,
}

enum State<W: Write> {
    /// The top-level group 0002 elements, gathered before the writer exists (they choose the transfer
    /// syntax and feed the meta).
    Meta {
        out: W,
        meta: Vec<(Header, Vec<u8>)>,
    },
    /// The data set, token by token into the writer.
    DataSet {
        writer: DicomWriter<W>,
        uids: NewUids,
        /// `+Ug`: the element whose old UID is being read, and its value so far.
        replacing: Option<(Tag, Vec<u8>)>,
        transfer_syntax: TransferSyntax,
    },
    /// The data set has ended (its `Eof` written).
    Done {
        writer: DicomWriter<W>,
        transfer_syntax: TransferSyntax,
    },
    /// A conversion failed; it stays failed.
    Failed,
}

impl<W: Write> std::fmt::Debug for PushJsonToDicom<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Meta { .. } => "meta",
            State::DataSet { .. } => "data set",
            State::Done { .. } => "done",
            State::Failed => "failed",
        };
        f.debug_struct("PushJsonToDicom")
            .field("reader", &self.reader)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "tokio")]
impl<W: Write> crate::codec::PushConversion for PushJsonToDicom<W> {
    type Output = W;
    fn feed(&mut self, chunk: Bytes) {
        self.reader.push(chunk);
    }
    fn end_input(&mut self) {
        self.reader.end_input();
    }
    fn convert_some(&mut self, budget: u64) -> Result<bool, crate::Error> {
        self.convert(Some(budget))
    }
    fn output(&mut self) -> &mut W {
        PushJsonToDicom::output(self)
    }
    fn finish(self) -> Result<(W, Report), crate::Error> {
        PushJsonToDicom::finish(self)
    }
}

impl<W: Write> PushJsonToDicom<W> {
    pub(crate) fn new(
        output: W,
        options: ToDicomOptions,
        resolver: Option<Box<dyn dcmflow_json::read::BulkResolver>>,
    ) -> Self {
        let mut reader = JsonReader::pushed(options.reader.clone());
        if let Some(resolver) = resolver {
            reader.set_bulk_resolver(resolver);
        }
        let errors = IoErrors::default();
        let out = KeepErrors::new(output, &errors);
        PushJsonToDicom {
            reader,
            options,
            state: State::Meta {
                out,
                meta: Vec::new(),
            },
            errors,
            warnings_reported: 0,
        }
    }

    /// Hands over the next chunk of JSON and converts as far as the input now goes. The chunk is kept
    /// (not copied) until the reader gets to it; a `Vec<u8>` or `&'static [u8]` is taken without a copy
    /// too.
    pub fn push(&mut self, chunk: impl Into<Bytes>) -> Result<(), crate::Error> {
        self.reader.push(chunk.into());
        self.convert(None).map(|_| ())
    }

    /// The output, holding the DICOM written so far (the writer stages up to a few hundred KiB, and a
    /// sequence whose length it computes, before it writes them out). A long InlineBinary that had to be
    /// spooled is written whole by the call that reads the end of its string: with a `Vec` output, take
    /// it from here after that call, or give an output that sends it on to keep memory bounded.
    pub fn output(&mut self) -> &mut W {
        match &mut self.state {
            State::Meta { out, .. } => &mut out.inner,
            State::DataSet { writer, .. } | State::Done { writer, .. } => {
                &mut writer.output_mut().inner
            }
            State::Failed => unreachable!("a failed conversion is not used again"),
        }
    }

    /// The input is complete: converts the rest and returns the output and the report.
    pub fn finish(mut self) -> Result<(W, Report), crate::Error> {
        self.reader.end_input();
        self.convert(None)?;
        let State::Done {
            writer,
            transfer_syntax,
        } = std::mem::replace(&mut self.state, State::Failed)
        else {
            unreachable!("the end of input completes the data set or fails");
        };
        let out = writer
            .finish()
            .map_err(|e| self.public(ToDicomError::Write(e)))?;
        let own = DicomReport {
            transfer_syntax: Some(transfer_syntax),
            ..DicomReport::default()
        };
        let mut report = report(&self.reader, &mut self.warnings_reported, own);
        report.written = out.count;
        Ok((out.inner, report))
    }

    fn public(&self, e: ToDicomError) -> crate::Error {
        e.public(&IoErrors::default(), &self.errors)
    }

    /// Converts as far as the input goes, or until `budget` more bytes have been written; whether it
    /// stopped for the budget (a spooled value ends in one step and is written in the next ones).
    fn convert(&mut self, budget: Option<u64>) -> Result<bool, crate::Error> {
        if matches!(self.state, State::Failed) {
            return Err(crate::Error::new(
                crate::Category::Internal,
                "the conversion failed before: it takes no more input",
                crate::Position::default(),
            ));
        }
        if self.options.array_sequence {
            self.state = State::Failed;
            return Err(crate::Error::new(
                crate::Category::Unsupported,
                "option `array_sequence` is not available for pushed input (convert from a reader)",
                crate::Position::default(),
            ));
        }
        match self.run(budget) {
            Ok(more) => Ok(more),
            Err(e) => {
                self.state = State::Failed;
                Err(self.public(e))
            }
        }
    }

    /// Tokens from the reader into the writer until the pushed input runs out, the data set ends, or
    /// (with a budget) that many bytes have been written; true when stopped by the budget.
    fn run(&mut self, budget: Option<u64>) -> Result<bool, ToDicomError> {
        let PushJsonToDicom {
            reader,
            options,
            state,
            ..
        } = self;
        let stop_at = budget.map(|b| written(state).saturating_add(b));
        loop {
            if matches!(state, State::Done { .. }) {
                return Ok(false);
            }
            if stop_at.is_some_and(|at| written(state) >= at) {
                return Ok(true);
            }
            let token = match reader.read_token() {
                Err(e) if e.kind == ReadErrorKind::NeedInput => return Ok(false),
                Err(e) => return Err(ToDicomError::Read(e)),
                Ok(token) => token,
            };
            let first =
                match state {
                    State::Meta { meta, .. } => match token {
                        Token::Element(h) if h.tag.group() == 0x0002 => {
                            meta.push((h, Vec::new()));
                            continue;
                        }
                        Token::Value { bytes, .. } if !meta.is_empty() => {
                            let value = &mut meta.last_mut().expect("non-empty").1;
                            value.extend_from_slice(bytes);
                            continue;
                        }
                        other => other.to_static().ok_or(ToDicomError::Write(
                            dcmflow_core::Error::new(dcmflow_core::ErrorKind::TokenOrder, 0),
                        ))?,
                    },
                    State::DataSet { .. } => {
                        data_set_token(state, &token)?;
                        continue;
                    }
                    State::Done { .. } | State::Failed => unreachable!("checked above"),
                };
            start_data_set(reader, state, options, &first)?;
        }
    }
}

/// Bytes written to the output so far.
fn written<W: Write>(state: &mut State<KeepErrors<W>>) -> u64 {
    match state {
        State::Meta { out, .. } => out.count,
        State::DataSet { writer, .. } | State::Done { writer, .. } => writer.output_mut().count,
        State::Failed => 0,
    }
}

/// The first token after the file meta: the writer starts (the meta written), and takes the token.
fn start_data_set<W: Write>(
    reader: &mut JsonReader<'_>,
    state: &mut State<W>,
    options: &ToDicomOptions,
    first: &Token<'_>,
) -> Result<(), ToDicomError> {
    let State::Meta { out, meta } = std::mem::replace(state, State::Failed) else {
        unreachable!("called in the meta state");
    };
    // A stream output: every length is known before its value (no patching).
    let (writer, transfer_syntax) = start_writer(reader, out, options, &meta, Seekable::No)?;
    *state = State::DataSet {
        writer,
        uids: NewUids::new(options.new_uids),
        replacing: None,
        transfer_syntax,
    };
    data_set_token(state, first)
}

/// One token of the data set into the writer, with `+Ug` replacements (as the pull conversion makes
/// them).
fn data_set_token<W: Write>(state: &mut State<W>, token: &Token<'_>) -> Result<(), ToDicomError> {
    let State::DataSet {
        writer,
        uids,
        replacing,
        transfer_syntax,
    } = state
    else {
        unreachable!("called in the data set state");
    };
    let write_err = ToDicomError::Write;
    if let Some((tag, old)) = replacing.as_mut() {
        let Token::Value { bytes, last } = *token else {
            return Err(ToDicomError::Write(dcmflow_core::Error::new(
                dcmflow_core::ErrorKind::TokenOrder,
                0,
            )));
        };
        let room = LIMIT.saturating_sub(old.len());
        old.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if last {
            let (header, uid) = uids.replacement(*tag, old);
            *replacing = None;
            writer
                .write_token(&Token::Element(header))
                .map_err(write_err)?;
            writer
                .write_token(&Token::Value {
                    bytes: &uid,
                    last: true,
                })
                .map_err(write_err)?;
        }
        return Ok(());
    }
    if let Token::Element(h) = token {
        if uids.replaces(h.tag) {
            *replacing = Some((h.tag, Vec::new()));
            return Ok(());
        }
    }
    uids.track(token);
    writer.write_token(token).map_err(write_err)?;
    if *token == Token::Eof {
        let transfer_syntax = *transfer_syntax;
        let State::DataSet { writer, .. } = std::mem::replace(state, State::Failed) else {
            unreachable!("matched above");
        };
        *state = State::Done {
            writer,
            transfer_syntax,
        };
    }
    Ok(())
}
