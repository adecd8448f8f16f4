//! The format-neutral parts of dcmflow that every codec shares.
//!
//! Nothing here knows a binary format: no DICOM tag, VR or character set, no BSON type byte, no Avro
//! schema. Codec crates (`dcmflow-dicom`, `dcmflow-json` for the DICOM JSON model) build on it; it depends
//! on none of them.
//!
//! - [`input`]: where a binary codec's parser gets its bytes (slice, `io::Read`, pushed chunks), behind
//!   one peek/take interface.
//! - [`json`]: the JSON text every codec writes and reads: the pull tokenizer [`json::lexer::Lexer`]
//!   (line and column, long strings measured ahead and taken in pieces, look-ahead scans), string
//!   escaping (RFC 8259 §7), the layout [`json::format::Formatter`] (compact or indented) and the number
//!   grammar (RFC 8259 §6).
//! - [`pipeline`]: tokens packed into batches on a reading thread and replayed on a writing thread,
//!   bounded in memory.
//! - [`position`]: where a diagnostic points (byte offset, line and column, element path).
//! - [`push`]: input the caller pushes in chunks (`bytes::Bytes`), read by a pull parser that is told
//!   "need more input" and retries its step from a mark.
//! - [`staged_sort`]: members of a level put in key order while still in the writer's staging buffer.
//! - [`spill`]: output held back for a length that is not yet known, moved to an anonymous temporary file
//!   past a threshold, with lengths patched in place.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod input;
pub mod json;
pub mod pipeline;
pub mod position;
pub mod push;
pub mod spill;
pub mod staged_sort;

pub use position::Position;
