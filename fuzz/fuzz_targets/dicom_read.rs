//! Any bytes through the slice reader must end in `Eof` or an error, in a bounded number of tokens.
#![no_main]
use dcmflow_core::Token;
use dcmflow_dicom::{DicomReader, ReaderOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = DicomReader::from_slice(data, ReaderOptions::default());
    // Every token consumes input or closes a frame: more tokens than 2 per byte (+ slack) is a hang.
    for _ in 0..(data.len() * 2 + 64) {
        match reader.read_token() {
            Ok(Token::Eof) | Err(_) => return,
            Ok(_) => {}
        }
    }
    panic!("no Eof or error after {} tokens", data.len() * 2 + 64);
});
