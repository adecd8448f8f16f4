//! A datum decoded in pieces (`JsonDecoder::resume`) gives the JSON and the errors of the datum decoded
//! whole, wherever the pieces are cut: inside numbers, lengths, map keys, multi-byte characters and
//! long `bytes`, `fixed` and `string` values (written as they come).

use dcmflow_avro::binary::Cursor;
use dcmflow_avro::{
    Encoding, JsonDatumOptions, JsonDatumReader, JsonDecoder, Progress, Schema, Suspended,
};
use dcmflow_engine::json::format::Compact;

/// Every kind of value: a recursive record, a three-way union, a map, an array, long text with
/// characters of every width, bytes of every value, fixed, enum, the non-finite doubles.
const SCHEMA: &str = r#"{"type": "record", "name": "Node", "namespace": "test", "fields": [
    {"name": "label", "type": "string"},
    {"name": "flag", "type": "boolean"},
    {"name": "count", "type": "long"},
    {"name": "ratio", "type": "double"},
    {"name": "small", "type": "float"},
    {"name": "raw", "type": "bytes"},
    {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 40}},
    {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
    {"name": "tags", "type": {"type": "map", "values": ["null", "int", "string"]}},
    {"name": "children", "type": {"type": "array", "items": "Node"}}
]}"#;

fn datum_json(depth: usize, seed: usize) -> String {
    let label: String = "aé€😀\"\\\n".repeat(7 + seed % 5);
    let raw: String = (0..300u32)
        .map(|i| char::from_u32((i * 7 + seed as u32) % 256).unwrap())
        .collect();
    let hash: String = (0..40u32)
        .map(|i| char::from_u32((i * 13 + 200) % 256).unwrap())
        .collect();
    let children = if depth == 0 {
        String::new()
    } else {
        (0..2)
            .map(|i| datum_json(depth - 1, seed * 3 + i))
            .collect::<Vec<_>>()
            .join(",")
    };
    let ratio = ["\"NaN\"", "\"Infinity\"", "-2.5e300", "0.1"][seed % 4];
    format!(
        r#"{{"label": {label}, "flag": {flag}, "count": {count}, "ratio": {ratio}, "small": 1.5,
            "raw": {raw}, "hash": {hash}, "kind": "{kind}",
            "tags": {{"n": null, "i": {{"int": -7}}, "s€": {{"string": "x😀y"}}}},
            "children": [{children}]}}"#,
        label = serde_json::to_string(&label).unwrap(),
        flag = seed % 2 == 0,
        count = (seed as i64 - 3) * 1_000_000_007,
        raw = serde_json::to_string(&raw).unwrap(),
        hash = serde_json::to_string(&hash).unwrap(),
        kind = ["A", "B", "C"][seed % 3],
    )
}

fn encode(schema: &Schema, json: &str) -> Vec<u8> {
    let mut reader =
        JsonDatumReader::from_slice(json.as_bytes(), schema, JsonDatumOptions::default()).unwrap();
    let mut out = Vec::new();
    while reader.next_datum(&mut out).unwrap() {}
    out
}

fn whole(schema: &Schema, data: &[u8], encoding: Encoding) -> Result<Vec<u8>, String> {
    let mut decoder = JsonDecoder::new(schema, encoding);
    let mut out = Vec::new();
    let mut cursor = Cursor::new(data);
    decoder
        .decode(&mut cursor, &mut Compact, &mut out)
        .map_err(|f| format!("{} at {}", f.message, f.path))?;
    assert_eq!(cursor.remaining(), 0);
    Ok(out)
}

/// The datum fed `piece` bytes at a time; between pieces the decoder is suspended and restored into a
/// new decoder, as a conversion fed pushed chunks does.
fn in_pieces(
    schema: &Schema,
    data: &[u8],
    encoding: Encoding,
    piece: usize,
) -> Result<Vec<u8>, String> {
    let mut suspended: Option<Suspended> = None;
    let (mut window, mut out, mut fed) = (Vec::new(), Vec::new(), 0);
    loop {
        let n = piece.min(data.len() - fed);
        window.extend_from_slice(&data[fed..fed + n]);
        fed += n;
        let last = fed == data.len();
        let mut decoder = JsonDecoder::new(schema, encoding);
        match suspended.take() {
            Some(s) => decoder.restore(s),
            None => decoder.begin(),
        }
        let mut cursor = Cursor::new(&window);
        let progress = decoder
            .resume(&mut cursor, &mut Compact, &mut out, last)
            .map_err(|f| format!("{} at {}", f.message, f.path))?;
        match progress {
            Progress::Done => {
                assert_eq!(cursor.remaining(), 0, "piece {piece}");
                return Ok(out);
            }
            Progress::NeedInput => {
                assert!(!last, "NeedInput at the last piece");
                let used = cursor.position();
                // What is held back is a few bytes, never a value's worth.
                assert!(
                    window.len() - used <= 12,
                    "{} bytes held back",
                    window.len() - used
                );
                decoder.forget_before(&window, used);
                window.drain(..used);
                suspended = Some(decoder.suspend());
            }
        }
    }
}

#[test]
fn pieces_of_any_size_give_the_whole_datums_json() {
    let schema = Schema::parse_str(SCHEMA).unwrap();
    for seed in 0..3 {
        let data = encode(&schema, &datum_json(2, seed));
        for encoding in [Encoding::Avro, Encoding::Ga4gh] {
            let expected = whole(&schema, &data, encoding).unwrap();
            for piece in [1, 2, 3, 5, 8, 13, 64, 1000, data.len()] {
                let got = in_pieces(&schema, &data, encoding, piece).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&expected),
                    "seed {seed}, {encoding:?}, pieces of {piece}"
                );
            }
        }
    }
}

#[test]
fn a_long_value_is_written_as_its_pieces_come() {
    let schema = Schema::parse_str(r#"["null", "bytes"]"#).unwrap();
    let mut data = vec![0x02];
    let value: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    dcmflow_avro::binary::write_bytes(&mut data, &value);
    let expected = whole(&schema, &data, Encoding::Avro).unwrap();
    // A 64 KiB piece at a time: each leaves nothing but the value's output behind.
    assert_eq!(
        in_pieces(&schema, &data, Encoding::Avro, 1 << 16).unwrap(),
        expected
    );
}

#[test]
fn errors_are_those_of_the_whole_datum() {
    let schema = Schema::parse_str(SCHEMA).unwrap();
    let good = encode(&schema, &datum_json(1, 1));
    let mut cases: Vec<(&str, Vec<u8>)> = vec![("cut short", good[..good.len() - 3].to_vec())];
    // The label's first character made a lone continuation byte; the last child's enum index out of
    // range (a byte found by its value: 'kind' B = index 1 → 0x02, then the map's count 0x06).
    let mut bad_utf8 = good.clone();
    let label_start = 2; // the length (two bytes for this label), then the text
    bad_utf8[label_start] = 0x80;
    cases.push(("bad UTF-8", bad_utf8));
    let mut bad_enum = good.clone();
    let at = good
        .windows(2)
        .rposition(|w| w == [0x02, 0x06])
        .expect("the last enum and map count");
    bad_enum[at] = 0x10;
    cases.push(("bad enum", bad_enum));
    for (what, data) in cases {
        let expected = whole(&schema, &data, Encoding::Avro).unwrap_err();
        for piece in [1, 4, 7, 100, data.len()] {
            let got = in_pieces(&schema, &data, Encoding::Avro, piece).unwrap_err();
            // The message and the path agree; a cut datum is "cut short" at the last piece.
            assert_eq!(got, expected, "{what}, pieces of {piece}");
        }
    }
}
