//! The `dcmflow` command as a user runs it: exit codes, `-` for stdin/stdout, no partial output on failure.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn dcmflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dcmflow"))
}

fn synthetic(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus/synthetic")
        .join(name)
}

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
