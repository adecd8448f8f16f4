//! Prints every token of a DICOM file with its byte offset: `cargo run --example tokens FILE`.
use dcmflow_core::Token;
use dcmflow_dicom::{DicomReader, ReaderOptions};

fn main() {
    let path = std::env::args().nth(1).expect("usage: tokens FILE");
    let data = std::fs::read(path).expect("read");
    let mut reader = DicomReader::from_slice(&data, ReaderOptions::default());
    loop {
        let offset_before = reader.position();
        match reader.read_token() {
            Ok(Token::Value { bytes, last }) => {
                let shown = &bytes[..bytes.len().min(24)];
                println!(
                    "{offset_before:>8} Value {} last={last} {:?}",
                    bytes.len(),
                    String::from_utf8_lossy(shown)
                )
            }
            Ok(Token::Eof) => break,
            Ok(t) => println!("{offset_before:>8} {t:?}"),
            Err(e) => {
                println!("ERROR {e}");
                break;
            }
        }
    }
    for w in reader.warnings() {
        println!("warning: {w}");
    }
}
