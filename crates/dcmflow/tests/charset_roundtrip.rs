//! Character sets both ways: for every reading rule that DICOM JSON keeps no trace of (the fixtures of
//! corpus/charset, made by tools/gen_corpus.py), json2dcm inverts what dcm2json did, so the source's
//! bytes come back, and both sides warn.

use std::path::PathBuf;

mod common;

use common::{dcm2json, json2dcm};
use dcmflow::json::JsonOptions;
use dcmflow::{ToDicomOptions, ToJsonOptions, TranscodeOptions, WarningCode};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus/charset")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The data set of a PS3.10 file, without its file meta.
fn data_set(file: &[u8]) -> Vec<u8> {
    let options = {
        let mut o = TranscodeOptions::default();
        o.part10 = false;
        o
    };
    let mut out = Vec::new();
    dcmflow::Transcode::new(options)
        .convert(file, &mut out)
        .unwrap();
    out
}

/// DICOM → JSON → DICOM with default options: the JSON, the DICOM, and the warnings of each side.
fn round_trip(file: &[u8]) -> (String, Vec<u8>, usize, Vec<String>) {
    let options = {
        let mut o = ToJsonOptions::default();
        o.json = JsonOptions {
            write_meta: true,
            ..JsonOptions::default()
        };
        o
    };
    let (json, report) = dcm2json(file, &options).unwrap();
    let bare = {
        let mut o = ToDicomOptions::default();
        o.part10 = false;
        o
    };
    let (dicom, back) = json2dcm(&json, &bare).unwrap_or_else(|e| panic!("json2dcm refused: {e}"));
    let warnings = back.warnings.iter().map(|w| w.to_string()).collect();
    (
        String::from_utf8(json).unwrap(),
        dicom,
        report
            .warnings
            .iter()
            .filter(|w| matches!(w.code(), WarningCode::JsonOutput(_)))
            .count(),
        warnings,
    )
}

#[test]
fn every_reading_rule_is_inverted_byte_for_byte() {
    // (fixture, text the JSON shows, what dcm2json warns of, what json2dcm warns of)
    let cases = [
        (
            "undeclared_latin1.dcm",
            "Müller^Jérôme ±5",
            true,
            "ISO 8859-1",
        ),
        (
            "unknown_term.dcm",
            "Müller^Jérôme",
            true,
            "unknown Specific Character Set",
        ),
        ("ir13_shift_jis.dcm", "山田^太郎", false, "Shift_JIS"),
        ("latin1_c1.dcm", "Café\u{85} bar", false, ""),
        ("ir148_unused_byte.dcm", "Fiyat 5€ Ü", false, "0x80-0x9F"),
        ("cs_latin1.dcm", "MÄ", true, "default repertoire"),
    ];
    for (name, shown, read_warns, write_warns) in cases {
        let file = fixture(name);
        let (json, dicom, read_warnings, write_warnings) = round_trip(&file);
        assert!(json.contains(shown), "{name}: {json}");
        assert_eq!(dicom, data_set(&file), "{name}: bytes differ");
        assert_eq!(read_warnings > 0, read_warns, "{name}: dcm2json warnings");
        if write_warns.is_empty() {
            assert!(write_warnings.is_empty(), "{name}: {write_warnings:?}");
        } else {
            assert!(
                write_warnings.iter().any(|w| w.contains(write_warns)),
                "{name}: {write_warnings:?}"
            );
        }
    }
}

#[test]
fn a_character_no_rule_reads_is_still_refused_with_advice() {
    // 'Д' in a data set without (0008,0005): no byte decodes to it there.
    let json = r#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Д"}]}}"#;
    let e = json2dcm(json.as_bytes(), &ToDicomOptions::default()).unwrap_err();
    let message = e.to_string();
    assert!(message.contains("option `charset_utf8`"), "{message}");
    assert_eq!(e.classify(), dcmflow::Category::CharacterSet);
    // ISO_IR 100 holds no Cyrillic either.
    let json = r#"{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Д"}]}}"#;
    assert!(json2dcm(json.as_bytes(), &ToDicomOptions::default()).is_err());
}

#[test]
fn a_replacement_character_goes_back_as_a_question_mark_with_a_warning() {
    // U+FFFD is what dcm2json wrote for bytes that did not decode (with a warning); a set without it
    // (JIS X 0208 here) takes '?' rather than refusing our own JSON (json_roundtrip fuzz find).
    let json = r#"{"00080005":{"vr":"CS","Value":["ISO 2022 IR 13","ISO 2022 IR 87"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"山田\uFFFD"}]}}"#;
    let bare = {
        let mut o = ToDicomOptions::default();
        o.part10 = false;
        o
    };
    let (dicom, report) = json2dcm(json.as_bytes(), &bare).unwrap();
    let (again, _) = dcm2json(&dicom, &ToJsonOptions::default()).unwrap();
    let again = String::from_utf8(again).unwrap();
    assert!(again.contains("山田?"), "{again}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.to_string().contains("U+FFFD")),
        "{:?}",
        report.warnings
    );
}
