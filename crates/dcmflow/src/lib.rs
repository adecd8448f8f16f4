//! dcmflow: streaming DICOM transcoding without a tree.
//!
//! One type per direction; each picks its strategy (a slice read in place, a file, a stream; a
//! seekable output patched or a stream measured ahead; one thread or two) from what its [`Input`] and
//! [`Output`] can do:
//!
//! - [`DicomToJson`]: DICOM → DICOM JSON (PS3.18 Annex F); [`DicomToJson::push`] for input pushed in
//!   `bytes::Bytes` chunks (sans-IO).
//! - [`JsonToDicom`]: DICOM JSON → DICOM; [`JsonToDicom::data_sets`] for each data set of an array;
//!   [`JsonToDicom::push`] for input pushed in chunks.
//! - [`Transcode`]: DICOM → DICOM between the uncompressed transfer syntaxes.
//! - [`BsonToJson`]: BSON (one document or mongodump's stream of them) → MongoDB Extended JSON,
//!   canonical, relaxed or legacy.
//! - [`JsonToBson`]: MongoDB Extended JSON → BSON.
//! - [`AvroToJson`] and [`JsonToAvro`]: Avro (container files, bare data, single-object encoding) ⇄
//!   Avro's JSON encoding or GA4GH's.
//! - [`dicom_to_json`] and [`json_to_dicom`]: the common case in one line.
//!
//! Every conversion returns a [`Report`] (with [`Warning`]s) or an [`Error`] (with a [`Category`] and
//! a [`Position`]).
//!
//! ```
//! use dcmflow::{DicomToJson, JsonToDicom, ToDicomOptions, ToJsonOptions};
//! let json = br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]}}"#;
//! let mut dicom = Vec::new();
//! JsonToDicom::new(ToDicomOptions::default()).convert(&json[..], &mut dicom)?;
//! let mut back = Vec::new();
//! let report = DicomToJson::new(ToJsonOptions::default()).convert(&dicom, &mut back)?;
//! assert!(back.ends_with(br#""00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]}}"#));
//! for warning in &report.warnings {
//!     eprintln!("{warning}"); // the file meta lacks a SOP Class UID: this JSON had none
//! }
//! # Ok::<(), dcmflow::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod avro_data_push;
mod avro_to_json;
mod avro_written;
mod bson_threads;
mod bson_to_json;
#[cfg(feature = "tokio")]
mod codec;
mod convert;
mod error;
mod io;
mod json_to_avro;
mod json_to_bson;
mod pipeline;
mod push_to_dicom;
mod push_to_json;
mod threads;
mod to_dicom;
mod to_json;

pub use avro_data_push::PushAvroDataToJson;
pub use avro_to_json::{AvroToJson, AvroToJsonOptions, PushAvroToJson};
pub use bson_to_json::{BsonToJson, BsonToJsonOptions, PushBsonToJson};
#[cfg(feature = "tokio")]
pub use codec::{DicomToJsonDecoder, JsonToDicomDecoder, PushDecoder};
pub use convert::{Transcode, TranscodeOptions};
pub use dcmflow_avro as avro;
pub use dcmflow_bson as bson;
pub use dcmflow_core as core;
pub use dcmflow_dicom as dicom;
pub use dcmflow_engine::Position;
pub use dcmflow_json as json;
pub use error::{Category, Error, Report, Warning, WarningCode};
pub use io::{Input, Output, SeekWrite};
pub use json_to_avro::{AvroFraming, JsonToAvro, JsonToAvroOptions, PushJsonToAvro};
pub use json_to_bson::{JsonToBson, JsonToBsonOptions, PushJsonToBson};
pub use push_to_dicom::PushJsonToDicom;
pub use push_to_json::PushDicomToJson;
pub use threads::Threads;
pub use to_dicom::{json_to_dicom, new_uid, DataSets, JsonToDicom, ToDicomOptions};
pub use to_json::{dicom_to_json, DicomToJson, ToJsonOptions, ValueRendering};
