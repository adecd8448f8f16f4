//! Streaming DICOM: a lending pull parser ([`DicomReader`]) from PS3.10 files and bare data sets in every
//! uncompressed, deflated and encapsulated transfer syntax, and a [`DicomWriter`] that turns the same tokens
//! back into PS3.10 bytes. Neither builds a tree; memory is bounded by the chunk size and nesting depth.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod charset;
mod charset_encode;
mod meta;
mod reader;
mod reorder;
mod source;
mod un_sequence;
mod writer;

pub use charset::{CharacterSet, DecodeReport};
pub use charset_encode::{Fallback, TextEncoder, UnknownTerm};
pub use meta::{IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME};
pub use reader::{DicomReader, ReaderOptions};
pub use un_sequence::{Filtered, UnSequences, MAX_UN_SEQUENCE};
pub use writer::{DicomWriter, LengthMode, WriterOptions};
