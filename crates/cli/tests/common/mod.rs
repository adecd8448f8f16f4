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
