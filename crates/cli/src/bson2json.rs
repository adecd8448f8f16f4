//! `dcmflow bson2json`: BSON (mongodump's `.bson`, gzip-compressed or not) → MongoDB Extended JSON, with
//! bsondump's and mongoexport's spellings where they apply.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use dcmflow::bson::{Layout, Mode};
use dcmflow::{BsonToJson, BsonToJsonOptions};

use crate::stream_input::StreamCommand;

pub const AFTER_HELP: &str = "\
Examples:
  dcmflow bson2json dump/db/users.bson users.json            # one relaxed Extended JSON document per line
  dcmflow bson2json --jsonFormat=canonical users.bson -       # canonical, to standard output
  dcmflow bson2json --pretty --jsonArray users.bson.gz users.json
  gzip -c users.bson | dcmflow bson2json - -                  # gzip is detected, not asked for

The input is a stream of BSON documents one after another, as mongodump writes them (--single: exactly
one document). Keys and duplicates stay in BSON order. A failed conversion leaves no output file behind
(the output is written to a temporary file and renamed); the input itself is never replaced.

Exit codes: 0 ok (also when the reader of standard output stops reading), 1 command line, 20 cannot read
the input or it is not valid BSON (the message names the
byte offset and the key path), 40 cannot write the output.";

#[derive(clap::Args)]
pub struct Bson2JsonArgs {
    /// Input: BSON documents one after another, or - for standard input.
    input: PathBuf,
    /// Output file, or - for standard output (the default).
    output: Option<PathBuf>,
    /// Output file (bsondump --outFile), instead of the second argument.
    #[arg(
        short = 'o',
        long = "out",
        visible_alias = "outFile",
        conflicts_with = "output"
    )]
    out: Option<PathBuf>,
    /// Extended JSON format: relaxed (readable numbers and dates), canonical (every type kept) or legacy
    /// (pymongo's legacy forms, always valid JSON).
    #[arg(long = "json-format", visible_alias = "jsonFormat", value_enum, default_value_t = JsonFormat::Relaxed)]
    json_format: JsonFormat,
    /// Same as --json-format legacy.
    #[arg(long, conflicts_with = "json_format")]
    legacy: bool,
    /// Indented output.
    #[arg(long)]
    pretty: bool,
    /// One JSON array of the documents instead of one document per line (mongoexport --jsonArray).
    #[arg(long = "json-array", visible_alias = "jsonArray")]
    json_array: bool,
    /// bsondump's output type; only json is written.
    #[arg(long = "type", default_value = "json", value_parser = ["json"])]
    output_type: String,
    /// The input is exactly one document: anything after it is an error (the library's
    /// ReaderOptions::stream off).
    #[arg(long)]
    single: bool,
    /// Deepest nesting of documents and arrays accepted.
    #[arg(long, default_value_t = 1000)]
    max_depth: usize,
    /// Largest piece of a string or binary value held in memory at once, in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    chunk_size: usize,
    /// 2: documents converted on two threads while this one reads and writes (the output is the same;
    /// one document per line only). Default 1: two gain little on small documents and lose on large.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    threads: Option<u8>,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum JsonFormat {
    Relaxed,
    Canonical,
    Legacy,
}

pub fn run(args: Bson2JsonArgs) -> ExitCode {
    let command = match StreamCommand::new(
        "bson2json",
        &args.input,
        args.out.as_deref(),
        args.output.as_deref(),
        args.quiet,
    ) {
        Ok(command) => command,
        Err(code) => return code,
    };
    let mut options = BsonToJsonOptions::default();
    options.mode = match (args.legacy, args.json_format) {
        (true, _) | (_, JsonFormat::Legacy) => Mode::Legacy,
        (_, JsonFormat::Canonical) => Mode::Canonical,
        (_, JsonFormat::Relaxed) => Mode::Relaxed,
    };
    options.layout = if args.json_array {
        Layout::Array
    } else {
        Layout::Lines
    };
    options.pretty = args.pretty;
    options.reader.stream = !args.single;
    options.reader.max_depth = args.max_depth.max(1);
    options.reader.chunk_size = args.chunk_size.max(1);
    options.threads = crate::threads::choice(args.threads);
    let (source, bar) = match command.open(args.no_progress, true) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let conversion = BsonToJson::new(options);
    command.finish(bar, ("documents", "JSON"), |output| {
        conversion.convert(dcmflow::Input::reader(source), output)
    })
}
