//! MongoDB Extended JSON (MongoDB's `extended-json.md`): the reader, the writer, and the text of its values.

mod binary;
mod legacy;
mod reader;
pub mod text;
mod wrappers;
mod writer;

pub use reader::{ExtJsonOptions, ExtJsonReader};
pub use writer::{ExtJsonWriter, Layout, Mode};
