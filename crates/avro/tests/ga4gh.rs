//! GA4GH's own schemas (`../shared/avro/ga4gh/avdl`, Avro IDL compiled here by the `avdl` crate) and
//! GA4GH's JSON conventions (`json_intro.rst`): every record type's JSON with its defaults omitted
//! encodes, reads back with them filled, and encodes again to the same bytes, whatever the members'
//! order; nullable fields given a value come back bare; GA4GH's published Variant example is refused for
//! what is wrong with it (a trailing comma, a required field missing) and accepted once that is fixed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dcmflow_avro::{
    datum_to_json, Encoding, JsonDatumOptions, JsonDatumReader, JsonInputErrorKind, Schema,
};
use dcmflow_engine::json::format::Compact;
use serde_json::{json, Value};

fn avdl_dir() -> Option<PathBuf> {
    let dir = dcmflow_testkit::shared_dir()?.join("avro/ga4gh/avdl");
    dir.is_dir().then_some(dir)
}

/// Every named schema of every GA4GH `.avdl`, as self-contained `.avsc` JSON, by simple name.
fn compile(dir: &Path) -> BTreeMap<String, Value> {
    let mut schemas = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "avdl"))
        .collect();
    files.sort();
    for file in files {
        let output = avdl::Idl2Schemata::new()
            .import_dir(dir)
            .extract(&file)
            .unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
        for named in output.schemas {
            schemas.entry(named.name).or_insert(named.schema);
        }
    }
    schemas
}

fn encode(schema: &Schema, json: &str) -> Result<Vec<u8>, dcmflow_avro::JsonInputError> {
    let options = JsonDatumOptions {
        encoding: Encoding::Ga4gh,
        ..JsonDatumOptions::default()
    };
    let mut reader = JsonDatumReader::from_slice(json.as_bytes(), schema, options).unwrap();
    let mut out = Vec::new();
    assert!(reader.next_datum(&mut out)?);
    assert!(!reader.next_datum(&mut out)?, "one datum");
    Ok(out)
}

fn decode(schema: &Schema, data: &[u8]) -> Value {
    let mut cursor = dcmflow_avro::binary::Cursor::new(data);
    let mut out = Vec::new();
    datum_to_json(schema, &mut cursor, Encoding::Ga4gh, &mut Compact, &mut out).unwrap();
    assert_eq!(cursor.remaining(), 0);
    serde_json::from_slice(&out).unwrap()
}

/// A value of `ty` (a schema's JSON): `full` gives every field (nullable ones a value); otherwise only
/// the fields without a default. `defined` holds the named types seen so far (references to them).
fn value_of(ty: &Value, full: bool, defined: &mut BTreeMap<String, Value>, depth: usize) -> Value {
    match ty {
        Value::String(name) => match name.as_str() {
            "null" => Value::Null,
            "boolean" => json!(true),
            "int" => json!(-7),
            "long" => json!(1_446_842_841_000_i64),
            "float" => json!(0.5),
            "double" => json!(-2.25),
            "bytes" => json!("\u{0}\u{ff}"),
            "string" => json!("é x"),
            other => {
                let short = other.rsplit('.').next().unwrap().to_string();
                let definition = defined
                    .get(other)
                    .or_else(|| defined.get(&short))
                    .cloned()
                    .unwrap_or_else(|| panic!("unknown type {other}"));
                value_of(&definition, full, defined, depth + 1)
            }
        },
        // GA4GH's unions are null and one type: null, or (full) the other's value.
        Value::Array(branches) => {
            let other = branches.iter().find(|b| *b != "null");
            match other {
                Some(b) if full && depth < 6 => value_of(b, full, defined, depth + 1),
                _ if branches.iter().any(|b| b == "null") => Value::Null,
                Some(b) => value_of(b, full, defined, depth + 1),
                None => Value::Null,
            }
        }
        Value::Object(object) => {
            let kind = object["type"].as_str().unwrap_or_default();
            if matches!(kind, "record" | "error" | "enum" | "fixed") {
                let name = object["name"].as_str().unwrap().to_string();
                let full_name = match object.get("namespace").and_then(Value::as_str) {
                    Some(ns) if !name.contains('.') => format!("{ns}.{name}"),
                    _ => name.clone(),
                };
                defined.insert(full_name, ty.clone());
                defined.insert(name, ty.clone());
            }
            match kind {
                "record" | "error" => {
                    let mut members = serde_json::Map::new();
                    for field in object["fields"].as_array().unwrap() {
                        if full || field.get("default").is_none() {
                            let v = value_of(&field["type"], full, defined, depth + 1);
                            members.insert(field["name"].as_str().unwrap().to_string(), v);
                        }
                    }
                    Value::Object(members)
                }
                "enum" => object["symbols"][0].clone(),
                "fixed" => json!("a".repeat(object["size"].as_u64().unwrap() as usize)),
                "array" if full && depth < 6 => {
                    json!([value_of(&object["items"], full, defined, depth + 1)])
                }
                "map" if full && depth < 6 => {
                    json!({ "k": value_of(&object["values"], full, defined, depth + 1) })
                }
                "array" => json!([]),
                "map" => json!({}),
                primitive => value_of(&json!(primitive), full, defined, depth),
            }
        }
        other => panic!("not a schema: {other}"),
    }
}

/// `value` with every object's members in reverse order, as text.
fn reversed(value: &Value) -> String {
    match value {
        Value::Object(members) => {
            let parts: Vec<String> = members
                .iter()
                .rev()
                .map(|(k, v)| format!("{}:{}", json!(k), reversed(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(reversed).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// Whether `back` holds everything of `given` (objects may have more members: the defaults filled in).
fn holds(back: &Value, given: &Value) -> bool {
    match (back, given) {
        (Value::Object(b), Value::Object(g)) => g
            .iter()
            .all(|(k, v)| b.get(k).is_some_and(|bv| holds(bv, v))),
        (Value::Array(b), Value::Array(g)) => {
            b.len() == g.len() && b.iter().zip(g).all(|(x, y)| holds(x, y))
        }
        _ => back == given,
    }
}

#[test]
fn every_ga4gh_record_round_trips_with_defaults_omitted() {
    let Some(dir) = avdl_dir() else {
        eprintln!("SKIPPED: ../shared/avro/ga4gh/avdl is absent");
        return;
    };
    let schemas = compile(&dir);
    for name in ["Variant", "Call", "ReadAlignment"] {
        assert!(schemas.contains_key(name), "{name} compiled");
    }
    let mut records = 0;
    for (name, raw) in &schemas {
        if raw["type"] != "record" && raw["type"] != "error" {
            continue;
        }
        let schema = Schema::parse(raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        for full in [false, true] {
            let value = value_of(raw, full, &mut BTreeMap::new(), 0);
            let text = value.to_string();
            let data = encode(&schema, &text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            let back = decode(&schema, &data);
            // What was given comes back as given; what was omitted comes back as its default.
            assert!(holds(&back, &value), "{name}: {back} does not hold {value}");
            for field in raw["fields"].as_array().unwrap() {
                let field_name = field["name"].as_str().unwrap();
                if !value.as_object().unwrap().contains_key(field_name) {
                    assert_eq!(back[field_name], field["default"], "{name}.{field_name}");
                }
            }
            assert_eq!(
                encode(&schema, &back.to_string()).unwrap(),
                data,
                "{name}: the filled JSON"
            );
            assert_eq!(
                encode(&schema, &reversed(&value)).unwrap(),
                data,
                "{name}: members reversed"
            );
        }
        records += 1;
    }
    assert!(records >= 20, "only {records} GA4GH records");
}

/// GA4GH's published example (json_intro.rst) is not valid JSON and lacks `referenceName`: refused for
/// each in turn, then read with `updated` and `calls` taking their defaults.
#[test]
fn ga4gh_published_variant_example() {
    let Some(dir) = avdl_dir() else {
        eprintln!("SKIPPED: ../shared/avro/ga4gh/avdl is absent");
        return;
    };
    let Ok(intro) = std::fs::read_to_string(dir.join("../json_intro.rst")) else {
        eprintln!("SKIPPED: ../shared/avro/ga4gh/json_intro.rst is absent");
        return;
    };
    let example: String = intro
        .lines()
        .skip_while(|l| !l.starts_with("Here is a serialized variant in JSON"))
        .skip(2)
        .take_while(|l| !l.starts_with("Things to notice"))
        .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
        .collect();
    assert!(example.contains("\"gv79384-3200-11\""), "{example}");
    let schemas = compile(&dir);
    let schema = Schema::parse(&schemas["Variant"]).unwrap();
    let e = encode(&schema, &example).unwrap_err();
    assert_eq!(e.kind, JsonInputErrorKind::Syntax, "{e}");
    assert!(e.message.contains("trailing comma"), "{e}");
    // At the '}' after the comma: the example's last line.
    let last = example.trim_end().lines().count() as u64;
    assert_eq!((e.line, e.column), (last, 1), "{e}");
    let fixed = example.replace("    },\n}", "    }\n}");
    let e = encode(&schema, &fixed).unwrap_err();
    assert_eq!(e.kind, JsonInputErrorKind::Schema, "{e}");
    assert!(
        e.message.contains("field 'referenceName' is missing"),
        "{e}"
    );
    let complete = fixed.replace("\"start\":", "\"referenceName\": \"1\",\n    \"start\":");
    let back = decode(&schema, &encode(&schema, &complete).unwrap());
    assert_eq!(back["created"], json!(1446842841));
    assert_eq!(back["updated"], Value::Null);
    assert_eq!(back["calls"], json!([]));
    assert_eq!(back["info"]["numberOfPapers"], json!(["11"]));
}
