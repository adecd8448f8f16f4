//! JSON → DICOM with the writer on a second thread (`Threads::Two`) gives the same bytes as
//! on one thread, the same error when the JSON is bad, and the output's error when the output fails.

mod common;
use common::{json2dcm_to, FailingOutput, Sink};

use std::path::{Path, PathBuf};

use dcmflow::{Input, JsonToDicom, Output, Threads, ToDicomOptions, ToJsonOptions};

/// The four ways in (one thread or two, a stream or a seekable output), as bytes or the error's text.
fn all_four(json: &[u8]) -> [Result<Vec<u8>, String>; 4] {
    let way = |threads: Threads, sink: Sink| {
        let mut options = ToDicomOptions::default();
        options.threads = threads;
        json2dcm_to(Input::from(json), &options, sink)
            .map(|(out, _)| out)
            .map_err(|e| e.to_string())
    };
    [
        way(Threads::One, Sink::Stream),
        way(Threads::Two, Sink::Stream),
        way(Threads::One, Sink::Seekable),
        way(Threads::Two, Sink::Seekable),
    ]
}

/// Asserts that one and two threads agree; true when the JSON converted.
fn assert_same(json: &[u8], name: &str) -> bool {
    let [next, next_pipelined, seekable, seekable_pipelined] = all_four(json);
    assert_eq!(next, next_pipelined, "{name}: one thread vs two");
    assert_eq!(
        seekable, seekable_pipelined,
        "{name}: seekable, one thread vs two"
    );
    next.is_ok()
}

#[test]
fn pipelined_output_equals_single_threaded_output() {
    let mut files = Vec::new();
    common::files_under(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/synthetic"),
        &mut files,
    );
    let mut converted = 0;
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let Ok((json, _)) = common::dcm2json(&data, &ToJsonOptions::default()) else {
            continue;
        };
        converted += usize::from(assert_same(&json, &path.display().to_string()));
    }
    assert!(converted >= 20, "{converted}");
    // Other tools' JSON, when ../shared is there: the same bytes or the same error.
    let shared = std::env::var_os("DCMFLOW_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let mut peer_files = Vec::new();
    common::files_under(&shared.join("json"), &mut peer_files);
    peer_files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    for path in &peer_files {
        assert_same(&std::fs::read(path).unwrap(), &path.display().to_string());
    }
}

#[test]
fn pipelined_reports_the_json_error_after_what_was_written() {
    let mut json = br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe"}]},"00100020":{"vr":"LO","Value":["ID"]}"#
        .to_vec();
    json.extend_from_slice(br#","00100030":{"vr":"DA","Value":[1,]}}"#);
    let [next, next_pipelined, seekable, seekable_pipelined] = all_four(&json);
    let error = next.unwrap_err();
    assert!(error.contains("line 1"), "{error}");
    assert_eq!(Err(error.clone()), next_pipelined);
    assert_eq!(Err(error.clone()), seekable);
    assert_eq!(Err(error), seekable_pipelined);
}

#[test]
fn pipelined_stops_reading_when_the_output_fails() {
    // Far more JSON than the pipeline holds: the reader must stop when the writer fails, not block.
    let mut json = b"{".to_vec();
    for i in 0..0xE000u32 {
        if i > 0 {
            json.push(b',');
        }
        let tag = format!("0009{:04X}", 0x1000 + i);
        json.extend_from_slice(format!(r#""{tag}":{{"vr":"LO","Value":["ABCDEFGH"]}}"#).as_bytes());
    }
    json.push(b'}');
    let options = {
        let mut o = ToDicomOptions::default();
        o.part10 = false;
        o.threads = Threads::Two;
        o
    };
    let mut failing = FailingOutput { room: 100_000 };
    let result = JsonToDicom::new(options.clone()).convert(&json, Output::stream(&mut failing));
    match result {
        Err(e) if e.classify() == dcmflow::Category::OutputIo => {
            assert!(e.position().offset.is_some_and(|o| o <= 100_000), "{e:?}");
            let source = std::error::Error::source(&e).expect("the io::Error");
            assert_eq!(source.to_string(), "disk full");
        }
        other => panic!("expected the output's error, got {:?}", other.map(|_| ())),
    }
    let (dicom, _) = common::json2dcm(&json, &options).unwrap();
    assert!(dicom.len() > 500_000);
}

/// Long InlineBinary chunks travel between the threads as the reader's own buffers
/// (`JsonReader::take_value`): the bytes and their order must be those of one thread, for measured and
/// unmeasured (seekable) values, with elements before and after, at the top level and in an item.
#[test]
fn long_inline_binary_is_handed_over_unchanged() {
    let pixels: Vec<u8> = (0..3_000_001u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut text = Vec::new();
    dcmflow_simd::append_encoded(&pixels, &mut text);
    let text = String::from_utf8(text).unwrap();
    let json = format!(
        r#"{{"00080060":{{"vr":"CS","Value":["MR"]}},"00091010":{{"vr":"OB","InlineBinary":"{text}"}},"00400275":{{"vr":"SQ","Value":[{{"00091011":{{"vr":"OB","InlineBinary":"{text}"}},"00100010":{{"vr":"PN","Value":[{{"Alphabetic":"Doe"}}]}}}}]}},"7FE00010":{{"vr":"OW","InlineBinary":"{text}"}}}}"#
    );
    let [next, next_pipelined, seekable, seekable_pipelined] = all_four(json.as_bytes());
    let next = next.unwrap();
    assert!(next.len() > 9_000_000);
    assert!(next.windows(64).any(|w| w == &pixels[1000..1064]));
    assert_eq!(Ok(next.clone()), next_pipelined);
    assert_eq!(seekable, seekable_pipelined);
    assert_eq!(Ok(next), seekable);
}
