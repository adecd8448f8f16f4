//! The Extended JSON reader's decisions beyond the corpus (docs/bson.md, "Reading Extended JSON"), each
//! checked through the BSON it gives and, where it round-trips, the canonical JSON of that BSON.

use dcmflow_bson::{
    BsonReader, Compact, ErrorKind, ExtJsonOptions, ExtJsonReader, ExtJsonWriter, Layout, Mode,
    ReaderOptions, Token,
};

fn read(json: &str, legacy: bool) -> Result<Vec<u8>, dcmflow_bson::Error> {
    let mut options = ExtJsonOptions::default();
    options.legacy = legacy;
    options.max_depth = 300;
    let mut reader = ExtJsonReader::from_slice(json.as_bytes(), options);
    let mut out = Vec::new();
    while let Some(doc) = reader.next_document()? {
        out.extend_from_slice(doc);
    }
    Ok(out)
}

fn canonical(bson: &[u8]) -> String {
    let mut options = ReaderOptions::default();
    options.stream = true;
    let mut reader = BsonReader::from_slice(bson, options);
    let mut writer = ExtJsonWriter::new(Vec::new(), Compact, Mode::Canonical, Layout::Lines);
    loop {
        let token = reader.read_token().expect("the reader's BSON is valid");
        writer.write_token(&token).unwrap();
        if token == Token::End {
            break;
        }
    }
    String::from_utf8(writer.finish().unwrap()).unwrap()
}

fn as_canonical(json: &str, legacy: bool) -> String {
    canonical(&read(json, legacy).unwrap_or_else(|e| panic!("{json}: {e}")))
}

#[test]
fn wrapper_parts_in_any_order() {
    assert_eq!(
        as_canonical(r#"{"c": {"$scope": {"x": 1}, "$code": "f()"}}"#, false),
        as_canonical(r#"{"c": {"$code": "f()", "$scope": {"x": 1}}}"#, false),
    );
    assert_eq!(
        as_canonical(
            r#"{"b": {"$binary": {"subType": "2", "base64": "AAE="}}}"#,
            false
        ),
        "{\"b\":{\"$binary\":{\"base64\":\"AAE=\",\"subType\":\"02\"}}}\n"
    );
    assert_eq!(
        as_canonical(r#"{"p": {"$dbPointer": {"$id": {"$oid": "56e1fc72e0c917e9c4714161"}, "$ref": "n"}}}"#, false),
        "{\"p\":{\"$dbPointer\":{\"$ref\":\"n\",\"$id\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"}}}}\n"
    );
}

#[test]
fn regular_expression_options_sort_by_character() {
    // Found by the fuzz targets: options sorted byte by byte tore a character apart.
    let json = r#"{"a": {"$regularExpression": {"pattern": "b", "options": "x\u1615i"}}}"#;
    assert_eq!(
        as_canonical(json, false),
        "{\"a\":{\"$regularExpression\":{\"pattern\":\"b\",\"options\":\"ix\u{1615}\"}}}\n"
    );
}

#[test]
fn numbers_take_the_smallest_type_that_holds_them() {
    let json = r#"{"a": 2147483647, "b": 2147483648, "c": -9223372036854775808, "d": 9223372036854775808, "e": 1.0, "f": 1e2, "g": -0}"#;
    assert_eq!(
        as_canonical(json, false),
        "{\"a\":{\"$numberInt\":\"2147483647\"},\"b\":{\"$numberLong\":\"2147483648\"},\
\"c\":{\"$numberLong\":\"-9223372036854775808\"},\"d\":{\"$numberDouble\":\"9.223372036854776e+18\"},\
\"e\":{\"$numberDouble\":\"1.0\"},\"f\":{\"$numberDouble\":\"100.0\"},\"g\":{\"$numberInt\":\"0\"}}\n"
    );
}

#[test]
fn dollar_keys_that_are_no_wrapper_stay_documents() {
    for json in [
        r#"{"q": {"$in": [1, 2]}}"#,
        r#"{"r": {"$ref": "c", "$id": 1, "extra": true}}"#,
        r#"{"$oid": "not a wrapper at the top level"}"#,
        r#"{"x": {"$": 1}}"#,
    ] {
        let bson = read(json, false).unwrap_or_else(|e| panic!("{json}: {e}"));
        // Canonical JSON of the BSON reads back to the same BSON.
        assert_eq!(read(&canonical(&bson), false).unwrap(), bson, "{json}");
    }
    // A wrapper's key among other members is an error, wherever it stands.
    let e = read(r#"{"x": {"a": 1, "$numberInt": "1"}}"#, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert_eq!(e.path(), "x.$numberInt");
}

#[test]
fn legacy_forms_need_the_option() {
    for json in [
        r#"{"d": {"$date": 1356351330501}}"#,
        r#"{"b": {"$binary": "AAE=", "$type": "80"}}"#,
        r#"{"b": {"$type": "ffffff80", "$binary": "AAE="}}"#,
        r#"{"n": {"$numberLong": 5}}"#,
    ] {
        assert!(
            read(json, false).is_err(),
            "{json} read without the legacy option"
        );
        read(json, true).unwrap_or_else(|e| panic!("{json}: {e}"));
    }
    // `$regex` and `$options` are no wrapper's keys: without the option, a document with those keys.
    assert_eq!(
        as_canonical(r#"{"r": {"$regex": "^a", "$options": "xi"}}"#, false),
        "{\"r\":{\"$regex\":\"^a\",\"$options\":\"xi\"}}\n"
    );
    assert_eq!(
        as_canonical(r#"{"r": {"$options": "xi", "$regex": "^a"}}"#, true),
        as_canonical(
            r#"{"r": {"$regularExpression": {"pattern": "^a", "options": "ix"}}}"#,
            false
        )
    );
    // Query operators stay documents with the option on.
    assert_eq!(
        as_canonical(r#"{"z": {"$type": "string"}, "q": {"$regex": {"$regularExpression": {"pattern": "a", "options": ""}}, "$options": "i"}}"#, true),
        "{\"z\":{\"$type\":\"string\"},\"q\":{\"$regex\":{\"$regularExpression\":{\"pattern\":\"a\",\"options\":\"\"}},\"$options\":\"i\"}}\n"
    );
}

#[test]
fn dates_uuids_and_strictness() {
    assert_eq!(
        as_canonical(r#"{"d": {"$date": "1970-01-01T01:00:00.5+01:00"}}"#, false),
        "{\"d\":{\"$date\":{\"$numberLong\":\"500\"}}}\n"
    );
    assert_eq!(
        as_canonical(
            r#"{"u": {"$uuid": "c8edabc3-f738-4ca3-b68d-ab92a91478a3"}}"#,
            false
        ),
        "{\"u\":{\"$binary\":{\"base64\":\"yO2rw/c4TKO2jauSqRR4ow==\",\"subType\":\"04\"}}}\n"
    );
    for bad in [
        r#"{"n": {"$numberInt": "+1"}}"#,
        r#"{"n": {"$numberInt": "2147483648"}}"#,
        r#"{"n": {"$numberDouble": "inf"}}"#,
        r#"{"b": {"$binary": {"base64": "AAE", "subType": "00"}}}"#,
        r#"{"k": {"$minKey": 1.0}}"#,
        r#"{"a\u0000b": 1}"#,
        r#"{"d": {"$date": "1970-01-01T00:00:00"}}"#,
    ] {
        assert_eq!(
            read(bad, false).map_err(|e| e.kind()).err(),
            Some(ErrorKind::Syntax),
            "{bad}"
        );
    }
}

#[test]
fn nesting_is_bounded_and_never_the_stack() {
    let deep = format!("{}1{}", "{\"a\": ".repeat(300), "}".repeat(300));
    assert!(read(&deep, false).is_ok());
    let deeper = format!("{}1{}", "{\"a\": [".repeat(200_000), "]}".repeat(200_000));
    assert_eq!(read(&deeper, false).unwrap_err().kind(), ErrorKind::TooDeep);
}
