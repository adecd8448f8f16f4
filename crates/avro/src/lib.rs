//! Avro for dcmflow (the Avro specification, `specification.md`): schemas parsed into a graph of
//! nodes, their Parsing Canonical Form and CRC-64-AVRO fingerprint; object container files read block
//! by block; data decoded into Avro's JSON encoding or GA4GH's, and JSON in either encoded back into data and
//! container files.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod binary;
pub mod canonical;
pub mod container;
pub mod container_push;
pub mod container_writer;
mod datums;
mod defaults;
mod error;
pub mod from_json;
pub mod inflate;
pub mod json_datums;
pub mod protocol;
pub mod schema;
pub mod streamed;
pub mod to_json;

pub use canonical::{fingerprint64, parsing_canonical_form};
pub use container::{Codec, ContainerReader, Header, NextBlock};
pub use container_push::PushContainer;
pub use container_writer::{ContainerWriter, WriterOptions};
pub use datums::{DatumReader, PushedInput, Step};
pub use error::AvroError;
pub use from_json::JsonEncoder;
pub use json_datums::{JsonDatumOptions, JsonDatumReader, JsonInputError, JsonInputErrorKind};
pub use protocol::Protocol;
pub use schema::{Field, Node, NodeId, Schema, SchemaError};
pub use streamed::{Layout, StreamedBlock};
pub use to_json::{datum_to_json, Encoding, JsonDecoder, Progress, Suspended};
