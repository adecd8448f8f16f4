//! What can go wrong reading DICOM JSON, and where: line, column, byte offset and the element path.

use std::fmt;

/// The class of a [`ReadError`]; the CLI maps these to exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadErrorKind {
    /// The input could not be read.
    Io(std::io::ErrorKind),
    /// Not JSON (RFC 8259): a syntax error, invalid UTF-8, a control character in a string, …
    Syntax,
    /// JSON, but not the DICOM JSON Model (PS3.18 F.2): a bad key, a missing or unknown `vr`, two values, …
    Model,
    /// A value that the VR cannot hold: an IS of 1.5, a US of 70000, an AT that is not 8 hex digits, …
    Value,
    /// A string the declared Specific Character Set cannot represent (CP-2518).
    Charset,
    /// A BulkDataURI that is refused (scheme, directory) or cannot be read.
    BulkData,
    /// A limit of this reader: nesting depth, or a string longer than it holds in memory.
    Limit,
    /// Pushed input ([`super::JsonReader::pushed`]) ran out before its end: push more, then read on.
    NeedInput,
}

/// An error with its position in the JSON text and the path of the element it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// What kind of problem it is (it decides the exit code).
    pub kind: ReadErrorKind,
    /// What is wrong, for people.
    pub message: String,
    /// 1-based line of the JSON text.
    pub line: u64,
    /// 1-based column, in bytes, of the JSON text.
    pub column: u64,
    /// 0-based byte offset in the JSON text.
    pub offset: u64,
    /// The element path, e.g. `00081140[1].00081155`; empty outside any element.
    pub path: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, " ({})", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ReadError {}

/// What kind of thing a [`ReadWarning`] reports: input that was accepted, or a value written in another
/// form than given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReadWarningKind {
    /// The keys of a data set are not ascending (PS3.18 F.2.1.1); the elements are written in tag order.
    UnsortedKeys,
    /// Option `lenient`: JSON that RFC 8259 refuses (a trailing comma) was accepted.
    LenientSyntax,
    /// Option `lenient`: DICOM JSON that PS3.18 F.2 refuses (a lower-case key, a bare value, a missing
    /// `vr`, a member name in another case, an item tag as a key, …) was accepted.
    LenientModel,
    /// A value breaks a VR rule of PS3.5 6.2 (length, characters); written as it is.
    VrRule,
    /// A value was written in another form than given: an integer from a decimal, a number given as a
    /// string, text the character set could not represent as given.
    ValueConverted,
    /// An element was dropped or replaced: a group length (R2), a BulkDataURI that is not read, the
    /// character set replaced by ISO_IR 192.
    ElementDropped,
    /// A Specific Character Set term this reader does not know.
    UnknownCharacterSet,
    /// An odd-length binary value padded with a zero byte (PS3.5 7.1.1).
    OddLengthPadded,
    /// Encapsulated Pixel Data that readers may not decode as pixels (trailing zeros after its last item,
    /// or an item stream under a native transfer syntax).
    PixelData,
    /// A file meta (group 0002) element inside an item, where none belongs (PS3.10 7.1): dropped.
    MetaInItem,
}

/// A tolerated problem: what was accepted, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadWarning {
    /// What kind of problem it is.
    pub kind: ReadWarningKind,
    /// What was accepted, for people.
    pub message: String,
    /// 1-based line of the JSON text.
    pub line: u64,
    /// 1-based column, in bytes.
    pub column: u64,
    /// The element path, e.g. `00081140[1].00081155`.
    pub path: String,
}

impl fmt::Display for ReadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, " ({})", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// An error before its position is attached (the lexer and the value encoders know what, the reader where).
///
/// Boxed so that `Result<T, Problem>` stays as small as `T` plus a pointer: the lexer's many small results
/// (`Result<bool, Problem>`, …) then come back in registers instead of through memory, which matters on
/// the per-token path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem(Box<ProblemData>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProblemData {
    pub kind: ReadErrorKind,
    pub message: String,
    /// Reported where the current binary value starts, not where reading stopped: how far its text
    /// had been read when the problem was seen depends on how it was read (measured, or spooled in
    /// pieces as the input came).
    pub at_value_start: bool,
}

impl std::ops::Deref for Problem {
    type Target = ProblemData;
    fn deref(&self) -> &ProblemData {
        &self.0
    }
}

impl Problem {
    #[cold]
    pub fn new(kind: ReadErrorKind, message: impl Into<String>) -> Problem {
        Problem(Box::new(ProblemData {
            kind,
            message: message.into(),
            at_value_start: false,
        }))
    }
    pub fn syntax(message: impl Into<String>) -> Problem {
        Problem::new(ReadErrorKind::Syntax, message)
    }
    pub fn model(message: impl Into<String>) -> Problem {
        Problem::new(ReadErrorKind::Model, message)
    }
    pub fn value(message: impl Into<String>) -> Problem {
        Problem::new(ReadErrorKind::Value, message)
    }
    /// This problem is reported where the current binary value starts (see `at_value_start`).
    pub fn at_value_start(mut self) -> Problem {
        self.0.at_value_start = true;
        self
    }
    pub fn into_data(self) -> ProblemData {
        *self.0
    }
}
