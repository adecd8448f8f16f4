//! Push input (`DicomReader::pushed`) gives the tokens, offsets, warnings and errors of the `io::Read`
//! reader over the same bytes, however the bytes are cut into chunks (sizes 1, 2, 3, 7, 64, 4096 and
//! random cuts), over the synthetic and the real corpus.

use bytes::Bytes;
use dcmflow_core::{Error, ErrorKind, Token};
use dcmflow_dicom::{DicomReader, ReaderOptions};
use dcmflow_testkit::{corpus_files, dicom_files_under, even_cuts, random_cuts, shared_dir};

/// A token with its offset; values joined per element, so chunking does not matter.
#[derive(Debug, PartialEq)]
enum Seen {
    Token(String, u64),
    Value(Vec<u8>),
}

#[derive(Debug, PartialEq)]
struct Outcome {
    seen: Vec<Seen>,
    warnings: Vec<String>,
    error: Option<(ErrorKind, u64)>,
}

/// Reads to the end; `more` is asked for input whenever the reader needs it (push input only).
fn read_all(reader: &mut DicomReader<'_>, mut more: impl FnMut(&mut DicomReader<'_>)) -> Outcome {
    let mut seen = Vec::new();
    let mut value: Option<Vec<u8>> = None;
    let error = loop {
        let offset = reader.token_offset();
        let token = match reader.read_token() {
            Err(Error {
                kind: ErrorKind::NeedInput,
                ..
            }) => {
                more(reader);
                continue;
            }
            Err(e) => break Some((e.kind, e.offset)),
            Ok(t) => t,
        };
        match token {
            Token::Eof => break None,
            Token::Value { bytes, last } => {
                let v = value.get_or_insert_with(Vec::new);
                v.extend_from_slice(bytes);
                if last {
                    seen.push(Seen::Value(value.take().unwrap()));
                }
            }
            t => {
                let t = format!("{t:?}");
                seen.push(Seen::Token(t, reader.token_offset()));
            }
        }
        let _ = offset;
    };
    let warnings = reader
        .warnings()
        .iter()
        .map(|w| format!("{:?} at {}", w.kind, w.offset))
        .collect();
    Outcome {
        seen,
        warnings,
        error,
    }
}

/// Cuts `data` at `cuts` (ascending positions) and pushes the pieces one at a time, as asked.
fn pushed(data: &[u8], cuts: &[usize], chunk_size: usize) -> Outcome {
    let options = ReaderOptions {
        chunk_size,
        ..ReaderOptions::default()
    };
    let mut reader = DicomReader::pushed(options);
    let all = Bytes::copy_from_slice(data);
    let mut pieces = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
        if cut > at {
            pieces.push(all.slice(at..cut));
            at = cut;
        }
    }
    let mut pieces = pieces.into_iter();
    read_all(&mut reader, |r| match pieces.next() {
        Some(p) => r.push(p),
        None => r.end_input(),
    })
}

fn streamed(data: &[u8], chunk_size: usize) -> Outcome {
    let options = ReaderOptions {
        chunk_size,
        ..ReaderOptions::default()
    };
    read_all(&mut DicomReader::from_reader(data, options), |_| {
        unreachable!("a pull reader never needs input")
    })
}

/// Equal outcomes, or a short account of the first difference (whole outcomes can be huge).
fn check(got: &Outcome, expected: &Outcome, what: &str) {
    if got == expected {
        return;
    }
    let first = got
        .seen
        .iter()
        .zip(&expected.seen)
        .position(|(a, b)| a != b)
        .unwrap_or(got.seen.len().min(expected.seen.len()));
    let first_warning = got
        .warnings
        .iter()
        .zip(&expected.warnings)
        .position(|(a, b)| a != b);
    panic!(
        "{what}: tokens {} vs {} (first difference at {first}: {:?} vs {:?}); warnings {} vs {} \
         (first difference at {first_warning:?}); error {:?} vs {:?}",
        got.seen.len(),
        expected.seen.len(),
        got.seen.get(first),
        expected.seen.get(first),
        got.warnings.len(),
        expected.warnings.len(),
        got.error,
        expected.error
    );
}

fn assert_push_equivalent(name: &str, data: &[u8], chunk_sizes: &[usize]) {
    let expected = streamed(data, 4096);
    for &size in chunk_sizes {
        let got = pushed(data, &even_cuts(data.len(), size), 4096);
        check(
            &got,
            &expected,
            &format!("{name}: pushed in chunks of {size}"),
        );
    }
    for seed in 0..2 {
        let got = pushed(data, &random_cuts(data.len(), seed, 300), 4096);
        check(
            &got,
            &expected,
            &format!("{name}: pushed at random cuts (seed {seed})"),
        );
    }
    // Small value chunks as well: the value pieces then come from within one pushed chunk.
    check(
        &pushed(data, &even_cuts(data.len(), 64), 7),
        &streamed(data, 7),
        &format!("{name}: chunk size 7"),
    );
}

#[test]
fn synthetic_corpus_reads_identically_pushed_and_pulled() {
    let files = corpus_files("synthetic");
    assert!(
        files.len() >= 10,
        "synthetic corpus has only {} files",
        files.len()
    );
    for path in files {
        let data = std::fs::read(&path).unwrap();
        assert_push_equivalent(&path.display().to_string(), &data, &[1, 2, 3, 7, 64, 4096]);
    }
}

#[test]
fn regression_inputs_read_identically_pushed_and_pulled() {
    for path in corpus_files("regressions") {
        let data = std::fs::read(&path).unwrap();
        assert_push_equivalent(&path.display().to_string(), &data, &[1, 3, 64, 4096]);
    }
}

#[test]
fn a_value_inside_one_pushed_chunk_is_not_copied() {
    // Two (0009,00xx) OB elements of 100 000 bytes, Explicit VR LE, pushed whole. The first bytes of the
    // input were looked at to tell what it is (a file with preamble, or a bare data set); past them, a
    // value is one Value token borrowed from the chunk.
    let mut data = Vec::new();
    for element in [0x10u8, 0x11] {
        data.extend_from_slice(&[0x09, 0x00, element, 0x00, b'O', b'B', 0, 0]);
        data.extend_from_slice(&100_000u32.to_le_bytes());
        data.resize(data.len() + 100_000, element);
    }
    let chunk = Bytes::from(data);
    let second_value_at = chunk.as_ptr() as usize + 2 * 12 + 100_000;
    let options = ReaderOptions {
        chunk_size: 1 << 20,
        ..ReaderOptions::default()
    };
    let mut reader = DicomReader::pushed(options);
    reader.push(chunk.clone());
    reader.end_input();
    let mut second = None;
    let mut elements = 0;
    loop {
        match reader.read_token() {
            Ok(Token::Element(_)) => elements += 1,
            Ok(Token::Value { bytes, last }) if elements == 2 => {
                assert!(last, "one piece");
                assert_eq!(bytes.len(), 100_000);
                second = Some(bytes.as_ptr() as usize);
            }
            Ok(Token::Value { .. }) => {}
            Ok(Token::Eof) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        second,
        Some(second_value_at),
        "borrowed from the pushed chunk"
    );
}

#[test]
fn shared_corpus_reads_identically_pushed_and_pulled() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: ../shared/corpus not found; push equivalence on real files not run");
        return;
    };
    for p in dicom_files_under(&shared.join("corpus")) {
        let data = std::fs::read(&p).unwrap();
        // Every chunking on small files; large ones (pixel data) at a few.
        let sizes: &[usize] = if data.len() <= 64 * 1024 {
            &[1, 2, 3, 7, 64, 4096]
        } else {
            &[7, 4096]
        };
        assert_push_equivalent(&p.display().to_string(), &data, sizes);
    }
}
