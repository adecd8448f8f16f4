//! `dcmflow avro2json` (avro-tools `tojson`) and `dcmflow avro-schema` (avro-tools `getschema`): Avro
//! object container files → JSON, and their schema.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use dcmflow::avro::{fingerprint64, parsing_canonical_form, ContainerReader, Encoding, Schema};
use dcmflow::{AvroToJson, AvroToJsonOptions};

use crate::exit;
use crate::stream_input::{open, StreamCommand};

pub const AFTER_HELP: &str = "\
Examples:
  dcmflow avro2json weather.avro weather.json          # one datum per line, Avro's JSON encoding
  dcmflow avro2json --encoding ga4gh variants.avro -   # GA4GH's JSON: union values bare
  dcmflow avro2json --pretty --json-array weather.avro -
  cat weather.avro | dcmflow tojson - > weather.json   # avro-tools' name
  dcmflow avro2json --schema-file message.avsc message.bin -   # single-object encoding or bare data

Avro's JSON encoding writes a union's non-null value as {\"<type name>\": value}, bytes and fixed as strings
whose characters U+0000-U+00FF are the bytes, NaN and infinities as the strings \"NaN\", \"Infinity\",
\"-Infinity\". Codecs: null, deflate, snappy, zstandard. A failed conversion leaves no output file behind;
the input is never replaced.

Exit codes: 0 ok (also when the reader of standard output stops reading), 1 command line, 20 cannot read
the input or it is not valid Avro (the message names the byte offset, the block and the field path), 40
cannot write the output.";

pub const SCHEMA_AFTER_HELP: &str = "\
Examples:
  dcmflow avro-schema weather.avro                   # the schema as the file holds it
  dcmflow avro-schema --canonical weather.avro       # its Parsing Canonical Form
  dcmflow getschema --fingerprint weather.avro       # CRC-64-AVRO of the canonical form

Exit codes: 0 ok, 1 command line, 20 cannot read the input or it is not an Avro container file.";

#[derive(Clone, Copy, ValueEnum)]
enum JsonEncoding {
    Avro,
    Ga4gh,
}

#[derive(clap::Args)]
pub struct Avro2JsonArgs {
    /// Input: an Avro object container file, or - for standard input.
    input: PathBuf,
    /// Output file, or - for standard output (the default).
    output: Option<PathBuf>,
    /// Output file, instead of the second argument.
    #[arg(short = 'o', long = "out", conflicts_with = "output")]
    out: Option<PathBuf>,
    /// Avro's JSON encoding (union values wrapped in their type's name) or GA4GH's (bare).
    #[arg(long, value_enum, default_value_t = JsonEncoding::Avro)]
    encoding: JsonEncoding,
    /// Indented output.
    #[arg(long)]
    pretty: bool,
    /// One JSON array of the data instead of one datum per line.
    #[arg(long = "json-array", visible_alias = "jsonArray")]
    json_array: bool,
    /// Largest block read, compressed or decompressed, in bytes.
    #[arg(long, default_value_t = dcmflow::avro::container::DEFAULT_MAX_BLOCK_SIZE)]
    max_block_size: usize,
    /// The input is data without a container, of this schema (.avsc): bare data one after another, or
    /// single-object encoding (C3 01 and a fingerprint before each; give every schema it may name).
    #[arg(long = "schema-file", value_name = "SCHEMA.avsc")]
    schema_files: Vec<PathBuf>,
    /// With a protocol (.avpr) as --schema-file: the type the data are (full or simple name).
    #[arg(long = "type", value_name = "NAME", requires = "schema_files")]
    type_name: Option<String>,
    /// 1: everything on one thread; 2: blocks decoded on two threads (default: two for inputs of 1 MiB
    /// or more on two cores).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    threads: Option<u8>,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    no_progress: bool,
}

#[derive(clap::Args)]
pub struct AvroSchemaArgs {
    /// Input: an Avro object container file, or - for standard input.
    input: PathBuf,
    /// Print the Parsing Canonical Form instead of the schema as stored.
    #[arg(long, conflicts_with = "fingerprint")]
    canonical: bool,
    /// Print the CRC-64-AVRO fingerprint of the canonical form (signed decimal, as Java prints it, and
    /// hexadecimal).
    #[arg(long)]
    fingerprint: bool,
}

pub fn run(args: Avro2JsonArgs) -> ExitCode {
    let command = match StreamCommand::new(
        "avro2json",
        &args.input,
        args.out.as_deref(),
        args.output.as_deref(),
        args.quiet,
    ) {
        Ok(command) => command,
        Err(code) => return code,
    };
    let mut options = AvroToJsonOptions::default();
    options.encoding = match args.encoding {
        JsonEncoding::Avro => Encoding::Avro,
        JsonEncoding::Ga4gh => Encoding::Ga4gh,
    };
    options.array = args.json_array;
    options.pretty = args.pretty;
    options.max_block_size = args.max_block_size.max(1);
    options.threads = crate::threads::choice(args.threads);
    let mut schemas = Vec::new();
    for path in &args.schema_files {
        let schema =
            crate::schema_file::schema_text(path, args.type_name.as_deref()).and_then(|text| {
                Schema::parse_str(&text).map_err(|e| format!("{}: {e}", path.display()))
            });
        match schema {
            Ok(schema) => schemas.push(schema),
            Err(e) => {
                eprintln!("dcmflow avro2json: {e}");
                return ExitCode::from(exit::COMMANDLINE);
            }
        }
    }
    let (source, bar) = match command.open(args.no_progress, false) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let conversion = AvroToJson::new(options);
    command.finish(bar, ("data", "JSON"), |output| {
        let input = dcmflow::Input::reader(source);
        if schemas.is_empty() {
            conversion.convert(input, output)
        } else {
            conversion.convert_data(&schemas, input, output)
        }
    })
}

pub fn run_schema(args: AvroSchemaArgs) -> ExitCode {
    let name = args.input.display().to_string();
    let header = open(&args.input)
        .map_err(|e| format!("cannot read {name}: {e}"))
        .and_then(|(raw, _)| {
            ContainerReader::new(io::BufReader::new(raw), 1 << 20)
                .map(|reader| reader.header().clone())
                .map_err(|e| format!("{name}: {e}"))
        });
    let header = match header {
        Ok(header) => header,
        Err(message) => {
            eprintln!("dcmflow avro-schema: {message}");
            return ExitCode::from(exit::CANNOT_READ_INPUT);
        }
    };
    let canonical = parsing_canonical_form(&header.schema);
    let text = if args.fingerprint {
        let fp = fingerprint64(canonical.as_bytes());
        format!("{} (0x{fp:016x})", fp as i64)
    } else if args.canonical {
        canonical
    } else {
        header.schema_json
    };
    println!("{text}");
    ExitCode::SUCCESS
}
