//! `dcmflow json2bson` as a user meets it: NDJSON, arrays, legacy forms on request, gzip, standard input
//! and output, errors with line, column and key path, exit codes, and no partial or clobbered output.

use std::process::Output;

mod common;
use common::run_with_stdin;

fn run(args: &[&str], stdin: &[u8]) -> Output {
    run_with_stdin(args, stdin)
}

/// {"n": <int32 n>}
fn doc(n: i32) -> Vec<u8> {
    let mut doc = vec![0x0C, 0, 0, 0, 0x10, b'n', 0];
    doc.extend_from_slice(&n.to_le_bytes());
    doc.push(0);
    doc
}

#[test]
fn lines_arrays_and_round_trips() {
    let out = run(&["json2bson", "-"], b"{\"n\": 1}\n{\"n\": 2}\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, [doc(1), doc(2)].concat());
    // A top-level array, with or without --jsonArray; --jsonArray refuses what is not one.
    for args in [&["json2bson", "-"][..], &["json2bson", "--jsonArray", "-"]] {
        let out = run(args, b" [{\"n\": 1}, {\"n\": 2}] ");
        assert_eq!(out.stdout, [doc(1), doc(2)].concat());
    }
    let out = run(&["json2bson", "--jsonArray", "-"], b"{\"n\": 1}");
    assert_eq!(out.status.code(), Some(20));
    // BSON → JSON → BSON through pipes gives the bytes back.
    let stream = [doc(7), doc(-3)].concat();
    let json = run(&["bson2json", "--jsonFormat=canonical", "-"], &stream);
    assert_eq!(run(&["json2bson", "-"], &json.stdout).stdout, stream);
}

#[test]
fn legacy_forms_only_on_request() {
    let legacy = br#"{"d": {"$date": 0}}"#;
    let out = run(&["json2bson", "-"], legacy);
    assert_eq!(out.status.code(), Some(20));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("legacy option"), "{message}");
    let out = run(&["json2bson", "--legacy", "-"], legacy);
    assert!(out.status.success());
    // {"d": <datetime 0>}
    assert_eq!(
        out.stdout,
        b"\x10\x00\x00\x00\x09d\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    );
}

#[test]
fn bad_json_names_line_column_and_path_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.json");
    std::fs::write(
        &input,
        "{\"n\": 1}\n{\"a\": {\"b\": [1, {\"$oid\": \"xyz\"}]}}\n",
    )
    .unwrap();
    let output = dir.path().join("bad.bson");
    let out = run(
        &[
            "json2bson",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(20));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("line 2, column 31")
            && message.contains("a.b.1")
            && message.contains("$oid 'xyz'"),
        "{message}"
    );
    assert!(
        !output.exists(),
        "a failed conversion left {}",
        output.display()
    );
    // An existing output is kept as it was; the input as the output is refused.
    std::fs::write(&output, "old").unwrap();
    let out = run(
        &[
            "json2bson",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(20));
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "old");
    let out = run(
        &[
            "json2bson",
            input.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn gzip_input_and_file_output() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("c.json");
    std::fs::write(&plain, "{\"n\": 1}\n{\"n\": 2}\n").unwrap();
    let gzip = std::process::Command::new("gzip")
        .arg("-k")
        .arg(&plain)
        .status()
        .unwrap();
    assert!(gzip.success());
    let output = dir.path().join("c.bson");
    let out = run(
        &[
            "json2bson",
            dir.path().join("c.json.gz").to_str().unwrap(),
            "--outFile",
            output.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&output).unwrap(), [doc(1), doc(2)].concat());
}

#[test]
fn documents_past_the_size_limit_are_refused() {
    let json = format!("{{\"s\": \"{}\"}}", "x".repeat(200));
    let out = run(
        &["json2bson", "--max-document-size", "100", "-"],
        json.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(20));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("past 100 bytes"), "{message}");
    assert!(out.stdout.is_empty());
}

/// A consumer that stops reading (`| head`) ends both commands quietly with 0, as dcm2json and dump.
#[test]
fn a_closed_pipe_is_a_quiet_success() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("many.json");
    let line = format!("{{\"s\": \"{}\"}}\n", "x".repeat(1000));
    std::fs::write(&json, line.repeat(2000)).unwrap();
    let bin = env!("CARGO_BIN_EXE_dcmflow");
    let script = format!(
        "set -o pipefail; {bin} json2bson {j} - | head -c 10 >/dev/null && {bin} json2bson {j} - | {bin} bson2json - - | head -c 10 >/dev/null",
        j = json.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
