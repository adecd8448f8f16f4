//! What the `dcmflow` command keeps of the user's data: values that break VR rules round-trip by
//! default, inputs are never overwritten, permissions are kept, batches go on past a bad file.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{dcmflow, synthetic};

fn run(args: &[&str]) -> Output {
    dcmflow().args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Values real archives hold that break PS3.5's VR rules (issue: 51 of 507 files were refused).
const RULE_BREAKERS: &str = r#"{
  "00080020": {"vr": "DA", "Value": ["1994.11.05"]},
  "00080060": {"vr": "CS", "Value": ["Brain"]},
  "00081030": {"vr": "LO", "Value": ["CT Upper Abdomen with contrast"]},
  "00101010": {"vr": "AS", "Value": ["99"]},
  "00180050": {"vr": "DS", "Value": ["1.9.10.0"]},
  "00200013": {"vr": "IS", "Value": ["1A"]},
  "0032000A": {"vr": "SH", "Value": ["CT Upper Abdomen with contrast"]}
}"#;

#[test]
fn json2dcm_writes_values_that_break_vr_rules_as_they_are_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("in.json");
    std::fs::write(&json, RULE_BREAKERS).unwrap();
    let dcm = dir.path().join("out.dcm");
    let out = run(&["json2dcm", path_str(&json), path_str(&dcm)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Every broken rule is reported, with its place.
    let warnings = stderr(&out);
    for key in [
        "00080020", "00080060", "00101010", "00180050", "00200013", "0032000A",
    ] {
        assert!(warnings.contains(key), "no warning for {key}: {warnings}");
    }
    // And the values come back unchanged.
    let back = run(&["dcm2json", path_str(&dcm)]);
    assert!(back.status.success(), "{}", stderr(&back));
    let value: serde_json::Value = serde_json::from_slice(&back.stdout).unwrap();
    let want: serde_json::Value = serde_json::from_str(RULE_BREAKERS).unwrap();
    assert_eq!(value, want);

    for strict in ["--strict", "-E", "--stop-on-error"] {
        let refused = dir.path().join("strict.dcm");
        let out = run(&["json2dcm", strict, path_str(&json), path_str(&refused)]);
        assert_eq!(out.status.code(), Some(65), "{strict}: {}", stderr(&out));
        assert!(stderr(&out).contains("00080020"), "{}", stderr(&out));
        assert!(!refused.exists(), "{strict} left a file");
    }
    // DCMTK's +E is the default now, and still accepted.
    let out = run(&["json2dcm", "+E", path_str(&json), path_str(&dcm)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn convert_write_dataset_writes_no_file_meta() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("bare.dcm");
    let source = synthetic("every_vr_explicit.dcm");
    let out = run(&[
        "convert",
        "--write-dataset",
        path_str(&source),
        path_str(&bare),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&bare).unwrap();
    // No preamble, no DICM, and the first element is not of group 0002.
    assert_ne!(&bytes[128..132], b"DICM");
    assert_ne!(&bytes[..2], &[0x02, 0x00]);
    let listing = run(&["dump", path_str(&bare)]);
    let text = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.status.success(), "{}", stderr(&listing));
    assert!(!text.contains("(0002,"), "{text}");
    let full = run(&["dump", path_str(&source)]);
    assert!(String::from_utf8_lossy(&full.stdout).contains("(0002,0010)"));
}

/// A copy of a synthetic file under `dir`.
fn copy_in(dir: &Path, name: &str, as_name: &str) -> PathBuf {
    let to = dir.join(as_name);
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::copy(synthetic(name), &to).unwrap();
    to
}

/// A file that starts like DICOM and breaks off inside an element.
fn truncated(dir: &Path, as_name: &str) -> PathBuf {
    let bytes = std::fs::read(synthetic("every_vr_explicit.dcm")).unwrap();
    let to = dir.join(as_name);
    std::fs::write(&to, &bytes[..bytes.len() - 3]).unwrap();
    to
}

#[test]
fn a_second_path_that_is_an_existing_dicom_file_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let a = copy_in(dir.path(), "every_vr_explicit.dcm", "a.dcm");
    let b = copy_in(dir.path(), "private_explicit.dcm", "b.dcm");
    let before = std::fs::read(&b).unwrap();
    // `dcmflow dcm2json *.dcm` with a glob that happens to match two files.
    let out = run(&["dcm2json", path_str(&a), path_str(&b)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not overwritten"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&b).unwrap(), before);
    // A text file is not replaced either; a JSON file (a previous output) is.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "my notes").unwrap();
    assert_eq!(
        run(&["dcm2json", path_str(&a), path_str(&notes)])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(std::fs::read(&notes).unwrap(), b"my notes");
    let json = dir.path().join("a.json");
    std::fs::write(&json, "{}").unwrap();
    assert!(run(&["dcm2json", path_str(&a), path_str(&json)])
        .status
        .success());
    assert!(std::fs::read(&json).unwrap().len() > 100);
    // -o names the output: the user said so.
    assert!(run(&["dcm2json", path_str(&a), "-o", path_str(&notes)])
        .status
        .success());
}

#[test]
fn an_output_that_is_an_input_is_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let a = copy_in(dir.path(), "every_vr_explicit.dcm", "a.dcm");
    let before = std::fs::read(&a).unwrap();
    let link = dir.path().join("link.dcm");
    std::os::unix::fs::symlink(&a, &link).unwrap();
    for args in [
        vec!["convert", path_str(&a), path_str(&a)],
        vec!["convert", path_str(&a), path_str(&link)],
        vec!["dcm2json", path_str(&a), "-o", path_str(&link)],
        vec!["dcm2json", "--ndjson", path_str(&a), "-o", path_str(&a)],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert_eq!(std::fs::read(&a).unwrap(), before, "{args:?}");
    }
    let json = dir.path().join("a.json");
    assert!(run(&["dcm2json", path_str(&a), path_str(&json)])
        .status
        .success());
    let json_before = std::fs::read(&json).unwrap();
    let out = run(&["json2dcm", path_str(&json), path_str(&json)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(std::fs::read(&json).unwrap(), json_before);
}

#[test]
fn an_overwritten_output_keeps_its_mode_and_a_read_only_one_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let a = copy_in(dir.path(), "every_vr_explicit.dcm", "a.dcm");
    let json = dir.path().join("a.json");
    std::fs::write(&json, "{}").unwrap();
    std::fs::set_permissions(&json, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(run(&["dcm2json", path_str(&a), path_str(&json)])
        .status
        .success());
    let mode = std::fs::metadata(&json).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dcm = dir.path().join("back.dcm");
    std::fs::write(&dcm, b"old").unwrap();
    std::fs::set_permissions(&dcm, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(run(&["json2dcm", path_str(&json), "-o", path_str(&dcm)])
        .status
        .success());
    assert_eq!(
        std::fs::metadata(&dcm).unwrap().permissions().mode() & 0o777,
        0o640
    );
    std::fs::set_permissions(&json, std::fs::Permissions::from_mode(0o444)).unwrap();
    let out = run(&["dcm2json", path_str(&a), path_str(&json)]);
    assert_eq!(out.status.code(), Some(40), "{}", stderr(&out));
    assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains(".dcmflow-"),
        "temporary name shown: {}",
        stderr(&out)
    );
}

#[test]
fn a_batch_reports_a_bad_file_and_converts_the_rest_into_a_file_a_pipe_or_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let good = [
        copy_in(&archive, "every_vr_explicit.dcm", "1.dcm"),
        copy_in(&archive, "private_explicit.dcm", "sub/3.dcm"),
    ];
    let bad = truncated(&archive, "2.dcm");
    std::fs::write(archive.join("README.txt"), "not DICOM").unwrap();
    let files = [good[0].clone(), bad.clone(), good[1].clone()];
    let paths: Vec<&str> = files.iter().map(|p| path_str(p)).collect();

    let expect_two_lines = |ndjson: &[u8], source: bool| {
        let text = String::from_utf8(ndjson.to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        for (line, path) in lines.iter().zip(&good) {
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            if source {
                assert_eq!(doc["source"], path_str(path));
            }
        }
    };
    // Into a file: the failed input leaves no part of its JSON.
    let out_file = dir.path().join("all.ndjson");
    let mut args = vec!["dcm2json", "--ndjson", "-o", path_str(&out_file)];
    args.extend(&paths);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(25), "{}", stderr(&out));
    assert!(stderr(&out).contains(path_str(&bad)), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 converted, 1 failed"),
        "{}",
        stderr(&out)
    );
    expect_two_lines(&std::fs::read(&out_file).unwrap(), false);
    // Into a pipe (spooled per document), with the source path in each line.
    let mut args = vec!["dcm2json", "--ndjson", "--with-source"];
    args.extend(&paths);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(25), "{}", stderr(&out));
    expect_two_lines(&out.stdout, true);
    // Into standard output redirected to a file (cut back in place).
    let redirected = dir.path().join("redirected.ndjson");
    let mut args = vec!["dcm2json", "--ndjson"];
    args.extend(&paths);
    let status = dcmflow()
        .args(&args)
        .stdout(std::fs::File::create(&redirected).unwrap())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(25));
    expect_two_lines(&std::fs::read(&redirected).unwrap(), false);
    // As an array: still valid JSON with the two good data sets.
    let mut args = vec!["dcm2json", "--array"];
    args.extend(&paths);
    let out = run(&args);
    let array: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(array.as_array().unwrap().len(), 2);
    // The old behaviour on request: nothing written.
    let stopped = dir.path().join("stopped.ndjson");
    let mut args = vec![
        "dcm2json",
        "--ndjson",
        "--stop-on-first-error",
        "-o",
        path_str(&stopped),
    ];
    args.extend(&paths);
    assert_eq!(run(&args).status.code(), Some(20));
    assert!(!stopped.exists());
    // A directory tree: -r walks it, the README is skipped, the bad file reported, one JSON per file.
    let json_dir = dir.path().join("json");
    let out = run(&[
        "dcm2json",
        "-r",
        "--output-dir",
        path_str(&json_dir),
        path_str(&archive),
    ]);
    assert_eq!(out.status.code(), Some(25), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 skipped (not DICOM)"),
        "{}",
        stderr(&out)
    );
    assert!(json_dir.join("1.json").is_file());
    assert!(json_dir.join("sub/3.json").is_file());
    assert!(!json_dir.join("2.json").exists());
    // Without -r a directory is an error of its own, the files beside it still convert.
    let out = run(&[
        "dcm2json",
        "--ndjson",
        path_str(&archive),
        path_str(&good[0]),
    ]);
    assert_eq!(out.status.code(), Some(25), "{}", stderr(&out));
    assert!(stderr(&out).contains("-r"), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn bulk_side_files_never_collide_across_inputs_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let a = copy_in(dir.path(), "every_vr_explicit.dcm", "a/IM0001");
    let b = copy_in(dir.path(), "every_vr_big.dcm", "b/IM0001");
    let bulk = dir.path().join("bulk");
    let uris = |out: &Output| -> Vec<String> {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut uris = Vec::new();
        for line in text.lines() {
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            for element in doc.as_object().unwrap().values() {
                if let Some(uri) = element["BulkDataURI"].as_str() {
                    uris.push(uri.to_string());
                }
            }
        }
        uris
    };
    let mut seen = std::collections::HashSet::new();
    for run_args in [
        vec!["--ndjson", "+b", "--bulk-threshold", "8", "+bd"],
        vec!["--ndjson", "+b", "--bulk-threshold", "8", "+bd"],
        vec!["--ndjson", "+b", "+bs", "--bulk-threshold", "8", "+bd"],
    ] {
        let mut args = vec!["dcm2json"];
        args.extend(run_args);
        args.extend([path_str(&bulk), path_str(&a), path_str(&b)]);
        let out = run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let found = uris(&out);
        assert!(!found.is_empty());
        for uri in found {
            assert!(seen.insert(uri.clone()), "{uri} reused");
        }
    }
    // Every URI still names the bytes it was written with: nothing was overwritten.
    assert_eq!(
        std::fs::read_dir(&bulk)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().is_file())
            .count()
            + std::fs::read_dir(bulk.join("IM0001")).unwrap().count()
            + std::fs::read_dir(bulk.join("IM0001-2")).unwrap().count(),
        seen.len()
    );
}

#[test]
fn inputs_that_are_not_dicom_are_named_as_such_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("x.json");
    std::fs::write(&json, r#"{"00080060":{"vr":"CS","Value":["MR"]}}"#).unwrap();
    let text = dir.path().join("x.txt");
    std::fs::write(&text, "hello, this is text\n").unwrap();
    let gz = dir.path().join("x.dcm.gz");
    std::fs::write(&gz, [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]).unwrap();
    for (file, what) in [(&json, "JSON"), (&text, "text"), (&gz, "gzip")] {
        for command in ["dcm2json", "dump", "convert"] {
            let mut args = vec![command, path_str(file)];
            if command == "convert" {
                args.push("-");
            }
            let out = run(&args);
            assert_eq!(
                out.status.code(),
                Some(20),
                "{command} {what}: {}",
                stderr(&out)
            );
            let message = stderr(&out);
            assert!(
                message.contains("not a DICOM file") && message.contains(what),
                "{message}"
            );
            assert!(message.contains(path_str(file)), "{message}");
            assert!(out.stdout.is_empty(), "{command} wrote output");
        }
    }
    // +fo: a bare data set is refused before any JSON is written.
    let out = run(&["dcm2json", "+fo", path_str(&synthetic("bare_implicit.dcm"))]);
    assert_eq!(out.status.code(), Some(20));
    assert!(out.stdout.is_empty());
}

#[test]
fn messages_name_the_input_and_quiet_silences_warnings_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("study.json");
    std::fs::write(&json, r#"{"00100010":{"vr":"PN","Value":["Doe"]}}"#).unwrap();
    let out = run(&[
        "json2dcm",
        path_str(&json),
        "-o",
        path_str(&dir.path().join("x.dcm")),
    ]);
    assert_eq!(out.status.code(), Some(65));
    assert!(stderr(&out).contains(path_str(&json)), "{}", stderr(&out));
    // A file whose odd value length is warned about: -q silences dump and convert as well.
    let odd = synthetic("every_vr_explicit.dcm");
    for args in [
        vec!["dump", path_str(&odd)],
        vec!["convert", path_str(&odd), "-"],
    ] {
        let loud = run(&args);
        assert!(
            stderr(&loud).contains("warning"),
            "{args:?}: {}",
            stderr(&loud)
        );
        assert!(stderr(&loud).contains(path_str(&odd)), "{}", stderr(&loud));
        let mut quiet_args = args.clone();
        quiet_args.insert(1, "-q");
        let quiet = run(&quiet_args);
        assert!(quiet.status.success());
        assert!(quiet.stderr.is_empty(), "{}", stderr(&quiet));
    }
    // Every option of json2dcm says what it does.
    let help = String::from_utf8(run(&["json2dcm", "--help"]).stdout).unwrap();
    for option in [
        "--write-xfer-little",
        "--write-xfer-big",
        "--write-xfer-implicit",
        "--write-xfer-deflated",
    ] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(option))
            .unwrap();
        assert!(
            line.trim().len() > option.len() + 4,
            "{option} has no help: {line}"
        );
    }
}
