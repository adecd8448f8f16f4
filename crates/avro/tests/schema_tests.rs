//! Apache Avro's schema test vectors (`../shared/avro/data/schema-tests.txt`): every input schema's
//! Parsing Canonical Form, and its CRC-64-AVRO fingerprint where the file gives one.

use dcmflow_avro::{fingerprint64, parsing_canonical_form, Schema};

/// The cases: (number, input, canonical, fingerprint). Values are on the `<<KEY value` line, or, for
/// `<<KEY` alone, on the lines up to a line `KEY`.
fn cases(text: &str) -> Vec<(String, String, String, Option<i64>)> {
    let mut cases = Vec::new();
    let mut current: Option<(String, Vec<(String, String)>)> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(number) = line
            .strip_prefix("// ")
            .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
        {
            if let Some(case) = current.take() {
                cases.push(case);
            }
            current = Some((number.to_string(), Vec::new()));
        } else if let Some(rest) = line.strip_prefix("<<") {
            let (key, value) = match rest.split_once(' ') {
                Some((key, value)) => (key.to_string(), value.to_string()),
                None => {
                    let key = rest.to_string();
                    let mut value = String::new();
                    for inner in lines.by_ref() {
                        if inner == key {
                            break;
                        }
                        value.push_str(inner);
                        value.push('\n');
                    }
                    (key, value)
                }
            };
            if let Some((_, fields)) = current.as_mut() {
                fields.push((key, value));
            }
        }
    }
    cases.extend(current);
    cases
        .into_iter()
        .map(|(number, fields)| {
            let get = |k: &str| {
                fields
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.trim().to_string())
            };
            (
                number,
                get("INPUT").expect("an input"),
                get("canonical").expect("a canonical form"),
                get("fingerprint").map(|f| f.parse().expect("a number")),
            )
        })
        .collect()
}

#[test]
fn canonical_forms_and_fingerprints_match_the_vectors() {
    let Some(shared) = dcmflow_testkit::shared_dir() else {
        eprintln!("SKIPPED: ../shared is absent");
        return;
    };
    let Ok(text) = std::fs::read_to_string(shared.join("avro/data/schema-tests.txt")) else {
        eprintln!("SKIPPED: ../shared/avro/data/schema-tests.txt is absent");
        return;
    };
    let cases = cases(&text);
    assert_eq!(cases.len(), 34);
    let mut fingerprints = 0;
    for (number, input, canonical, fingerprint) in cases {
        let schema = Schema::parse_str(&input).unwrap_or_else(|e| panic!("case {number}: {e}"));
        let form = parsing_canonical_form(&schema);
        assert_eq!(form, canonical, "case {number}");
        if let Some(expected) = fingerprint {
            assert_eq!(
                fingerprint64(form.as_bytes()) as i64,
                expected,
                "case {number}"
            );
            fingerprints += 1;
        }
    }
    assert!(fingerprints >= 20, "only {fingerprints} fingerprints");
}

#[test]
fn bad_schemas_are_refused_with_their_path() {
    for (json, path) in [
        (
            r#"{"type": "record", "name": "r", "fields": [{"name": "a", "type": "nope"}]}"#,
            "fields[0].type",
        ),
        (
            r#"{"type": "enum", "name": "e", "symbols": ["A", "A"]}"#,
            "",
        ),
        (r#"["int", "int"]"#, ""),
        (r#"["int", ["long"]]"#, ""),
        (r#"{"type": "fixed", "name": "f", "size": -1}"#, ""),
        (r#"{"type": "record", "name": "9r", "fields": []}"#, ""),
        (
            r#"{"type": "record", "name": "r", "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]}"#,
            "",
        ),
        (r#"{"type": "array"}"#, ""),
        (
            r#"{"type": "record", "name": "r", "aliases": "old", "fields": []}"#,
            "",
        ),
        (
            r#"{"type": "record", "name": "r", "fields": [{"name": "a", "type": "int", "aliases": ["1a"]}]}"#,
            "fields[0]",
        ),
    ] {
        let e = Schema::parse_str(json).expect_err(json);
        assert_eq!(e.path, path, "{json}: {e}");
    }
    // Aliases that are names are accepted (and do not change the canonical form).
    let aliased = Schema::parse_str(
        r#"{"type": "record", "name": "r", "aliases": ["ns.old"], "fields": [{"name": "a", "type": "int", "aliases": ["b"]}]}"#,
    )
    .unwrap();
    assert_eq!(
        parsing_canonical_form(&aliased),
        r#"{"name":"r","type":"record","fields":[{"name":"a","type":"int"}]}"#
    );
    // A recursive record refers to itself by name.
    let list = Schema::parse_str(
        r#"{"type": "record", "name": "List", "fields": [{"name": "next", "type": ["null", "List"]}]}"#,
    )
    .unwrap();
    assert_eq!(
        parsing_canonical_form(&list),
        r#"{"name":"List","type":"record","fields":[{"name":"next","type":["null","List"]}]}"#
    );
}

/// Every `.avsc` of Apache's test schemas and the GA4GH Variant schema parses, and its canonical form
/// parses again to the same canonical form.
#[test]
fn the_shared_schemas_parse() {
    let Some(shared) = dcmflow_testkit::shared_dir() else {
        eprintln!("SKIPPED: ../shared is absent");
        return;
    };
    let mut paths: Vec<_> = std::fs::read_dir(shared.join("avro/schemas"))
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    paths.push(shared.join("peers/codecs/variant.avsc"));
    let mut parsed = 0;
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "avsc"))
    {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let schema = Schema::parse_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let form = parsing_canonical_form(&schema);
        let again = Schema::parse_str(&form)
            .unwrap_or_else(|e| panic!("{}: canonical form: {e}", path.display()));
        assert_eq!(parsing_canonical_form(&again), form, "{}", path.display());
        parsed += 1;
    }
    assert!(parsed >= 6, "only {parsed} schemas");
}

/// Apache's `.avpr` protocols: each parses, and each of its named types stands alone as a schema that
/// parses and whose canonical form reparses to itself.
#[test]
fn every_shared_protocol_parses_and_its_types_stand_alone() {
    let Some(dir) = dcmflow_testkit::shared_dir().map(|d| d.join("avro/schemas")) else {
        eprintln!("SKIPPED: ../shared is absent");
        return;
    };
    let mut types = 0;
    let mut protocols = 0;
    for entry in std::fs::read_dir(&dir).into_iter().flatten() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "avpr") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let protocol = dcmflow_avro::Protocol::parse_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for name in protocol.type_names() {
            let json = protocol.schema_json(name).unwrap();
            let schema = dcmflow_avro::Schema::parse_str(&json)
                .unwrap_or_else(|e| panic!("{}: {name}: {e}\n{json}", path.display()));
            let canonical = dcmflow_avro::parsing_canonical_form(&schema);
            let again = dcmflow_avro::Schema::parse_str(&canonical).unwrap();
            assert_eq!(dcmflow_avro::parsing_canonical_form(&again), canonical);
            types += 1;
        }
        protocols += 1;
    }
    assert!(
        protocols >= 4 && types >= 5,
        "{protocols} protocols, {types} types"
    );
}
