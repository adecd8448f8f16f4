//! The one error, warning and report type of every conversion.

use std::fmt;
use std::io;

use dcmflow_core::{ErrorKind, Tag, TransferSyntax, WarningKind};
use dcmflow_engine::Position;
use dcmflow_json::read::{ReadError, ReadErrorKind, ReadWarning, ReadWarningKind};
use dcmflow_json::{JsonError, JsonWarning, JsonWarningKind};

/// What kind of failure an [`Error`] is: what a caller decides on (an exit code, a retry, a 4xx or 5xx).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// Reading the input failed (I/O); [`std::error::Error::source`] holds the `io::Error`.
    InputIo,
    /// The input is not valid in its format: not DICOM, not JSON (RFC 8259), not the DICOM JSON model.
    InvalidInput,
    /// A value cannot be written as asked: a JSON value its VR cannot hold, an IS/DS that is not a number
    /// under `NumberPolicy::Number`.
    InvalidValue,
    /// Text the declared character set cannot represent.
    CharacterSet,
    /// Bulk data could not be read (a BulkDataURI refused or unreadable) or written (a handler failed).
    BulkData,
    /// Writing the output failed (I/O); [`std::error::Error::source`] holds the `io::Error`.
    OutputIo,
    /// The conversion asked for cannot be done: an unknown or unwritable transfer syntax, encapsulated
    /// pixel data into another syntax, a value too long for its length field, …
    Unsupported,
    /// A limit of the options was reached: nesting depth, a token longer than the reader holds.
    Limit,
    /// A defect of dcmflow itself (its writer refused what its reader produced): please report it with
    /// the input.
    Internal,
}

/// Why a conversion failed: a [`Category`], a message for people, where it happened, and the I/O error
/// underneath when there is one. Boxed, so a `Result<T, Error>` costs a pointer.
pub struct Error(Box<Inner>);

struct Inner {
    category: Category,
    message: String,
    position: Position,
    source: Option<io::Error>,
}

impl Error {
    pub(crate) fn new(category: Category, message: impl Into<String>, position: Position) -> Error {
        Error(Box::new(Inner {
            category,
            message: message.into(),
            position,
            source: None,
        }))
    }

    /// What kind of failure this is.
    pub fn classify(&self) -> Category {
        self.0.category
    }

    /// Where it happened (in the input, or the output for a writing failure).
    pub fn position(&self) -> &Position {
        &self.0.position
    }

    /// What went wrong, without the position.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The I/O error's kind, for [`Category::InputIo`] and [`Category::OutputIo`].
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        self.0.source.as_ref().map(io::Error::kind)
    }

    /// Replaces the I/O error underneath with the one the input or output really returned (the readers
    /// and writers keep only its kind).
    pub(crate) fn with_source(mut self, source: Option<io::Error>) -> Error {
        if let Some(source) = source {
            self.0.source = Some(source);
        }
        self
    }

    /// A DICOM reader's error (the input) or writer's error (the output, for I/O; else the conversion).
    pub(crate) fn from_dicom(e: dcmflow_core::Error, reading: bool) -> Error {
        let category = match e.kind {
            ErrorKind::Io(_) if reading => Category::InputIo,
            ErrorKind::Io(_) => Category::OutputIo,
            ErrorKind::DepthLimit(_) => Category::Limit,
            _ if reading => Category::InvalidInput,
            ErrorKind::TokenOrder | ErrorKind::LengthMismatch(_) => Category::Internal,
            ErrorKind::UnsupportedTransferSyntax
            | ErrorKind::ValueTooLong(..)
            | ErrorKind::StaleDefinedLength(_)
            | ErrorKind::SequenceInFileMeta(_)
            | ErrorKind::ImplicitVrSequence(..) => Category::Unsupported,
            _ => Category::InvalidInput,
        };
        let position = match e.kind {
            ErrorKind::UndefinedLength(t)
            | ErrorKind::OverrunsParent(t)
            | ErrorKind::UnexpectedTag(t)
            | ErrorKind::ValueTooLong(t, _)
            | ErrorKind::LengthMismatch(t)
            | ErrorKind::StaleDefinedLength(t)
            | ErrorKind::SequenceInFileMeta(t)
            | ErrorKind::DuplicateElement(t)
            | ErrorKind::ImplicitVrSequence(t, _) => {
                Position::at_offset(e.offset).with_path(tag_path(t))
            }
            _ => Position::at_offset(e.offset),
        };
        let side = if reading {
            "reading DICOM"
        } else {
            "writing DICOM"
        };
        let mut error = Error::new(category, format!("{side}: {}", e.kind), position);
        if let ErrorKind::Io(kind) = e.kind {
            error.0.source = Some(io::Error::from(kind));
        }
        error
    }

    /// The DICOM JSON writer's error.
    pub(crate) fn from_json_writer(e: JsonError) -> Error {
        let (category, position, kind) = match e {
            JsonError::Write { kind, offset } => {
                (Category::OutputIo, Position::at_offset(offset), Some(kind))
            }
            JsonError::Bulk { kind, tag } => (
                Category::BulkData,
                Position::default().with_path(tag_path(tag)),
                Some(kind),
            ),
            JsonError::InvalidNumber { tag, offset } => (
                Category::InvalidValue,
                Position::at_offset(offset).with_path(tag_path(tag)),
                None,
            ),
            _ => (Category::Internal, Position::default(), None),
        };
        let mut error = Error::new(category, e.to_string(), position);
        error.0.source = kind.map(io::Error::from);
        error
    }

    /// The DICOM JSON reader's error.
    pub(crate) fn from_json_reader(e: ReadError) -> Error {
        let category = match e.kind {
            ReadErrorKind::Io(_) => Category::InputIo,
            ReadErrorKind::Syntax | ReadErrorKind::Model => Category::InvalidInput,
            ReadErrorKind::Value => Category::InvalidValue,
            ReadErrorKind::Charset => Category::CharacterSet,
            ReadErrorKind::BulkData => Category::BulkData,
            _ => Category::Limit,
        };
        let position = Position::in_text(e.line, e.column, Some(e.offset), e.path);
        let mut error = Error::new(category, e.message, position);
        if let ReadErrorKind::Io(kind) = e.kind {
            error.0.source = Some(io::Error::from(kind));
        }
        error
    }
}

/// DICOM JSON's notation for an element: its tag as 8 hexadecimal digits.
fn tag_path(tag: Tag) -> String {
    format!("{:08X}", tag.0)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.position.is_unknown() {
            f.write_str(&self.0.message)
        } else {
            write!(f, "{}: {}", self.0.position, self.0.message)
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("category", &self.0.category)
            .field("message", &self.0.message)
            .field("position", &self.0.position)
            .field("source", &self.0.source)
            .finish()
    }
}

/// Equal when the category, message and position are (the I/O error underneath is not compared).
impl PartialEq for Error {
    fn eq(&self, other: &Error) -> bool {
        self.0.category == other.0.category
            && self.0.message == other.0.message
            && self.0.position == other.0.position
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What a [`Warning`] reports. Each codec side has its own set of codes, kept as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningCode {
    /// The DICOM reader read broken input anyway.
    DicomInput(WarningKind),
    /// The DICOM JSON writer changed or dropped something about a value.
    JsonOutput(JsonWarningKind),
    /// The DICOM JSON reader accepted something, or wrote a value in another form than given.
    JsonInput(ReadWarningKind),
}

/// Something a conversion tolerated or changed, with where it happened. Conversions go on after a
/// warning; a caller who wants any of them to be an error checks [`Warning::code`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    code: WarningCode,
    message: String,
    position: Position,
}

impl Warning {
    /// What kind of warning it is.
    pub fn code(&self) -> WarningCode {
        self.code
    }

    /// What happened, for people, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where it happened.
    pub fn position(&self) -> &Position {
        &self.position
    }

    pub(crate) fn from_dicom(w: dcmflow_core::Warning) -> Warning {
        Warning {
            code: WarningCode::DicomInput(w.kind),
            message: w.to_string(),
            position: Position::at_offset(w.offset),
        }
    }

    pub(crate) fn from_json_writer(w: &JsonWarning) -> Warning {
        Warning {
            code: WarningCode::JsonOutput(w.kind),
            message: w.to_string(),
            position: Position::at_offset(w.offset).with_path(tag_path(w.tag)),
        }
    }

    pub(crate) fn from_json_reader(w: ReadWarning) -> Warning {
        Warning {
            code: WarningCode::JsonInput(w.kind),
            position: if w.line == 0 {
                Position::default().with_path(w.path)
            } else {
                Position::in_text(w.line, w.column, None, w.path)
            },
            message: w.message,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            // The DICOM reader's and writer's texts carry their own offset.
            WarningCode::DicomInput(_) | WarningCode::JsonOutput(_) => f.write_str(&self.message),
            WarningCode::JsonInput(_) if self.position.is_unknown() => f.write_str(&self.message),
            WarningCode::JsonInput(_) => write!(f, "{}: {}", self.position, self.message),
        }
    }
}

/// What a conversion did.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Report {
    /// The DICOM side's transfer syntax (the input's for DICOM → JSON, the output's for JSON → DICOM),
    /// once known.
    pub transfer_syntax: Option<TransferSyntax>,
    /// DICOM → DICOM only: the input's transfer syntax.
    pub source_transfer_syntax: Option<TransferSyntax>,
    /// What was tolerated or changed, in the order it happened on each side (input side first).
    pub warnings: Vec<Warning>,
    /// Warnings beyond the limit of the side that noticed them, counted only.
    pub warnings_dropped: u64,
    /// Bytes of output written.
    pub written: u64,
    /// BSON ⇄ JSON: the top-level documents converted.
    pub documents: u64,
}
