//! BSON ⇄ MongoDB Extended JSON, streamed.
//!
//! [`BsonReader`] reads BSON (one document, or a stream of them as mongodump writes) token by token with
//! no tree; values of any size come in bounded pieces. [`ExtJsonWriter`] turns the tokens into Extended
//! JSON in the canonical, relaxed or legacy format (`spec/extended-json.md` of MongoDB's specifications);
//! [`BsonWriter`] turns them back into BSON.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod decimal128;
mod error;
pub mod extjson;
mod reader;
mod types;
mod writer;

pub use error::{Error, ErrorKind, Result};
pub use extjson::{ExtJsonOptions, ExtJsonReader, ExtJsonWriter, Layout, Mode};
pub use reader::{BsonReader, Container, ReaderOptions, Scalar, Token};
pub use types::ElementType;
pub use writer::{BsonWriter, WriteError, WriterOptions};

pub use dcmflow_engine::json::format::{Compact, Formatter, Pretty};
