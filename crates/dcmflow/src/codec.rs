//! Push conversions as `tokio_util::codec::Decoder`s (feature `tokio`): each `decode` converts the
//! bytes buffered so far and yields the output written meanwhile, about [`FRAME`] bytes at most
//! (`FramedRead` calls again while frames come); at the end of the stream `decode_eof` yields the rest.
//! Use them with `FramedRead` over any `AsyncRead`.

use bytes::Bytes;

use crate::Report;

/// A frame holds about this much output: what a spooled value (written in the step that ends it) is
/// cut into, so that memory stays bounded whatever the value's size.
pub(crate) const FRAME: u64 = 1 << 20;

/// What a push conversion offers a codec.
pub(crate) trait PushConversion {
    type Output;
    /// Takes a chunk without converting.
    fn feed(&mut self, chunk: Bytes);
    fn end_input(&mut self);
    /// Converts as far as the input goes or until about `budget` bytes were written; whether the budget
    /// stopped it.
    fn convert_some(&mut self, budget: u64) -> Result<bool, crate::Error>;
    fn output(&mut self) -> &mut Self::Output;
    fn finish(self) -> Result<(Self::Output, Report), crate::Error>;
}

/// A push conversion into a `Vec`, driven by a tokio codec: each frame it yields holds the output of
/// the input so far, cut into frames of about 1 MiB where one step writes more (a long value spooled
/// from pushed JSON is written out when its string ends).
#[derive(Debug)]
pub struct PushDecoder<C> {
    conversion: Option<C>,
    report: Option<Report>,
}

/// DICOM → DICOM JSON as a `tokio_util::codec::Decoder` (feature `tokio`): DICOM bytes in, JSON out.
/// The report is [`PushDecoder::report`] once the stream has ended.
pub type DicomToJsonDecoder = PushDecoder<crate::PushDicomToJson<'static, Vec<u8>>>;

/// DICOM JSON → DICOM as a `tokio_util::codec::Decoder` (feature `tokio`): JSON bytes in, DICOM out.
/// The report is [`PushDecoder::report`] once the stream has ended.
pub type JsonToDicomDecoder = PushDecoder<crate::PushJsonToDicom<Vec<u8>>>;

impl<C> PushDecoder<C> {
    fn of(conversion: C) -> Self {
        PushDecoder {
            conversion: Some(conversion),
            report: None,
        }
    }

    /// The conversion's report, once the stream has ended.
    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }
}

impl DicomToJsonDecoder {
    /// A decoder converting with `options`.
    pub fn new(options: &crate::ToJsonOptions) -> Self {
        Self::of(crate::DicomToJson::new(options.clone()).push(Vec::new()))
    }

    /// A decoder for `conversion` (its options, and a bulk data handler it owns:
    /// [`crate::DicomToJson::bulk_handler_owned`]).
    pub fn from_conversion(conversion: crate::DicomToJson<'static>) -> Self {
        Self::of(conversion.push(Vec::new()))
    }
}

impl JsonToDicomDecoder {
    /// A decoder for `conversion` (its options and bulk data resolver).
    pub fn new(conversion: crate::JsonToDicom) -> Self {
        Self::of(conversion.push(Vec::new()))
    }
}

/// A conversion's error as the `io::Error` a codec returns (the error itself is its source).
fn decode_error(e: crate::Error) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e)
}

impl<C: PushConversion<Output = Vec<u8>>> tokio_util::codec::Decoder for PushDecoder<C> {
    type Item = Bytes;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut bytes::BytesMut) -> Result<Option<Bytes>, std::io::Error> {
        let Some(conversion) = self.conversion.as_mut() else {
            src.clear();
            return Ok(None);
        };
        if !src.is_empty() {
            conversion.feed(src.split().freeze());
        }
        conversion.convert_some(FRAME).map_err(decode_error)?;
        let out = std::mem::take(conversion.output());
        Ok((!out.is_empty()).then(|| Bytes::from(out)))
    }

    fn decode_eof(&mut self, src: &mut bytes::BytesMut) -> Result<Option<Bytes>, std::io::Error> {
        if let Some(conversion) = self.conversion.as_mut() {
            if !src.is_empty() {
                conversion.feed(src.split().freeze());
            }
            conversion.end_input();
        }
        if let Some(out) = self.decode(src)? {
            return Ok(Some(out));
        }
        let Some(conversion) = self.conversion.take() else {
            return Ok(None);
        };
        let (out, report) = conversion.finish().map_err(decode_error)?;
        self.report = Some(report);
        Ok((!out.is_empty()).then(|| Bytes::from(out)))
    }
}
