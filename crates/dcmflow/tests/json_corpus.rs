//! DICOM → JSON over whole files: the synthetic corpus (always), the shared real-world corpus and the edge
//! files (when `../shared` is there; otherwise these say SKIPPED).
//!
//! - every output parses with serde_json, an independent parser (valid JSON for every input);
//! - slice input and `io::Read` input give byte-identical JSON at read steps and chunk sizes 1…4096;
//! - each edge file gives the output we decided (docs/design.md, Decisions), not any peer's.
//!
//! The value-by-value comparison with pydicom is `tools/compare_json_corpus.py`, run by `.ci/run`.

mod common;
use common::FailingOutput;

use std::path::{Path, PathBuf};

use dcmflow::dicom::{DicomReader, ReaderOptions};
use dcmflow::json::bulk::{BulkSelection, SourceReference};
use dcmflow::json::BulkHandler;
use dcmflow::{DicomToJson, Input, Output, Report, Threads, ToJsonOptions, ValueRendering};

/// DICOM → JSON on `threads`, with an optional bulk handler.
fn convert<'i, 'o>(
    input: impl Into<Input<'i>>,
    output: impl Into<Output<'o>>,
    options: &ToJsonOptions,
    threads: Threads,
    bulk: Option<&mut dyn BulkHandler>,
) -> Result<Report, dcmflow::Error> {
    let mut options = options.clone();
    options.threads = threads;
    let mut conversion = DicomToJson::new(options);
    if let Some(handler) = bulk {
        conversion = conversion.bulk_handler(handler);
    }
    conversion.convert(input, output)
}
use dcmflow_core::{Tag, Token, Vr};

use dcmflow_testkit::{shared_dir, Trickle};

fn to_json(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    convert(
        data,
        &mut out,
        &ToJsonOptions::default(),
        Threads::One,
        None,
    )
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Valid JSON, streaming-equivalent. Returns false when the file is not readable DICOM (slice and stream
/// must then both fail).
fn check_file(path: &Path) -> bool {
    let data = std::fs::read(path).unwrap();
    let name = path.display();
    let slice = to_json(&data);
    let steps: &[usize] = if data.len() <= 64 * 1024 {
        &[1, 2, 3, 7, 64, 4096]
    } else {
        &[7, 64, 4096]
    };
    for &step in steps {
        let options = {
            let mut o = ToJsonOptions::default();
            o.reader = ReaderOptions {
                chunk_size: step,
                ..ReaderOptions::default()
            };
            o
        };
        let mut streamed = Vec::new();
        let trickle = Input::reader(Trickle { data: &data, step });
        let result = convert(trickle, &mut streamed, &options, Threads::One, None);
        match (&slice, result) {
            (Ok(json), Ok(_)) => assert!(
                *json == streamed,
                "{name}: stream at step/chunk {step} differs from the slice"
            ),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{name}: slice {a:?} vs stream at step {step} {b:?}"),
        }
        if step == 7 || step == 4096 {
            // Reading on a second thread replays the same tokens: the same JSON, or the same error,
            // whichever thread renders the values that render alone.
            let trickle = Input::reader(Trickle { data: &data, step });
            let sequential = convert(trickle, &mut Vec::new(), &options, Threads::One, None);
            for value_rendering in [
                ValueRendering::Balanced,
                ValueRendering::Reader,
                ValueRendering::Writer,
            ] {
                let options = {
                    let mut o = options.clone();
                    o.value_rendering = value_rendering;
                    o
                };
                let mut pipelined = Vec::new();
                let trickle = Input::reader(Trickle { data: &data, step });
                let result = convert(trickle, &mut pipelined, &options, Threads::Two, None);
                match (&sequential, result) {
                    (Ok(s), Ok(p)) => {
                        assert!(
                            pipelined == streamed,
                            "{name}: pipelined at step {step} differs ({value_rendering:?})"
                        );
                        assert_eq!(s.warnings, p.warnings, "{name}");
                    }
                    (Err(s), Err(p)) => assert_eq!(*s, p, "{name}: step {step}"),
                    (s, p) => {
                        panic!("{name}: sequential {s:?} vs pipelined at step {step} {p:?}")
                    }
                }
            }
        }
    }
    // With bulk data references (DS and FD down to 8 bytes too), and with indented output, two threads
    // with values rendered by the reading thread write what one writes: the renderer leaves the VRs the
    // handler decides on alone, and the writer lays the rendered values out with its own formatter.
    let handler = || SourceReference {
        selection: BulkSelection {
            thresholds: vec![
                (Vr::OB, 64),
                (Vr::OW, 64),
                (Vr::UN, 64),
                (Vr::DS, 8),
                (Vr::FD, 8),
            ],
            paths: Vec::new(),
        },
        source_uri: "file:///x.dcm".into(),
    };
    for (bulk, pretty) in [(true, false), (false, true), (true, true)] {
        let reader_renders = {
            let mut o = ToJsonOptions::default();
            o.value_rendering = ValueRendering::Reader;
            o.pretty = pretty;
            o
        };
        let (mut one, mut two) = (Vec::new(), Vec::new());
        let (mut handler_one, mut handler_two) = (handler(), handler());
        let sequential = convert(
            Input::reader(&data[..]),
            &mut one,
            &reader_renders,
            Threads::One,
            bulk.then_some(&mut handler_one as &mut dyn BulkHandler),
        );
        let pipelined = convert(
            Input::reader(&data[..]),
            &mut two,
            &reader_renders,
            Threads::Two,
            bulk.then_some(&mut handler_two as &mut dyn BulkHandler),
        );
        let what = format!("{name}: bulk {bulk}, pretty {pretty}");
        match (sequential, pipelined) {
            (Ok(s), Ok(p)) => {
                assert!(one == two, "{what}: two threads differ");
                assert_eq!(s.warnings, p.warnings, "{what}");
            }
            (Err(s), Err(p)) => assert_eq!(s, p, "{what}"),
            (s, p) => panic!("{what}: one thread {s:?}, two {p:?}"),
        }
    }
    match slice {
        Ok(json) => {
            let value: serde_json::Value = serde_json::from_slice(&json)
                .unwrap_or_else(|e| panic!("{name}: invalid JSON: {e}"));
            assert!(value.is_object(), "{name}: top level is not an object");
            true
        }
        Err(_) => false,
    }
}

#[test]
fn synthetic_corpus_gives_valid_streaming_equivalent_json() {
    let mut files = Vec::new();
    common::files_under(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus"),
        &mut files,
    );
    assert!(files.len() >= 20, "synthetic corpus missing");
    for f in &files {
        let readable = check_file(f);
        let regression = f.to_string_lossy().contains("regressions");
        assert!(readable || regression, "{} does not convert", f.display());
    }
}

#[test]
fn shared_corpus_gives_valid_streaming_equivalent_json() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: ../shared/corpus not found (set DCMFLOW_SHARED)");
        return;
    };
    let manifest = std::fs::read_to_string(shared.join("corpus/MANIFEST.tsv")).unwrap();
    let files: Vec<PathBuf> = manifest
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').next())
        .filter(|path| !path.is_empty())
        .map(|path| shared.join("corpus").join(path))
        .collect();
    let (mut converted, mut malformed_rejected) = (0, 0);
    for f in &files {
        let malformed = f.components().any(|c| c.as_os_str() == "malformed");
        if check_file(f) {
            converted += 1;
        } else {
            assert!(
                malformed,
                "{} is well-formed but does not convert",
                f.display()
            );
            malformed_rejected += 1;
        }
    }
    eprintln!("{converted} files converted, {malformed_rejected} malformed files rejected cleanly");
    assert!(converted >= 361);
}

/// Each edge file with the JSON we decided (docs/design.md, Decisions); the peers' outputs are in ../shared/edge/peers.
const EDGE_DECISIONS: &[(&str, &str)] = &[
    (
        "edge_le.dcm",
        concat!(
            r#"{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"#,
            r#""00080008":{"vr":"CS","Value":["ORIGINAL",null,"PRIMARY"]},"#,
            r#""00080018":{"vr":"UI","Value":["1.2.3.4.5"]},"#,
            r#""00081140":{"vr":"SQ","Value":[{},{"00081150":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.7"]},"00081155":{"vr":"UI","Value":["1.2.3"]}}]},"#,
            r#""00090010":{"vr":"LO","Value":["ACME 1.0"]},"00091001":{"vr":"LO","Value":["private value"]},"#,
            r#""00091002":{"vr":"UN","InlineBinary":"AQIDBA=="},"#,
            r#""00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"},null,{"Ideographic":"Ideo"}]},"#,
            r#""00180050":{"vr":"DS","Value":[1]},"00180088":{"vr":"DS","Value":[5]},"#,
            r#""00189087":{"vr":"FD","Value":["NaN",1.5]},"00189089":{"vr":"FD","Value":["Infinity"]},"#,
            r#""00200012":{"vr":"IS"},"00200013":{"vr":"IS","Value":[12]},"00200020":{"vr":"CS"},"#,
            r#""00200032":{"vr":"DS","Value":[12,-0.5,7]},"#,
            r#""00200037":{"vr":"DS","Value":[1,null,0,0.5,-0.5,1E+05]},"#,
            r#""00280009":{"vr":"AT","Value":["00181063"]},"#,
            r#""00280030":{"vr":"DS","Value":["NaN",1]},"00281052":{"vr":"DS","Value":["1,5"]},"#,
            r#""00281053":{"vr":"DS","Value":[1.5]}}"#
        ),
    ),
    (
        "latin1.dcm",
        r#"{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Müller^Jürgen"}]}}"#,
    ),
    (
        "pn_utf8.dcm",
        r#"{"00080005":{"vr":"CS","Value":["ISO_IR 192"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Yamada^Tarou","Ideographic":"山田^太郎","Phonetic":"やまだ^たろう"}]},"00100020":{"vr":"LO","Value":["ID1"]}}"#,
    ),
    (
        "be.dcm",
        r#"{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"00189087":{"vr":"FD","Value":[2.5]},"00280009":{"vr":"AT","Value":["00181063"]},"00281101":{"vr":"US","Value":[3,0,16]},"00281201":{"vr":"OW","InlineBinary":"AgEEAwYF"}}"#,
    ),
    (
        "un_undef.dcm",
        r#"{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"00081140":{"vr":"SQ","Value":[{"00081150":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.7"]}}]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"A^B"}]}}"#,
    ),
    (
        "encaps.dcm",
        r#"{"00280002":{"vr":"US","Value":[1]},"00280004":{"vr":"CS","Value":["MONOCHROME2"]},"00280010":{"vr":"US","Value":[1]},"00280011":{"vr":"US","Value":[1]},"00280100":{"vr":"US","Value":[8]},"00280101":{"vr":"US","Value":[8]},"00280102":{"vr":"US","Value":[7]},"00280103":{"vr":"US","Value":[0]},"7FE00010":{"vr":"OB","InlineBinary":"/v8A4AAAAAD+/wDgBAAAAP/Y/9k="}}"#,
    ),
    (
        "fd_nan2.dcm",
        r#"{"00189087":{"vr":"FD","Value":[1.5,"NaN"]}}"#,
    ),
    (
        // UTF-8 bytes labelled ISO_IR 100 (what DCMTK json2dcm writes): decoded as the label says.
        "cs.dcm",
        r#"{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"MÃ¼ller"}]}}"#,
    ),
];

#[test]
fn edge_files_give_the_decided_output() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: ../shared not found (set DCMFLOW_SHARED)");
        return;
    };
    for (name, expected) in EDGE_DECISIONS {
        let data = std::fs::read(shared.join("edge").join(name)).unwrap();
        let json = String::from_utf8(to_json(&data).unwrap()).unwrap();
        assert_eq!(json, *expected, "{name}");
    }
    // The same data set in LE and BE gives the same JSON (InlineBinary and numbers are byte-order free).
    let le = to_json(&std::fs::read(shared.join("edge/rt_le.dcm")).unwrap()).unwrap();
    let be = to_json(&std::fs::read(shared.join("edge/rt_be.dcm")).unwrap()).unwrap();
    assert_eq!(le, be);
}

#[test]
fn bulk_reference_points_at_the_value_bytes_in_the_source() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: ../shared not found (set DCMFLOW_SHARED)");
        return;
    };
    let data = std::fs::read(shared.join("edge/bulk.dcm")).unwrap();
    let mut handler = SourceReference {
        selection: BulkSelection::binary(1024),
        source_uri: "file:///bulk.dcm".into(),
    };
    let mut out = Vec::new();
    convert(
        &data,
        &mut out,
        &ToJsonOptions::default(),
        Threads::One,
        Some(&mut handler),
    )
    .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let uri = doc["00281201"]["BulkDataURI"].as_str().unwrap();
    assert!(doc["00281201"].get("InlineBinary").is_none());
    let query = uri.split_once('?').unwrap().1;
    let mut offset = 0usize;
    let mut length = 0usize;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap();
        match k {
            "offset" => offset = v.parse().unwrap(),
            "length" => length = v.parse().unwrap(),
            _ => panic!("{uri}"),
        }
    }
    // The reader's own view of the value must be exactly those bytes.
    let mut reader = DicomReader::from_slice(&data, ReaderOptions::default());
    let mut in_element = false;
    let value = loop {
        match reader.read_token().unwrap() {
            Token::Element(h) => in_element = h.tag == Tag(0x0028_1201),
            Token::Value { bytes, .. } if in_element => break bytes.to_vec(),
            Token::Eof => panic!("no (0028,1201)"),
            _ => {}
        }
    };
    assert_eq!(length, value.len());
    assert_eq!(&data[offset..offset + length], &value[..]);
    // The small DS stays inline.
    assert!(doc["00200037"]["Value"].is_array());
}

/// pydicom's character-set test files (charset_files/) and the patient names its test suite expects.
const CHARSET_FILES: &[(&str, &str)] = &[
    ("chrArab.dcm", "قباني^لنزار"),
    ("chrFren.dcm", "Buc^Jérôme"),
    ("chrFrenMulti.dcm", "Buc^Jérôme"),
    ("chrGerm.dcm", "Äneas^Rüdiger"),
    ("chrGreek.dcm", "Διονυσιος"),
    ("chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"),
    ("chrH32.dcm", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"),
    ("chrHbrw.dcm", "שרון^דבורה"),
    ("chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동"),
    ("chrJapMulti.dcm", "やまだ^たろう"),
    ("chrJapMultiExplicitIR6.dcm", "やまだ^たろう"),
    ("chrKoreanMulti.dcm", "김희중"),
    ("chrRuss.dcm", "Люкceмбypг"),
    ("chrX1.dcm", "Wang^XiaoDong=王^小東"),
    ("chrX2.dcm", "Wang^XiaoDong=王^小东"),
    // (0008,0005) of the item overrides the data set's (PS3.5 6.1.2.5.1), both ways round.
    (
        "chrSQEncoding.dcm",
        "00321064[0].ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",
    ),
    (
        "chrSQEncoding1.dcm",
        "00321064[0].ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",
    ),
];

/// A PN value back in DICOM form: the component groups joined by `=` (trailing empty groups dropped).
fn person_name(value: &serde_json::Value) -> String {
    let groups: Vec<&str> = ["Alphabetic", "Ideographic", "Phonetic"]
        .iter()
        .map(|g| value.get(g).and_then(|v| v.as_str()).unwrap_or(""))
        .collect();
    groups.join("=").trim_end_matches('=').to_string()
}

#[test]
fn charset_files_decode_to_the_text_pydicom_expects() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: ../shared not found (set DCMFLOW_SHARED)");
        return;
    };
    let dir = shared.join("corpus/pydicom-3.0.2/charset_files");
    for (file, expected) in CHARSET_FILES {
        let json = to_json(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let (item, expected) = match expected.split_once("[0].") {
            Some((seq, name)) => (&doc[seq]["Value"][0], name),
            None => (&doc, *expected),
        };
        let got = person_name(&item["00100010"]["Value"][0]);
        assert_eq!(got, expected, "{file}");
    }
}

#[test]
fn pipelined_conversion_stops_when_the_output_fails() {
    // Large enough that the reader thread is still sending batches when the writer gives up: it must
    // stop (not block on a full channel) and the error must be the output's.
    let mut data = Vec::new();
    for i in 0..200_000u32 {
        let element = 0x1000 + (i % 0xE000) as u16;
        data.extend_from_slice(&[0x09, 0x00]);
        data.extend_from_slice(&element.to_le_bytes());
        data.extend_from_slice(b"LO\x08\x00ABCDEFGH");
        if element == 0xEFFF {
            break;
        }
    }
    let options = ToJsonOptions::default();
    let mut failing = FailingOutput { room: 100_000 };
    let result = convert(
        &data[..],
        Output::stream(&mut failing),
        &options,
        Threads::Two,
        None,
    );
    match result {
        Err(e) if e.classify() == dcmflow::Category::OutputIo => {
            let offset = e.position().offset.expect("an output offset");
            assert!(offset <= 100_000, "{offset}");
            // The output's own error, kept whole.
            let source = std::error::Error::source(&e).expect("the io::Error");
            assert_eq!(source.to_string(), "disk full");
        }
        other => panic!("expected the output's error, got {other:?}"),
    }
    // The same input into a working output converts, so the failure above was the output's.
    let mut json = Vec::new();
    convert(&data[..], &mut json, &options, Threads::Two, None).unwrap();
    assert!(json.len() > 1_000_000);
}

#[test]
fn pipelined_conversion_reports_the_read_error_after_what_was_read() {
    // A truncated value: the elements before it are written, then the reader's error (with its offset).
    let mut data = b"\x10\x00\x10\x00PN\x04\x00Doe^".to_vec();
    data.extend_from_slice(b"\x10\x00\x20\x00LO\x10\x00short");
    let options = ToJsonOptions::default();
    let sequential = convert(
        Input::reader(&data[..]),
        &mut Vec::new(),
        &options,
        Threads::One,
        None,
    )
    .unwrap_err();
    let pipelined = convert(
        Input::reader(&data[..]),
        &mut Vec::new(),
        &options,
        Threads::Two,
        None,
    )
    .unwrap_err();
    assert_eq!(sequential.classify(), dcmflow::Category::InvalidInput);
    assert_eq!(sequential, pipelined);
}
