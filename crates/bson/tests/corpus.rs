//! MongoDB's BSON corpus (`../shared/bson/corpus`, bson-corpus.md): every assertion for a codec without
//! an intermediate representation: cB → cEJ, cB → rEJ, dB → cEJ, dB → rEJ, cEJ → cB, dEJ → cB (unless
//! `lossy`), rEJ → BSON → rEJ, every `decodeErrors` case refused and every `parseErrors` case refused.
//! JSON is compared as the specification asks: as JSON values (member order and escaping aside), with
//! `$numberDouble` strings compared as the doubles they name.

use dcmflow_bson::decimal128::Decimal128;
use dcmflow_bson::{
    BsonReader, BsonWriter, Compact, ExtJsonOptions, ExtJsonReader, ExtJsonWriter, Layout, Mode,
    ReaderOptions, Token, WriterOptions,
};
use serde_json::Value;

fn corpus() -> Option<Vec<(String, Value)>> {
    let dir = dcmflow_testkit::shared_dir()?.join("bson/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .ok()?
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Some(
        files
            .into_iter()
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(&p).unwrap();
                (name, serde_json::from_str(&text).unwrap())
            })
            .collect(),
    )
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn to_json(bson: &[u8], mode: Mode) -> Result<String, String> {
    let mut reader = BsonReader::from_slice(bson, ReaderOptions::default());
    let mut writer = ExtJsonWriter::new(Vec::new(), Compact, mode, Layout::Lines);
    loop {
        let token = reader.read_token().map_err(|e| e.to_string())?;
        writer.write_token(&token).map_err(|e| e.to_string())?;
        if token == Token::End {
            break;
        }
    }
    let out = writer.finish().map_err(|e| e.to_string())?;
    Ok(String::from_utf8(out).expect("UTF-8"))
}

/// `$numberDouble` strings as the double they name (spelling aside: `1E+18` is `1e+18`).
fn normalise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(text)) = map.get_mut("$numberDouble") {
                    if let Ok(v) = text.parse::<f64>() {
                        if v.is_finite() {
                            *text = format!("{:?}/{}", v, v.is_sign_negative());
                        }
                    }
                    return;
                }
            }
            map.values_mut().for_each(normalise);
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        Value::Number(n) => {
            // A relaxed double: its sign too (serde_json's numbers compare -0.0 equal to 0.0).
            if let Some(v) = n.as_f64().filter(|_| n.is_f64()) {
                if v == 0.0 && v.is_sign_negative() {
                    *value = Value::String("-0.0 number".into());
                }
            }
        }
        _ => {}
    }
}

fn same_json(actual: &str, expected: &str) -> bool {
    let mut a: Value = match serde_json::from_str(actual) {
        Ok(v) => v,
        Err(_) => return false,
    };
    let mut e: Value = serde_json::from_str(expected).expect("the corpus's JSON parses");
    normalise(&mut a);
    normalise(&mut e);
    a == e
}

/// Every valid case: its file and description, the case itself, and its BSON inputs (canonical, and the
/// degenerate form where it has one).
type ValidInputs<'a> = Vec<(String, &'a Value, Vec<(&'static str, Vec<u8>)>)>;

fn valid_inputs(files: &[(String, Value)]) -> ValidInputs<'_> {
    let mut out = Vec::new();
    for (name, file) in files {
        for case in file["valid"].as_array().into_iter().flatten() {
            let label = format!("{name}: {}", case["description"].as_str().unwrap());
            let mut inputs = vec![("cB", unhex(case["canonical_bson"].as_str().unwrap()))];
            if let Some(db) = case["degenerate_bson"].as_str() {
                inputs.push(("dB", unhex(db)));
            }
            out.push((label, case, inputs));
        }
    }
    out
}

#[test]
fn bson_to_extended_json_matches_the_corpus() {
    let Some(files) = corpus() else {
        eprintln!("SKIPPED: ../shared/bson/corpus is absent");
        return;
    };
    let (mut checked, mut failures) = (0, Vec::new());
    for (label, case, inputs) in valid_inputs(&files) {
        for (what, bson) in inputs {
            let mut expect = vec![(Mode::Canonical, "cEJ", &case["canonical_extjson"])];
            if !case["relaxed_extjson"].is_null() {
                expect.push((Mode::Relaxed, "rEJ", &case["relaxed_extjson"]));
            }
            for (mode, form, expected) in expect {
                checked += 1;
                let expected = expected.as_str().unwrap();
                match to_json(&bson, mode) {
                    Ok(json) if same_json(&json, expected) => {}
                    Ok(json) => failures.push(format!(
                        "{label}: {what} → {form}:\n  got      {json}  expected {expected}"
                    )),
                    Err(e) => failures.push(format!("{label}: {what} → {form}: error {e}")),
                }
            }
        }
    }
    assert!(checked >= 759, "only {checked} assertions");
    assert!(
        failures.is_empty(),
        "{} of {checked} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{checked} BSON → Extended JSON assertions hold");
}

#[test]
fn every_decode_error_is_refused() {
    let Some(files) = corpus() else {
        eprintln!("SKIPPED: ../shared/bson/corpus is absent");
        return;
    };
    let (mut checked, mut accepted) = (0, Vec::new());
    for (name, file) in &files {
        for case in file["decodeErrors"].as_array().into_iter().flatten() {
            checked += 1;
            let bson = unhex(case["bson"].as_str().unwrap());
            for mode in [Mode::Canonical, Mode::Relaxed] {
                if let Ok(json) = to_json(&bson, mode) {
                    accepted.push(format!(
                        "{name}: {}: gave {json}",
                        case["description"].as_str().unwrap()
                    ));
                }
            }
        }
    }
    assert_eq!(checked, 75);
    assert!(accepted.is_empty(), "accepted:\n{}", accepted.join("\n"));
}

/// BSON → tokens → BSON: canonical BSON comes back byte for byte, degenerate BSON (array keys that are not
/// the indices, regular expression options out of order) as the canonical BSON of its case.
#[test]
fn the_writer_gives_back_canonical_bson() {
    let Some(files) = corpus() else {
        eprintln!("SKIPPED: ../shared/bson/corpus is absent");
        return;
    };
    let (mut checked, mut failures) = (0, Vec::new());
    for (label, _, inputs) in valid_inputs(&files) {
        let canonical = inputs[0].1.clone();
        for (what, bson) in inputs {
            checked += 1;
            let mut reader = BsonReader::from_slice(&bson, ReaderOptions::default());
            let mut writer = BsonWriter::new(Vec::new(), WriterOptions::default());
            loop {
                let token = reader.read_token().expect("valid cases read");
                writer
                    .write_token(&token)
                    .expect("the writer takes the reader's tokens");
                if token == Token::End {
                    break;
                }
            }
            let out = writer.finish().unwrap();
            if out != canonical {
                failures.push(format!("{label}: {what} came back as {out:02X?}"));
            }
        }
    }
    assert!(checked >= 759 / 2, "only {checked} documents");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Extended JSON text → the BSON of its one document.
fn to_bson(json: &str, legacy: bool) -> Result<Vec<u8>, String> {
    let mut options = ExtJsonOptions::default();
    options.legacy = legacy;
    let mut reader = ExtJsonReader::from_slice(json.as_bytes(), options);
    let doc = reader
        .next_document()
        .map_err(|e| e.to_string())?
        .ok_or("no document")?
        .to_vec();
    match reader.next_document() {
        Ok(None) => Ok(doc),
        Ok(Some(_)) => Err("more than one document".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn extended_json_to_bson_matches_the_corpus() {
    let Some(files) = corpus() else {
        eprintln!("SKIPPED: ../shared/bson/corpus is absent");
        return;
    };
    let (mut checked, mut failures) = (0, Vec::new());
    for (label, case, inputs) in valid_inputs(&files) {
        let canonical = &inputs[0].1;
        let lossy = case["lossy"].as_bool() == Some(true);
        for legacy in [false, true] {
            // json_to_bson(cEJ) = cB and json_to_bson(dEJ) = cB, unless lossy.
            for (form, key) in [("cEJ", "canonical_extjson"), ("dEJ", "degenerate_extjson")] {
                let Some(json) = case[key].as_str().filter(|_| !lossy) else {
                    continue;
                };
                checked += 1;
                match to_bson(json, legacy) {
                    Ok(bson) if &bson == canonical => {}
                    Ok(bson) => failures.push(format!(
                        "{label}: {form} → cB (legacy {legacy}): got {bson:02X?}"
                    )),
                    Err(e) => failures.push(format!("{label}: {form} → cB (legacy {legacy}): {e}")),
                }
            }
            // bson_to_relaxed_extended_json(json_to_bson(rEJ)) = rEJ.
            if let Some(json) = case["relaxed_extjson"].as_str() {
                checked += 1;
                match to_bson(json, legacy).and_then(|bson| to_json(&bson, Mode::Relaxed)) {
                    Ok(back) if same_json(&back, json) => {}
                    Ok(back) => failures.push(format!(
                        "{label}: rEJ → BSON → rEJ (legacy {legacy}): got {back}  expected {json}"
                    )),
                    Err(e) => failures.push(format!("{label}: rEJ → BSON (legacy {legacy}): {e}")),
                }
            }
        }
    }
    assert!(checked >= 2138, "only {checked} assertions");
    assert!(
        failures.is_empty(),
        "{} of {checked} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{checked} Extended JSON → BSON assertions hold");
}

/// bson-corpus.md, "Testing parsing errors": top-level and binary cases are Extended JSON a parser must
/// refuse (and plain JSON a JSON parser accepts); Decimal128 cases are strings its parser must refuse.
#[test]
fn every_parse_error_is_refused() {
    let Some(files) = corpus() else {
        eprintln!("SKIPPED: ../shared/bson/corpus is absent");
        return;
    };
    let (mut checked, mut accepted) = (0, Vec::new());
    for (name, file) in &files {
        let decimal = file["bson_type"].as_str() == Some("0x13");
        for case in file["parseErrors"].as_array().into_iter().flatten() {
            checked += 1;
            let text = case["string"].as_str().unwrap();
            let label = format!("{name}: {}", case["description"].as_str().unwrap());
            if decimal {
                if let Ok(v) = Decimal128::parse(text) {
                    accepted.push(format!("{label}: Decimal128 parsed {text:?} as {v:?}"));
                }
                let json = serde_json::json!({"d": {"$numberDecimal": text}}).to_string();
                if let Ok(bson) = to_bson(&json, false) {
                    accepted.push(format!("{label}: {json} gave {bson:02X?}"));
                }
                continue;
            }
            assert!(
                serde_json::from_str::<Value>(text).is_ok(),
                "{label}: not plain JSON, so it tests nothing of Extended JSON"
            );
            for legacy in [false, true] {
                // Legacy input (on request only) is, by design, what these two cases refuse.
                let legacy_form = legacy
                    && (label.contains("Bad $numberLong (number, not string)")
                        || label.contains("Bad $date (number, not string or hash)"));
                match to_bson(text, legacy) {
                    Ok(bson) if !legacy_form => {
                        accepted.push(format!("{label} (legacy {legacy}): gave {bson:02X?}"))
                    }
                    Err(e) if legacy_form => {
                        accepted.push(format!("{label}: the legacy form is refused: {e}"))
                    }
                    _ => {}
                }
            }
        }
    }
    assert_eq!(checked, 180);
    assert!(accepted.is_empty(), "accepted:\n{}", accepted.join("\n"));
}
