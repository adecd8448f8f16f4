//! Helpers shared by the integration tests: an output that fails.
#![allow(dead_code)]

pub mod avro;

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

use dcmflow::json::read::ReadOptions;
use dcmflow::{
    DicomToJson, Input, JsonToDicom, Output, Report, Threads, ToDicomOptions, ToJsonOptions,
};

/// How a test's output is written: a stream, or seekable (lengths patched in afterwards).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    Stream,
    Seekable,
}

/// JSON → DICOM of `input` with `options`, into a stream or a seekable output.
pub fn json2dcm_to(
    input: Input<'_>,
    options: &ToDicomOptions,
    sink: Sink,
) -> Result<(Vec<u8>, Report), dcmflow::Error> {
    let mut conversion = JsonToDicom::new(options.clone());
    match sink {
        Sink::Stream => {
            let mut out = Vec::new();
            let report = conversion.convert(input, Output::stream(&mut out))?;
            Ok((out, report))
        }
        Sink::Seekable => {
            let mut out = std::io::Cursor::new(Vec::new());
            let report = conversion.convert(input, Output::seekable(&mut out))?;
            Ok((out.into_inner(), report))
        }
    }
}

/// JSON → DICOM of bytes in memory, into a stream.
pub fn json2dcm(
    json: &[u8],
    options: &ToDicomOptions,
) -> Result<(Vec<u8>, Report), dcmflow::Error> {
    json2dcm_to(Input::from(json), options, Sink::Stream)
}

/// `options` reading with `read` on `threads`.
pub fn reading(options: &ToDicomOptions, read: ReadOptions, threads: Threads) -> ToDicomOptions {
    let mut options = options.clone();
    options.reader = read;
    options.threads = threads;
    options
}

/// A bare data set (no file meta), one thread.
pub fn bare() -> ToDicomOptions {
    let mut options = ToDicomOptions::default();
    options.part10 = false;
    options.threads = Threads::One;
    options
}

/// DICOM → JSON of bytes in memory with `options`.
pub fn dcm2json(
    dicom: &[u8],
    options: &ToJsonOptions,
) -> Result<(Vec<u8>, Report), dcmflow::Error> {
    let mut out = Vec::new();
    let report = DicomToJson::new(options.clone()).convert(dicom, &mut out)?;
    Ok((out, report))
}

/// The messages of a report's warnings.
pub fn messages(report: &Report) -> Vec<String> {
    report
        .warnings
        .iter()
        .map(|w| w.message().to_string())
        .collect()
}

/// Every file below `dir` (none when it is missing), into `out`.
pub fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}
