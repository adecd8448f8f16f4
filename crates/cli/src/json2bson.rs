//! `dcmflow json2bson`: MongoDB Extended JSON (NDJSON, concatenated documents or one array; gzip or not)
//! → BSON documents one after another, as mongodump writes them; mongoimport's spellings where they
//! apply.

use std::io::{self, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use dcmflow::{JsonToBson, JsonToBsonOptions};

use crate::exit;
use crate::stream_input::StreamCommand;

pub const AFTER_HELP: &str = "\
Examples:
  dcmflow json2bson users.json users.bson              # one document per line (or any whitespace between)
  dcmflow json2bson --jsonArray array.json users.bson   # one top-level array of documents
  dcmflow json2bson --legacy export-v1.json -o users.bson
  dcmflow bson2json users.bson - | dcmflow json2bson - copy.bson

Canonical and relaxed Extended JSON are read; legacy forms ({\"$date\": <ms>}, {\"$binary\": \"…\",
\"$type\": \"…\"}, {\"$regex\": \"…\", \"$options\": \"…\"}) only with --legacy, as the specification asks.
A top-level [ is read as an array of documents whether --jsonArray is given or not. Relaxed numbers become
int32, int64 or double by value. Each document is at most --max-document-size bytes of BSON (16 MiB, MongoDB's
limit). A failed conversion leaves no output file behind; the input is never replaced.

Exit codes: 0 ok (also when the reader of standard output stops reading), 1 command line, 20 cannot read
the input or it is not Extended JSON (the message names
the line, column, byte offset and key path), 40 cannot write the output.";

#[derive(clap::Args)]
pub struct Json2BsonArgs {
    /// Input: Extended JSON documents, or - for standard input.
    input: PathBuf,
    /// Output file, or - for standard output (the default).
    output: Option<PathBuf>,
    /// Output file, instead of the second argument.
    #[arg(
        short = 'o',
        long = "out",
        visible_alias = "outFile",
        conflicts_with = "output"
    )]
    out: Option<PathBuf>,
    /// Accept legacy Extended JSON forms too (mongoimport --legacy).
    #[arg(long)]
    legacy: bool,
    /// The input is one JSON array of documents (mongoimport --jsonArray); a top-level [ is read as one
    /// anyway, so this only refuses input that is not an array.
    #[arg(long = "json-array", visible_alias = "jsonArray")]
    json_array: bool,
    /// mongoimport's input type; only json is read.
    #[arg(long = "type", default_value = "json", value_parser = ["json"])]
    input_type: String,
    /// Deepest nesting of documents and arrays accepted.
    #[arg(long, default_value_t = 1000)]
    max_depth: usize,
    /// Largest document written, in bytes of BSON.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_document_size: usize,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    no_progress: bool,
}

pub fn run(args: Json2BsonArgs) -> ExitCode {
    let command = match StreamCommand::new(
        "json2bson",
        &args.input,
        args.out.as_deref(),
        args.output.as_deref(),
        args.quiet,
    ) {
        Ok(command) => command,
        Err(code) => return code,
    };
    let mut options = JsonToBsonOptions::default();
    options.reader.legacy = args.legacy;
    options.reader.max_depth = args.max_depth.max(1);
    // BSON lengths are signed 32-bit.
    options.reader.max_document_size = args.max_document_size.clamp(5, i32::MAX as usize);
    let (source, bar) = match command.open(args.no_progress, true) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let source = if args.json_array {
        match require_array(source) {
            Ok(source) => source,
            Err(e) => {
                eprintln!("dcmflow json2bson: {}: {e}", args.input.display());
                return ExitCode::from(exit::CANNOT_READ_INPUT);
            }
        }
    } else {
        source
    };
    let conversion = JsonToBson::new(options);
    command.finish(bar, ("documents", "BSON"), |output| {
        conversion.convert(dcmflow::Input::reader(source), output)
    })
}

/// `--jsonArray`: the first byte that is not whitespace must open an array (looked for in the first 64
/// KiB, without consuming anything, so that lines and offsets in messages stay those of the file).
fn require_array(source: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
    use std::io::{BufRead, BufReader};
    let mut buffered = BufReader::with_capacity(1 << 16, source);
    let head = buffered.fill_buf()?;
    match head
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    {
        Some(b'[') | None if !head.is_empty() => Ok(Box::new(buffered)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "--jsonArray: the input is not a JSON array (it does not start with '[')",
        )),
    }
}
