//! DICOM → DICOM: the reader's tokens straight into the writer.

use std::io::{Seek, Write};

use dcmflow_core::{Encoding, Error, ErrorKind, Header, Token, TransferSyntax};
use dcmflow_dicom::{DicomReader, DicomWriter, LengthMode, ReaderOptions, WriterOptions};
use dcmflow_engine::Position;

use crate::io::{Input, IoErrors, KeepErrors, Output, Sink, Source};

/// How [`Transcode`] re-encodes: the output syntax and form, and how the input is read.
///
/// ```
/// use dcmflow::core::TransferSyntax;
/// let mut options = dcmflow::TranscodeOptions::default();
/// options.transfer_syntax = Some(TransferSyntax::EXPLICIT_VR_BE);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TranscodeOptions {
    /// Output transfer syntax; `None` keeps the input's.
    pub transfer_syntax: Option<TransferSyntax>,
    /// Sequence and item lengths: as in the input (the default), undefined, or computed.
    pub lengths: LengthMode,
    /// Write a PS3.10 file (preamble, DICM, meta); `false` writes a bare data set.
    pub part10: bool,
    /// Compression level 0–9 of a Deflated output syntax.
    pub deflate_level: u32,
    /// How the input is read (chunk size, depth limit, a forced transfer syntax, …).
    pub reader: ReaderOptions,
}

impl Default for TranscodeOptions {
    fn default() -> Self {
        TranscodeOptions {
            transfer_syntax: None,
            lengths: LengthMode::Keep,
            part10: true,
            deflate_level: 6,
            reader: ReaderOptions::default(),
        }
    }
}

/// Which side failed, inside this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConvertError {
    /// The input is not readable DICOM (offset into the input).
    Read(Error),
    /// The output could not be written (offset into the output).
    Write(Error),
    /// The conversion asked for is not possible (compressed pixel data into another syntax, …).
    Unsupported(&'static str),
}

impl ConvertError {
    fn public(self, input: &IoErrors, output: &IoErrors) -> crate::Error {
        match self {
            ConvertError::Read(e) => crate::Error::from_dicom(e, true).with_source(input.take()),
            ConvertError::Write(e) => crate::Error::from_dicom(e, false).with_source(output.take()),
            ConvertError::Unsupported(why) => {
                crate::Error::new(crate::Category::Unsupported, why, Position::default())
            }
        }
    }
}

/// DICOM → DICOM: re-encodes between the uncompressed transfer syntaxes (encapsulated data sets are
/// carried as they are), streamed. Into a seekable output, computed sequence lengths are patched in
/// afterwards instead of holding the sequence back; into a `Vec`, a change of byte order swaps values
/// straight into it.
///
/// ```
/// use dcmflow::{Transcode, TranscodeOptions};
/// use dcmflow::core::TransferSyntax;
/// # let bare_dataset = [0x10u8, 0x00, 0x10, 0x00, b'P', b'N', 4, 0, b'D', b'o', b'e', b' '];
/// let mut options = TranscodeOptions::default();
/// options.transfer_syntax = Some(TransferSyntax::EXPLICIT_VR_BE);
/// let mut out = Vec::new();
/// let report = Transcode::new(options).convert(&bare_dataset[..], &mut out)?;
/// assert_eq!(&out[128..132], b"DICM");
/// assert_eq!(report.source_transfer_syntax, Some(TransferSyntax::EXPLICIT_VR_LE));
/// # Ok::<(), dcmflow::Error>(())
/// ```
#[derive(Debug)]
pub struct Transcode {
    options: TranscodeOptions,
}

impl Transcode {
    /// A conversion with `options`.
    pub fn new(options: TranscodeOptions) -> Transcode {
        Transcode { options }
    }

    /// Re-encodes `input` into `output`.
    pub fn convert<'i, 'o>(
        &mut self,
        input: impl Into<Input<'i>>,
        output: impl Into<Output<'o>>,
    ) -> Result<crate::Report, crate::Error> {
        let (in_errors, out_errors) = (IoErrors::default(), IoErrors::default());
        let read = self.options.reader.clone();
        let reader = match input.into().source {
            Source::Slice(bytes) => DicomReader::from_slice(bytes, read),
            Source::File(file) => DicomReader::from_reader(KeepErrors::new(file, &in_errors), read),
            Source::Reader(inner) => {
                DicomReader::from_reader(KeepErrors::new(inner, &in_errors), read)
            }
        };
        let mut output = output.into();
        let options = &self.options;
        let converted = match &mut output.sink {
            Sink::Memory(vec) => {
                let start = vec.len() as u64;
                run(reader, &mut **vec, options, in_memory_writer)
                    .map(|(vec, report)| (vec.len() as u64 - start, report))
            }
            Sink::Seekable(w) => {
                let start = w.stream_position().ok();
                let out = KeepErrors::new(&mut **w, &out_errors);
                run(reader, out, options, seekable_writer)
                    .map(|(mut out, report)| (out.written_since(start), report))
            }
            Sink::Stream(w) => {
                let out = KeepErrors::new(&mut **w, &out_errors);
                run(reader, out, options, plain_writer).map(|(out, report)| (out.count, report))
            }
        };
        let (written, mut report) = converted.map_err(|e| e.public(&in_errors, &out_errors))?;
        report.written = written;
        Ok(report)
    }
}

fn plain_writer<W: Write>(out: W, options: WriterOptions) -> std::io::Result<DicomWriter<W>> {
    Ok(DicomWriter::new(out, options))
}

fn in_memory_writer(
    out: &mut Vec<u8>,
    options: WriterOptions,
) -> std::io::Result<DicomWriter<&mut Vec<u8>>> {
    Ok(DicomWriter::new_in_memory(out, options))
}

fn seekable_writer<W: Write + Seek>(
    out: W,
    options: WriterOptions,
) -> std::io::Result<DicomWriter<W>> {
    if options.transfer_syntax.deflated {
        return plain_writer(out, options);
    }
    DicomWriter::new_seekable(out, options)
}

/// File meta tokens held until the data set's transfer syntax is known (the writer is configured from it).
enum Held {
    Element(Header),
    Value(Vec<u8>, bool),
}

const MAX_HELD_META: usize = 1 << 20;

fn run<W: Write>(
    mut reader: DicomReader<'_>,
    output: W,
    options: &TranscodeOptions,
    make_writer: fn(W, WriterOptions) -> std::io::Result<DicomWriter<W>>,
) -> Result<(W, crate::Report), ConvertError> {
    let mut held = Vec::new();
    let mut held_bytes = 0usize;
    // Read the meta group; the first data set token tells us the source encoding.
    let first: Token<'static> = loop {
        match reader.read_token().map_err(ConvertError::Read)? {
            Token::Element(h) if h.tag.group() == 0x0002 => held.push(Held::Element(h)),
            Token::Value { bytes, last }
                if matches!(held.last(), Some(Held::Element(_) | Held::Value(_, false))) =>
            {
                held_bytes += bytes.len();
                if held_bytes > MAX_HELD_META {
                    return Err(ConvertError::Read(Error::new(
                        ErrorKind::BadFileMeta,
                        reader.position(),
                    )));
                }
                held.push(Held::Value(bytes.to_vec(), last));
            }
            other => break into_static_non_value(other).map_err(ConvertError::Read)?,
        }
    };
    let source = reader.transfer_syntax().unwrap_or(match reader.encoding() {
        e if e == Encoding::IMPLICIT_LE => TransferSyntax::IMPLICIT_VR_LE,
        e if e.big_endian => TransferSyntax::EXPLICIT_VR_BE,
        _ => TransferSyntax::EXPLICIT_VR_LE,
    });
    let target = options.transfer_syntax.unwrap_or(source);
    if target.uid != source.uid && !(source.is_uncompressed() && target.is_uncompressed()) {
        return Err(ConvertError::Unsupported(
            "dcmflow re-encodes between uncompressed transfer syntaxes only; compressed pixel data is carried, never transcoded",
        ));
    }
    let source_encoding = reader.encoding();
    let mut writer_options = WriterOptions::new(target);
    writer_options.source_big_endian = source_encoding.big_endian;
    writer_options.source_explicit_vr = source_encoding.explicit_vr;
    writer_options.lengths = options.lengths;
    writer_options.part10 = options.part10;
    writer_options.deflate_level = options.deflate_level;
    writer_options.preamble = reader.preamble().copied();
    // Group lengths count header bytes; they are wrong once explicit/implicit VR changes.
    writer_options.drop_group_lengths = source_encoding.explicit_vr != target.encoding.explicit_vr;
    let mut writer =
        make_writer(output, writer_options).map_err(|e| ConvertError::Write(Error::io(&e, 0)))?;
    // PS3.10 7.1: group 0002 is the file meta, not data set content; a bare data set has none (DCMTK
    // dcmconv -F).
    let held = if options.part10 { &held[..] } else { &[] };
    for h in held {
        let token = match h {
            Held::Element(header) => Token::Element(*header),
            Held::Value(bytes, last) => Token::Value { bytes, last: *last },
        };
        writer.write_token(&token).map_err(ConvertError::Write)?;
    }
    let mut token = first;
    loop {
        writer.write_token(&token).map_err(ConvertError::Write)?;
        if token == Token::Eof {
            break;
        }
        // Values are written while borrowed from the reader; other tokens are small and copied.
        loop {
            match reader.read_token().map_err(ConvertError::Read)? {
                Token::Value { bytes, last } => writer
                    .write_token(&Token::Value { bytes, last })
                    .map_err(ConvertError::Write)?,
                other => {
                    token = into_static_non_value(other).map_err(ConvertError::Read)?;
                    break;
                }
            }
        }
    }
    let output = writer.finish().map_err(ConvertError::Write)?;
    let report = crate::Report {
        transfer_syntax: Some(target),
        source_transfer_syntax: Some(source),
        warnings: reader
            .take_warnings()
            .into_iter()
            .map(crate::Warning::from_dicom)
            .collect(),
        warnings_dropped: reader.warnings_dropped(),
        ..crate::Report::default()
    };
    Ok((output, report))
}

/// A non-`Value` token as `'static` (see [`Token::to_static`]); a `Value` here breaks the token grammar.
fn into_static_non_value(token: Token<'_>) -> Result<Token<'static>, Error> {
    token
        .to_static()
        .ok_or(Error::new(ErrorKind::TokenOrder, 0))
}
