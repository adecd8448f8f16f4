//! `dcmflow avro2json` and `avro-schema` as a user meets them: both JSON encodings, lines and arrays,
//! standard input and output, errors with offsets and paths, exit codes, no partial output.

use std::process::Output;

mod common;
use common::run_with_stdin;

fn run(args: &[&str], stdin: &[u8]) -> Output {
    run_with_stdin(args, stdin)
}

/// A non-negative `long` as the binary encoding writes it (zig-zag, 7 bits a byte).
fn long(mut n: u64, out: &mut Vec<u8>) {
    n *= 2;
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A container file with `schema` and one block of `count` data whose encoding is `data`.
fn container(schema: &str, count: u64, data: &[u8]) -> Vec<u8> {
    let mut file = b"Obj\x01\x02\x16avro.schema".to_vec();
    long(schema.len() as u64, &mut file);
    file.extend_from_slice(schema.as_bytes());
    file.push(0);
    file.extend_from_slice(&[9; 16]);
    long(count, &mut file);
    long(data.len() as u64, &mut file);
    file.extend_from_slice(data);
    file.extend_from_slice(&[9; 16]);
    file
}

const UNION: &str = r#"{"type":"record","name":"r","namespace":"n","fields":[{"name":"u","type":["null","string"]},{"name":"b","type":"bytes"}]}"#;

#[test]
fn both_encodings_lines_and_arrays() {
    // {u: null, b: ""}, {u: "é", b: "\xff"}
    let file = container(UNION, 2, b"\x00\x00\x02\x04\xC3\xA9\x02\xFF");
    let out = run(&["avro2json", "-"], &file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"u\":null,\"b\":\"\"}\n{\"u\":{\"string\":\"é\"},\"b\":\"ÿ\"}\n"
    );
    let out = run(
        &["tojson", "--encoding", "ga4gh", "--json-array", "-"],
        &file,
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "[{\"u\":null,\"b\":\"\"},{\"u\":\"é\",\"b\":\"ÿ\"}]\n"
    );
    let out = run(&["avro-schema", "--canonical", "-"], &file);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"name\":\"n.r\",\"type\":\"record\",\"fields\":[{\"name\":\"u\",\"type\":[\"null\",\"string\"]},{\"name\":\"b\",\"type\":\"bytes\"}]}\n"
    );
}

#[test]
fn bad_files_name_where_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.json");
    for (bad, says) in [
        (b"not avro at all".to_vec(), "not an Avro object container file"),
        // A union index beyond its branches, in the second datum's field u.
        (container(UNION, 2, b"\x00\x00\x06\x00"), "(u): reading Avro: in the block at byte 157, at byte 3 of its data: datum 2 of the file (the block's 2): a union index beyond its branches"),
        // The block's sync marker differs from the header's.
        (
            {
                let mut f = container(UNION, 1, b"\x00\x00");
                let n = f.len();
                f[n - 1] = 0;
                f
            },
            "sync marker",
        ),
        // The file ends inside the block.
        (container(UNION, 1, b"\x00\x00")[..60].to_vec(), "ends inside"),
        // A block too large to hold (streamed: megabytes of JSON written before the error) whose
        // second datum is bad: still no output.
        (
            {
                let mut data = vec![0x00];
                long(2_000_000, &mut data);
                data.extend(std::iter::repeat_n(b'x', 2_000_000));
                data.extend_from_slice(b"\x06\x00");
                container(UNION, 2, &data)
            },
            "datum 2 of the file (the block's 2): a union index beyond its branches",
        ),
    ] {
        let input = dir.path().join("bad.avro");
        std::fs::write(&input, &bad).unwrap();
        let out = run(
            &["avro2json", input.to_str().unwrap(), output.to_str().unwrap()],
            b"",
        );
        assert_eq!(out.status.code(), Some(20));
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(message.contains(says), "{message}");
        assert!(!output.exists(), "a failed conversion left {}", output.display());
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// json2avro (and its avro-tools name): JSON through standard input into a container file on standard
/// output that avro2json reads back; every codec; the same bytes for the same sync marker.
#[test]
fn json2avro_writes_files_avro2json_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("r.avsc");
    std::fs::write(&schema, UNION).unwrap();
    let schema = schema.to_str().unwrap();
    let json = "{\"b\":\"\\u00ff\",\"u\":{\"string\":\"é\"}}\n{\"u\":null,\"b\":\"\"}\n";
    let back_expected = "{\"u\":{\"string\":\"é\"},\"b\":\"ÿ\"}\n{\"u\":null,\"b\":\"\"}\n";
    for codec in ["null", "deflate", "snappy", "zstandard"] {
        let sync = "000102030405060708090a0b0c0d0e0f";
        let args = [
            "fromjson",
            "--schema-file",
            schema,
            "--codec",
            codec,
            "--sync-marker",
            sync,
            "-",
        ];
        let out = run(&args, json.as_bytes());
        assert!(out.status.success(), "{codec}: {}", stderr(&out));
        assert_eq!(
            run(&args, json.as_bytes()).stdout,
            out.stdout,
            "{codec}: deterministic"
        );
        let back = run(&["avro2json", "-"], &out.stdout);
        assert_eq!(
            String::from_utf8_lossy(&back.stdout),
            back_expected,
            "{codec}"
        );
    }
    // Without a sync marker, each run draws its own.
    let first = run(&["json2avro", "-s", schema, "-"], json.as_bytes()).stdout;
    let second = run(&["json2avro", "-s", schema, "-"], json.as_bytes()).stdout;
    assert_ne!(first, second);
    // GA4GH's JSON, the same data.
    let ga4gh = "{\"u\":\"é\",\"b\":\"\\u00ff\"}\n{\"b\":\"\",\"u\":null}\n";
    let out = run(
        &[
            "json2avro",
            "-s",
            schema,
            "--encoding",
            "ga4gh",
            "--framing",
            "bare",
            "-",
        ],
        ga4gh.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"\x02\x04\xC3\xA9\x02\xFF\x00\x00");
    // Single-object encoding reads back with the schema.
    let out = run(
        &["json2avro", "-s", schema, "--framing", "single-object", "-"],
        json.as_bytes(),
    );
    assert_eq!(&out.stdout[..2], b"\xC3\x01");
    let back = run(&["avro2json", "--schema-file", schema, "-"], &out.stdout);
    assert_eq!(String::from_utf8_lossy(&back.stdout), back_expected);
    // One JSON array of the data.
    let out = run(
        &[
            "json2avro",
            "-s",
            schema,
            "--json-array",
            "--framing",
            "bare",
            "-",
        ],
        b"[{\"u\":null,\"b\":\"\"}]",
    );
    assert_eq!(out.stdout, b"\x00\x00");
}

/// Bad JSON, a value the schema refuses, a bad schema: messages name the line, column, datum and path;
/// exit codes 20 and 1; no output file is left behind and the input is never replaced.
#[test]
fn json2avro_errors_name_where_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("r.avsc");
    std::fs::write(&schema, UNION).unwrap();
    let schema = schema.to_str().unwrap();
    let output = dir.path().join("out.avro");
    let input = dir.path().join("in.json");
    for (json, says) in [
        (
            "{\"u\":null,\"b\":\"\"}\n{\"u\":{\"int\":1},\"b\":\"\"}",
            "line 2, column 13 (u): reading JSON, datum 2: 'int' is not a branch of the union (null, string)",
        ),
        ("{\"u\":null,\"b\":\"\\u0100\"}", "(b): reading JSON, datum 1: U+0100 in a string of bytes"),
        ("{\"u\":null}", "field 'b' is missing and has no default"),
        (
            "{\"u\":null,\"b\":\"\",}",
            "line 1, column 18 (b): reading JSON, datum 1: trailing comma before '}' (RFC 8259)\n",
        ),
        ("{\"u\":null,\"b\":NaN}", "bare NaN or Infinity"),
    ] {
        std::fs::write(&input, json).unwrap();
        let out = run(
            &["json2avro", "-s", schema, input.to_str().unwrap(), output.to_str().unwrap()],
            b"",
        );
        assert_eq!(out.status.code(), Some(20), "{json}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{json}: {}", stderr(&out));
        assert!(stderr(&out).contains("in.json"), "names the input: {}", stderr(&out));
        assert!(!output.exists(), "a failed conversion left {}", output.display());
    }
    // The input as the output: refused before anything is written.
    std::fs::write(&input, "{\"u\":null,\"b\":\"\"}").unwrap();
    let path = input.to_str().unwrap();
    let out = run(&["json2avro", "-s", schema, path, path], b"");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(std::fs::read(&input).unwrap(), b"{\"u\":null,\"b\":\"\"}");
    // A schema that is not valid (a default of the wrong type), or missing.
    let bad = dir.path().join("bad.avsc");
    std::fs::write(
        &bad,
        r#"{"type":"record","name":"r","fields":[{"name":"n","type":"int","default":"x"}]}"#,
    )
    .unwrap();
    let out = run(
        &[
            "json2avro",
            "-s",
            bad.to_str().unwrap(),
            path,
            output.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("r.n: the default"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &[
            "json2avro",
            "-s",
            "missing.avsc",
            path,
            output.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("missing.avsc"), "{}", stderr(&out));
    assert!(!output.exists());
}

/// A protocol (.avpr) as the schema file: --type picks the type; without it the message lists them.
#[test]
fn a_protocol_type_as_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let protocol = dir.path().join("p.avpr");
    std::fs::write(
        &protocol,
        r#"{"protocol": "P", "namespace": "ns", "types": [
            {"type": "enum", "name": "K", "symbols": ["A", "B"]},
            {"type": "record", "name": "R", "fields": [{"name": "k", "type": "K"}]}]}"#,
    )
    .unwrap();
    let protocol = protocol.to_str().unwrap();
    let out = run(
        &["json2avro", "-s", protocol, "--framing", "bare", "-"],
        b"{\"k\":\"B\"}",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("give --type with one of its types (ns.K, ns.R)"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &[
            "json2avro",
            "-s",
            protocol,
            "--type",
            "R",
            "--framing",
            "bare",
            "-",
        ],
        b"{\"k\":\"B\"}",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"\x02");
    let back = run(
        &[
            "avro2json",
            "--schema-file",
            protocol,
            "--type",
            "ns.R",
            "-",
        ],
        &out.stdout,
    );
    assert_eq!(
        String::from_utf8_lossy(&back.stdout),
        "{\"k\":\"B\"}\n",
        "{}",
        stderr(&back)
    );
    let out = run(&["json2avro", "-s", protocol, "--type", "Q", "-"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("has no type 'Q'"), "{}", stderr(&out));
}
