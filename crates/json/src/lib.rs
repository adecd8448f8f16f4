//! The DICOM JSON Model (PS3.18 Annex F) from DICOM tokens, streamed.
//!
//! [`JsonWriter`] consumes the tokens of `dcmflow_dicom::DicomReader` one at a time and writes DICOM JSON
//! to any `io::Write`, with no tree in between: keys ascending (R1) even for unsorted input, every value
//! rule of F.2 (see docs/design.md, Decisions and JSON rules), character sets decoded to UTF-8, binary values base64-encoded chunk
//! by chunk or sent out as bulk data.
//!
//! ```
//! use dcmflow_core::{Encoding, Header, Tag, Token, Vr};
//! use dcmflow_json::{Compact, JsonOptions, JsonWriter};
//!
//! let mut writer = JsonWriter::new(Vec::new(), Compact, JsonOptions::default());
//! let header = Header { tag: Tag(0x0010_0010), vr: Vr::PN, len: 8 };
//! let le = Encoding::EXPLICIT_LE;
//! writer.write_token(&Token::Element(header), 0, le).unwrap();
//! writer.write_token(&Token::Value { bytes: b"Doe^John", last: true }, 8, le).unwrap();
//! let json = writer.finish().unwrap();
//! assert_eq!(json, br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]}}"#);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bulk;
pub use dcmflow_engine::json::escape;
mod format;
pub mod numbers;
mod order;
pub mod read;
mod render;
mod text;
mod writer;

use std::fmt;

use dcmflow_core::{Tag, Vr};

pub use bulk::{
    BulkDecision, BulkElement, BulkHandler, BulkSelection, PathStep, SideFiles, SourceReference,
};
pub use format::{Compact, Formatter, Pretty};
pub use numbers::NumberPolicy;
pub use render::ValueRenderer;
pub use writer::{JsonOptions, JsonWriter};

/// Why the JSON could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// The output failed (offset: JSON bytes written before the failure).
    Write {
        /// The kind of the output's I/O error.
        kind: std::io::ErrorKind,
        /// JSON bytes written before it.
        offset: u64,
    },
    /// A bulk data sink or handler failed.
    Bulk {
        /// The kind of the I/O error.
        kind: std::io::ErrorKind,
        /// The element whose bulk data failed.
        tag: Tag,
    },
    /// Under `NumberPolicy::Number`, an IS/DS value that is not a number (DCMTK `-in`).
    InvalidNumber {
        /// The element.
        tag: Tag,
        /// Its byte offset in the source.
        offset: u64,
    },
    /// Tokens out of the grammar of `dcmflow_core::Token`.
    TokenOrder,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Write { kind, offset } => {
                write!(f, "writing JSON failed after {offset} bytes: {kind}")
            }
            JsonError::Bulk { kind, tag } => write!(f, "writing bulk data of {tag} failed: {kind}"),
            JsonError::InvalidNumber { tag, offset } => write!(
                f,
                "{tag} at byte offset {offset} is not a valid number (option `numbers` = NumberPolicy::Number)"
            ),
            JsonError::TokenOrder => f.write_str("token out of order for the JSON writer"),
        }
    }
}

impl std::error::Error for JsonError {}

/// A tolerated problem: the JSON is still valid, and this says what was done about the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonWarningKind {
    /// An IS/DS value that is not a valid number: written as a JSON string holding its text.
    InvalidNumber,
    /// An IS/DS value beyond the range of a binary64 number (`1e999`): written as a JSON string holding
    /// its text, which JSON parsers would refuse or read as an infinity as a number.
    NumberOutOfRange,
    /// FL/FD NaN or infinity: written as "NaN", "Infinity" or "-Infinity".
    NonFiniteFloat,
    /// A PN value with more than three component groups (R8): the extra groups were dropped.
    PersonNameGroups,
    /// Bytes not valid in the declared character set: written as U+FFFD.
    CharacterReplaced,
    /// 8-bit bytes with no Specific Character Set declared: decoded as ISO 8859-1.
    UndeclaredCharacterSet,
    /// A (0008,0005) term this reader does not know: the default repertoire was used.
    UnknownCharacterSet,
    /// An element arrived out of tag order and was moved to its place.
    OrderRestored,
    /// An element arrived out of tag order after the elements it belongs before had been written out:
    /// written where it arrived (the JSON is valid but not sorted).
    OrderNotRestored,
    /// A second element with the same tag in one data set: dropped.
    DuplicateDropped,
    /// A binary number value whose length is not a multiple of its size: the partial number was dropped.
    PartialValue,
    /// `--convert-un`: a UN element was written with this VR from the dictionary.
    UnConverted(Vr),
    /// `--convert-un`: a UN value the dictionary calls a sequence did not parse as Implicit VR LE items;
    /// written as UN.
    UnSequenceUnparsed,
}

/// A warning, with the element's tag and the byte offset in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonWarning {
    /// What happened.
    pub kind: JsonWarningKind,
    /// The element it happened to.
    pub tag: Tag,
    /// The byte offset of the element's value (or header) in the source.
    pub offset: u64,
}

impl fmt::Display for JsonWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            JsonWarningKind::InvalidNumber => {
                "not a valid IS/DS number; written as a string".to_string()
            }
            JsonWarningKind::NumberOutOfRange => {
                "IS/DS value beyond the range of a binary64 number; written as a string".to_string()
            }
            JsonWarningKind::NonFiniteFloat => {
                "NaN or infinity; written as a string (JSON has no such numbers)".to_string()
            }
            JsonWarningKind::PersonNameGroups => {
                "person name with more than 3 component groups; extra groups dropped".to_string()
            }
            JsonWarningKind::CharacterReplaced => {
                "bytes invalid in the declared character set; replaced by U+FFFD".to_string()
            }
            JsonWarningKind::UndeclaredCharacterSet => {
                "8-bit characters but no Specific Character Set; read as ISO 8859-1".to_string()
            }
            JsonWarningKind::UnknownCharacterSet => {
                "unknown Specific Character Set term; default repertoire used".to_string()
            }
            JsonWarningKind::OrderRestored => "out of tag order; moved to its place".to_string(),
            JsonWarningKind::OrderNotRestored => {
                "out of tag order too far back to move; written where it is".to_string()
            }
            JsonWarningKind::DuplicateDropped => "duplicate tag; dropped".to_string(),
            JsonWarningKind::PartialValue => {
                "value length not a multiple of the number size; trailing bytes dropped".to_string()
            }
            JsonWarningKind::UnConverted(vr) => format!("UN converted to {vr}"),
            JsonWarningKind::UnSequenceUnparsed => {
                "UN value not readable as the sequence the dictionary names: kept as UN".to_string()
            }
        };
        write!(f, "{} at byte offset {}: {what}", self.tag, self.offset)
    }
}
