//! Any bytes as data of a schema (first byte: schema, encoding, codec) → JSON → a container file →
//! JSON again: whatever decodes encodes, and the file written reads back to the same JSON, its blocks
//! held or streamed; the data read as bare data, a few bytes a read or pushed in pieces, give the same
//! JSON.
#![no_main]
use dcmflow::avro::binary::Cursor;
use dcmflow::avro::{datum_to_json, Codec, Encoding, Schema};
use dcmflow::{AvroToJson, AvroToJsonOptions, Input, JsonToAvro, JsonToAvroOptions, Threads};
use dcmflow_engine::json::format::Compact;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

#[path = "avro_schemas.rs"]
mod avro_schemas;

fuzz_target!(|input: &[u8]| {
    static SCHEMAS: OnceLock<Vec<Schema>> = OnceLock::new();
    let schemas = SCHEMAS.get_or_init(avro_schemas::schemas);
    let Some((&mode, data)) = input.split_first() else {
        return;
    };
    let index = usize::from(mode & 3);
    let schema = &schemas[index];
    // GA4GH's bare unions are read back by inference: only the Variant schema's are unambiguous.
    let encoding = if mode & 4 != 0 && index == 1 { Encoding::Ga4gh } else { Encoding::Avro };
    let mut cursor = Cursor::new(data);
    let mut json = Vec::new();
    let mut count = 0u64;
    let (mut empty_datum, mut decoded) = (false, 0);
    while cursor.remaining() > 0 && count < 1000 {
        let mut one = Vec::new();
        let before = cursor.position();
        if datum_to_json(schema, &mut cursor, encoding, &mut Compact, &mut one).is_err() {
            break;
        }
        empty_datum |= cursor.position() == before;
        decoded = cursor.position();
        json.extend_from_slice(&one);
        json.push(b'\n');
        count += 1;
    }
    let mut options = JsonToAvroOptions::default();
    options.encoding = encoding;
    options.max_depth = 1 << 20;
    options.container.codec = match (mode >> 3) & 3 {
        0 => Codec::Null,
        1 => Codec::Deflate,
        2 => Codec::Snappy,
        _ => Codec::Zstandard,
    };
    options.container.block_size = 1 + usize::from(mode >> 5) * 64;
    options.container.sync = Some([0xA5; 16]);
    let mut file = Vec::new();
    let report = JsonToAvro::new(avro_schemas::TEXTS[index], options)
        .expect("a valid schema")
        .convert(&json[..], &mut file)
        .unwrap_or_else(|e| panic!("decoded JSON does not encode: {e}\n{}", String::from_utf8_lossy(&json)));
    assert_eq!(report.documents, count);
    let mut back_options = AvroToJsonOptions::default();
    back_options.encoding = encoding;
    back_options.threads = Threads::One;
    for stream_above in [usize::MAX, 0] {
        back_options.stream_blocks_above = stream_above;
        let mut back = Vec::new();
        AvroToJson::new(back_options.clone())
            .convert(&file[..], &mut back)
            .unwrap_or_else(|e| panic!("the file written does not read: {e}"));
        assert_eq!(String::from_utf8_lossy(&back), String::from_utf8_lossy(&json));
    }
    // Bare data (a stream of data of no bytes has no end: refused, so not compared).
    if !empty_datum {
        let bare = &data[..decoded];
        let step = 1 + usize::from(mode >> 5);
        let mut back = Vec::new();
        AvroToJson::new(back_options)
            .convert_data(
                std::slice::from_ref(schema),
                Input::reader(dcmflow_testkit::Trickle { data: bare, step }),
                &mut back,
            )
            .unwrap_or_else(|e| panic!("the bare data do not read: {e}"));
        assert_eq!(String::from_utf8_lossy(&back), String::from_utf8_lossy(&json));
        // Pushed in pieces of `step` bytes.
        let conversion = AvroToJson::new(AvroToJsonOptions::default());
        let mut pushed = conversion
            .push_data(std::slice::from_ref(schema), Vec::new())
            .expect("a schema");
        for piece in bare.chunks(step) {
            pushed
                .push(bytes::Bytes::copy_from_slice(piece))
                .unwrap_or_else(|e| panic!("the pushed bare data do not read: {e}"));
        }
        let (pushed_json, _) = pushed.finish().expect("the pushed bare data end");
        let mut read_json = Vec::new();
        conversion
            .convert_data(std::slice::from_ref(schema), bare, &mut read_json)
            .expect("the bare data read");
        assert_eq!(pushed_json, read_json);
    }
});

