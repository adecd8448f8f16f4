//! MongoDB Extended JSON (MongoDB's `extended-json.md`): the writer, and the text of its values.

pub mod text;
mod writer;

pub use writer::{ExtJsonWriter, Layout, Mode};
