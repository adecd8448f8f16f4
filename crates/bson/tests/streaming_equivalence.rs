//! The same tokens, errors and offsets whether BSON is read from a slice, from a stream at any read
//! size and chunk size, or from chunks pushed at any cut: over every valid and every refused document of
//! MongoDB's corpus, one at a time and as one stream.

use bytes::Bytes;
use dcmflow_bson::{BsonReader, ErrorKind, ReaderOptions, Token};
use dcmflow_testkit::Trickle;

/// Tokens with value pieces joined (pieces depend on the read sizes), and the outcome.
fn outline(mut next: impl FnMut(&mut Vec<String>) -> Option<Result<(), String>>) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        match next(&mut out) {
            None => continue,
            Some(Ok(())) => return out,
            Some(Err(e)) => {
                out.push(e);
                return out;
            }
        }
    }
}

/// Appends the token to `out`, merging a value piece into the previous one; `Some(Ok)` at `End`.
fn note(
    out: &mut Vec<String>,
    token: &Token<'_>,
    offset: u64,
    joining: &mut bool,
) -> Option<Result<(), String>> {
    match token {
        Token::Text { bytes, last } | Token::Bytes { bytes, last } => {
            let piece: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            if *joining {
                out.last_mut().unwrap().push_str(&piece);
            } else {
                out.push(format!("value@{offset} {piece}"));
            }
            *joining = !last;
            None
        }
        Token::End => Some(Ok(())),
        other => {
            out.push(format!("{other:?}@{offset}"));
            None
        }
    }
}

fn failure(e: &dcmflow_bson::Error) -> String {
    format!("{:?} at {}: {}", e.kind(), e.offset(), e.path())
}

fn from_slice(data: &[u8], options: &ReaderOptions) -> Vec<String> {
    let mut reader = BsonReader::from_slice(data, options.clone());
    let mut joining = false;
    outline(|out| {
        let offset = reader.position();
        match reader.read_token() {
            Ok(token) => note(out, &token, offset, &mut joining),
            Err(e) => {
                // A value cut short by the error may have been handed out in part, or not at all.
                if joining {
                    out.pop();
                }
                Some(Err(failure(&e)))
            }
        }
    })
}

fn from_stream(data: &[u8], options: &ReaderOptions, read: usize) -> Vec<String> {
    let mut reader = BsonReader::from_reader(Trickle { data, step: read }, options.clone());
    let mut joining = false;
    outline(|out| {
        let offset = reader.position();
        match reader.read_token() {
            Ok(token) => note(out, &token, offset, &mut joining),
            Err(e) => {
                // A value cut short by the error may have been handed out in part, or not at all.
                if joining {
                    out.pop();
                }
                Some(Err(failure(&e)))
            }
        }
    })
}

fn from_pushes(data: &[u8], options: &ReaderOptions, cuts: &[usize]) -> Vec<String> {
    let mut reader = BsonReader::pushed(options.clone());
    // `cuts` are the inner boundaries.
    let mut bounds = vec![0];
    bounds.extend(cuts.iter().copied().filter(|&c| c > 0 && c < data.len()));
    bounds.push(data.len());
    let mut pieces = bounds
        .windows(2)
        .map(|w| Bytes::copy_from_slice(&data[w[0]..w[1]]));
    let mut joining = false;
    outline(|out| {
        let offset = reader.position();
        match reader.read_token() {
            Ok(token) => note(out, &token, offset, &mut joining),
            Err(e) if e.kind() == ErrorKind::NeedInput => {
                match pieces.next() {
                    Some(piece) => reader.push(piece),
                    None => reader.end_input(),
                }
                None
            }
            Err(e) => {
                // A value cut short by the error may have been handed out in part, or not at all.
                if joining {
                    out.pop();
                }
                Some(Err(failure(&e)))
            }
        }
    })
}

fn check(name: &str, data: &[u8], options: &ReaderOptions) {
    let expected = from_slice(data, options);
    for read in [1, 2, 3, 7, 64, 4096] {
        for chunk in [1, 5, 64, 4096] {
            let mut o = options.clone();
            o.chunk_size = chunk;
            assert_eq!(
                from_stream(data, &o, read),
                expected,
                "{name}: reads of {read}, chunk {chunk}"
            );
        }
    }
    for size in [1, 2, 3, 7, 64, 4096] {
        let cuts = dcmflow_testkit::even_cuts(data.len(), size);
        for chunk in [1, 5, 4096] {
            // Small pieces make strings be taken piece by piece after their length was read.
            let mut o = options.clone();
            o.chunk_size = chunk;
            assert_eq!(
                from_pushes(data, &o, &cuts),
                expected,
                "{name}: pushes of {size}, chunk {chunk}"
            );
        }
    }
    for seed in 0..4 {
        let cuts = dcmflow_testkit::random_cuts(data.len(), seed, 40);
        assert_eq!(
            from_pushes(data, options, &cuts),
            expected,
            "{name}: random cuts {seed}"
        );
    }
}

/// Documents with a label: the case's file and description.
type Labelled = Vec<(String, Vec<u8>)>;

/// The corpus's valid documents and its refused ones.
fn corpus_documents() -> Option<(Labelled, Labelled)> {
    let dir = dcmflow_testkit::shared_dir()?.join("bson/corpus");
    let (mut valid, mut invalid) = (Vec::new(), Vec::new());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let unhex = |hex: &str| -> Vec<u8> {
            (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect()
        };
        for case in file["valid"].as_array().into_iter().flatten() {
            let label = format!("{name}: {}", case["description"].as_str().unwrap());
            valid.push((label, unhex(case["canonical_bson"].as_str().unwrap())));
        }
        for case in file["decodeErrors"].as_array().into_iter().flatten() {
            let label = format!("{name}: {}", case["description"].as_str().unwrap());
            invalid.push((label, unhex(case["bson"].as_str().unwrap())));
        }
    }
    Some((valid, invalid))
}

#[test]
fn every_input_reads_the_corpus_alike() {
    let Some((valid, invalid)) = corpus_documents() else {
        eprintln!("SKIPPED: ../shared/bson/corpus is absent");
        return;
    };
    let single = ReaderOptions::default();
    for (name, data) in valid.iter().chain(&invalid) {
        check(name, data, &single);
    }
    // All valid documents as one stream, as mongodump writes them.
    let mut stream_options = ReaderOptions::default();
    stream_options.stream = true;
    let all: Vec<u8> = valid.iter().flat_map(|(_, d)| d.clone()).collect();
    let outline = from_slice(&all, &stream_options);
    assert!(
        !outline.last().unwrap().contains(" at "),
        "{:?}",
        outline.last()
    );
    check("the whole corpus as a stream", &all, &stream_options);
}

#[test]
fn a_truncated_stream_reports_where_it_ends() {
    let Some((valid, _)) = corpus_documents() else {
        eprintln!("SKIPPED: ../shared/bson/corpus is absent");
        return;
    };
    let mut options = ReaderOptions::default();
    options.stream = true;
    let all: Vec<u8> = valid.iter().take(50).flat_map(|(_, d)| d.clone()).collect();
    for cut in [1, 4, 5, 17, all.len() / 2, all.len() - 1] {
        let data = &all[..cut];
        let outline = from_slice(data, &options);
        let last = outline.last().unwrap();
        assert!(
            last.starts_with("Truncated at") || last.starts_with("Invalid at"),
            "{cut}: {last}"
        );
        check(&format!("cut at {cut}"), data, &options);
    }
}

/// `data` read with the default options ends in `error` from a slice, and reads alike from every input.
fn refused_alike(name: &str, data: &[u8], error: &str) {
    let outline = from_slice(data, &ReaderOptions::default());
    assert_eq!(outline.last().unwrap(), error, "{name}");
    check(name, data, &ReaderOptions::default());
}

/// A string whose bad UTF-8 comes late, after pieces were handed out: the error names the string's
/// start however it was read (a fuzz find: the piece's start was named).
#[test]
fn bad_utf8_late_in_a_string_is_placed_alike() {
    let mut text = b"0123456789012345678901234567890123456789".to_vec();
    text[30] = 0xE9;
    let mut doc = Vec::new();
    doc.extend_from_slice(b"\x02s\x00");
    doc.extend_from_slice(&((text.len() + 1) as i32).to_le_bytes());
    doc.extend_from_slice(&text);
    doc.push(0);
    let mut data = ((doc.len() + 5) as i32).to_le_bytes().to_vec();
    data.extend_from_slice(&doc);
    data.push(0);
    refused_alike("late bad UTF-8", &data, "Invalid at 11: s");
    // Bad UTF-8 and no terminator either: the UTF-8 is met first, read whole or in pieces.
    let terminator = data.len() - 2;
    data[terminator] = b'x';
    refused_alike("late bad UTF-8, no terminator", &data, "Invalid at 11: s");
}

/// A character's lead byte, then a byte that cannot follow it, then the end of the input: refused as bad
/// UTF-8 however the bytes arrive, not as a truncation when they come one at a time (a fuzz find).
#[test]
fn a_bad_continuation_is_seen_before_the_end() {
    let mut data = Vec::new();
    data.extend_from_slice(&200i32.to_le_bytes());
    data.extend_from_slice(b"\x02s\x00");
    data.extend_from_slice(&100i32.to_le_bytes());
    data.extend_from_slice(b"ab\xE0\x80");
    refused_alike(
        "lead byte, bad continuation, end",
        &data,
        "Invalid at 11: s",
    );
}

/// A fuzz find (bson_read): pushed one byte at a time, a string's first piece was taken right after its
/// length had been read and found no input; the failed take dropped the length, and the retry read the
/// string's content as its length. The pushed reader must place the error as the slice does.
#[test]
fn a_take_short_of_input_after_a_length_retries_from_the_length() {
    let hex =
        "180d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d\
               0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d2b2000136400000000560001070000000000\
               000000050105100f0f0f0f1f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\
               0f0f1f0f0f0f0f0f0f0f0f0f0f0f305f414d5f090000006e6f726d30303800ffffffffffffffff026465\
               736372697074696f6e005a0000000f0f0f0f0f0f0f0f0f0f0f0f0f0f6c00";
    let hex: String = hex.split_whitespace().collect();
    let data: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut options = ReaderOptions::default();
    options.stream = true;
    options.chunk_size = 57;
    let expected = from_slice(&data, &options);
    assert!(
        expected.last().unwrap().starts_with("Invalid at 73"),
        "{expected:?}"
    );
    let cuts = dcmflow_testkit::even_cuts(data.len(), 1);
    assert_eq!(from_pushes(&data, &options, &cuts), expected);
}
