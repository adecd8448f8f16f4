//! Replays inputs that once crashed or hung (fuzz finds, hand-made hostile files) from
//! `corpus/regressions/`: each must end in `Eof` or an error within a bounded number of tokens.

use dcmflow_core::Token;
use dcmflow_dicom::{DicomReader, ReaderOptions};

/// Ends in `Eof` or an error, making progress: at most 2 × depth limit + 4 tokens in a row may leave the
/// position unchanged (empty values, frames closing at the end). Deflated input expands, so the number of
/// tokens is not bounded by the input size; progress is.
fn must_terminate(data: &[u8]) {
    for chunk_size in [256 * 1024, 1] {
        let options = ReaderOptions {
            chunk_size,
            ..ReaderOptions::default()
        };
        let max_stall = 2 * options.max_depth + 4;
        let mut reader = if chunk_size == 1 {
            DicomReader::from_reader(data, options)
        } else {
            DicomReader::from_slice(data, options)
        };
        let (mut last, mut stall) = (u64::MAX, 0);
        loop {
            if matches!(reader.read_token(), Ok(Token::Eof) | Err(_)) {
                break;
            }
            let pos = reader.position();
            stall = if pos == last { stall + 1 } else { 0 };
            last = pos;
            assert!(stall <= max_stall, "no progress at offset {pos}");
        }
    }
}

#[test]
fn regression_inputs_terminate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/regressions");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "dcm") {
            must_terminate(&std::fs::read(&path).unwrap());
        }
    }
}

/// Hostile shapes written here directly: lengths that promise far more than exists, deep nesting.
#[test]
fn hostile_inputs_fail_cleanly() {
    // Explicit VR LE, OB with a 4 GiB length and 2 bytes of value: an error, and no 4 GiB allocation.
    let huge = [
        0x09, 0x00, 0x10, 0x00, b'O', b'B', 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 1, 2,
    ];
    let mut r = DicomReader::from_slice(&huge, ReaderOptions::default());
    assert!(r.read_token().is_err());
    let mut r = DicomReader::from_reader(&huge[..], ReaderOptions::default());
    let mut saw_error = false;
    for _ in 0..10 {
        match r.read_token() {
            Err(_) => {
                saw_error = true;
                break;
            }
            Ok(Token::Eof) => break,
            Ok(_) => {}
        }
    }
    assert!(saw_error);
    // 1000 nested undefined-length sequences: the depth limit stops it.
    let mut deep = Vec::new();
    for _ in 0..1000 {
        deep.extend_from_slice(&[
            0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        deep.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
    }
    let mut r = DicomReader::from_slice(&deep, ReaderOptions::default());
    let err = loop {
        match r.read_token() {
            Err(e) => break e,
            Ok(Token::Eof) => panic!("depth limit not enforced"),
            Ok(_) => {}
        }
    };
    assert_eq!(err.kind, dcmflow_core::ErrorKind::DepthLimit(64));
    must_terminate(&deep);
}
