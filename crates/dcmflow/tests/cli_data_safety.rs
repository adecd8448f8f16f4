//! What the `dcmflow` command keeps of the user's data: values that break VR rules round-trip by
//! default, inputs are never overwritten, permissions are kept, batches go on past a bad file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dcmflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dcmflow"))
}

fn synthetic(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus/synthetic")
        .join(name)
}

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
