//! Avro for dcmflow (the Avro specification, `specification.md`): schemas parsed into a graph of
//! nodes, their Parsing Canonical Form and CRC-64-AVRO fingerprint.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod canonical;
pub mod schema;

pub use canonical::{fingerprint64, parsing_canonical_form};
pub use schema::{Field, Node, NodeId, Schema, SchemaError};
