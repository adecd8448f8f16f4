//! DICOM → DICOM JSON from input the caller pushes in chunks (sans-IO): a server hands over a request
//! body's `Bytes` as they arrive and takes JSON out as it is written, with no thread and no `io::Read`
//! adapter. The JSON is the same as [`crate::dicom_to_json`] writes for the same bytes, whatever the
//! chunks; memory stays bounded by the writer's buffer and the reader's carry buffer (one element
//! header), since values are handed from the pushed chunks to the writer without a copy.

use std::io::Write;

use bytes::Bytes;
use dcmflow_core::{Encoding, ErrorKind, Token};
use dcmflow_dicom::DicomReader;
use dcmflow_json::{Compact, Formatter, Pretty};

use crate::to_json::{Feed, ReaderEnd};
use crate::{JsonReport, ToJsonError, ToJsonOptions};

/// A DICOM → DICOM JSON conversion fed by [`PushDicomToJson::push`].
///
/// ```
/// use dcmflow::{PushDicomToJson, ToJsonOptions};
/// # let dicom = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../corpus/synthetic/every_vr_explicit.dcm")).unwrap();
/// let mut conversion = PushDicomToJson::new(Vec::new(), &ToJsonOptions::default());
/// let mut json = Vec::new();
/// for chunk in dicom.chunks(1000) {
///     conversion.push(bytes::Bytes::copy_from_slice(chunk))?;   // as a network stack delivers them
///     json.append(conversion.output());                         // JSON written so far
/// }
/// let (rest, report) = conversion.finish()?;
/// json.extend(rest);
/// assert!(json.starts_with(b"{\"00080005\""));
/// # Ok::<(), dcmflow::ToJsonError>(())
/// ```
pub struct PushDicomToJson<W: Write> {
    reader: DicomReader<'static>,
    feed: AnyFeed<W>,
    ended: bool,
}

/// A [`PushDicomToJson`] as a `tokio_util::codec::Decoder` (feature `tokio`): each call converts the
/// bytes buffered so far and yields the JSON written meanwhile; at the end of the stream it yields the
/// rest. Use it with `FramedRead` over any `AsyncRead`; the report is [`DicomToJsonDecoder::report`].
#[cfg(feature = "tokio")]
#[derive(Debug)]
pub struct DicomToJsonDecoder {
    conversion: Option<PushDicomToJson<Vec<u8>>>,
    report: Option<JsonReport>,
}

#[cfg(feature = "tokio")]
impl DicomToJsonDecoder {
    /// A decoder converting with `options`.
    pub fn new(options: &ToJsonOptions) -> Self {
        DicomToJsonDecoder {
            conversion: Some(PushDicomToJson::new(Vec::new(), options)),
            report: None,
        }
    }

    /// The conversion's report, once the stream has ended.
    pub fn report(&self) -> Option<&JsonReport> {
        self.report.as_ref()
    }
}

#[cfg(feature = "tokio")]
fn decode_error(e: ToJsonError) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e)
}

#[cfg(feature = "tokio")]
impl tokio_util::codec::Decoder for DicomToJsonDecoder {
    type Item = Bytes;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut bytes::BytesMut) -> Result<Option<Bytes>, std::io::Error> {
        let Some(conversion) = self.conversion.as_mut() else {
            src.clear();
            return Ok(None);
        };
        if !src.is_empty() {
            conversion
                .push(src.split().freeze())
                .map_err(decode_error)?;
        }
        let json = std::mem::take(conversion.output());
        Ok((!json.is_empty()).then(|| Bytes::from(json)))
    }

    fn decode_eof(&mut self, src: &mut bytes::BytesMut) -> Result<Option<Bytes>, std::io::Error> {
        if let Some(json) = self.decode(src)? {
            return Ok(Some(json));
        }
        let Some(conversion) = self.conversion.take() else {
            return Ok(None);
        };
        let (json, report) = conversion.finish().map_err(decode_error)?;
        self.report = Some(report);
        Ok((!json.is_empty()).then(|| Bytes::from(json)))
    }
}

enum AnyFeed<W: Write> {
    Compact(Feed<'static, W, Compact>),
    Pretty(Feed<'static, W, Pretty>),
}

impl<W: Write> std::fmt::Debug for PushDicomToJson<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushDicomToJson")
            .field("reader", &self.reader)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<W: Write> PushDicomToJson<W> {
    /// A conversion writing JSON into `output` as the pushed DICOM allows.
    pub fn new(output: W, options: &ToJsonOptions) -> Self {
        let reader = DicomReader::pushed(options.reader.clone());
        let feed = if options.pretty {
            AnyFeed::Pretty(Feed::new(output, Pretty::default(), options, None))
        } else {
            AnyFeed::Compact(Feed::new(output, Compact, options, None))
        };
        PushDicomToJson {
            reader,
            feed,
            ended: false,
        }
    }

    /// Hands over the next chunk of DICOM and converts as far as the input now goes.
    pub fn push(&mut self, chunk: Bytes) -> Result<(), ToJsonError> {
        self.reader.push(chunk);
        self.convert()
    }

    /// The output, holding the JSON written so far (the writer stages up to a few hundred KiB before it
    /// writes them out).
    pub fn output(&mut self) -> &mut W {
        match &mut self.feed {
            AnyFeed::Compact(f) => f.output(),
            AnyFeed::Pretty(f) => f.output(),
        }
    }

    /// The input is complete: converts the rest and returns the output and the report.
    pub fn finish(mut self) -> Result<(W, JsonReport), ToJsonError> {
        self.reader.end_input();
        self.convert()?;
        let end = ReaderEnd::of(&mut self.reader);
        match self.feed {
            AnyFeed::Compact(f) => f.finish_with_output(end),
            AnyFeed::Pretty(f) => f.finish_with_output(end),
        }
    }

    fn convert(&mut self) -> Result<(), ToJsonError> {
        match &mut self.feed {
            AnyFeed::Compact(f) => run(&mut self.reader, f, &mut self.ended),
            AnyFeed::Pretty(f) => run(&mut self.reader, f, &mut self.ended),
        }
    }
}

/// Tokens from the reader into the writer until the pushed input runs out or the data set ends.
fn run<W: Write, F: Formatter>(
    reader: &mut DicomReader<'static>,
    feed: &mut Feed<'static, W, F>,
    ended: &mut bool,
) -> Result<(), ToJsonError> {
    while !*ended {
        let position = reader.position();
        match reader.read_token() {
            Err(e) if e.kind == ErrorKind::NeedInput => return Ok(()),
            Err(e) => return Err(ToJsonError::Read(e)),
            Ok(Token::Value { bytes, last }) => {
                let value = Token::Value { bytes, last };
                feed.token(&value, position, Encoding::EXPLICIT_LE, || None)?;
            }
            Ok(other) => {
                let token = other.to_static().unwrap_or(Token::Eof);
                let (offset, encoding) = (reader.token_offset(), reader.encoding());
                *ended = feed.token(&token, offset, encoding, || reader.transfer_syntax())?;
            }
        }
    }
    Ok(())
}
