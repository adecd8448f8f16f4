//! DICOM → DICOM JSON from input the caller pushes in chunks (sans-IO): a server hands over a request
//! body's `Bytes` as they arrive and takes JSON out as it is written, with no thread and no `io::Read`
//! adapter. The JSON is the same as [`crate::DicomToJson::convert`] writes for the same bytes, whatever the
//! chunks; memory stays bounded by the writer's buffer and the reader's carry buffer (one element
//! header), since values are handed from the pushed chunks to the writer without a copy.

use std::io::Write;

use bytes::Bytes;
use dcmflow_core::{Encoding, ErrorKind, Token};
use dcmflow_dicom::DicomReader;
use dcmflow_json::{Compact, Formatter, Pretty};

use crate::io::{IoErrors, KeepErrors};
use crate::to_json::{BulkSlot, Feed, ReaderEnd, ToJsonError};
use crate::{Report, ToJsonOptions};

/// A DICOM → DICOM JSON conversion fed by [`PushDicomToJson::push`].
///
/// ```
/// use dcmflow::{DicomToJson, ToJsonOptions};
/// # let dicom = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../corpus/synthetic/every_vr_explicit.dcm")).unwrap();
/// let mut conversion = DicomToJson::new(ToJsonOptions::default()).push(Vec::new());
/// let mut json = Vec::new();
/// for chunk in dicom.chunks(1000) {
///     conversion.push(bytes::Bytes::copy_from_slice(chunk))?;   // as a network stack delivers them
///     json.append(conversion.output());                         // JSON written so far
/// }
/// let (rest, report) = conversion.finish()?;
/// json.extend(rest);
/// assert!(json.starts_with(b"{\"00080005\""));
/// # Ok::<(), dcmflow::Error>(())
/// ```
pub struct PushDicomToJson<'h, W: Write> {
    reader: DicomReader<'static>,
    feed: AnyFeed<'h, W>,
    ended: bool,
    /// The output's I/O errors, kept whole.
    errors: IoErrors,
}

enum AnyFeed<'h, W: Write> {
    Compact(Feed<'h, KeepErrors<W>, Compact>),
    Pretty(Feed<'h, KeepErrors<W>, Pretty>),
}

impl<W: Write> std::fmt::Debug for PushDicomToJson<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushDicomToJson")
            .field("reader", &self.reader)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "tokio")]
impl<W: Write> crate::codec::PushConversion for PushDicomToJson<'_, W> {
    type Output = W;
    fn feed(&mut self, chunk: Bytes) {
        self.reader.push(chunk);
    }
    fn end_input(&mut self) {
        self.reader.end_input();
    }
    // The JSON of a pushed chunk is a bounded multiple of it (base64 is 4/3): converted whole.
    fn convert_some(&mut self, _budget: u64) -> Result<bool, crate::Error> {
        self.convert().map(|()| false)
    }
    fn output(&mut self) -> &mut W {
        PushDicomToJson::output(self)
    }
    fn finish(self) -> Result<(W, Report), crate::Error> {
        PushDicomToJson::finish(self)
    }
}

impl<'h, W: Write> PushDicomToJson<'h, W> {
    /// A conversion writing JSON into `output` as the pushed DICOM allows (made by
    /// [`DicomToJson::push`](crate::DicomToJson::push)).
    pub(crate) fn new(output: W, options: &ToJsonOptions, bulk: Option<BulkSlot<'h>>) -> Self {
        let reader = DicomReader::pushed(options.reader.clone());
        let errors = IoErrors::default();
        let output = KeepErrors::new(output, &errors);
        let feed = if options.pretty {
            AnyFeed::Pretty(Feed::new(output, Pretty::default(), options, bulk))
        } else {
            AnyFeed::Compact(Feed::new(output, Compact, options, bulk))
        };
        PushDicomToJson {
            reader,
            feed,
            ended: false,
            errors,
        }
    }

    /// Hands over the next chunk of DICOM and converts as far as the input now goes. The chunk is kept
    /// (not copied) while values still refer to it; a `Vec<u8>` or `&'static [u8]` converts without a
    /// copy too.
    pub fn push(&mut self, chunk: impl Into<Bytes>) -> Result<(), crate::Error> {
        self.reader.push(chunk.into());
        self.convert()
    }

    /// The output, holding the JSON written so far (the writer stages up to a few hundred KiB before it
    /// writes them out).
    pub fn output(&mut self) -> &mut W {
        match &mut self.feed {
            AnyFeed::Compact(f) => &mut f.output().inner,
            AnyFeed::Pretty(f) => &mut f.output().inner,
        }
    }

    /// The input is complete: converts the rest and returns the output and the report.
    pub fn finish(mut self) -> Result<(W, Report), crate::Error> {
        self.reader.end_input();
        self.convert()?;
        let end = ReaderEnd::of(&mut self.reader);
        let finished = match self.feed {
            AnyFeed::Compact(f) => f.finish_with_output(end),
            AnyFeed::Pretty(f) => f.finish_with_output(end),
        };
        finished
            .map(|(output, report)| (output.inner, report))
            .map_err(|e| e.public(&IoErrors::default(), &self.errors))
    }

    fn convert(&mut self) -> Result<(), crate::Error> {
        let converted = match &mut self.feed {
            AnyFeed::Compact(f) => run(&mut self.reader, f, &mut self.ended),
            AnyFeed::Pretty(f) => run(&mut self.reader, f, &mut self.ended),
        };
        converted.map_err(|e| e.public(&IoErrors::default(), &self.errors))
    }
}

/// Tokens from the reader into the writer until the pushed input runs out or the data set ends.
fn run<W: Write, F: Formatter>(
    reader: &mut DicomReader<'static>,
    feed: &mut Feed<'_, KeepErrors<W>, F>,
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
