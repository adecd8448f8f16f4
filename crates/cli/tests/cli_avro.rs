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
