//! DICOM pushed in `bytes::Bytes` chunks, as a server receives a request body, converted to DICOM JSON
//! without a thread or an `io::Read` adapter, and that JSON pushed back the same way into DICOM:
//! `cargo run --release -p dcmflow --example push_bytes -- corpus/synthetic/every_vr_explicit.dcm`.

use bytes::Bytes;
use dcmflow::{DicomToJson, JsonToDicom, ToDicomOptions, ToJsonOptions};

/// A network stack's segment size.
const SEGMENT: usize = 1400;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "corpus/synthetic/every_vr_explicit.dcm".to_string());
    let body = Bytes::from(std::fs::read(&path)?);

    let mut to_json = DicomToJson::new(ToJsonOptions::default()).push(Vec::new());
    let mut json = Vec::new();
    // As a network stack hands them over: each segment a slice of the body (no copy).
    for start in (0..body.len()).step_by(SEGMENT) {
        to_json.push(body.slice(start..body.len().min(start + SEGMENT)))?;
        json.append(to_json.output()); // JSON as it becomes available
    }
    let (rest, report) = to_json.finish()?;
    json.extend(rest);
    println!(
        "{path}: {} bytes of DICOM in {} chunks → {} bytes of JSON, {} warnings",
        body.len(),
        body.len().div_ceil(SEGMENT),
        json.len(),
        report.warnings.len()
    );

    let json = Bytes::from(json);
    let mut to_dicom = JsonToDicom::new(ToDicomOptions::default()).push(Vec::new());
    let mut dicom = Vec::new();
    for start in (0..json.len()).step_by(SEGMENT) {
        to_dicom.push(json.slice(start..json.len().min(start + SEGMENT)))?;
        dicom.append(to_dicom.output()); // DICOM as it becomes available
    }
    let (rest, report) = to_dicom.finish()?;
    dicom.extend(rest);
    println!(
        "and back: {} bytes of JSON in {} chunks → {} bytes of DICOM, {} warnings",
        json.len(),
        json.len().div_ceil(SEGMENT),
        dicom.len(),
        report.warnings.len()
    );
    Ok(())
}
