//! Any bytes through dcm2json must give valid JSON (checked by serde_json, an independent parser) or a
//! clean error; never a panic. The first byte picks compact or pretty output and the IS/DS policy, so
//! both formatters and all number paths are exercised.
#![no_main]
use dcmflow::dicom::ReaderOptions;
use dcmflow::json::{JsonOptions, NumberPolicy};
use dcmflow::{dicom_to_json, ToJsonOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let options = ToJsonOptions {
        pretty: mode & 1 == 1,
        json: JsonOptions {
            numbers: match (mode >> 1) % 3 {
                0 => NumberPolicy::Auto,
                1 => NumberPolicy::String,
                _ => NumberPolicy::Number,
            },
            convert_un: mode & 8 == 8,
            ..JsonOptions::default()
        },
        // Each sequence level is 3 JSON levels (object, array, object); serde_json stops at 128.
        reader: ReaderOptions {
            max_depth: 40,
            ..ReaderOptions::default()
        },
    };
    let mut out = Vec::new();
    if dicom_to_json(input, &mut out, &options).is_ok() {
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&out) {
            panic!("invalid JSON ({e}): {}", String::from_utf8_lossy(&out));
        }
    }
});
