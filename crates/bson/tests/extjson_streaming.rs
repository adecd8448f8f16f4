//! The same documents, errors, offsets and line:column whether Extended JSON is read from a slice, from
//! a stream at any read size, or from chunks pushed at any cut: over every Extended JSON text of MongoDB's
//! corpus (valid and refused), the corpus as one stream, real tweets, and inputs the fuzzer found.

use bytes::Bytes;
use dcmflow_bson::{ErrorKind, ExtJsonOptions, ExtJsonReader};
use dcmflow_testkit::Trickle;

/// Documents (hex) and the outcome: the error's kind, offset, line:column and path.
type Outline = (Vec<Vec<u8>>, Option<String>);

fn outline(
    reader: &mut ExtJsonReader<'_>,
    mut more: impl FnMut(&mut ExtJsonReader<'_>) -> bool,
) -> Outline {
    let mut docs = Vec::new();
    loop {
        match reader.next_document() {
            Ok(Some(doc)) => docs.push(doc.to_vec()),
            Ok(None) => return (docs, None),
            Err(e) if e.kind() == ErrorKind::NeedInput => {
                assert!(more(reader), "asked for more after the end");
            }
            Err(e) => {
                let place = format!(
                    "{:?} at {} {:?} {}: {}",
                    e.kind(),
                    e.offset(),
                    e.line_column(),
                    e.path(),
                    e.message()
                );
                return (docs, Some(place));
            }
        }
    }
}

fn options(legacy: bool) -> ExtJsonOptions {
    let mut options = ExtJsonOptions::default();
    options.legacy = legacy;
    options
}

fn pushed(data: &[u8], cuts: &[usize], legacy: bool) -> Outline {
    let mut reader = ExtJsonReader::pushed(options(legacy));
    let mut pieces = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
        pieces.push(Bytes::copy_from_slice(&data[at..cut.max(at)]));
        at = cut.max(at);
    }
    let mut pieces = pieces.into_iter();
    let mut ended = false;
    outline(&mut reader, |r| match pieces.next() {
        Some(piece) => {
            r.push(piece);
            true
        }
        None if ended => false,
        None => {
            r.end_input();
            ended = true;
            true
        }
    })
}

/// Every way of reading `data` gives what the slice gives.
fn check_alike(label: &str, data: &[u8]) {
    for legacy in [false, true] {
        let expected = outline(
            &mut ExtJsonReader::from_slice(data, options(legacy)),
            |_| false,
        );
        for step in [1, 2, 3, 7, 64, 4096] {
            let mut stream = ExtJsonReader::from_reader(Trickle { data, step }, options(legacy));
            assert_eq!(
                outline(&mut stream, |_| false),
                expected,
                "{label}: reads of {step} bytes (legacy {legacy})"
            );
        }
        for (seed, max) in [(1, 1), (2, 5), (3, 64), (4, 4096)] {
            let cuts = dcmflow_testkit::random_cuts(data.len(), seed, max);
            assert_eq!(
                pushed(data, &cuts, legacy),
                expected,
                "{label}: pushes of up to {max} bytes (legacy {legacy})"
            );
        }
    }
}

fn corpus_texts() -> Option<Vec<(String, String)>> {
    let dir = dcmflow_testkit::shared_dir()?.join("bson/corpus");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for case in file["valid"].as_array().into_iter().flatten() {
            for key in ["canonical_extjson", "relaxed_extjson", "degenerate_extjson"] {
                if let Some(text) = case[key].as_str() {
                    out.push((
                        format!("{name}: {} ({key})", case["description"]),
                        text.to_string(),
                    ));
                }
            }
        }
        if file["bson_type"] != "0x13" {
            for case in file["parseErrors"].as_array().into_iter().flatten() {
                let text = case["string"].as_str().unwrap().to_string();
                out.push((
                    format!("{name}: {} (parse error)", case["description"]),
                    text,
                ));
            }
        }
    }
    Some(out)
}

#[test]
fn every_corpus_text_reads_alike_from_every_input_kind() {
    let Some(texts) = corpus_texts() else {
        eprintln!("SKIPPED: ../shared/bson/corpus is absent");
        return;
    };
    for (label, text) in &texts {
        check_alike(label, text.as_bytes());
    }
    // All of them as one stream: documents until the first refused one.
    let stream: String = texts.iter().map(|(_, t)| format!("{t}\n")).collect();
    check_alike("the corpus as one stream", stream.as_bytes());
}

#[test]
fn real_tweets_read_alike_from_every_input_kind() {
    let Some(dir) = dcmflow_testkit::shared_dir().map(|d| d.join("bson/bench/ldjson")) else {
        eprintln!("SKIPPED: ../shared is absent");
        return;
    };
    let Some(path) = std::fs::read_dir(&dir)
        .ok()
        .and_then(|entries| entries.map(|e| e.unwrap().path()).min())
    else {
        eprintln!("SKIPPED: no tweets in {}", dir.display());
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let some: String = text.lines().take(200).map(|l| format!("{l}\n")).collect();
    let (docs, error) = outline(
        &mut ExtJsonReader::from_slice(some.as_bytes(), options(false)),
        |_| false,
    );
    assert_eq!((docs.len(), error), (200, None));
    check_alike("200 tweets", some.as_bytes());
    // Cut short anywhere: the same error from every input kind.
    check_alike("tweets cut short", &some.as_bytes()[..some.len() / 2]);
}

/// Inputs the fuzz target `extjson_read` found to be read differently from a slice and a stream.
#[test]
fn errors_inside_a_value_are_placed_alike() {
    let nul_run = format!("{{\"x\" : {{\"a\" : \"b{}\"}}}}", "\0".repeat(88));
    check_alike("control characters in a string", nul_run.as_bytes());
    check_alike(
        "a bad base64 group",
        b"{\"x\": {\"$binary\": {\"base64\": \"EAB\0\0\0==\",8 \"subType\": \"09\"}}}",
    );
    check_alike(
        "base64 after padding",
        b"{\"x\": {\"$binary\": {\"base64\": \"AA==AAAAAAAAAAAAAAAA\", \"subType\": \"00\"}}}",
    );
    // A document past the size limit, in a string and in base64: placed at the byte that does not fit.
    let long = format!("{{\"s\": \"{}\"}}", "x".repeat(300));
    let data = format!(
        "{{\"b\": {{\"$binary\": {{\"base64\": \"{}\", \"subType\": \"00\"}}}}}}",
        "QUFB".repeat(100)
    );
    for text in [long, data] {
        let mut small = ExtJsonOptions::default();
        small.max_document_size = 100;
        let expected = outline(
            &mut ExtJsonReader::from_slice(text.as_bytes(), small.clone()),
            |_| false,
        );
        assert!(
            expected
                .1
                .as_deref()
                .is_some_and(|e| e.starts_with("TooLarge")),
            "{expected:?}"
        );
        for step in [1, 3, 64] {
            let mut stream = ExtJsonReader::from_reader(
                Trickle {
                    data: text.as_bytes(),
                    step,
                },
                small.clone(),
            );
            assert_eq!(outline(&mut stream, |_| false), expected, "reads of {step}");
        }
    }
}
