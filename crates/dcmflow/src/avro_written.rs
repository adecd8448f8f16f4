//! The JSON side of Avro → JSON: the output with its array brackets and counts, and the errors of
//! reading Avro and writing JSON as the library's errors.

use std::io::Write;

use dcmflow_avro::AvroError;
use dcmflow_engine::Position;

use crate::avro_to_json::AvroToJsonOptions;
use crate::{Category, Error, Report};

/// The output side: the array's brackets, counts, bytes written.
pub(crate) struct Written<W: Write> {
    out: W,
    array: bool,
    pretty: bool,
    pub(crate) data: u64,
    written: u64,
}

impl<W: Write> Written<W> {
    pub(crate) fn start(options: &AvroToJsonOptions, out: W) -> Result<Self, Error> {
        let mut written = Written {
            out,
            array: options.array,
            pretty: options.pretty,
            data: 0,
            written: 0,
        };
        if options.array {
            written.write(b"[")?;
        }
        Ok(written)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.out.write_all(bytes).map_err(writing_error)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    pub(crate) fn block(&mut self, json: &[u8], count: u64) -> Result<(), Error> {
        self.write(json)?;
        self.data += count;
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<Report, Error> {
        self.into_output().map(|(_, report)| report)
    }

    /// Ends the output (the array's bracket) and returns it with the report.
    pub(crate) fn into_output(mut self) -> Result<(W, Report), Error> {
        if self.array {
            let end: &[u8] = if self.pretty && self.data > 0 {
                b"\n]\n"
            } else {
                b"]\n"
            };
            self.write(end)?;
        }
        self.out.flush().map_err(writing_error)?;
        let report = Report {
            written: self.written,
            documents: self.data,
            ..Report::default()
        };
        Ok((self.out, report))
    }
}

pub(crate) fn reading_error(e: AvroError) -> Error {
    let category = if e.message.starts_with("reading") {
        Category::InputIo
    } else {
        Category::InvalidInput
    };
    let message = match e.in_block {
        Some(inner) => format!(
            "reading Avro: in the block at byte {}, at byte {inner} of its data: {}",
            e.offset, e.message
        ),
        None => format!("reading Avro: {}", e.message),
    };
    Error::new(
        category,
        message,
        Position::at_offset(e.offset).with_path(e.path),
    )
}

pub(crate) fn writing_error(e: std::io::Error) -> Error {
    Error::new(
        Category::OutputIo,
        format!("writing JSON: {e}"),
        Position::default(),
    )
    .with_source(Some(e))
}
