//! The `dcmflow` command: `dcm2json`, `json2dcm`, `dump`, `convert`, `bson2json`, `json2bson`, `avro2json`, `json2avro` and `avro-schema` (see `dcmflow --help`).

mod avro2json;
mod bson2json;
mod dcm2json;
mod dump;
mod failure;
mod input;
mod json2avro;
mod json2bson;
mod json2dcm;
mod output;
mod progress;
mod schema_file;
mod spelling;
mod stream_input;
mod threads;

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use dcmflow::dicom::{DicomReader, LengthMode, ReaderOptions};
use dcmflow::{Category, Transcode, TranscodeOptions};
use dcmflow_core::TransferSyntax;

/// DCMTK-compatible exit codes (dcmtk/ofstd/ofexit.h).
mod exit {
    pub const COMMANDLINE: u8 = 1;
    pub const CANNOT_READ_INPUT: u8 = 20;
    pub const NO_INPUT_FILES: u8 = 21;
    /// Several inputs, and some failed (the others were converted); dcmflow's own code.
    pub const SOME_INPUTS_FAILED: u8 = 25;
    pub const CANNOT_WRITE_OUTPUT: u8 = 40;
    pub const CANNOT_CONVERT: u8 = 60;
    /// dcm2json: EXITCODE_CANNOT_CONVERT_TO_UNICODE.
    pub const CANNOT_CONVERT_TO_UNICODE: u8 = 80;
    /// dcm2json: EXITCODE_CANNOT_WRITE_VALID_JSON.
    pub const CANNOT_WRITE_VALID_JSON: u8 = 81;
}

#[derive(Parser)]
#[command(
    name = "dcmflow",
    version,
    propagate_version = true,
    about = "Streaming transcoder (DICOM ⇄ DICOM JSON, BSON ⇄ Extended JSON, Avro ⇄ JSON): no tree, bounded memory"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert DICOM to the DICOM JSON Model (PS3.18 Annex F), streamed, like DCMTK's dcm2json.
    #[command(after_help = dcm2json::AFTER_HELP, allow_hyphen_values = false)]
    Dcm2json(dcm2json::Dcm2JsonArgs),
    /// Convert BSON (mongodump's .bson, gzip or not) to MongoDB Extended JSON, streamed, like bsondump.
    #[command(after_help = bson2json::AFTER_HELP)]
    Bson2json(bson2json::Bson2JsonArgs),
    /// Convert an Avro object container file to JSON (Avro's encoding or GA4GH's), like avro-tools tojson.
    #[command(after_help = avro2json::AFTER_HELP, visible_alias = "tojson")]
    Avro2json(avro2json::Avro2JsonArgs),
    /// Print the schema of an Avro container file (as stored, canonical, or its fingerprint), like
    /// avro-tools getschema.
    #[command(after_help = avro2json::SCHEMA_AFTER_HELP, visible_alias = "getschema")]
    AvroSchema(avro2json::AvroSchemaArgs),
    /// Convert JSON (Avro's encoding or GA4GH's) to an Avro object container file, like avro-tools
    /// fromjson.
    #[command(after_help = json2avro::AFTER_HELP, visible_alias = "fromjson")]
    Json2avro(json2avro::Json2AvroArgs),
    /// Convert MongoDB Extended JSON (canonical, relaxed; legacy on request) to BSON, like mongoimport's
    /// parser.
    #[command(after_help = json2bson::AFTER_HELP)]
    Json2bson(json2bson::Json2BsonArgs),
    /// Convert DICOM JSON (PS3.18 Annex F) to DICOM, streamed and validated, like DCMTK's json2dcm.
    #[command(after_help = json2dcm::AFTER_HELP)]
    Json2dcm(json2dcm::Json2DcmArgs),
    /// List the elements of a DICOM file, one line each, like dcmdump.
    #[command(
        after_help = "Examples:\n  dcmflow dump image.dcm\n  cat image.dcm | dcmflow dump -\n  dcmflow dump --read-as implicit dataset.bin   # a bare data set in Implicit VR LE\n\nExit codes: 0 ok, 1 command line, 20 cannot read the input (or it is not DICOM), 40 cannot write."
    )]
    Dump {
        /// Input file, or - for standard input.
        input: PathBuf,
        /// Print no warnings.
        #[arg(short, long)]
        quiet: bool,
        #[command(flatten)]
        input_options: InputOptions,
    },
    /// Re-encode a DICOM file in another uncompressed transfer syntax (or the same one).
    #[command(
        after_help = "Examples:\n  dcmflow convert in.dcm out.dcm                      # same syntax: byte-identical for well-formed files\n  dcmflow convert in.dcm out.dcm --transfer-syntax be  # Explicit VR Big Endian\n  dcmflow convert - - -t deflated --deflate-level 9 < in.dcm > out.dcm\n\nA failed conversion leaves no output file behind (the output is written to a temporary file and renamed);\na replaced output keeps its permissions; the input itself, or a read-only file, is never replaced.\n\nExit codes (DCMTK's): 0 ok, 1 command line, 20 cannot read the input (or it is not DICOM),\n40 cannot write the output, 60 cannot convert (compressed pixel data into another syntax)."
    )]
    Convert {
        /// Input file, or - for standard input.
        input: PathBuf,
        /// Output file, or - for standard output.
        output: PathBuf,
        /// Print no warnings.
        #[arg(short, long)]
        quiet: bool,
        /// Output transfer syntax: implicit, explicit, be, deflated, or a UID. Default: the input's.
        #[arg(short = 't', long)]
        transfer_syntax: Option<String>,
        /// Sequence and item lengths: keep (the input's form), undefined, explicit (computed).
        #[arg(long, value_enum, default_value_t = Lengths::Keep)]
        lengths: Lengths,
        /// Deflate level 0-9 for the deflated transfer syntax.
        #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=9))]
        deflate_level: u32,
        /// Write a bare data set (no preamble, DICM or file meta), like DCMTK's -F.
        #[arg(long)]
        write_dataset: bool,
        #[command(flatten)]
        input_options: InputOptions,
    },
}

#[derive(clap::Args)]
struct InputOptions {
    /// Read the input with this transfer syntax whatever it says (implicit, explicit, be, deflated, or a
    /// UID); for bare data sets without it the encoding is detected from the first bytes.
    #[arg(long = "read-as")]
    read_as: Option<String>,
    /// Largest value chunk held in memory at once, in bytes.
    #[arg(long, default_value_t = 256 * 1024)]
    chunk_size: usize,
    /// Deepest sequence nesting accepted.
    #[arg(long, default_value_t = 64)]
    max_depth: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum Lengths {
    Keep,
    Undefined,
    Explicit,
}

fn parse_ts(name: &str) -> Result<TransferSyntax, String> {
    match name {
        "implicit" | "ivrle" => Ok(TransferSyntax::IMPLICIT_VR_LE),
        "explicit" | "evrle" => Ok(TransferSyntax::EXPLICIT_VR_LE),
        "be" | "big" | "evrbe" => Ok(TransferSyntax::EXPLICIT_VR_BE),
        "deflated" => Ok(TransferSyntax::DEFLATED_EXPLICIT_VR_LE),
        uid => {
            TransferSyntax::from_uid(uid).ok_or_else(|| format!("unknown transfer syntax '{uid}'"))
        }
    }
}

impl InputOptions {
    fn reader_options(&self) -> Result<ReaderOptions, String> {
        Ok(ReaderOptions {
            chunk_size: self.chunk_size.max(1),
            max_depth: self.max_depth,
            transfer_syntax: self.read_as.as_deref().map(parse_ts).transpose()?,
            ..ReaderOptions::default()
        })
    }
}

/// Opens a DICOM input and tells up front when it is plainly not DICOM (the message names it).
fn open_input(path: &Path) -> Result<Box<dyn Read + Send>, (u8, String)> {
    let name = path.display();
    let source: Box<dyn Read + Send> = if path == Path::new("-") {
        Box::new(io::stdin())
    } else {
        let file = File::open(path)
            .map_err(|e| (exit::CANNOT_READ_INPUT, format!("cannot open {name}: {e}")))?;
        Box::new(file)
    };
    let (head, source) =
        input::peek(source).map_err(|e| (exit::CANNOT_READ_INPUT, format!("{name}: {e}")))?;
    match input::not_dicom(&head) {
        Some(what) => Err((
            exit::CANNOT_READ_INPUT,
            format!("{name}: not a DICOM file: {what}"),
        )),
        None => Ok(source),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let args = match args.get(1).map(String::as_str) {
        Some("json2dcm") => {
            dcm2json::translate_dcmtk_spellings(args, "json2dcm", json2dcm::DCMTK_SPELLINGS)
        }
        _ => dcm2json::translate_dcmtk_spellings(args, "dcm2json", dcm2json::DCMTK_SPELLINGS),
    };
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::COMMANDLINE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Dcm2json(args) => dcm2json::run(args),
        Command::Json2dcm(args) => json2dcm::run(args),
        Command::Bson2json(args) => bson2json::run(args),
        Command::Json2bson(args) => json2bson::run(args),
        Command::Avro2json(args) => avro2json::run(args),
        Command::AvroSchema(args) => avro2json::run_schema(args),
        Command::Json2avro(args) => json2avro::run(args),
        Command::Dump {
            input,
            quiet,
            input_options,
        } => run_dump(&input, quiet, &input_options),
        Command::Convert {
            input,
            output,
            quiet,
            transfer_syntax,
            lengths,
            deflate_level,
            write_dataset,
            input_options,
        } => {
            let options = (|| -> Result<TranscodeOptions, String> {
                let mut options = TranscodeOptions::default();
                options.transfer_syntax = transfer_syntax.as_deref().map(parse_ts).transpose()?;
                options.lengths = match lengths {
                    Lengths::Keep => LengthMode::Keep,
                    Lengths::Undefined => LengthMode::Undefined,
                    Lengths::Explicit => LengthMode::Explicit,
                };
                options.part10 = !write_dataset;
                options.deflate_level = deflate_level;
                options.reader = input_options.reader_options()?;
                Ok(options)
            })();
            match options {
                Ok(options) => run_convert(&input, &output, quiet, &options),
                Err(msg) => {
                    eprintln!("dcmflow: {msg}");
                    ExitCode::from(exit::COMMANDLINE)
                }
            }
        }
    }
}

fn run_dump(input: &Path, quiet: bool, options: &InputOptions) -> ExitCode {
    let reader_options = match options.reader_options() {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("dcmflow: {msg}");
            return ExitCode::from(exit::COMMANDLINE);
        }
    };
    let source = match open_input(input) {
        Ok(s) => s,
        Err((code, message)) => {
            eprintln!("dcmflow dump: {message}");
            return ExitCode::from(code);
        }
    };
    let mut reader = DicomReader::from_reader(source, reader_options);
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = dump::dump(&mut reader, &mut out);
    let _ = out.flush();
    if !quiet {
        for w in reader.warnings() {
            eprintln!("dcmflow dump: warning: {}: {w}", input.display());
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(dump::DumpError::Read(e)) => {
            eprintln!("dcmflow dump: {}: {e}", input.display());
            ExitCode::from(exit::CANNOT_READ_INPUT)
        }
        Err(dump::DumpError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(dump::DumpError::Write(e)) => {
            eprintln!("dcmflow dump: writing output: {e}");
            ExitCode::from(exit::CANNOT_WRITE_OUTPUT)
        }
    }
}

fn run_convert(input: &Path, output: &Path, quiet: bool, options: &TranscodeOptions) -> ExitCode {
    if output != Path::new("-") {
        if let Err(message) = output::refuse_input_as_output(output, [input]) {
            eprintln!("dcmflow convert: {message}");
            return ExitCode::from(exit::COMMANDLINE);
        }
    }
    let source = match open_input(input) {
        Ok(s) => s,
        Err((code, message)) => {
            eprintln!("dcmflow convert: {message}");
            return ExitCode::from(code);
        }
    };
    let mut conversion = Transcode::new(options.clone());
    let result = if output == Path::new("-") {
        output::write_stdout(|sink| {
            conversion.convert(
                dcmflow::Input::reader(source),
                dcmflow::Output::stream(sink),
            )
        })
    } else {
        convert_to_file(&mut conversion, source, output)
    };
    match result {
        Ok(report) => {
            if !quiet {
                for w in &report.warnings {
                    eprintln!("dcmflow convert: warning: {}: {w}", input.display());
                }
                if report.warnings_dropped > 0 {
                    eprintln!(
                        "dcmflow convert: warning: {}: {} more warnings not shown",
                        input.display(),
                        report.warnings_dropped
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(Failure::Convert(e)) => {
            eprintln!("dcmflow convert: {}: {e}", input.display());
            ExitCode::from(match e.classify() {
                Category::OutputIo => exit::CANNOT_WRITE_OUTPUT,
                Category::Unsupported => exit::CANNOT_CONVERT,
                _ => exit::CANNOT_READ_INPUT,
            })
        }
        Err(Failure::Output(e)) => {
            eprintln!("dcmflow convert: cannot write {}: {e}", output.display());
            ExitCode::from(exit::CANNOT_WRITE_OUTPUT)
        }
    }
}

type Failure = output::Failure<dcmflow::Error>;

fn convert_to_file(
    conversion: &mut Transcode,
    source: Box<dyn Read + Send>,
    output: &Path,
) -> Result<dcmflow::Report, Failure> {
    output::write_atomically(output, |sink, seekable| {
        // A seekable output takes computed lengths patched in place: nothing is held back for them.
        let target = if seekable {
            dcmflow::Output::seekable(sink)
        } else {
            dcmflow::Output::stream(sink)
        };
        conversion.convert(dcmflow::Input::reader(source), target)
    })
}
