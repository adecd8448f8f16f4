//! dcmflow: streaming DICOM transcoding without a tree.
//!
//! - [`dicom_to_json`]: DICOM → DICOM JSON (PS3.18 Annex F), streamed.
//! - [`convert`]: re-encodes DICOM between the uncompressed transfer syntaxes (encapsulated files are
//!   carried as they are).
//!
//! - [`json_to_dicom`]: DICOM JSON → DICOM, streamed from the JSON pull reader.
//!
//! ```
//! use dcmflow::{convert, ConvertOptions};
//! use dcmflow_core::TransferSyntax;
//! # let bare_dataset = [0x10u8, 0x00, 0x10, 0x00, b'P', b'N', 4, 0, b'D', b'o', b'e', b' '];
//! let mut out = Vec::new();
//! let options = ConvertOptions { transfer_syntax: Some(TransferSyntax::EXPLICIT_VR_BE), ..Default::default() };
//! let report = convert(&bare_dataset[..], &mut out, &options).unwrap();
//! assert_eq!(&out[128..132], b"DICM");
//! assert!(report.warnings.is_empty());
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod convert;
mod pipeline;
mod push;
mod to_dicom;
mod to_json;

pub use convert::{
    convert, convert_reader, convert_reader_seekable, convert_to_vec, ConvertError, ConvertOptions,
    Report,
};
pub use dcmflow_core as core;
pub use dcmflow_dicom as dicom;
pub use dcmflow_json as json;
#[cfg(feature = "tokio")]
pub use push::DicomToJsonDecoder;
pub use push::PushDicomToJson;
pub use to_dicom::{
    json_to_dicom, json_to_dicom_next, json_to_dicom_next_pipelined, json_to_dicom_seekable,
    json_to_dicom_seekable_pipelined, new_uid, DicomReport, ToDicomError, ToDicomOptions,
};
pub use to_json::{
    dicom_to_json, dicom_to_json_pipelined, dicom_to_json_reader, dicom_to_json_with, JsonReport,
    ToJsonError, ToJsonOptions, ValueRendering,
};
