//! Helpers shared by the integration tests: a failing output, the binary under test, the synthetic corpus.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// An output that fails once it has taken `room` bytes.
pub struct FailingOutput {
    pub room: usize,
}

impl std::io::Write for FailingOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.room {
            return Err(std::io::Error::other("disk full"));
        }
        self.room -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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
