//! DICOM pushed in `bytes::Bytes` chunks, as a server receives a request body, converted to DICOM JSON
//! without a thread or an `io::Read` adapter: `cargo run --release -p dcmflow --example push_bytes --
//! corpus/synthetic/every_vr_explicit.dcm`.

use bytes::Bytes;
use dcmflow::{DicomToJson, ToJsonOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "corpus/synthetic/every_vr_explicit.dcm".to_string());
    let body = Bytes::from(std::fs::read(&path)?);

    let mut conversion = DicomToJson::new(ToJsonOptions::default()).push(Vec::new());
    let mut json = Vec::new();
    // As a network stack hands them over: 1 400-byte segments, each a slice of the body (no copy).
    for start in (0..body.len()).step_by(1400) {
        let chunk = body.slice(start..body.len().min(start + 1400));
        conversion.push(chunk)?;
        json.append(conversion.output()); // JSON as it becomes available
    }
    let (rest, report) = conversion.finish()?;
    json.extend(rest);
    println!(
        "{path}: {} bytes of DICOM in {} chunks → {} bytes of JSON, {} warnings",
        body.len(),
        body.len().div_ceil(1400),
        json.len(),
        report.warnings.len()
    );
    Ok(())
}
