//! `dcmflow bson2json` as a user meets it: bsondump's spellings, the three formats, gzip, standard input
//! and output, errors with offset and key path, exit codes, and no partial or clobbered output.

use std::process::Output;

mod common;
use common::run_with_stdin;

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    run_with_stdin(args, stdin.unwrap_or_default())
}

/// {"n": <int32 n>, "d": 1.5, "t": <datetime 0>}
fn doc(n: i32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(b"\x10n\x00");
    body.extend_from_slice(&n.to_le_bytes());
    body.extend_from_slice(b"\x01d\x00");
    body.extend_from_slice(&1.5f64.to_le_bytes());
    body.extend_from_slice(b"\x09t\x00");
    body.extend_from_slice(&0i64.to_le_bytes());
    let mut doc = ((body.len() + 5) as i32).to_le_bytes().to_vec();
    doc.extend_from_slice(&body);
    doc.push(0);
    doc
}

#[test]
fn formats_and_spellings() {
    let stream = [doc(1), doc(2)].concat();
    let out = run(&["bson2json", "-"], Some(&stream));
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"n\":1,\"d\":1.5,\"t\":{\"$date\":\"1970-01-01T00:00:00Z\"}}\n{\"n\":2,\"d\":1.5,\"t\":{\"$date\":\"1970-01-01T00:00:00Z\"}}\n"
    );
    let out = run(
        &["bson2json", "--jsonFormat=canonical", "--jsonArray", "-"],
        Some(&stream),
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "[{\"n\":{\"$numberInt\":\"1\"},\"d\":{\"$numberDouble\":\"1.5\"},\"t\":{\"$date\":{\"$numberLong\":\"0\"}}},{\"n\":{\"$numberInt\":\"2\"},\"d\":{\"$numberDouble\":\"1.5\"},\"t\":{\"$date\":{\"$numberLong\":\"0\"}}}]\n"
    );
    let out = run(
        &["bson2json", "--legacy", "--type=json", "-"],
        Some(&doc(3)),
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"n\":3,\"d\":1.5,\"t\":{\"$date\":0}}\n"
    );
    // bsondump's --type=debug is not written: a command-line error.
    assert_eq!(
        run(&["bson2json", "--type=debug", "-"], Some(&doc(3)))
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn gzip_is_detected_and_output_goes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("c.bson");
    std::fs::write(&plain, [doc(1), doc(2)].concat()).unwrap();
    let gzip = std::process::Command::new("gzip")
        .arg("-k")
        .arg(&plain)
        .status()
        .unwrap();
    assert!(gzip.success());
    let json = dir.path().join("c.json");
    let gz = dir.path().join("c.bson.gz");
    let out = run(
        &[
            "bson2json",
            gz.to_str().unwrap(),
            &format!("--outFile={}", json.display()),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&json).unwrap().lines().count(), 2);
}

#[test]
fn bad_bson_names_offset_and_path_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    // The second document's string length runs past its end.
    let mut bad = doc(1);
    bad.extend_from_slice(b"\x10\x00\x00\x00\x02s\x00\x09\x00\x00\x00bb\x00\x00");
    let input = dir.path().join("bad.bson");
    std::fs::write(&input, &bad).unwrap();
    let json = dir.path().join("bad.json");
    let out = run(
        &["bson2json", input.to_str().unwrap(), json.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(20));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("byte offset 41 (s)") && message.contains("a string of length 9"),
        "{message}"
    );
    assert!(
        !json.exists(),
        "a failed conversion left {}",
        json.display()
    );
    // An existing output is kept as it was.
    std::fs::write(&json, "old").unwrap();
    let out = run(
        &["bson2json", input.to_str().unwrap(), json.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(20));
    assert_eq!(std::fs::read_to_string(&json).unwrap(), "old");
    // The input as the output is refused before anything is read.
    let out = run(
        &[
            "bson2json",
            input.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&input).unwrap(), bad);
}

#[test]
fn a_single_document_refuses_what_follows() {
    let stream = [doc(1), doc(2)].concat();
    let out = run(&["bson2json", "--single", "-"], Some(&stream));
    assert_eq!(out.status.code(), Some(20));
    assert!(String::from_utf8_lossy(&out.stderr).contains("byte offset 34"));
    let out = run(&["bson2json", "--single", "-"], Some(&doc(1)));
    assert!(out.status.success());
}
