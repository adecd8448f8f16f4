//! JSON → Avro: Apache's interop files round-trip byte for byte (Avro → JSON → Avro); every type of
//! `interop.avsc` goes both ways; members in any order, omitted defaults and GA4GH's bare unions encode
//! as the schema says; every kind of bad input is refused with its line, column and path.

use dcmflow_avro::container_writer::{ContainerWriter, WriterOptions};
use dcmflow_avro::{
    datum_to_json, ContainerReader, Encoding, JsonDatumOptions, JsonDatumReader, JsonInputError,
    JsonInputErrorKind, Schema,
};
use dcmflow_engine::json::format::Compact;

fn shared(rel: &str) -> Option<std::path::PathBuf> {
    let path = dcmflow_testkit::shared_dir()?.join(rel);
    path.exists().then_some(path)
}

/// Every datum of a container file as JSON lines, and the header.
fn file_to_json(file: &[u8], encoding: Encoding) -> (dcmflow_avro::Header, Vec<u8>, String) {
    let mut reader = ContainerReader::new(file, 64 << 20).unwrap();
    let header = reader.header().clone();
    let (mut data, mut json) = (Vec::new(), String::new());
    while let Some(block) = reader.next_block().unwrap() {
        data.extend_from_slice(block.data);
        let mut cursor = dcmflow_avro::binary::Cursor::new(block.data);
        for _ in 0..block.count {
            let mut out = Vec::new();
            datum_to_json(
                &header.schema,
                &mut cursor,
                encoding,
                &mut Compact,
                &mut out,
            )
            .unwrap();
            json.push_str(std::str::from_utf8(&out).unwrap());
            json.push('\n');
        }
    }
    (header, data, json)
}

/// Encodes every JSON value of `json` as data of `schema`.
fn encode_all(
    schema: &Schema,
    json: &str,
    options: JsonDatumOptions,
) -> Result<Vec<u8>, JsonInputError> {
    let mut reader = JsonDatumReader::from_slice(json.as_bytes(), schema, options).unwrap();
    let mut out = Vec::new();
    while reader.next_datum(&mut out)? {}
    Ok(out)
}

fn encode(schema: &str, json: &str, encoding: Encoding) -> Result<Vec<u8>, JsonInputError> {
    let schema = Schema::parse_str(schema).unwrap();
    let options = JsonDatumOptions {
        encoding,
        ..JsonDatumOptions::default()
    };
    encode_all(&schema, json, options)
}

fn decode(schema: &str, data: &[u8], encoding: Encoding) -> String {
    let schema = Schema::parse_str(schema).unwrap();
    let mut cursor = dcmflow_avro::binary::Cursor::new(data);
    let mut json = String::new();
    while cursor.remaining() > 0 {
        let mut out = Vec::new();
        datum_to_json(&schema, &mut cursor, encoding, &mut Compact, &mut out).unwrap();
        json.push_str(std::str::from_utf8(&out).unwrap());
        json.push('\n');
    }
    json
}

/// `schemas/simple` and `schemas/withUnion`: the file → JSON → a file with its sync marker is the same
/// file, byte for byte. The weather files' data (every codec) encode back to the same bytes.
#[test]
fn interop_files_round_trip_byte_for_byte() {
    let Some(dir) = shared("avro/data") else {
        eprintln!("SKIPPED: ../shared/avro/data is absent");
        return;
    };
    for name in ["schemas/simple/data.avro", "schemas/withUnion/data.avro"] {
        let original = std::fs::read(dir.join(name)).unwrap();
        let (header, data, json) = file_to_json(&original, Encoding::Avro);
        let options = WriterOptions {
            sync: Some(header.sync),
            ..WriterOptions::default()
        };
        let mut writer = ContainerWriter::new(Vec::new(), &header.schema_json, &options).unwrap();
        let mut reader = JsonDatumReader::from_slice(
            json.as_bytes(),
            &header.schema,
            JsonDatumOptions::default(),
        )
        .unwrap();
        while reader.next_datum(writer.buffer()).unwrap() {
            writer.datum_done().unwrap();
        }
        let written = writer.finish().unwrap();
        assert_eq!(written, original, "{name}");
        let encoded = encode_all(&header.schema, &json, JsonDatumOptions::default()).unwrap();
        assert_eq!(encoded, data, "{name}");
    }
    for name in [
        "weather.avro",
        "weather-deflate.avro",
        "weather-snappy.avro",
        "weather-zstd.avro",
        "weather-sorted.avro",
    ] {
        let original = std::fs::read(dir.join(name)).unwrap();
        let (header, data, json) = file_to_json(&original, Encoding::Avro);
        let encoded = encode_all(&header.schema, &json, JsonDatumOptions::default()).unwrap();
        assert_eq!(encoded, data, "{name}");
    }
}

const INTEROP_DATUM: &str = concat!(
    r#"{"intField":-12,"longField":9007199254740993,"stringField":"h\u00e9llo \"q\"","#,
    r#""boolField":true,"floatField":1.5,"doubleField":-2.25E-3,"#,
    r#""bytesField":"\u0000\u00ff\u0080a","nullField":null,"arrayField":[1.0,"NaN","-Infinity"],"#,
    r#""mapField":{"a":{"label":"x"},"b\u0000":{"label":""}},"#,
    r#""unionField":{"array":["\u0001\u0002",""]},"enumField":"C","#,
    r#""fixedField":"0123456789abcdef","#,
    r#""recordField":{"label":"root","children":[{"label":"leaf","children":[]},"#,
    r#"{"label":"mid","children":[{"label":"deep","children":[]}]}]}}"#
);

/// Every type of interop.avsc (the recursive record and the 3-way union included): JSON → Avro →
/// JSON gives the same values, and members in another order give the same bytes.
#[test]
fn every_type_of_interop_avsc_round_trips() {
    let Some(path) = shared("avro/schemas/interop.avsc") else {
        eprintln!("SKIPPED: ../shared/avro/schemas/interop.avsc is absent");
        return;
    };
    let schema = std::fs::read_to_string(path).unwrap();
    let data = encode(&schema, INTEROP_DATUM, Encoding::Avro).unwrap();
    let back = decode(&schema, &data, Encoding::Avro);
    let parsed = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    let mut expected = parsed(INTEROP_DATUM);
    // Doubles come back as the shortest text that reads back the same.
    expected["arrayField"][0] = serde_json::json!(1.0);
    assert_eq!(parsed(back.trim_end()), expected);
    // Same bytes whatever the members' order: every record's members reversed.
    // (Map entries keep their order: it is the data's.)
    fn reversed(value: &serde_json::Value, is_map: bool) -> String {
        match value {
            serde_json::Value::Object(members) => {
                let mut parts: Vec<String> = members
                    .iter()
                    .map(|(k, v)| {
                        let inner = reversed(v, k == "mapField");
                        format!("{}:{inner}", serde_json::to_string(k).unwrap())
                    })
                    .collect();
                if !is_map {
                    parts.reverse();
                }
                format!("{{{}}}", parts.join(","))
            }
            serde_json::Value::Array(items) => {
                let parts: Vec<String> = items.iter().map(|v| reversed(v, false)).collect();
                format!("[{}]", parts.join(","))
            }
            other => other.to_string(),
        }
    }
    let shuffled = reversed(&parsed(INTEROP_DATUM), false);
    assert!(!shuffled.starts_with("{\"intField\""));
    assert_eq!(encode(&schema, &shuffled, Encoding::Avro).unwrap(), data);
    // Whitespace anywhere, and the union's other branches.
    let pretty = serde_json::to_string_pretty(&parsed(INTEROP_DATUM)).unwrap();
    assert_eq!(encode(&schema, &pretty, Encoding::Avro).unwrap(), data);
    for (union, bytes) in [
        (r#"{"boolean":false}"#, vec![0u8, 0]),
        (
            r#"{"double":0.5}"#,
            [&[2u8][..], &0.5f64.to_le_bytes()].concat(),
        ),
    ] {
        let text = INTEROP_DATUM.replace(r#"{"array":["\u0001\u0002",""]}"#, union);
        let data = encode(&schema, &text, Encoding::Avro).unwrap();
        assert!(
            data.windows(bytes.len()).any(|w| w == bytes),
            "{union} is encoded as its branch"
        );
        assert_eq!(
            parsed(decode(&schema, &data, Encoding::Avro).trim_end())["unionField"],
            parsed(union)
        );
    }
}

const RECORD: &str = r#"{"type":"record","name":"R","namespace":"ns","fields":[
    {"name":"id","type":"string"},
    {"name":"n","type":["null","long"],"default":null},
    {"name":"tags","type":{"type":"array","items":"string"},"default":["a"]},
    {"name":"kind","type":{"type":"enum","name":"K","symbols":["X","Y"]},"default":"Y"},
    {"name":"child","type":["null","R"],"default":null}]}"#;

/// GA4GH's JSON: unions bare, omitted fields take their defaults, members in any order — and the same
/// datum in Avro's encoding gives the same bytes.
#[test]
fn ga4gh_json_omits_defaults_and_writes_unions_bare() {
    let full_avro = r#"{"id":"a","n":{"long":5},"tags":["a"],"kind":"Y","child":{"ns.R":{"id":"b","n":null,"tags":[],"kind":"X","child":null}}}"#;
    let expected = encode(RECORD, full_avro, Encoding::Avro).unwrap();
    for ga4gh in [
        r#"{"id":"a","n":5,"child":{"id":"b","tags":[],"kind":"X"}}"#,
        r#"{"child":{"kind":"X","tags":[],"child":null,"n":null,"id":"b"},"n":5,"id":"a"}"#,
        r#"{"id":"a","n":5,"tags":["a"],"kind":"Y","child":{"id":"b","n":null,"tags":[],"kind":"X","child":null}}"#,
    ] {
        assert_eq!(
            encode(RECORD, ga4gh, Encoding::Ga4gh).unwrap(),
            expected,
            "{ga4gh}"
        );
    }
    // Decoding as GA4GH writes the unions bare again.
    assert_eq!(
        decode(RECORD, &expected, Encoding::Ga4gh).trim_end(),
        r#"{"id":"a","n":5,"tags":["a"],"kind":"Y","child":{"id":"b","n":null,"tags":[],"kind":"X","child":null}}"#
    );
    // Omitted fields take defaults in Avro's encoding too.
    assert_eq!(
        encode(
            RECORD,
            r#"{"id":"a","n":{"long":5},"child":{"ns.R":{"id":"b","tags":[],"kind":"X"}}}"#,
            Encoding::Avro
        )
        .unwrap(),
        expected
    );
}

/// GA4GH's rule for a union wider than null and one type: the first branch, in the union's order,
/// that can hold the value.
#[test]
fn ga4gh_unions_take_the_first_branch_that_holds_the_value() {
    let schema = r#"["null","int","long","double","string",{"type":"enum","name":"E","symbols":["A"]},{"type":"array","items":"int"},{"type":"map","values":"int"}]"#;
    let cases: [(&str, &[u8]); 8] = [
        ("null", &[0]),
        ("7", &[2, 14]),
        ("3000000000", &[4, 0x80, 0xf8, 0x82, 0xad, 0x16]),
        ("0.5", &[6, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f]),
        ("\"A\"", &[8, 2, b'A']),
        ("\"NaN\"", &[8, 6, b'N', b'a', b'N']),
        ("[1]", &[12, 2, 2, 0]),
        ("{\"k\":1}", &[14, 2, 2, b'k', 2, 0]),
    ];
    for (json, bytes) in cases {
        assert_eq!(
            encode(schema, json, Encoding::Ga4gh).unwrap(),
            bytes,
            "{json}"
        );
    }
    // The enum only where no string branch comes first.
    // A string goes to a float or double branch only where no string-like branch holds it.
    assert_eq!(
        encode(r#"["null","float"]"#, "\"-Infinity\"", Encoding::Ga4gh).unwrap(),
        [2, 0, 0, 0x80, 0xff]
    );
    let enum_first = r#"["null",{"type":"enum","name":"E","symbols":["A"]},"string"]"#;
    assert_eq!(
        encode(enum_first, "\"A\"", Encoding::Ga4gh).unwrap(),
        [2, 0]
    );
    assert_eq!(
        encode(enum_first, "\"B\"", Encoding::Ga4gh).unwrap(),
        [4, 2, b'B']
    );
    let err = encode(r#"["null","int"]"#, "true", Encoding::Ga4gh).unwrap_err();
    assert_eq!(err.kind, JsonInputErrorKind::Schema);
    assert!(err.message.contains("no branch of the union"), "{err}");
}

/// Arrays and maps of every size: the count is widened in place when it needs more than one byte.
#[test]
fn arrays_and_maps_of_any_length() {
    let schema = r#"{"type":"array","items":{"type":"map","values":"int"}}"#;
    for n in [0usize, 1, 63, 64, 65, 8191, 8192, 20000] {
        let maps: Vec<String> = (0..n).map(|i| format!("{{\"k{}\":{i}}}", i % 3)).collect();
        let json = format!("[{}]", maps.join(","));
        let data = encode(schema, &json, Encoding::Avro).unwrap();
        assert_eq!(
            decode(schema, &data, Encoding::Avro).trim_end(),
            json,
            "{n} maps"
        );
    }
}

fn error(schema: &str, json: &str) -> JsonInputError {
    encode(schema, json, Encoding::Avro).expect_err(json)
}

/// Bad input: each refused with its kind, where it is (line, column, byte) and the path to the value.
#[test]
fn bad_input_is_refused_with_line_column_and_path() {
    let e = error(
        RECORD,
        "{\"id\":\"a\"}\n{\"id\":\"b\",\n \"n\":{\"int\":1}}",
    );
    assert_eq!(
        (e.kind, e.line, e.datum),
        (JsonInputErrorKind::Schema, 3, 1)
    );
    assert_eq!(e.path, "n");
    assert!(e.message.contains("'int' is not a branch"), "{e}");
    // Placed right after the offending token (here the member name).
    assert!(
        e.to_string().starts_with("line 3, column 13 (byte 34)"),
        "{e}"
    );

    let e = error(RECORD, r#"{"id":"a","tags":["x",7]}"#);
    assert_eq!(
        (e.kind, e.path.as_str()),
        (JsonInputErrorKind::Schema, "tags[1]")
    );
    let e = error(
        RECORD,
        r#"{"id":"a","child":{"ns.R":{"id":"b","kind":"Z"}}}"#,
    );
    assert_eq!(e.path, "child.kind");
    assert!(e.message.contains("not a symbol of enum 'ns.K'"), "{e}");
    let e = error(RECORD, r#"{"n":null}"#);
    assert!(
        e.message
            .contains("field 'id' is missing and has no default"),
        "{e}"
    );
    assert_eq!(e.path, "");
    let e = error(RECORD, r#"{"id":"a","id":"b"}"#);
    assert!(e.message.contains("'id' is given twice"), "{e}");
    let e = error(RECORD, r#"{"id":"a","extra":1}"#);
    assert!(e.message.contains("has no field 'extra'"), "{e}");
    let e = error(RECORD, r#"{"id":"a","n":{"long":1,"int":2}}"#);
    assert!(e.message.contains("one member only"), "{e}");
    let e = error(RECORD, r#"{"id":"a","n":5}"#);
    assert!(e.message.contains("a union value: null or"), "{e}");

    for (schema, json, says) in [
        ("\"int\"", "2147483648", "is not an int"),
        ("\"int\"", "1.0", "is not an int"),
        ("\"long\"", "9223372036854775808", "is not a long"),
        ("\"float\"", "1e39", "float's range"),
        ("\"double\"", "\"nan\"", "is not a double"),
        ("\"bytes\"", "\"\\u0100\"", "U+0100 in a string of bytes"),
        (
            "{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}",
            "\"abc\"",
            "is 2 bytes; the string holds 3",
        ),
        ("\"string\"", "5", "expected a string"),
        (
            "{\"type\":\"map\",\"values\":\"int\"}",
            "[]",
            "expected an object (a map)",
        ),
        ("\"null\"", "0", "expected null"),
    ] {
        let e = error(schema, json);
        assert_eq!(e.kind, JsonInputErrorKind::Schema, "{json}");
        assert!(e.message.contains(says), "{json}: {e}");
    }
    // Not JSON (RFC 8259): syntax errors.
    let ints = "{\"type\":\"array\",\"items\":\"int\"}";
    let strings = "{\"type\":\"map\",\"values\":\"string\"}";
    for (schema, json) in [
        (ints, "[1,]"),
        (ints, "[1 2]"),
        (ints, "[01]"),
        (ints, "[tru]"),
        (strings, "{\"a\" \"b\"}"),
        (strings, "{\"a\":\"\u{1}\"}"),
        (strings, "{\"a\":\"\\x\"}"),
    ] {
        let e = error(schema, json);
        assert_eq!(e.kind, JsonInputErrorKind::Syntax, "{json}: {e}");
    }
    // NaN and the infinities bare (as fastavro writes them) are not JSON, and are named so.
    for json in ["NaN", "Infinity", "-Infinity", "[NaN]"] {
        let schema = if json.starts_with('[') {
            "{\"type\":\"array\",\"items\":\"double\"}"
        } else {
            "\"double\""
        };
        let e = error(schema, json);
        assert_eq!(e.kind, JsonInputErrorKind::Syntax, "{json}: {e}");
        assert!(
            e.message.contains("bare NaN or Infinity")
                || e.message.contains("infinities have no JSON form"),
            "{json}: {e}"
        );
    }
    let e = error("\"string\"", "\"abc");
    assert_eq!(e.kind, JsonInputErrorKind::Syntax);
}

/// Limits: a datum that grows past `max_datum_size` and nesting past `max_depth` are refused while
/// they are read (the output never holds more).
#[test]
fn limits_are_checked_as_the_datum_grows() {
    let schema = Schema::parse_str(r#"{"type":"array","items":"string"}"#).unwrap();
    let json = format!("[{}]", vec!["\"0123456789\""; 1000].join(","));
    let options = JsonDatumOptions {
        max_datum_size: 1000,
        ..JsonDatumOptions::default()
    };
    let e = encode_all(&schema, &json, options).unwrap_err();
    assert_eq!(e.kind, JsonInputErrorKind::Limit);
    assert!(e.offset < 2000, "refused as it grew past the limit: {e}");

    let tree = Schema::parse_str(
        r#"{"type":"record","name":"T","fields":[{"name":"c","type":["null","T"]}]}"#,
    )
    .unwrap();
    let deep = format!(
        "{}{{\"c\":null}}{}",
        "{\"c\":{\"T\":".repeat(600),
        "}}".repeat(600)
    );
    let e = encode_all(&tree, &deep, JsonDatumOptions::default()).unwrap_err();
    assert_eq!(e.kind, JsonInputErrorKind::Limit, "{e}");
    let options = JsonDatumOptions {
        max_depth: 2000,
        ..JsonDatumOptions::default()
    };
    let data = encode_all(&tree, &deep, options).unwrap();
    assert_eq!(data.len(), 601);
}

/// The data as one JSON array, or values one after another with any whitespace.
#[test]
fn values_in_a_stream_or_in_one_array() {
    let schema = Schema::parse_str("\"int\"").unwrap();
    let expected = vec![2u8, 4, 6];
    assert_eq!(
        encode_all(&schema, "1 2\n\n3", JsonDatumOptions::default()).unwrap(),
        expected
    );
    let array = JsonDatumOptions {
        array: true,
        ..JsonDatumOptions::default()
    };
    assert_eq!(encode_all(&schema, " [1, 2,3] ", array).unwrap(), expected);
    assert_eq!(encode_all(&schema, "[]", array).unwrap(), Vec::<u8>::new());
    assert!(encode_all(&schema, "[1] 2", array).is_err());
    assert!(encode_all(&schema, "1", array).is_err());
}
