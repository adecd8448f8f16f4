//! Whatever reads cleanly must write, and what was written must read back to the same tokens.
#![no_main]
use dcmflow::{convert, ConvertOptions};
use dcmflow_core::TransferSyntax;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut once = Vec::new();
    let options = ConvertOptions {
        transfer_syntax: Some(TransferSyntax::EXPLICIT_VR_LE),
        ..Default::default()
    };
    if convert(data, &mut once, &options).is_err() {
        return;
    }
    let mut twice = Vec::new();
    convert(&once[..], &mut twice, &options).expect("our own output must read back");
    assert_eq!(once, twice, "writing is not idempotent");
});
