//! Whatever reads cleanly must write, and what was written must read back to the same tokens.
#![no_main]
use dcmflow::{Transcode, TranscodeOptions};
use dcmflow_core::TransferSyntax;
use libfuzzer_sys::fuzz_target;

fn convert(
    data: &[u8],
    out: &mut Vec<u8>,
    options: &TranscodeOptions,
) -> Result<(), dcmflow::Error> {
    Transcode::new(options.clone())
        .convert(data, out)
        .map(|_| ())
}

fuzz_target!(|data: &[u8]| {
    let mut once = Vec::new();
    let mut options = TranscodeOptions::default();
    options.transfer_syntax = Some(TransferSyntax::EXPLICIT_VR_LE);
    if convert(data, &mut once, &options).is_err() {
        return;
    }
    let mut twice = Vec::new();
    convert(&once[..], &mut twice, &options).expect("our own output must read back");
    assert_eq!(once, twice, "writing is not idempotent");
});
