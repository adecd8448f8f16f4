//! JSON → Avro through the library: pushed input, cut anywhere, writes what reading it whole writes —
//! the same bytes, or the same error with its line, column and path — for every framing and both
//! encodings, over Apache's weather data, a record of every kind of value, and bad JSON.

use dcmflow::avro::Encoding;
use dcmflow::{AvroFraming, JsonToAvro, JsonToAvroOptions};

const SCHEMA: &str = r#"{"type":"record","name":"R","namespace":"t","fields":[
    {"name":"id","type":"string"},
    {"name":"n","type":["null","long"],"default":null},
    {"name":"b","type":"bytes","default":""},
    {"name":"tags","type":{"type":"array","items":"string"},"default":[]},
    {"name":"m","type":{"type":"map","values":"double"},"default":{}}]}"#;

fn inputs() -> Vec<(String, Vec<u8>, Encoding)> {
    let avro = "{\"id\":\"a\",\"n\":{\"long\":7},\"b\":\"\\u0000é\",\"tags\":[\"x\",\"y\"],\"m\":{\"k\":1.5}}\n\
                {\"m\":{},\"id\":\"é\\\"\"}\n";
    let ga4gh = "{\"id\":\"a\",\"n\":7,\"tags\":[\"x\"]}\n  {\"id\":\"b\", \"n\":null}\n";
    let mut all = vec![
        ("avro".to_string(), avro.as_bytes().to_vec(), Encoding::Avro),
        (
            "ga4gh".to_string(),
            ga4gh.as_bytes().to_vec(),
            Encoding::Ga4gh,
        ),
        (
            "bad: unknown branch".into(),
            b"{\"id\":\"a\"}\n{\"id\":\"b\",\"n\":{\"int\":1}}".to_vec(),
            Encoding::Avro,
        ),
        (
            "bad: cut short".into(),
            b"{\"id\":\"a\"}\n{\"id\":\"b\",\"n\":".to_vec(),
            Encoding::Avro,
        ),
        (
            "bad: trailing comma".into(),
            b"{\"id\":\"a\",}".to_vec(),
            Encoding::Avro,
        ),
        ("empty".into(), Vec::new(), Encoding::Avro),
    ];
    let many: String = (0..2000)
        .map(|i| format!("{{\"id\":\"r{i}\",\"tags\":[\"t{}\"]}}\n", i % 7))
        .collect();
    all.push(("many".into(), many.into_bytes(), Encoding::Avro));
    all
}

fn options(encoding: Encoding, framing: AvroFraming) -> JsonToAvroOptions {
    let mut options = JsonToAvroOptions::default();
    options.encoding = encoding;
    options.framing = framing;
    options.container.sync = Some([0xAB; 16]);
    options.container.block_size = 500;
    options
}

fn convert(json: &[u8], options: &JsonToAvroOptions) -> Result<(Vec<u8>, u64), String> {
    let mut out = Vec::new();
    let report = JsonToAvro::new(SCHEMA, options.clone())
        .unwrap()
        .convert(json, &mut out)
        .map_err(|e| e.to_string())?;
    Ok((out, report.documents))
}

fn pushed(
    json: &[u8],
    options: &JsonToAvroOptions,
    cuts: &[usize],
) -> Result<(Vec<u8>, u64), String> {
    let conversion = JsonToAvro::new(SCHEMA, options.clone()).unwrap();
    let mut push = conversion.push(Vec::new());
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&json.len())) {
        push.push(bytes::Bytes::copy_from_slice(&json[from..cut]))
            .map_err(|e| e.to_string())?;
        from = cut;
    }
    let (out, report) = push.finish().map_err(|e| e.to_string())?;
    Ok((out, report.documents))
}

#[test]
fn pushed_json_converts_as_read_json() {
    for (name, json, encoding) in inputs() {
        for framing in [
            AvroFraming::Container,
            AvroFraming::Bare,
            AvroFraming::SingleObject,
        ] {
            let options = options(encoding, framing);
            let read = convert(&json, &options);
            if name.starts_with("bad") {
                assert!(read.is_err(), "{name}");
            } else {
                assert!(read.is_ok(), "{name}: {read:?}");
            }
            let mut layouts = vec![
                Vec::new(),
                dcmflow_testkit::even_cuts(json.len(), 1.max(json.len().min(3000) / 1500)),
                dcmflow_testkit::random_cuts(json.len(), 3, 50),
            ];
            if json.len() < 500 {
                layouts.push(dcmflow_testkit::even_cuts(json.len(), 1));
            }
            for cuts in layouts {
                assert_eq!(
                    pushed(&json, &options, &cuts),
                    read,
                    "{name} {framing:?}, {} cuts",
                    cuts.len()
                );
            }
        }
    }
}
