//! Why BSON (or Extended JSON) could not be read: a kind, the byte offset (and, in JSON, the line and
//! column) and the key path of the problem.

use std::fmt;

/// What went wrong, broadly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ends inside a document.
    Truncated,
    /// The bytes break a rule of the BSON grammar (a length, a terminator, a type byte, UTF-8, …).
    Invalid,
    /// Documents nest deeper than `ReaderOptions::max_depth`.
    TooDeep,
    /// A key or regular expression part is longer than `ReaderOptions::max_cstring`.
    TooLong,
    /// The input failed.
    Io,
    /// Pushed input ran out before the step could finish: push more, then read again.
    NeedInput,
    /// Not JSON (RFC 8259), or JSON that is not Extended JSON (a malformed type wrapper).
    Syntax,
    /// A document grew past the largest allowed (`max_document_size`).
    TooLarge,
}

/// A BSON reading error. Boxed: a `Result` of it stays one pointer wide on the hot path.
#[derive(Debug)]
pub struct Error(Box<ErrorData>);

#[derive(Debug)]
struct ErrorData {
    kind: ErrorKind,
    offset: u64,
    path: String,
    message: String,
    /// JSON input: 1-based line and column.
    line_column: Option<(u64, u64)>,
    source: Option<std::io::Error>,
}

impl Error {
    pub(crate) fn new(
        kind: ErrorKind,
        offset: u64,
        path: &str,
        message: impl Into<String>,
    ) -> Error {
        Error(Box::new(ErrorData {
            kind,
            offset,
            path: path.to_string(),
            message: message.into(),
            line_column: None,
            source: None,
        }))
    }

    pub(crate) fn io(e: std::io::Error, offset: u64, path: &str) -> Error {
        let mut error = Error::new(ErrorKind::Io, offset, path, e.to_string());
        error.0.source = Some(e);
        error
    }

    pub(crate) fn set_offset(&mut self, offset: u64) {
        self.0.offset = offset;
    }

    pub(crate) fn with_line_column(mut self, line: u64, column: u64) -> Error {
        self.0.line_column = Some((line, column));
        self
    }

    /// Where in JSON input the problem is: 1-based line and column (`None` for BSON input).
    pub fn line_column(&self) -> Option<(u64, u64)> {
        self.0.line_column
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The byte offset in the input of what is wrong.
    pub fn offset(&self) -> u64 {
        self.0.offset
    }

    /// The keys from the top-level document down to the element in question, joined by `.`
    /// (empty at the top level).
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// The message alone, without offset and path.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((line, column)) = self.0.line_column {
            write!(
                f,
                "at line {line}, column {column} (byte {})",
                self.0.offset
            )?;
        } else {
            write!(f, "at byte {}", self.0.offset)?;
        }
        if !self.0.path.is_empty() {
            write!(f, " ({})", self.0.path)?;
        }
        write!(f, ": {}", self.0.message)
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

/// A `Result` of this crate.
pub type Result<T> = std::result::Result<T, Error>;
