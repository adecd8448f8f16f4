use std::fmt;

use crate::{Tag, Vr};

/// What went wrong. Small and `Copy`: a kind plus the byte offset in [`Error`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ErrorKind {
    /// The input ended inside a header, a value or an open sequence/item.
    UnexpectedEof,
    /// Push input only: the bytes pushed so far end inside the next token. Not an error of the input:
    /// push more (or end the input) and ask again; the reader has stepped back to where it was.
    NeedInput,
    /// An explicit-VR header carries two bytes that name no VR, and the input does not read as implicit VR.
    InvalidVr([u8; 2]),
    /// Undefined length on an element that cannot have one (PS3.5 7.1.2 allows it for SQ, UN, OB/OW pixels).
    UndefinedLength(Tag),
    /// A value, item or sequence runs past the end of the defined-length item or sequence around it.
    OverrunsParent(Tag),
    /// Nesting deeper than the configured limit.
    DepthLimit(usize),
    /// An item or delimiter tag where a data element was expected, or the reverse.
    UnexpectedTag(Tag),
    /// The file meta information (group 0002) is larger than the reader accepts, or not Explicit VR LE.
    BadFileMeta,
    /// The deflated data set could not be inflated.
    Inflate,
    /// An I/O error from the underlying reader or writer.
    Io(std::io::ErrorKind),
    /// Writer: a token arrived where the grammar of [`crate::Token`] does not allow it.
    TokenOrder,
    /// Writer: the value is too long for a 2-byte length field of this VR in explicit VR.
    ValueTooLong(Tag, Vr),
    /// Writer: values announced one length and delivered another.
    LengthMismatch(Tag),
    /// Writer, lengths kept: the defined length of this sequence or item, taken from the input, does not
    /// match the content the reader recovered, and its length field has already been written to a
    /// stream that cannot be patched.
    StaleDefinedLength(Tag),
    /// Writer: a group 0002 sequence first in the data set, which readers would take for part of the
    /// file meta (PS3.10 7.1).
    SequenceInFileMeta(Tag),
    /// The transfer syntax cannot be written (an encapsulated syntax asked of an uncompressed data set, …).
    UnsupportedTransferSyntax,
    /// Writer (sorting): a second element with this tag in one data set level (PS3.5 7.1).
    DuplicateElement(Tag),
    /// Writer (sorting): the element belongs before this one, which has already been written out.
    UnsortableElement(Tag, Tag),
    /// Writer, Implicit VR: a value of this VR on a tag the data dictionary makes a sequence; a reader,
    /// which takes the VR from the dictionary there, would parse the value as items (PS3.5 7.1.3).
    ImplicitVrSequence(Tag, Vr),
}

/// An error with the byte offset where it was found (input offset for readers, output offset for writers).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The byte offset in the input (or output, for the writer) where it happened.
    pub offset: u64,
}

/// A result whose error is an [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind` at `offset`.
    pub const fn new(kind: ErrorKind, offset: u64) -> Error {
        Error { kind, offset }
    }
    /// An I/O error at `offset` (its kind is kept).
    pub fn io(e: &std::io::Error, offset: u64) -> Error {
        Error {
            kind: ErrorKind::Io(e.kind()),
            offset,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::UnexpectedEof => f.write_str("unexpected end of input"),
            ErrorKind::NeedInput => f.write_str("more input needed (push input)"),
            ErrorKind::InvalidVr(b) => write!(f, "invalid VR bytes {:02X} {:02X}", b[0], b[1]),
            ErrorKind::UndefinedLength(t) => write!(f, "undefined length not allowed on {t}"),
            ErrorKind::OverrunsParent(t) => {
                write!(f, "{t} runs past the end of its enclosing item or sequence")
            }
            ErrorKind::DepthLimit(d) => write!(f, "sequences nested deeper than the limit of {d}"),
            ErrorKind::UnexpectedTag(t) => write!(f, "unexpected {t} here"),
            ErrorKind::BadFileMeta => f.write_str("malformed file meta information (group 0002)"),
            ErrorKind::Inflate => f.write_str("deflated data set is corrupt"),
            ErrorKind::Io(k) => write!(f, "I/O error: {k}"),
            ErrorKind::TokenOrder => f.write_str("token out of order for the DICOM writer"),
            ErrorKind::ValueTooLong(t, vr) => {
                write!(f, "{t} value too long for a 16-bit length ({vr})")
            }
            ErrorKind::LengthMismatch(t) => {
                write!(f, "{t} value bytes differ from its declared length")
            }
            ErrorKind::StaleDefinedLength(t) => write!(
                f,
                "{t} the defined length kept from the input does not match its content (the input \
                 was recovered), and the length was already written out: write to a file, or \
                 choose undefined or computed lengths"
            ),
            ErrorKind::SequenceInFileMeta(t) => write!(
                f,
                "{t} is a sequence at the start of the data set: readers would take it for part of \
                 the file meta (group 0002, PS3.10 7.1), which holds no sequences"
            ),
            ErrorKind::UnsupportedTransferSyntax => f.write_str("unsupported transfer syntax"),
            ErrorKind::DuplicateElement(t) => write!(f, "{t} appears twice in one data set (PS3.5 7.1)"),
            ErrorKind::UnsortableElement(t, after) => write!(
                f,
                "{t} belongs before {after}, which had to be written out already (a value larger than \
                 the staging window lies between them): sort the input's keys"
            ),
            ErrorKind::ImplicitVrSequence(t, vr) => write!(
                f,
                "{t} holds a {vr} value, but the data dictionary makes it a sequence (SQ): in Implicit \
                 VR a reader would parse the value as items; write an explicit VR transfer syntax"
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte offset {}", self.kind, self.offset)
    }
}

impl std::error::Error for Error {}

/// A tolerated deviation from the standard. Readers record these and go on; see each reader's policy docs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WarningKind {
    /// PS3.10 7.1: no 128-byte preamble before `DICM`; read as a file starting at `DICM`, or as a bare data set.
    MissingPreamble,
    /// The transfer syntax says implicit VR but the data set is explicit (or the reverse); read as it is.
    VrEncodingMismatch {
        /// What the transfer syntax declared: explicit VR.
        declared_explicit: bool,
    },
    /// PS3.5 7.1.1: value lengths shall be even.
    OddLength(Tag),
    /// A group length element disagrees with the bytes of its group; the value is ignored.
    WrongGroupLength(Tag),
    /// A transfer syntax UID not in the registry; read as Explicit VR Little Endian.
    UnknownTransferSyntax,
    /// No (0002,0010) in the file meta; the data set encoding was detected from its first bytes.
    MissingTransferSyntax,
    /// An item delimiter where none belongs (top level, or inside a defined-length item); ignored.
    StrayDelimiter(Tag),
    /// A sequence delimiter closed an undefined-length item that had no item delimiter.
    MissingItemDelimiter,
    /// Bytes after the last complete element that are too few to be one (often padding); ignored.
    TrailingBytes(u32),
    /// The input ended inside an undefined-length sequence or item at top level; closed there.
    UnterminatedSequence,
    /// An explicit-VR header whose VR bytes name no VR: read with a 2-byte length and the dictionary VR
    /// (DCMTK's rule).
    InvalidVr([u8; 2]),
    /// The file meta group is Implicit VR; read as such.
    ImplicitVrFileMeta,
    /// A Type 1 file meta element (PS3.10 7.1) is missing.
    MissingMetaElement(Tag),
    /// An element whose tag is not greater than the one before it (PS3.5 7.1: ascending order).
    OutOfOrder(Tag),
    /// An element or item runs past the end of its defined-length parent; the parent's length is taken
    /// to be wrong and extended.
    OverrunsParent(Tag),
}

/// A warning with the byte offset it refers to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Warning {
    /// What was tolerated.
    pub kind: WarningKind,
    /// The byte offset in the input (or output, for the writer) where it happened.
    pub offset: u64,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.offset;
        match self.kind {
            WarningKind::MissingPreamble => write!(f, "no 128-byte preamble before DICM (offset {o})"),
            WarningKind::VrEncodingMismatch { declared_explicit } => write!(
                f,
                "transfer syntax declares {} VR but the data set at offset {o} is {} VR; read as found",
                if declared_explicit { "explicit" } else { "implicit" },
                if declared_explicit { "implicit" } else { "explicit" }
            ),
            WarningKind::OddLength(t) => write!(f, "{t} has an odd value length (offset {o})"),
            WarningKind::WrongGroupLength(t) => write!(f, "group length {t} is wrong; ignored (offset {o})"),
            WarningKind::UnknownTransferSyntax => {
                write!(f, "unknown transfer syntax UID; read as Explicit VR Little Endian (offset {o})")
            }
            WarningKind::MissingTransferSyntax => {
                write!(f, "file meta has no transfer syntax; data set encoding detected (offset {o})")
            }
            WarningKind::StrayDelimiter(t) => write!(f, "stray delimiter {t} ignored (offset {o})"),
            WarningKind::MissingItemDelimiter => {
                write!(f, "sequence delimiter closes an item with no item delimiter (offset {o})")
            }
            WarningKind::TrailingBytes(n) => write!(f, "{n} trailing bytes after the last element ignored (offset {o})"),
            WarningKind::UnterminatedSequence => {
                write!(f, "input ends inside an undefined-length sequence; closed there (offset {o})")
            }
            WarningKind::InvalidVr(b) => write!(
                f,
                "invalid VR bytes {:02X} {:02X}; read with a 2-byte length and the dictionary VR (offset {o})",
                b[0], b[1]
            ),
            WarningKind::ImplicitVrFileMeta => write!(f, "file meta element in implicit VR (offset {o})"),
            WarningKind::MissingMetaElement(t) => write!(f, "file meta lacks required element {t} (offset {o})"),
            WarningKind::OutOfOrder(t) => write!(f, "{t} is out of ascending tag order (offset {o})"),
            WarningKind::OverrunsParent(t) => {
                write!(f, "{t} runs past the end of its enclosing item or sequence; length extended (offset {o})")
            }
        }
    }
}
