//! Every example line of every `--help` runs as written and succeeds, in a directory holding the files
//! the examples name (made from the synthetic corpus).

use std::path::Path;
use std::process::Command;

mod common;
use common::{dcmflow, synthetic};

/// The example command lines of `dcmflow <command> --help`: the lines after "Examples:" up to the
/// first blank line, without their trailing `# …` comments.
fn examples(command: &str) -> Vec<String> {
    let help = dcmflow().args([command, "--help"]).output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    let mut lines = text
        .lines()
        .skip_while(|l| l.trim() != "Examples:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| match l.find("  #") {
            Some(i) => l[..i].trim().to_string(),
            None => l.trim().to_string(),
        })
        .peekable();
    assert!(
        lines.peek().is_some(),
        "dcmflow {command} --help has no examples"
    );
    lines.collect()
}

fn setup(dir: &Path) {
    let copy = |from: &str, to: &str| {
        let to = dir.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(synthetic(from), to).unwrap();
    };
    for name in ["image.dcm", "ct.dcm", "in.dcm", "a.dcm", "b.dcm", "c.dcm"] {
        copy("sequences_defined_explicit.dcm", name);
    }
    copy("every_vr_explicit.dcm", "archive/x/IM1");
    copy("private_explicit.dcm", "archive/IM2");
    copy("bare_implicit.dcm", "dataset.bin");
    let array = dcmflow()
        .args(["dcm2json", "--array", "-q", "a.dcm", "b.dcm"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(array.status.success());
    std::fs::write(dir.join("search_results.json"), &array.stdout).unwrap();
    // {"n": 1, "s": "é"} twice, as mongodump writes a collection.
    let doc = b"\x16\x00\x00\x00\x10n\x00\x01\x00\x00\x00\x02s\x00\x03\x00\x00\x00\xC3\xA9\x00\x00";
    let users = [&doc[..], &doc[..]].concat();
    std::fs::create_dir_all(dir.join("dump/db")).unwrap();
    std::fs::write(dir.join("dump/db/users.bson"), &users).unwrap();
    std::fs::write(dir.join("users.bson"), &users).unwrap();
    // An Avro container file of two ints (magic, metadata {avro.schema: "int"}, sync, one block).
    let mut avro = b"Obj\x01\x02\x16avro.schema\x0a\"int\"\x00".to_vec();
    avro.extend_from_slice(&[7; 16]);
    avro.extend_from_slice(&[0x04, 0x04, 42, 43]);
    avro.extend_from_slice(&[7; 16]);
    std::fs::write(dir.join("weather.avro"), &avro).unwrap();
    std::fs::write(dir.join("variants.avro"), &avro).unwrap();
    // Schemas and JSON for json2avro's examples.
    std::fs::write(dir.join("weather.avsc"), "\"int\"").unwrap();
    std::fs::write(dir.join("variant.avsc"), r#"["null", "long"]"#).unwrap();
    std::fs::write(dir.join("variants.json"), "42\nnull\n").unwrap();
    std::fs::write(
        dir.join("mail.avpr"),
        r#"{"protocol": "Mail", "namespace": "ex", "types": [
            {"type": "record", "name": "Message", "fields": [{"name": "to", "type": "string"}]}]}"#,
    )
    .unwrap();
    std::fs::write(dir.join("messages.json"), r#"{"to": "a"}"#).unwrap();
    // Bare data of a union of null and long: 42, null.
    std::fs::write(dir.join("message.avsc"), r#"["null", "long"]"#).unwrap();
    std::fs::write(dir.join("message.bin"), b"\x02\x54\x00").unwrap();
    std::fs::write(
        dir.join("array.json"),
        r#"[{"n": 1, "s": "é"}, {"n": {"$numberLong": "2"}}]"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("export-v1.json"),
        r#"{"when": {"$date": 1356351330501}, "re": {"$regex": "^a", "$options": "i"}}"#,
    )
    .unwrap();
    let gzip = Command::new("gzip")
        .args(["-kf", "users.bson"])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(gzip.success());
    std::fs::write(dir.join("study.json"), &array.stdout).unwrap();
}

#[test]
fn every_help_example_runs() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_dcmflow")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for command in [
        "dcm2json",
        "json2dcm",
        "dump",
        "convert",
        "bson2json",
        "json2bson",
        "avro2json",
        "avro-schema",
        "json2avro",
    ] {
        for line in examples(command) {
            let out = Command::new("sh")
                .args(["-c", &line])
                .current_dir(dir.path())
                .env("PATH", &path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "`{line}` exited {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 40, "only {ran} examples found");
    // What the examples promise: files where they say.
    for file in [
        "image.json",
        "ct.json",
        "all.ndjson",
        "index.ndjson",
        "json/x/IM1.json",
        "first.dcm",
        "users.json",
        "copy.bson",
        "weather.json",
        "copy.avro",
        "variants.avro",
        "weather.bin",
        "messages.avro",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} missing");
    }
}

#[test]
fn version_is_answered_by_every_command() {
    for command in [
        "dcm2json",
        "json2dcm",
        "dump",
        "convert",
        "bson2json",
        "json2bson",
        "avro2json",
        "avro-schema",
        "json2avro",
    ] {
        let out = dcmflow().args([command, "--version"]).output().unwrap();
        assert!(out.status.success(), "{command} --version");
        assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    }
}
