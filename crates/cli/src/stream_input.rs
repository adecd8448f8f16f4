//! What the commands that convert one stream (`bson2json`, `json2bson`, `avro2json`) share: the output
//! path (never the input), the input (a file or standard input, with a progress bar on a terminal,
//! gunzipped when it is gzip), and the end (atomic output, messages, exit codes).

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dcmflow::{Category, Report};

use crate::exit;
use crate::output::refuse_input_as_output;

/// One stream conversion as a command runs it.
pub struct StreamCommand<'a> {
    /// The command's name, for messages (`bson2json`).
    pub command: &'a str,
    /// The input's path (`-`: standard input).
    pub input: &'a Path,
    /// The output's path (`-`: standard output).
    pub output: PathBuf,
    /// Print nothing but errors.
    pub quiet: bool,
}

impl<'a> StreamCommand<'a> {
    /// The command for `input`, writing to the `-o` option, the second argument, or standard output; an
    /// output that is the input is refused (exit 1) before anything is read.
    pub fn new(
        command: &'a str,
        input: &'a Path,
        out: Option<&Path>,
        output: Option<&Path>,
        quiet: bool,
    ) -> Result<Self, ExitCode> {
        let output = out
            .or(output)
            .map_or_else(|| PathBuf::from("-"), Path::to_path_buf);
        if output != Path::new("-") {
            if let Err(message) = refuse_input_as_output(&output, [input]) {
                eprintln!("dcmflow {command}: {message}");
                return Err(ExitCode::from(exit::COMMANDLINE));
            }
        }
        Ok(StreamCommand {
            command,
            input,
            output,
            quiet,
        })
    }

    fn name(&self) -> String {
        self.input.display().to_string()
    }

    /// The input, read through a progress bar on a terminal (unless `no_progress`), gunzipped when
    /// `gunzip` and it is gzip; an input that cannot be opened is exit 20.
    pub fn open(
        &self,
        no_progress: bool,
        gunzip: bool,
    ) -> Result<(Box<dyn Read + Send>, Option<indicatif::ProgressBar>), ExitCode> {
        let cannot_read = |e: io::Error| {
            eprintln!("dcmflow {}: cannot read {}: {e}", self.command, self.name());
            ExitCode::from(exit::CANNOT_READ_INPUT)
        };
        let (raw, size) = open(self.input).map_err(cannot_read)?;
        // The bar counts the bytes of the file, compressed or not.
        let bar = crate::progress::bar(self.quiet || no_progress, size);
        let raw: Box<dyn Read + Send> = match &bar {
            Some(bar) => Box::new(bar.wrap_read(raw)),
            None => raw,
        };
        let source = if gunzip {
            gunzip_if_gzip(raw).map_err(cannot_read)?
        } else {
            raw
        };
        Ok((source, bar))
    }

    /// Runs `convert` into the output (standard output, or a temporary file renamed into place only on
    /// success) and turns the outcome into messages and the exit code: 0; 20 for the input; 40 for the
    /// output; a closed standard output (`| head`) is a quiet 0, as in dcm2json and dump. `unit` names
    /// what the report counts and `format` what was written (for the summary on a terminal).
    pub fn finish(
        &self,
        bar: Option<indicatif::ProgressBar>,
        (unit, format): (&str, &str),
        convert: impl FnOnce(dcmflow::Output<'_>) -> Result<Report, dcmflow::Error>,
    ) -> ExitCode {
        let (command, name) = (self.command, self.name());
        let to_stdout = self.output == Path::new("-");
        let result = if to_stdout {
            crate::output::write_stdout(|sink| convert(dcmflow::Output::stream(sink)))
        } else {
            crate::output::write_atomically(&self.output, |sink, _| {
                convert(dcmflow::Output::stream(sink))
            })
        };
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        match result {
            Ok(report) => {
                if !self.quiet && io::stderr().is_terminal() && !to_stdout {
                    eprintln!(
                        "dcmflow {command}: {name}: {} {unit}, {} bytes of {format}",
                        report.documents, report.written
                    );
                }
                ExitCode::SUCCESS
            }
            Err(crate::output::Failure::Convert(e))
                if e.io_kind() == Some(io::ErrorKind::BrokenPipe) =>
            {
                ExitCode::SUCCESS
            }
            Err(crate::output::Failure::Convert(e)) => {
                eprintln!("dcmflow {command}: {name}: {e}");
                ExitCode::from(match e.classify() {
                    Category::OutputIo => exit::CANNOT_WRITE_OUTPUT,
                    _ => exit::CANNOT_READ_INPUT,
                })
            }
            Err(crate::output::Failure::Output(e)) => {
                eprintln!(
                    "dcmflow {command}: cannot write {}: {e}",
                    self.output.display()
                );
                ExitCode::from(exit::CANNOT_WRITE_OUTPUT)
            }
        }
    }
}

/// The input and its size on disk.
pub fn open(path: &Path) -> io::Result<(Box<dyn Read + Send>, Option<u64>)> {
    if path == Path::new("-") {
        return Ok((Box::new(io::stdin()), None));
    }
    let file = File::open(path)?;
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    Ok((Box::new(file), size))
}

/// The input, gunzipped when it starts with gzip's magic bytes (mongodump --gzip).
fn gunzip_if_gzip(raw: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
    let mut buffered = BufReader::with_capacity(1 << 16, raw);
    // RFC 1952 2.3.1: ID1 ID2 = 0x1f 0x8b.
    if buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
    } else {
        Ok(Box::new(buffered))
    }
}
