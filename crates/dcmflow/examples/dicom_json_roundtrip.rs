//! DICOM → DICOM JSON → DICOM with the library, file to file: `cargo run --release -p dcmflow --example
//! dicom_json_roundtrip -- corpus/synthetic/every_vr_explicit.dcm /tmp/out.json /tmp/back.dcm`.

use std::fs::File;
use std::io::BufWriter;

use dcmflow::{DicomToJson, JsonToDicom, ToDicomOptions, ToJsonOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dicom_path = args
        .next()
        .unwrap_or_else(|| "corpus/synthetic/every_vr_explicit.dcm".to_string());
    let temp = std::env::temp_dir();
    let json_path = args
        .next()
        .map_or_else(|| temp.join("dcmflow-example.json"), Into::into);
    let back_path = args
        .next()
        .map_or_else(|| temp.join("dcmflow-example.dcm"), Into::into);

    // DICOM → JSON: the file is read in chunks, the JSON streamed out; warnings come back in the report.
    let input = File::open(&dicom_path)?;
    let mut json = BufWriter::new(File::create(&json_path)?);
    let report = DicomToJson::new(ToJsonOptions::default())
        .convert(&input, dcmflow::Output::stream(&mut json))?;
    drop(json);
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }

    // JSON → DICOM: a seekable output file takes lengths patched in afterwards.
    let json = File::open(&json_path)?;
    let mut back = File::create(&back_path)?;
    let report = JsonToDicom::new(ToDicomOptions::default()).convert(&json, &mut back)?;
    println!(
        "{dicom_path} → {} ({} bytes) → {} ({} bytes, {:?})",
        json_path.display(),
        json.metadata()?.len(),
        back_path.display(),
        back.metadata()?.len(),
        report.transfer_syntax.map(|ts| ts.uid),
    );
    Ok(())
}
