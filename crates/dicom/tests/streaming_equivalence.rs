//! The slice reader and the `io::Read` reader must agree token for token (values compared after joining
//! their chunks) whatever the read sizes of the underlying stream and the value chunk size.

mod listing;

use dcmflow_core::{Error, Token};
use dcmflow_dicom::{DicomReader, ReaderOptions};
use dcmflow_testkit::Trickle;

/// A token with its value bytes owned and joined, so chunking does not matter.
#[derive(Debug, PartialEq)]
enum Owned {
    Token(String),
    Value(Vec<u8>),
}

fn collect(reader: &mut DicomReader<'_>) -> (Vec<Owned>, Option<Error>) {
    let mut out = Vec::new();
    let mut value: Option<Vec<u8>> = None;
    loop {
        match reader.read_token() {
            Ok(Token::Eof) => return (out, None),
            Ok(Token::Value { bytes, last }) => {
                let v = value.get_or_insert_with(Vec::new);
                v.extend_from_slice(bytes);
                if last {
                    out.push(Owned::Value(value.take().unwrap()));
                }
            }
            Ok(t) => out.push(Owned::Token(format!("{t:?}"))),
            Err(e) => return (out, Some(e)),
        }
    }
}

/// Same tokens and same outcome (error kind and offset). On a truncated input a slice knows its length up front and fails before
/// announcing the element whose value is cut short; a stream announces it and fails in the value. So after
/// an error the stream may have exactly one more token.
fn assert_same(
    name: &str,
    got: &[Owned],
    expected: &[Owned],
    err: Option<Error>,
    expected_err: Option<Error>,
    how: &str,
) {
    // The error is the same, at the same offset (a value cut short: the end of the input).
    assert_eq!(
        err.map(|e| (e.kind, e.offset)),
        expected_err.map(|e| (e.kind, e.offset)),
        "{name}: outcome differs, {how}"
    );
    let extra = if err.is_some() {
        got.len().saturating_sub(expected.len())
    } else {
        0
    };
    assert!(extra <= 1, "{name}: {extra} extra tokens, {how}");
    assert_eq!(
        got.len() - extra,
        expected.len(),
        "{name}: token count, {how}"
    );
    assert!(
        got[..expected.len()] == *expected,
        "{name}: tokens differ, {how}"
    );
}

fn assert_equivalent(name: &str, data: &[u8]) {
    let (expected, expected_err) =
        collect(&mut DicomReader::from_slice(data, ReaderOptions::default()));
    for step in [1, 2, 3, 7, 64, 4096] {
        for chunk_size in [1, 3, 64, 4096] {
            let options = ReaderOptions {
                chunk_size,
                ..ReaderOptions::default()
            };
            let mut reader = DicomReader::from_reader(Trickle { data, step }, options);
            let (got, err) = collect(&mut reader);
            assert_same(
                name,
                &got,
                &expected,
                err,
                expected_err,
                &format!("read step {step}, chunk {chunk_size}"),
            );
        }
    }
}

#[test]
fn synthetic_corpus_reads_identically_from_slice_and_stream() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/synthetic");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus/synthetic exists (tools/gen_corpus.py)") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "dcm") {
            assert_equivalent(&path.display().to_string(), &std::fs::read(&path).unwrap());
            n += 1;
        }
    }
    assert!(n >= 10, "synthetic corpus has only {n} files");
}

/// Every synthetic file cut short at several places: the slice and the stream fail alike, at the same
/// offset.
#[test]
fn truncated_files_fail_at_the_same_offset_from_slice_and_stream() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/synthetic");
    let mut failed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "dcm") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        for cut in (1..data.len()).step_by((data.len() / 13).max(1)) {
            let part = &data[..cut];
            let (expected, expected_err) =
                collect(&mut DicomReader::from_slice(part, ReaderOptions::default()));
            failed += usize::from(expected_err.is_some());
            let mut reader = DicomReader::from_reader(
                Trickle {
                    data: part,
                    step: 5,
                },
                ReaderOptions::default(),
            );
            let (got, err) = collect(&mut reader);
            let name = format!("{} cut at {cut}", path.display());
            assert_same(&name, &got, &expected, err, expected_err, "read step 5");
        }
    }
    assert!(failed >= 50, "only {failed} cuts failed");
}

#[test]
fn shared_corpus_reads_identically_from_slice_and_stream() {
    let Some(shared) = listing::shared_dir() else {
        eprintln!(
            "SKIPPED: ../shared/corpus not found; streaming equivalence on real files not run"
        );
        return;
    };
    let files = dcmflow_testkit::dicom_files_under(&shared.join("corpus"));
    // The full matrix on every file takes minutes in debug builds: small files get it all, large ones
    // (multi-MB pixel data) are checked at one read step so the suite stays quick.
    for p in files {
        let data = std::fs::read(&p).unwrap();
        if data.len() <= 64 * 1024 {
            assert_equivalent(&p.display().to_string(), &data);
        } else {
            let (expected, e1) = collect(&mut DicomReader::from_slice(
                &data,
                ReaderOptions::default(),
            ));
            let options = ReaderOptions {
                chunk_size: 4096,
                ..ReaderOptions::default()
            };
            let (got, e2) = collect(&mut DicomReader::from_reader(
                Trickle {
                    data: &data,
                    step: 7919,
                },
                options,
            ));
            assert_same(
                &p.display().to_string(),
                &got,
                &expected,
                e2,
                e1,
                "read step 7919, chunk 4096",
            );
        }
    }
}
