//! Helpers shared by the command's tests: the binary under test and the synthetic corpus.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The `dcmflow` binary this test run built.
pub fn dcmflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dcmflow"))
}

/// A file of `corpus/synthetic` (made by tools/gen_corpus.py).
pub fn synthetic(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus/synthetic")
        .join(name)
}

/// Runs `dcmflow args…` with `stdin` as its standard input; its output and status.
#[allow(dead_code)] // not every test binary that includes this module feeds standard input
pub fn run_with_stdin(args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = dcmflow()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}
