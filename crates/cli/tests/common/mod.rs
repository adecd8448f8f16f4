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
    let stdin = stdin.to_vec();
    // Written from a thread, so a child that writes before it has read everything cannot stall; a
    // child that stops reading (it refused its input, as the test may expect) breaks the pipe, which
    // is not the test's failure: its status and output say what it did.
    let feeder = std::thread::spawn(move || match input.write_all(&stdin) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    output
}
