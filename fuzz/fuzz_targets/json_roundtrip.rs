//! JSON → DICOM → JSON → DICOM: whatever JSON converts, its DICOM converts to JSON, and that JSON comes
//! back to the same DICOM and the same JSON (one pass reaches the fixpoint: sorting, padding and number
//! normalisation happen once). One step is allowed to differ: U+FFFD (bytes that did not decode) goes
//! back as '?' into a character set that lacks it, with a warning.
#![no_main]
use dcmflow::json::read::{IgnoreBulk, ReadOptions};
use dcmflow::{DicomToJson, JsonToDicom, ToDicomOptions, ToJsonOptions};
use libfuzzer_sys::fuzz_target;

fn to_dicom(json: &[u8], read: &ReadOptions) -> Option<Vec<u8>> {
    let mut options = ToDicomOptions::default();
    options.reader = read.clone();
    let mut out = Vec::new();
    JsonToDicom::new(options)
        .bulk_resolver(IgnoreBulk)
        .convert(json, &mut out)
        .ok()
        .map(|_| out)
}

fn to_json(dicom: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    DicomToJson::new(ToJsonOptions::default())
        .convert(dicom, &mut out)
        .expect("our DICOM must convert to JSON");
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, json)) = data.split_first() else {
        return;
    };
    let read = ReadOptions {
        lenient: mode & 1 == 1,
        strict_vr_rules: mode & 2 == 2,
        max_depth: 16,
        ..ReadOptions::default()
    };
    let Some(dicom) = to_dicom(json, &read) else {
        return;
    };
    let json1 = to_json(&dicom);
    let strict = ReadOptions {
        strict_vr_rules: read.strict_vr_rules,
        ..ReadOptions::default()
    };
    let dicom2 = to_dicom(&json1, &strict).unwrap_or_else(|| {
        panic!(
            "our JSON does not convert back: {}",
            String::from_utf8_lossy(&json1)
        )
    });
    let json2 = to_json(&dicom2);
    let replaced = String::from_utf8_lossy(&json1).replace('\u{FFFD}', "?");
    let json2 = String::from_utf8_lossy(&json2).replace('\u{FFFD}', "?");
    assert_eq!(replaced, json2, "JSON → DICOM → JSON is not stable");
});
