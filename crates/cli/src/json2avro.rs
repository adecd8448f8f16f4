//! `dcmflow json2avro` (avro-tools `fromjson`): JSON in Avro's encoding or GA4GH's → an Avro object
//! container file (or bare data, or single-object encoding).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use dcmflow::avro::Codec;
use dcmflow::{AvroFraming, JsonToAvro, JsonToAvroOptions};

use crate::exit;
use crate::stream_input::StreamCommand;

pub const AFTER_HELP: &str = "\
Examples:
  dcmflow json2avro --schema-file weather.avsc weather.json weather.avro
  dcmflow json2avro --schema-file variant.avsc --encoding ga4gh --codec deflate variants.json -o variants.avro
  dcmflow fromjson --schema-file weather.avsc --codec snappy - weather.avro < weather.json   # avro-tools' name
  dcmflow avro2json weather.avro - | dcmflow json2avro --schema-file weather.avsc - copy.avro
  dcmflow json2avro --schema-file weather.avsc --framing bare weather.json weather.bin
  dcmflow json2avro --schema-file mail.avpr --type Message messages.json messages.avro   # a protocol's type

The input is JSON values one after another (one per line, or any whitespace between), or with --json-array
the elements of one array; each must be a value of the schema. Avro's encoding (the default) wraps a union's
non-null value as {\"<type name>\": value}; GA4GH's writes it bare, and its branch is the first of the
union's, in order, that can hold the value (null; a boolean; a string: string, bytes, a matching enum symbol
or a fixed of its length; an integer: int, long, then float or double; an object: a record or map; an
array). In both, members may come in any order, and an omitted field takes the schema's default. Bytes and
fixed are strings of U+0000-U+00FF, one character per byte; float and double also accept \"NaN\",
\"Infinity\" and \"-Infinity\". Codecs: null, deflate, snappy, zstandard. A failed conversion leaves no
output file behind; the input is never replaced. Binary output is not written to a terminal.

Exit codes: 0 ok, 1 command line (or a schema that is not valid), 20 cannot read the input, or it is not JSON,
or not a value of the schema (the message names the line, column, byte offset, datum and field path), 40
cannot write the output.";

#[derive(Clone, Copy, ValueEnum)]
enum JsonEncoding {
    Avro,
    Ga4gh,
}

#[derive(Clone, Copy, ValueEnum)]
enum CodecName {
    Null,
    Deflate,
    Snappy,
    #[value(alias = "zstd")]
    Zstandard,
}

#[derive(Clone, Copy, ValueEnum)]
enum Framing {
    /// An object container file.
    Container,
    /// The data one after another, nothing else.
    Bare,
    /// Single-object encoding: C3 01 and the schema's fingerprint before each datum.
    SingleObject,
}

#[derive(clap::Args)]
pub struct Json2AvroArgs {
    /// Input: JSON, or - for standard input (gzip is detected).
    input: PathBuf,
    /// Output file, or - for standard output (the default).
    output: Option<PathBuf>,
    /// Output file, instead of the second argument.
    #[arg(short = 'o', long = "out", conflicts_with = "output")]
    out: Option<PathBuf>,
    /// The schema (.avsc) of the data, or a protocol (.avpr) with --type.
    #[arg(long = "schema-file", short = 's', value_name = "SCHEMA.avsc")]
    schema_file: PathBuf,
    /// The type of the protocol given as --schema-file that the data are (full or simple name).
    #[arg(long = "type", value_name = "NAME")]
    type_name: Option<String>,
    /// Avro's JSON encoding (union values wrapped in their type's name) or GA4GH's (bare).
    #[arg(long, value_enum, default_value_t = JsonEncoding::Avro)]
    encoding: JsonEncoding,
    /// The input is one JSON array of the data.
    #[arg(long = "json-array", visible_alias = "jsonArray")]
    json_array: bool,
    /// Compression of the container's blocks.
    #[arg(long, value_enum, default_value_t = CodecName::Null)]
    codec: CodecName,
    /// The codec's level (deflate 0-9, default 6; zstandard 1-22, default 3).
    #[arg(long)]
    level: Option<i32>,
    /// The sync marker, 32 hexadecimal digits (random by default): the same input then gives the same
    /// file on every run.
    #[arg(long, value_name = "HEX", value_parser = parse_sync)]
    sync_marker: Option<[u8; 16]>,
    /// A block is written once its data reach this many bytes (before compression).
    #[arg(long, default_value_t = 64000)]
    block_size: usize,
    /// Container file, bare data, or single-object encoding.
    #[arg(long, value_enum, default_value_t = Framing::Container)]
    framing: Framing,
    /// Largest datum, in bytes (and longest string held whole).
    #[arg(long, default_value_t = 64 << 20)]
    max_datum_size: usize,
    /// Deepest nesting of arrays, maps, records and union values.
    #[arg(long, default_value_t = 1000)]
    max_depth: usize,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    no_progress: bool,
}

fn parse_sync(text: &str) -> Result<[u8; 16], String> {
    let bad = || format!("'{text}' is not 32 hexadecimal digits");
    if text.len() != 32 || !text.is_ascii() {
        return Err(bad());
    }
    let mut sync = [0u8; 16];
    for (i, byte) in sync.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(sync)
}

pub fn run(args: Json2AvroArgs) -> ExitCode {
    let command = match StreamCommand::new(
        "json2avro",
        &args.input,
        args.out.as_deref(),
        args.output.as_deref(),
        args.quiet,
    ) {
        Ok(command) => command,
        Err(code) => return code,
    };
    let to_stdout = args
        .out
        .as_deref()
        .or(args.output.as_deref())
        .is_none_or(|p| p == Path::new("-"));
    if to_stdout && std::io::stdout().is_terminal() {
        eprintln!(
            "dcmflow json2avro: Avro is binary: not written to a terminal (give an output file, or redirect)"
        );
        return ExitCode::from(exit::COMMANDLINE);
    }
    let schema = match crate::schema_file::schema_text(&args.schema_file, args.type_name.as_deref())
    {
        Ok(text) => text,
        Err(e) => {
            eprintln!("dcmflow json2avro: {e}");
            return ExitCode::from(exit::COMMANDLINE);
        }
    };
    let mut options = JsonToAvroOptions::default();
    options.encoding = match args.encoding {
        JsonEncoding::Avro => dcmflow::avro::Encoding::Avro,
        JsonEncoding::Ga4gh => dcmflow::avro::Encoding::Ga4gh,
    };
    options.array = args.json_array;
    options.framing = match args.framing {
        Framing::Container => AvroFraming::Container,
        Framing::Bare => AvroFraming::Bare,
        Framing::SingleObject => AvroFraming::SingleObject,
    };
    options.container.codec = match args.codec {
        CodecName::Null => Codec::Null,
        CodecName::Deflate => Codec::Deflate,
        CodecName::Snappy => Codec::Snappy,
        CodecName::Zstandard => Codec::Zstandard,
    };
    options.container.level = args.level;
    options.container.sync = args.sync_marker;
    options.container.block_size = args.block_size.max(1);
    options.max_datum_size = args.max_datum_size.max(1);
    options.max_depth = args.max_depth.max(1);
    let conversion = match JsonToAvro::new(&schema, options) {
        Ok(conversion) => conversion,
        Err(e) => {
            eprintln!("dcmflow json2avro: {}: {e}", args.schema_file.display());
            return ExitCode::from(exit::COMMANDLINE);
        }
    };
    let (source, bar) = match command.open(args.no_progress, true) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    command.finish(bar, ("data", "Avro"), |output| {
        conversion.convert(dcmflow::Input::reader(source), output)
    })
}
