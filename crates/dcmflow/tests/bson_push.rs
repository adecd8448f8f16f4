//! BSON → Extended JSON from pushed chunks gives the JSON, report and error of the pulled conversion at
//! every chunking: over MongoDB's corpus as one stream, each refused document, and documents whose
//! strings and binary values span many chunks.

use bytes::Bytes;
use dcmflow::bson::Mode;
use dcmflow::{BsonToJson, BsonToJsonOptions, JsonToBson, JsonToBsonOptions};

fn pulled(data: &[u8], options: &BsonToJsonOptions) -> Result<(Vec<u8>, u64), String> {
    let mut out = Vec::new();
    let report = BsonToJson::new(options.clone())
        .convert(data, &mut out)
        .map_err(|e| e.to_string())?;
    Ok((out, report.documents))
}

fn pushed(data: &[u8], options: &BsonToJsonOptions, size: usize) -> Result<(Vec<u8>, u64), String> {
    let mut conversion = BsonToJson::new(options.clone()).push(Vec::new());
    for piece in data.chunks(size) {
        conversion
            .push(Bytes::copy_from_slice(piece))
            .map_err(|e| e.to_string())?;
    }
    let (out, report) = conversion.finish().map_err(|e| e.to_string())?;
    Ok((out, report.documents))
}

/// {"s": <string of n bytes>, "b": <binary of n bytes>}
fn long_values(n: usize) -> Vec<u8> {
    let text: Vec<u8> = (0..n).map(|i| b"ab\xC3\xA9"[i % 4]).collect();
    let text = &text[..n - n % 4]; // whole characters
    let mut body = Vec::new();
    body.extend_from_slice(b"\x02s\x00");
    body.extend_from_slice(&((text.len() + 1) as i32).to_le_bytes());
    body.extend_from_slice(text);
    body.push(0);
    body.extend_from_slice(b"\x05b\x00");
    body.extend_from_slice(&(n as i32).to_le_bytes());
    body.push(0);
    body.extend((0..n).map(|i| i as u8));
    let mut doc = ((body.len() + 5) as i32).to_le_bytes().to_vec();
    doc.extend_from_slice(&body);
    doc.push(0);
    doc
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut all = vec![("long values".to_string(), long_values(100_000))];
    let Some(shared) = dcmflow_testkit::shared_dir() else {
        eprintln!("SKIPPED: the corpus part (../shared is absent)");
        return all;
    };
    let Ok(entries) = std::fs::read_dir(shared.join("bson/corpus")) else {
        eprintln!("SKIPPED: the corpus part (../shared/bson/corpus is absent)");
        return all;
    };
    let unhex = |hex: &str| -> Vec<u8> {
        (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    };
    let mut stream = Vec::new();
    for entry in entries {
        let file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        for case in file["valid"].as_array().into_iter().flatten() {
            stream.extend(unhex(case["canonical_bson"].as_str().unwrap()));
        }
        for case in file["decodeErrors"].as_array().into_iter().flatten() {
            let label = case["description"].as_str().unwrap().to_string();
            all.push((label, unhex(case["bson"].as_str().unwrap())));
        }
    }
    all.push(("the corpus as one stream".to_string(), stream));
    all
}

#[test]
fn pushed_bson_converts_as_pulled_bson() {
    for mode in [Mode::Relaxed, Mode::Canonical] {
        let mut options = BsonToJsonOptions::default();
        options.mode = mode;
        options.reader.chunk_size = 1000;
        for (name, data) in inputs() {
            let expected = pulled(&data, &options);
            for size in [1, 7, 4096, 1 << 20] {
                assert_eq!(
                    pushed(&data, &options, size),
                    expected,
                    "{name}: pieces of {size}"
                );
            }
        }
    }
}

fn json_pulled(data: &[u8]) -> Result<(Vec<u8>, u64), String> {
    let mut out = Vec::new();
    let report = JsonToBson::new(JsonToBsonOptions::default())
        .convert(data, &mut out)
        .map_err(|e| e.to_string())?;
    Ok((out, report.documents))
}

fn json_pushed(data: &[u8], size: usize) -> Result<(Vec<u8>, u64), String> {
    let mut conversion = JsonToBson::new(JsonToBsonOptions::default()).push(Vec::new());
    for piece in data.chunks(size) {
        conversion
            .push(Bytes::copy_from_slice(piece))
            .map_err(|e| e.to_string())?;
    }
    let (out, report) = conversion.finish().map_err(|e| e.to_string())?;
    Ok((out, report.documents))
}

/// Extended JSON → BSON from pushed chunks: the same BSON, report and error as pulled, at every chunking;
/// the documents of the BSON inputs above (as canonical Extended JSON), and the same cut short.
/// (Round trips are the corpus test's and the fuzz target's; here the long values make one.)
#[test]
fn pushed_json_converts_as_pulled_json() {
    let mut options = BsonToJsonOptions::default();
    options.mode = Mode::Canonical;
    for (label, bson) in inputs() {
        let Ok((json, _)) = pulled(&bson, &options) else {
            continue;
        };
        for data in [&json[..], &json[..json.len() * 2 / 3]] {
            let expected = json_pulled(data);
            // The corpus holds lossy values (NaN payloads): only the long values come back exactly.
            if label == "long values" && data.len() == json.len() {
                assert!(
                    expected.as_ref().is_ok_and(|(b, _)| b == &bson),
                    "{label}: round trip"
                );
            }
            for size in [1, 7, 4096, 1 << 20] {
                assert!(
                    json_pushed(data, size) == expected,
                    "{label}: pieces of {size}"
                );
            }
        }
    }
}

/// Documents converted on two threads: the same JSON, report and error as on one, over the corpus as one
/// stream, each refused document, the stream cut anywhere, and long values.
#[test]
fn two_threads_convert_as_one() {
    use dcmflow::Threads;
    for (label, bson) in inputs() {
        let cuts = [bson.len(), bson.len() / 2, bson.len().saturating_sub(3), 2];
        for cut in cuts {
            let data = &bson[..cut.min(bson.len())];
            for (mode, pretty) in [(Mode::Relaxed, false), (Mode::Canonical, true)] {
                let mut options = BsonToJsonOptions::default();
                options.mode = mode;
                options.pretty = pretty;
                options.threads = Threads::One;
                let one = pulled(data, &options);
                options.threads = Threads::Two;
                assert!(
                    pulled(data, &options) == one,
                    "{label}: cut at {cut}, {mode:?}: {:?}",
                    one.as_ref().err()
                );
            }
        }
    }
}

/// A document longer than two threads hold on to (16 MiB): converted on the calling thread from there,
/// with what follows it; a length under a document's 5 bytes likewise (and refused as one thread does).
#[test]
fn two_threads_hand_long_documents_back() {
    use dcmflow::Threads;
    let small = long_values(100);
    let mut stream = [small.clone(), long_values(17 << 20), small.clone()].concat();
    let mut bad = stream.clone();
    bad.extend_from_slice(&[3, 0, 0, 0, 0]);
    stream.extend_from_slice(&small);
    for data in [&stream, &bad] {
        let mut options = BsonToJsonOptions::default();
        options.threads = Threads::One;
        let one = pulled(data, &options);
        options.threads = Threads::Two;
        assert!(pulled(data, &options) == one, "{:?}", one.as_ref().err());
    }
    assert_eq!(pulled(&stream, &BsonToJsonOptions::default()).unwrap().1, 4);
}
