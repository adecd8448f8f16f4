//! Any bytes as JSON data of a schema (first byte: schema, encoding, one array or values one after
//! another, read size) → data or a clean error; the same data and the same error (kind, line, column,
//! offset, path) from a slice, from a stream read a few bytes at a time and from pieces pushed; every
//! datum decodes back to JSON that encodes to the same bytes.
#![no_main]
use dcmflow::avro::binary::Cursor;
use dcmflow::avro::{
    datum_to_json, Encoding, JsonDatumOptions, JsonDatumReader, JsonInputErrorKind, Schema,
};
use dcmflow_engine::json::format::Compact;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

#[path = "avro_schemas.rs"]
mod avro_schemas;

type Outcome = (Vec<Vec<u8>>, Option<String>);

fn read_all(reader: Result<JsonDatumReader<'_, '_>, dcmflow::avro::SchemaError>) -> Outcome {
    let mut reader = reader.expect("the schemas' defaults are valid");
    let mut data = Vec::new();
    loop {
        let mut datum = Vec::new();
        match reader.next_datum(&mut datum) {
            Ok(true) => data.push(datum),
            Ok(false) => return (data, None),
            Err(e) => {
                assert!(datum.is_empty(), "a failed datum left bytes behind");
                return (data, Some(format!("{e:?}")));
            }
        }
    }
}

fn encode_one(schema: &Schema, json: &[u8], options: JsonDatumOptions) -> Vec<u8> {
    let mut reader = JsonDatumReader::from_slice(json, schema, options).unwrap();
    let mut out = Vec::new();
    assert!(reader.next_datum(&mut out).unwrap_or_else(|e| panic!(
        "the decoded JSON {} does not encode: {e}",
        String::from_utf8_lossy(json)
    )));
    out
}

fuzz_target!(|input: &[u8]| {
    static SCHEMAS: OnceLock<Vec<Schema>> = OnceLock::new();
    let schemas = SCHEMAS.get_or_init(avro_schemas::schemas);
    let Some((&mode, json)) = input.split_first() else {
        return;
    };
    let schema = &schemas[usize::from(mode & 3)];
    let encoding = if mode & 4 == 0 { Encoding::Avro } else { Encoding::Ga4gh };
    let options = JsonDatumOptions {
        encoding,
        array: mode & 8 != 0,
        max_buffer: 1 << 16,
        max_datum_size: 1 << 20,
        max_depth: 200,
    };
    let whole = read_all(JsonDatumReader::from_slice(json, schema, options));
    let chunks = avro_schemas::Chunks { data: json, step: 1 + usize::from(mode >> 4) };
    let streamed = read_all(JsonDatumReader::from_reader(chunks, schema, options));
    assert_eq!(whole, streamed, "a slice and a stream disagree");
    let mut reader = JsonDatumReader::pushed(schema, options).expect("valid defaults");
    let step = 1 + usize::from(mode >> 4) * 3;
    let mut pushed = Vec::new();
    let mut outcome = None;
    let mut pieces = json.chunks(step);
    loop {
        let mut datum = Vec::new();
        match reader.next_datum(&mut datum) {
            Ok(true) => pushed.push(datum),
            Ok(false) => break,
            Err(e) if e.kind == JsonInputErrorKind::NeedInput => {
                assert!(datum.is_empty(), "a datum that ran out left bytes behind");
                match pieces.next() {
                    Some(piece) => reader.push(bytes::Bytes::copy_from_slice(piece)),
                    None => reader.end_input(),
                }
            }
            Err(e) => {
                outcome = Some(format!("{e:?}"));
                break;
            }
        }
    }
    assert_eq!((pushed, outcome), whole, "pushed pieces of {step} and a slice disagree");
    let single = JsonDatumOptions { array: false, max_depth: 10_000, ..options };
    for datum in &whole.0 {
        let mut cursor = Cursor::new(datum);
        let mut text = Vec::new();
        datum_to_json(schema, &mut cursor, encoding, &mut Compact, &mut text)
            .unwrap_or_else(|e| panic!("a datum written does not decode: {e:?}"));
        assert_eq!(cursor.remaining(), 0, "bytes after the datum");
        assert_eq!(&encode_one(schema, &text, single), datum, "decoded JSON encodes otherwise");
    }
});
