//! DICOM → DICOM: the reader's tokens straight into the writer.

use std::io::{Read, Seek, Write};

use dcmflow_core::{Encoding, Error, ErrorKind, Header, Token, TransferSyntax, Warning};
use dcmflow_dicom::{DicomReader, DicomWriter, LengthMode, ReaderOptions, WriterOptions};

/// How [`convert`] re-encodes: the output syntax and form, and how the input is read.
#[derive(Clone, Debug)]
pub struct ConvertOptions {
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

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            transfer_syntax: None,
            lengths: LengthMode::Keep,
            part10: true,
            deflate_level: 6,
            reader: ReaderOptions::default(),
        }
    }
}

/// Which side failed, so callers can map it to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvertError {
    /// The input is not readable DICOM (offset into the input).
    Read(Error),
    /// The output could not be written (offset into the output).
    Write(Error),
    /// The conversion asked for is not possible (compressed pixel data into another syntax, …).
    Unsupported(&'static str),
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConvertError::Read(e) => write!(f, "reading input: {e}"),
            ConvertError::Write(e) => write!(f, "writing output: {e}"),
            ConvertError::Unsupported(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ConvertError {}

/// What [`convert`] did.
#[derive(Debug, Default)]
pub struct Report {
    /// The input's transfer syntax, once known.
    pub source: Option<TransferSyntax>,
    /// The output's transfer syntax.
    pub target: Option<TransferSyntax>,
    /// What the reader tolerated in the input (each with its byte offset).
    pub warnings: Vec<Warning>,
    /// Warnings beyond the reader's limit, counted only.
    pub warnings_dropped: u64,
}

/// Converts DICOM held in memory (values borrowed, not copied).
pub fn convert<W: Write>(
    input: &[u8],
    output: W,
    options: &ConvertOptions,
) -> Result<Report, ConvertError> {
    run(
        DicomReader::from_slice(input, options.reader.clone()),
        output,
        options,
        plain_writer,
    )
}

/// Like [`convert`], appending to a `Vec` in memory: a change of byte order swaps large values straight
/// into `output` (one pass over each value instead of two; see `DicomWriter::new_in_memory`).
///
/// ```
/// # let input = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../corpus/synthetic/every_vr_explicit.dcm")).unwrap();
/// use dcmflow::{convert_to_vec, ConvertOptions};
/// use dcmflow::core::TransferSyntax;
/// let options = ConvertOptions { transfer_syntax: Some(TransferSyntax::EXPLICIT_VR_BE), ..Default::default() };
/// let mut big_endian = Vec::new();
/// convert_to_vec(&input, &mut big_endian, &options).unwrap();
/// assert_eq!(&big_endian[128..132], b"DICM");
/// ```
pub fn convert_to_vec(
    input: &[u8],
    output: &mut Vec<u8>,
    options: &ConvertOptions,
) -> Result<Report, ConvertError> {
    run(
        DicomReader::from_slice(input, options.reader.clone()),
        output,
        options,
        in_memory_writer,
    )
}

/// Converts DICOM from a stream in bounded memory.
pub fn convert_reader<R: Read + Send, W: Write>(
    input: R,
    output: W,
    options: &ConvertOptions,
) -> Result<Report, ConvertError> {
    run_stream(input, output, options, plain_writer)
}

/// Like [`convert_reader`] into a seekable output (a file): computed sequence lengths are patched in the
/// output instead of holding the sequence back (see `DicomWriter::new_seekable`).
pub fn convert_reader_seekable<R: Read + Send, W: Write + Seek>(
    input: R,
    output: W,
    options: &ConvertOptions,
) -> Result<Report, ConvertError> {
    run_stream(input, output, options, seekable_writer)
}

fn run_stream<R: Read + Send, W: Write>(
    input: R,
    output: W,
    options: &ConvertOptions,
    make_writer: fn(W, WriterOptions) -> std::io::Result<DicomWriter<W>>,
) -> Result<Report, ConvertError> {
    let reader = DicomReader::from_reader(input, options.reader.clone());
    run(reader, output, options, make_writer)
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
    options: &ConvertOptions,
    make_writer: fn(W, WriterOptions) -> std::io::Result<DicomWriter<W>>,
) -> Result<Report, ConvertError> {
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
    writer.finish().map_err(ConvertError::Write)?;
    Ok(Report {
        source: Some(source),
        target: Some(target),
        warnings: reader.take_warnings(),
        warnings_dropped: reader.warnings_dropped(),
    })
}

/// A non-`Value` token as `'static` (see [`Token::to_static`]); a `Value` here breaks the token grammar.
fn into_static_non_value(token: Token<'_>) -> Result<Token<'static>, Error> {
    token
        .to_static()
        .ok_or(Error::new(ErrorKind::TokenOrder, 0))
}
