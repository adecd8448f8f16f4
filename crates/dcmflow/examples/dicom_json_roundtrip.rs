//! DICOM → DICOM JSON → DICOM with the library: `cargo run --release -p dcmflow --example
//! dicom_json_roundtrip -- corpus/synthetic/every_vr_explicit.dcm`.

use dcmflow::json::read::{JsonReader, ReadOptions};
use dcmflow::{dicom_to_json, json_to_dicom, ToDicomOptions, ToJsonOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "corpus/synthetic/every_vr_explicit.dcm".to_string());
    let dicom = std::fs::read(&path)?;

    // DICOM → JSON: streamed into any io::Write; warnings come back in the report.
    let mut json = Vec::new();
    let report = dicom_to_json(&dicom[..], &mut json, &ToJsonOptions::default())?;
    for w in &report.read_warnings {
        eprintln!("warning (reading DICOM): {w}");
    }
    for w in &report.json_warnings {
        eprintln!("warning (writing JSON): {w}");
    }

    // JSON → DICOM: a pull reader over the JSON, written as a PS3.10 file.
    let reader = JsonReader::from_slice(&json, ReadOptions::default());
    let (back, _report) = json_to_dicom(reader, Vec::new(), &ToDicomOptions::default())?;
    println!(
        "{path}: {} bytes of DICOM, {} bytes of JSON, {} bytes of DICOM again",
        dicom.len(),
        json.len(),
        back.len()
    );
    Ok(())
}
