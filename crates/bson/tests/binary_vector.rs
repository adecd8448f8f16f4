//! Binary subtype 9 (vectors, `../shared/bson/binary-vector`, bson-binary-vector.md): the codec carries
//! them as binary — every case's BSON reads, is written as `{"$binary": {…, "subType": "09"}}` and comes
//! back byte for byte through the writer — and the data it carries decodes to the case's vector where the
//! case is valid (and is refused where it is not), so nothing the vector needs is lost on the way.

use dcmflow_bson::{
    BsonReader, BsonWriter, Compact, ExtJsonWriter, Layout, Mode, ReaderOptions, Token,
    WriterOptions,
};
use serde_json::Value;

/// The vector a subtype 9 payload holds (dtype byte, padding byte, elements), or why it is not one.
fn decode(payload: &[u8]) -> Result<Vec<f64>, &'static str> {
    let [dtype, padding, data @ ..] = payload else {
        return Err("no header");
    };
    match *dtype {
        0x03 if *padding == 0 => Ok(data.iter().map(|&b| f64::from(b as i8)).collect()),
        0x27 if *padding == 0 && data.len() % 4 == 0 => Ok(data
            .chunks(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect()),
        // Packed bits: the bytes are the vector; the padding counts unused low bits of the last byte.
        0x10 if *padding <= 7 && !(data.is_empty() && *padding != 0) => {
            Ok(data.iter().map(|&b| f64::from(b)).collect())
        }
        0x03 | 0x27 | 0x10 => Err("bad padding or length"),
        _ => Err("unknown dtype"),
    }
}

fn expected_vector(case: &Value) -> Vec<f64> {
    case["vector"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| match v {
            Value::Number(n) => n.as_f64().unwrap(),
            Value::Object(o) => match o["$numberDouble"].as_str().unwrap() {
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                other => other.parse().unwrap(),
            },
            other => panic!("vector element {other}"),
        })
        .collect()
}

#[test]
fn vectors_are_carried_as_binary_and_decode() {
    let Some(shared) = dcmflow_testkit::shared_dir() else {
        eprintln!("SKIPPED: ../shared is absent");
        return;
    };
    let dir = shared.join("bson/binary-vector");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: {} is absent", dir.display());
        return;
    };
    let mut checked = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for case in file["tests"].as_array().unwrap() {
            let Some(hex) = case["canonical_bson"].as_str() else {
                continue; // a case about building a vector from numbers, with no BSON
            };
            let name = case["description"].as_str().unwrap();
            let bson: Vec<u8> = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            let mut reader = BsonReader::from_slice(&bson, ReaderOptions::default());
            let mut json = ExtJsonWriter::new(Vec::new(), Compact, Mode::Canonical, Layout::Lines);
            let mut back = BsonWriter::new(Vec::new(), WriterOptions::default());
            let mut payload = Vec::new();
            loop {
                let token = reader
                    .read_token()
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                if let Token::Bytes { bytes, .. } = token {
                    payload.extend_from_slice(bytes);
                }
                json.write_token(&token).unwrap();
                back.write_token(&token).unwrap();
                if token == Token::End {
                    break;
                }
            }
            let json = String::from_utf8(json.finish().unwrap()).unwrap();
            assert!(json.contains(r#""subType":"09""#), "{name}: {json}");
            assert_eq!(back.finish().unwrap(), bson, "{name}: not byte for byte");
            let decoded = decode(&payload);
            if case["valid"].as_bool().unwrap() {
                // Compared in single precision: a FLOAT32 vector's "127.7" is the float nearest it.
                let single = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<_>>();
                let decoded = decoded.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(single(&decoded), single(&expected_vector(case)), "{name}");
            } else {
                assert!(decoded.is_err(), "{name}: decoded {decoded:?}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} cases with BSON");
}
