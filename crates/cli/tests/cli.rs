//! The `dcmflow` command as a user runs it: exit codes, `-` for stdin/stdout, no partial output on failure.

use std::io::Write;
use std::process::Stdio;

mod common;
use common::{dcmflow, synthetic};

#[test]
fn convert_same_syntax_is_byte_identical_through_stdin_and_stdout() {
    let input = std::fs::read(synthetic("sequences_defined_explicit.dcm")).unwrap();
    let mut child = dcmflow()
        .args(["convert", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, input);
}

/// Into a file, computed lengths are patched in place (seekable output); into a pipe they are held back.
/// Both give the same bytes, and the undefined-length input comes back as the defined-length original.
#[test]
fn computed_lengths_into_a_file_equal_those_into_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["sequences_undefined_explicit.dcm", "deep_nesting.dcm"] {
        let file = dir.path().join(name);
        let args = ["--lengths", "explicit"];
        let status = dcmflow()
            .args([
                "convert",
                synthetic(name).to_str().unwrap(),
                file.to_str().unwrap(),
            ])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "{name}");
        let piped = dcmflow()
            .args(["convert", synthetic(name).to_str().unwrap(), "-"])
            .args(args)
            .output()
            .unwrap();
        assert!(piped.status.success(), "{name}");
        assert!(std::fs::read(&file).unwrap() == piped.stdout, "{name}");
    }
    let file = dir.path().join("defined.dcm");
    let status = dcmflow()
        .args([
            "convert",
            synthetic("sequences_undefined_explicit.dcm")
                .to_str()
                .unwrap(),
        ])
        .args([file.to_str().unwrap(), "--lengths", "explicit"])
        .status()
        .unwrap();
    assert!(status.success());
    let defined = std::fs::read(synthetic("sequences_defined_explicit.dcm")).unwrap();
    let written = std::fs::read(&file).unwrap();
    assert_eq!(written.len(), defined.len());
}

#[test]
fn convert_to_big_endian_and_dump_shows_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let be = dir.path().join("be.dcm");
    let status = dcmflow()
        .arg("convert")
        .arg(synthetic("every_vr_explicit.dcm"))
        .arg(&be)
        .args(["-t", "be"])
        .status()
        .unwrap();
    assert!(status.success());
    let dump = dcmflow().arg("dump").arg(&be).output().unwrap();
    let text = String::from_utf8(dump.stdout).unwrap();
    assert!(
        text.contains("(0002,0010) UI [1.2.840.10008.1.2.2]"),
        "{text}"
    );
    assert!(text.contains("(0018,9219) SS -3\\4"), "{text}");
    assert!(
        text.contains("(0020,9165) AT (0018,1063)\\(7FE0,0010)"),
        "{text}"
    );
}

#[test]
fn failed_conversion_leaves_no_file_and_keeps_an_existing_one() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.dcm");
    let mut data = std::fs::read(synthetic("every_vr_explicit.dcm")).unwrap();
    data.truncate(data.len() - 3);
    std::fs::write(&truncated, &data).unwrap();

    let fresh = dir.path().join("fresh.dcm");
    let out = dcmflow()
        .arg("convert")
        .arg(&truncated)
        .arg(&fresh)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(20));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("byte offset"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!fresh.exists());

    let existing = dir.path().join("existing.dcm");
    std::fs::write(&existing, b"precious").unwrap();
    let out = dcmflow()
        .arg("convert")
        .arg(&truncated)
        .arg(&existing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(20));
    assert_eq!(std::fs::read(&existing).unwrap(), b"precious");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "temporary file left behind: {leftovers:?}"
    );
}

#[test]
fn dcmtk_exit_codes() {
    let missing = dcmflow()
        .args(["dump", "/nonexistent/file.dcm"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(20));
    let bad_option = dcmflow()
        .args(["convert", "--no-such-option"])
        .output()
        .unwrap();
    assert_eq!(bad_option.status.code(), Some(1));
    let bad_ts = dcmflow()
        .arg("convert")
        .arg(synthetic("every_vr_explicit.dcm"))
        .args(["-", "-t", "9.9.9"])
        .output()
        .unwrap();
    assert_eq!(bad_ts.status.code(), Some(1));
    let compressed = dcmflow()
        .arg("convert")
        .arg(synthetic("encapsulated_bot.dcm"))
        .args(["-", "-t", "explicit"])
        .output()
        .unwrap();
    assert_eq!(compressed.status.code(), Some(60));
    let help = dcmflow().args(["convert", "--help"]).output().unwrap();
    assert!(help.status.success() && String::from_utf8_lossy(&help.stdout).contains("Examples:"));
}

// ---- dcm2json -------------------------------------------------------------------------------------------

/// A bare Explicit VR LE data set with a DS that is not a number and a 2 KiB OB.
fn small_dataset_with_invalid_ds() -> Vec<u8> {
    let mut ds = Vec::new();
    ds.extend_from_slice(&[0x18, 0x00, 0x50, 0x00, b'D', b'S', 4, 0]);
    ds.extend_from_slice(b"1,5 ");
    ds.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
    ds.extend_from_slice(&2048u32.to_le_bytes());
    ds.extend((0..2048u32).map(|i| i as u8));
    ds
}

#[test]
fn dcm2json_accepts_dcmtk_spellings_and_gnu_long_options() {
    let input = synthetic("every_vr_explicit.dcm");
    let pretty = dcmflow()
        .arg("dcm2json")
        .arg("+fc")
        .arg(&input)
        .output()
        .unwrap();
    let long = dcmflow()
        .arg("dcm2json")
        .arg("--formatted-code")
        .arg(&input)
        .output()
        .unwrap();
    let compact = dcmflow()
        .arg("dcm2json")
        .arg("-fc")
        .arg(&input)
        .output()
        .unwrap();
    assert!(pretty.status.success() && compact.status.success());
    assert_eq!(pretty.stdout, long.stdout);
    assert!(pretty.stdout.starts_with(b"{\n  \""));
    assert!(compact.stdout.starts_with(b"{\""));
    let a: serde_json::Value = serde_json::from_slice(&pretty.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&compact.stdout).unwrap();
    assert_eq!(a, b);
}

#[test]
fn dcm2json_exit_codes_follow_dcmtk() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dcmflow()
        .args(["dcm2json", "/nonexistent/x.dcm"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(20));
    let none = dcmflow().arg("dcm2json").output().unwrap();
    assert_eq!(none.status.code(), Some(21));
    let bad_option = dcmflow()
        .args(["dcm2json", "--no-such-option"])
        .output()
        .unwrap();
    assert_eq!(bad_option.status.code(), Some(1));

    let input = dir.path().join("invalid_ds.dcm");
    std::fs::write(&input, small_dataset_with_invalid_ds()).unwrap();
    let out = dir.path().join("out.json");
    std::fs::write(&out, b"{\"precious\":true}").unwrap();
    // -in: an IS/DS that is not a number cannot be written as a JSON number: 81, output untouched.
    let strict = dcmflow()
        .args(["dcm2json", "-in"])
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(81));
    assert_eq!(std::fs::read(&out).unwrap(), b"{\"precious\":true}");
    // Default (-ia): a string with a warning, exit 0.
    let auto = dcmflow()
        .arg("dcm2json")
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    assert!(auto.status.success());
    assert!(String::from_utf8_lossy(&auto.stderr).contains("not a valid IS/DS number"));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["00180050"]["Value"][0], "1,5");
}

#[test]
fn dcm2json_unreadable_input_leaves_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("truncated.dcm");
    let mut data = small_dataset_with_invalid_ds();
    data.truncate(data.len() - 100);
    std::fs::write(&input, data).unwrap();
    let out = dir.path().join("out.json");
    let result = dcmflow()
        .arg("dcm2json")
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(20));
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temporary files left behind");
}

#[test]
fn dcm2json_several_inputs_as_array_and_ndjson() {
    let a = synthetic("every_vr_explicit.dcm");
    let b = synthetic("sequences_undefined_big.dcm");
    let array = dcmflow()
        .args(["dcm2json", "--array", "+fc"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert!(array.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&array.stdout).unwrap();
    assert_eq!(doc.as_array().unwrap().len(), 2);
    let nd = dcmflow()
        .args(["dcm2json", "--ndjson"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert!(nd.status.success());
    let lines: Vec<&[u8]> = nd
        .stdout
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 2);
    for (line, item) in lines.iter().zip(doc.as_array().unwrap()) {
        assert_eq!(
            &serde_json::from_slice::<serde_json::Value>(line).unwrap(),
            item
        );
    }
    // Without --array/--ndjson a third path is a usage error.
    let usage = dcmflow()
        .arg("dcm2json")
        .arg(&a)
        .arg(&b)
        .arg("x.json")
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(1));
}

#[test]
fn dcm2json_bulk_files_hold_the_value_and_stdin_works() {
    let dir = tempfile::tempdir().unwrap();
    let bulk = dir.path().join("bulk");
    let data = small_dataset_with_invalid_ds();
    let mut child = dcmflow()
        .args(["dcm2json", "-q", "+b", "+bz", "1", "+bd"])
        .arg(&bulk)
        .args(["-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let uri = doc["7FE00010"]["BulkDataURI"].as_str().unwrap();
    let name = uri.rsplit('/').next().unwrap();
    assert!(uri.starts_with("file:///"));
    let written = std::fs::read(bulk.join(name)).unwrap();
    assert_eq!(written, data[data.len() - 2048..]);
    // --bulk-ref needs a file to point into.
    let refused = dcmflow()
        .args(["dcm2json", "--bulk-ref", "-"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
}

/// `--threads 2` (reading on a second thread) writes what `--threads 1` writes, and fails the same way.
#[test]
fn dcm2json_threads_give_the_same_output_and_exit_codes() {
    let dir = std::fs::read_dir(synthetic("")).unwrap();
    let mut compared = 0;
    for entry in dir {
        let path = entry.unwrap().path();
        let run = |threads: &str| {
            dcmflow()
                .args([
                    "dcm2json",
                    "--threads",
                    threads,
                    path.to_str().unwrap(),
                    "-",
                ])
                .output()
                .unwrap()
        };
        let (one, two) = (run("1"), run("2"));
        assert_eq!(one.status.code(), two.status.code(), "{}", path.display());
        assert!(
            one.stdout == two.stdout,
            "{}: outputs differ",
            path.display()
        );
        compared += 1;
    }
    assert!(compared >= 20);
    // A truncated file: the same exit code (20, cannot read input) from both.
    let mut truncated = std::fs::read(synthetic("every_vr_explicit.dcm")).unwrap();
    truncated.truncate(truncated.len() - 3);
    for threads in ["1", "2"] {
        let mut child = dcmflow()
            .args(["dcm2json", "--threads", threads, "-", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&truncated).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(20), "--threads {threads}");
    }
}
