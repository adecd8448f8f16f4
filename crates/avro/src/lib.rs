//! Avro for dcmflow (the Avro specification, `specification.md`): schemas parsed into a graph of
//! nodes, their Parsing Canonical Form and CRC-64-AVRO fingerprint; object container files read block
//! by block; data decoded into Avro's JSON encoding or GA4GH's.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod binary;
pub mod canonical;
pub mod container;
mod datums;
mod error;
pub mod schema;
pub mod to_json;

pub use canonical::{fingerprint64, parsing_canonical_form};
pub use container::{Codec, ContainerReader, Header};
pub use datums::DatumReader;
pub use error::AvroError;
pub use schema::{Field, Node, NodeId, Schema, SchemaError};
pub use to_json::{datum_to_json, Encoding, JsonDecoder};
