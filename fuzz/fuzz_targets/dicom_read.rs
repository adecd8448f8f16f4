//! Any bytes through the slice reader must end in `Eof` or an error, never panic or hang. Deflated input
//! can expand ~1000×, so progress is judged by position: at most 2 × depth limit + 4 tokens in a row may
//! leave the position unchanged (an empty value, frames closing at the end of input).
#![no_main]
use dcmflow_core::Token;
use dcmflow_dicom::{DicomReader, ReaderOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ReaderOptions::default();
    let max_stall = 2 * options.max_depth + 4;
    let mut reader = DicomReader::from_slice(data, options);
    let (mut last, mut stall) = (u64::MAX, 0);
    loop {
        match reader.read_token() {
            Ok(Token::Eof) | Err(_) => return,
            Ok(_) => {}
        }
        let pos = reader.position();
        stall = if pos == last { stall + 1 } else { 0 };
        last = pos;
        assert!(stall <= max_stall, "no progress at offset {pos}");
    }
});
