//! `dcmflow dcm2json`: DICOM → DICOM JSON with DCMTK dcm2json's options (and their spellings).

use crate::failure::Failure;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dcmflow::dicom::{CharacterSet, DicomReader, ReaderOptions};
use dcmflow::json::bulk::{file_uri, BulkSelection, SideFiles, SourceReference};
use dcmflow::json::{BulkHandler, JsonOptions, JsonWarningKind, NumberPolicy};
use dcmflow::{
    dicom_to_json_pipelined, dicom_to_json_with, ToJsonError, ToJsonOptions, ValueRendering,
};
use dcmflow_core::{dict, Tag, TransferSyntax, Vr};

use crate::exit;

/// DCMTK's spellings (`+fc`, `-ia`, `+bz 4`, …) are not expressible in clap; they are rewritten to the
/// GNU long options before parsing. Both forms are accepted everywhere.
pub const DCMTK_SPELLINGS: &[(&str, &str)] = &[
    ("+f", "--read-file"),
    ("+fo", "--read-file-only"),
    ("-f", "--read-dataset"),
    ("-t=", "--read-xfer-auto"),
    ("-td", "--read-xfer-detect"),
    ("-te", "--read-xfer-little"),
    ("-tb", "--read-xfer-big"),
    ("-ti", "--read-xfer-implicit"),
    ("-es", "--encode-strict"),
    ("-ee", "--encode-extended"),
    ("-ia", "--is-ds-auto"),
    ("-in", "--is-ds-num"),
    ("-is", "--is-ds-string"),
    ("-b", "--bulk-disabled"),
    ("+b", "--bulk-enabled"),
    ("+bz", "--bulk-size"),
    ("+bp", "--bulk-uri-prefix"),
    ("+bd", "--bulk-dir"),
    ("+bs", "--bulk-subdir"),
    ("+fc", "--formatted-code"),
    ("-fc", "--compact-code"),
    ("+m", "--write-meta"),
];

/// Rewrites DCMTK option spellings (`table`) in the arguments after `subcommand` (values are left alone).
pub fn translate_dcmtk_spellings(
    args: Vec<String>,
    subcommand: &str,
    table: &[(&str, &str)],
) -> Vec<String> {
    let Some(start) = args.iter().position(|a| a == subcommand) else {
        return args;
    };
    let mut out = args[..=start].to_vec();
    let mut rest = args[start + 1..].iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            out.push(arg.clone());
            out.extend(rest.cloned());
            break;
        }
        match table.iter().find(|(dcmtk, _)| dcmtk == arg) {
            Some((_, long)) => out.push((*long).to_string()),
            None => out.push(arg.clone()),
        }
    }
    out
}

pub const AFTER_HELP: &str = "\
DCMTK dcm2json spellings are accepted as well: +f +fo -f, -t= -td -te -tb -ti, -es -ee, -ia -in -is,
-b +b +bz +bp +bd +bs, +fc -fc, +m.

Examples:
  dcmflow dcm2json image.dcm                       # compact JSON on standard output
  dcmflow dcm2json +fc image.dcm image.json        # indented, like DCMTK's default
  dcmflow dcm2json --bulk-ref ct.dcm ct.json       # pixel data as file:...?offset=N&length=M into ct.dcm
  dcmflow dcm2json +b +bz 4 +bd bulk ct.dcm ct.json  # values >= 4 KiB into files under bulk/
  dcmflow dcm2json --ndjson -o all.ndjson a.dcm b.dcm c.dcm
  cat image.dcm | dcmflow dcm2json - > image.json

Exit codes (DCMTK's): 0 success, 1 command line, 20 cannot read input, 21 no input files,
40 cannot write output, 80 character set conversion failed (--charset-strict),
81 cannot write valid JSON (--is-ds-num and a value that is not a number).
A failed conversion leaves no output file behind.";

#[derive(clap::Args)]
pub struct Dcm2JsonArgs {
    /// DICOM input file(s), or - for standard input. With one input, a second path is the output.
    #[arg(required = false)]
    paths: Vec<PathBuf>,
    /// Output file (default: standard output; - is standard output too).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Several inputs: write one JSON array of data sets.
    #[arg(long, conflicts_with = "ndjson")]
    array: bool,
    /// Several inputs: write one compact data set per line (NDJSON).
    #[arg(long)]
    ndjson: bool,

    // -- input options (DCMTK) --
    /// Read file format or data set (default) [+f].
    #[arg(long, overrides_with_all = ["read_file_only", "read_dataset"])]
    read_file: bool,
    /// Read file format only: the input must have the DICM header [+fo].
    #[arg(long, overrides_with_all = ["read_file", "read_dataset"])]
    read_file_only: bool,
    /// Read a data set without file meta information [-f].
    #[arg(long, overrides_with_all = ["read_file", "read_file_only"])]
    read_dataset: bool,
    /// Use the transfer syntax of the meta header, or detect it (default) [-t=].
    #[arg(long)]
    read_xfer_auto: bool,
    /// Ignore the meta header's transfer syntax: the reader always checks the data set's real encoding
    /// and reads it as it is (with a warning) [-td].
    #[arg(long)]
    read_xfer_detect: bool,
    /// Read with Explicit VR Little Endian [-te].
    #[arg(long, overrides_with_all = ["read_xfer_big", "read_xfer_implicit"])]
    read_xfer_little: bool,
    /// Read with Explicit VR Big Endian [-tb].
    #[arg(long, overrides_with_all = ["read_xfer_little", "read_xfer_implicit"])]
    read_xfer_big: bool,
    /// Read with Implicit VR Little Endian [-ti].
    #[arg(long, overrides_with_all = ["read_xfer_little", "read_xfer_big"])]
    read_xfer_implicit: bool,

    // -- processing options (DCMTK) --
    /// NaN and infinity in FL/FD: written as "NaN"/"Infinity"/"-Infinity" with a warning (default) [-es].
    #[arg(long, overrides_with = "encode_extended")]
    encode_strict: bool,
    /// NaN and infinity in FL/FD: the same strings without a warning (JSON has no such numbers; the
    /// output stays valid JSON) [-ee].
    #[arg(long, overrides_with = "encode_strict")]
    encode_extended: bool,
    /// IS/DS as numbers when valid, strings otherwise (default) [-ia].
    #[arg(long, overrides_with_all = ["is_ds_num", "is_ds_string"])]
    is_ds_auto: bool,
    /// IS/DS always as numbers; fail (exit 81) on a value that is not a number [-in].
    #[arg(long, overrides_with_all = ["is_ds_auto", "is_ds_string"])]
    is_ds_num: bool,
    /// IS/DS always as strings [-is].
    #[arg(long, overrides_with_all = ["is_ds_auto", "is_ds_num"])]
    is_ds_string: bool,

    // -- bulk data --
    /// Write every value inline (default) [-b].
    #[arg(long, overrides_with_all = ["bulk_enabled", "bulk_ref"])]
    bulk_disabled: bool,
    /// Write large values to files in --bulk-dir, referenced by BulkDataURI [+b].
    #[arg(long, overrides_with_all = ["bulk_disabled", "bulk_ref"])]
    bulk_enabled: bool,
    /// Reference large values in place: BulkDataURI file:…?offset=N&length=M into the input file; nothing
    /// is copied (dcm4che's form).
    #[arg(long, overrides_with_all = ["bulk_disabled", "bulk_enabled"])]
    bulk_ref: bool,
    /// Bulk data for values of at least this many KiB (DCMTK's unit; default 1) [+bz].
    #[arg(long, value_name = "KB")]
    bulk_size: Option<u64>,
    /// Bulk data for values of at least this many bytes (overrides --bulk-size).
    #[arg(long, value_name = "BYTES")]
    bulk_threshold: Option<u64>,
    /// Per-VR thresholds, e.g. OB,OW=1024 or LT,UT=4096 (dcm4che --blk-vr); replaces the default
    /// (OB OD OF OL OV OW UN at the threshold). May be repeated.
    #[arg(long = "blk-vr", value_name = "VR[,VR]=BYTES")]
    blk_vr: Vec<String>,
    /// Always bulk data at this tag path, e.g. 7FE00010 or 00880200.7FE00010 (dcm4che --blk).
    #[arg(long = "blk", value_name = "PATH")]
    blk: Vec<String>,
    /// BulkDataURI prefix for --bulk-enabled files (default: the file URI of --bulk-dir) [+bp].
    #[arg(long, value_name = "URI")]
    bulk_uri_prefix: Option<String>,
    /// Directory for --bulk-enabled files (default: .) [+bd].
    #[arg(long, value_name = "DIR")]
    bulk_dir: Option<PathBuf>,
    /// One subdirectory per input, named after the input file [+bs].
    #[arg(long)]
    bulk_subdir: bool,

    // -- output options (DCMTK) --
    /// Indented output [+fc] (DCMTK's default; ours is compact).
    #[arg(long, overrides_with = "compact_code")]
    formatted_code: bool,
    /// Compact output, no whitespace (default) [-fc].
    #[arg(long, overrides_with = "formatted_code")]
    compact_code: bool,
    /// Include the file meta information group 0002 (not conformant to PS3.18) [+m].
    #[arg(long)]
    write_meta: bool,

    // -- character sets, UN --
    /// Write (0008,0005) as ISO_IR 192 (what the JSON text is) instead of its source value (CP-2518).
    #[arg(long)]
    charset_replace: bool,
    /// Character set for data sets that declare none, as a (0008,0005) value, e.g. "ISO_IR 100".
    #[arg(long, value_name = "CS")]
    charset_assume: Option<String>,
    /// Fail (exit 80) instead of warning when text does not decode in its declared character set.
    #[arg(long)]
    charset_strict: bool,
    /// Resolve UN elements from the public and private dictionaries; each conversion is reported.
    #[arg(long)]
    convert_un: bool,

    // -- general --
    /// Print no warnings.
    #[arg(short, long)]
    quiet: bool,
    /// Never show a progress bar (it shows on a terminal for inputs over 64 MiB).
    #[arg(long)]
    no_progress: bool,
    /// Largest value chunk held in memory at once, in bytes.
    #[arg(long, default_value_t = 256 * 1024)]
    chunk_size: usize,
    /// Threads per conversion: 2 reads the DICOM on a second thread while this one writes JSON (the
    /// output is the same); 1 does both on one. Default: 2 for inputs of 1 MiB or more (and stdin) when
    /// the machine has two cores or more.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    threads: Option<u8>,
    /// Deepest sequence nesting accepted.
    #[arg(long, default_value_t = 64)]
    max_depth: usize,
}

/// Not an exit code: marks a failure that is the consumer closing our standard output.
const BROKEN_PIPE: u8 = 255;

pub fn run(args: Dcm2JsonArgs) -> ExitCode {
    match run_inner(&args) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our standard output went away (`| head`): nothing more is wanted, as with `dump`.
        Err(f) if f.code == BROKEN_PIPE => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("dcmflow dcm2json: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn run_inner(args: &Dcm2JsonArgs) -> Result<(), Failure> {
    let several = args.array || args.ndjson;
    let (inputs, output): (Vec<&Path>, Option<&Path>) = if several {
        (
            args.paths.iter().map(|p| p.as_path()).collect(),
            args.output.as_deref(),
        )
    } else {
        match args.paths.as_slice() {
            [] => (Vec::new(), None),
            [input] => (vec![input.as_path()], args.output.as_deref()),
            [input, output] if args.output.is_none() => {
                (vec![input.as_path()], Some(output.as_path()))
            }
            _ => {
                return Err(Failure::new(
                    exit::COMMANDLINE,
                    "several inputs need --array or --ndjson (and -o for the output)",
                ))
            }
        }
    };
    if inputs.is_empty() {
        return Err(Failure::new(exit::NO_INPUT_FILES, "no input files"));
    }
    if inputs.iter().filter(|p| **p == Path::new("-")).count() > 1 {
        return Err(Failure::new(
            exit::COMMANDLINE,
            "standard input can be read once",
        ));
    }
    let options = to_json_options(args)?;
    let output = output.filter(|p| *p != Path::new("-"));
    match output {
        None => {
            // No BufWriter: the JSON writer hands out ~1 MiB writes already; a buffer would copy them.
            let mut sink = raw_stdout();
            let mut bulk_files = Vec::new();
            let result = convert_all(args, &inputs, &options, &mut sink, &mut bulk_files);
            let result = result.and_then(|()| {
                sink.flush().map_err(|e| {
                    Failure::new(exit::CANNOT_WRITE_OUTPUT, format!("writing output: {e}"))
                })
            });
            if result.is_err() {
                remove_all(&bulk_files);
            }
            result
        }
        Some(path) => {
            // A temporary file beside the output, renamed into place on success only.
            let out = crate::output::Output::create(path).map_err(|e| {
                Failure::new(
                    exit::CANNOT_WRITE_OUTPUT,
                    format!("cannot write {}: {e}", path.display()),
                )
            })?;
            let mut sink = out.file();
            let mut bulk_files = Vec::new();
            let result =
                convert_all(args, &inputs, &options, &mut sink, &mut bulk_files).and_then(|()| {
                    sink.flush().map_err(|e| {
                        Failure::new(
                            exit::CANNOT_WRITE_OUTPUT,
                            format!("writing {}: {e}", path.display()),
                        )
                    })
                });
            match result {
                Ok(()) => out.commit().map_err(|e| {
                    Failure::new(
                        exit::CANNOT_WRITE_OUTPUT,
                        format!("cannot write {}: {e}", path.display()),
                    )
                }),
                Err(f) => {
                    remove_all(&bulk_files);
                    Err(f)
                }
            }
        }
    }
}

/// Standard output without std's line buffering, which scans every write for a newline: on Unix a
/// duplicate of the descriptor as a `File`; elsewhere the locked handle.
fn raw_stdout() -> Box<dyn Write> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = io::stdout().as_fd().try_clone_to_owned() {
            return Box::new(File::from(fd));
        }
    }
    Box::new(io::stdout().lock())
}

fn remove_all(files: &[PathBuf]) {
    for f in files {
        let _ = std::fs::remove_file(f);
    }
}

fn convert_all(
    args: &Dcm2JsonArgs,
    inputs: &[&Path],
    options: &ToJsonOptions,
    sink: &mut dyn Write,
    bulk_files: &mut Vec<PathBuf>,
) -> Result<(), Failure> {
    let write_err = |e: io::Error| match e.kind() {
        io::ErrorKind::BrokenPipe => Failure::new(BROKEN_PIPE, "broken pipe"),
        _ => Failure::new(exit::CANNOT_WRITE_OUTPUT, format!("writing output: {e}")),
    };
    if args.array {
        sink.write_all(b"[").map_err(write_err)?;
    }
    for (i, input) in inputs.iter().enumerate() {
        if args.array && i > 0 {
            sink.write_all(b",").map_err(write_err)?;
        }
        convert_one(args, input, options, &mut *sink, bulk_files)?;
        if args.ndjson || !args.array {
            sink.write_all(b"\n").map_err(write_err)?;
        }
    }
    if args.array {
        sink.write_all(b"]\n").map_err(write_err)?;
    }
    Ok(())
}

fn to_json_options(args: &Dcm2JsonArgs) -> Result<ToJsonOptions, Failure> {
    let charset_assume = match &args.charset_assume {
        None => None,
        Some(cs) => {
            let parsed = CharacterSet::parse(cs.as_bytes());
            if parsed.unknown_term {
                return Err(Failure::new(
                    exit::COMMANDLINE,
                    format!("--charset-assume: unknown character set '{cs}'"),
                ));
            }
            Some(parsed.charset)
        }
    };
    let transfer_syntax = if args.read_xfer_little {
        Some(TransferSyntax::EXPLICIT_VR_LE)
    } else if args.read_xfer_big {
        Some(TransferSyntax::EXPLICIT_VR_BE)
    } else if args.read_xfer_implicit {
        Some(TransferSyntax::IMPLICIT_VR_LE)
    } else {
        None
    };
    Ok(ToJsonOptions {
        json: JsonOptions {
            numbers: if args.is_ds_num {
                NumberPolicy::Number
            } else if args.is_ds_string {
                NumberPolicy::String
            } else {
                NumberPolicy::Auto
            },
            write_meta: args.write_meta,
            quiet_non_finite: args.encode_extended,
            charset_replace: args.charset_replace,
            charset_assume,
            convert_un: args.convert_un,
            max_warnings: 256,
        },
        pretty: args.formatted_code && !args.ndjson,
        reader: ReaderOptions {
            chunk_size: args.chunk_size.clamp(1, 64 << 20),
            max_depth: args.max_depth,
            transfer_syntax,
            ..ReaderOptions::default()
        },
        value_rendering: ValueRendering::default(),
    })
}

/// The bulk selection from --bulk-size/--bulk-threshold, --blk-vr and --blk.
fn bulk_selection(args: &Dcm2JsonArgs) -> Result<BulkSelection, Failure> {
    let threshold = args
        .bulk_threshold
        .unwrap_or(args.bulk_size.unwrap_or(1).saturating_mul(1024));
    let mut selection = BulkSelection::binary(threshold);
    if !args.blk_vr.is_empty() {
        selection.thresholds.clear();
        for spec in &args.blk_vr {
            let bad = || {
                Failure::new(
                    exit::COMMANDLINE,
                    format!("--blk-vr: cannot read '{spec}' (want VR[,VR]=BYTES)"),
                )
            };
            let (vrs, len) = spec.split_once('=').ok_or_else(bad)?;
            let len: u64 = len.trim().parse().map_err(|_| bad())?;
            for vr in vrs.split(',') {
                let vr = vr.trim().as_bytes();
                let vr = (vr.len() == 2)
                    .then(|| Vr::from_bytes([vr[0], vr[1]]))
                    .flatten()
                    .ok_or_else(bad)?;
                selection.thresholds.push((vr, len));
            }
        }
    }
    for spec in &args.blk {
        let mut path = Vec::new();
        for part in spec.split(['.', '/']) {
            let tag = u32::from_str_radix(part, 16)
                .ok()
                .filter(|_| part.len() == 8)
                .map(Tag)
                .or_else(|| dict::tag_by_keyword(part))
                .ok_or_else(|| {
                    Failure::new(
                        exit::COMMANDLINE,
                        format!("--blk: '{part}' is not a tag or keyword"),
                    )
                })?;
            path.push(tag);
        }
        selection.paths.push(path);
    }
    Ok(selection)
}

fn convert_one(
    args: &Dcm2JsonArgs,
    input: &Path,
    options: &ToJsonOptions,
    sink: &mut dyn Write,
    bulk_files: &mut Vec<PathBuf>,
) -> Result<(), Failure> {
    let name = input.display().to_string();
    let stdin = input == Path::new("-");
    let (source, size): (Box<dyn Read + Send>, Option<u64>) = if stdin {
        (Box::new(io::stdin()), None)
    } else {
        let file = File::open(input).map_err(|e| {
            Failure::new(exit::CANNOT_READ_INPUT, format!("cannot open {name}: {e}"))
        })?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let progress = progress_bar(args, size);
    let source: Box<dyn Read + Send> = match &progress {
        Some(bar) => Box::new(bar.wrap_read(source)),
        None => source,
    };

    let mut handler: Option<Box<dyn BulkHandler>> = None;
    let mut side_files: Option<SideFiles> = None;
    if args.bulk_ref {
        if stdin {
            return Err(Failure::new(
                exit::COMMANDLINE,
                "--bulk-ref needs an input file to refer to (not standard input)",
            ));
        }
        let absolute = std::fs::canonicalize(input).map_err(|e| {
            Failure::new(exit::CANNOT_READ_INPUT, format!("cannot open {name}: {e}"))
        })?;
        handler = Some(Box::new(SourceReference {
            selection: bulk_selection(args)?,
            source_uri: file_uri(&absolute),
        }));
    } else if args.bulk_enabled {
        let mut dir = args.bulk_dir.clone().unwrap_or_else(|| PathBuf::from("."));
        if args.bulk_subdir {
            let stem = input
                .file_stem()
                .map_or("stdin".into(), |s| s.to_string_lossy().into_owned());
            dir.push(stem);
        }
        std::fs::create_dir_all(&dir).map_err(|e| {
            Failure::new(
                exit::CANNOT_WRITE_OUTPUT,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
        let prefix = match &args.bulk_uri_prefix {
            Some(p) => p.clone(),
            None => {
                let absolute = std::fs::canonicalize(&dir).map_err(|e| {
                    Failure::new(
                        exit::CANNOT_WRITE_OUTPUT,
                        format!("cannot use {}: {e}", dir.display()),
                    )
                })?;
                format!("{}/", file_uri(&absolute))
            }
        };
        side_files = Some(SideFiles::new(bulk_selection(args)?, &dir, prefix));
    }

    let bulk: Option<&mut dyn BulkHandler> = match (&mut handler, &mut side_files) {
        (Some(h), _) => Some(h.as_mut()),
        (None, Some(s)) => Some(s),
        _ => None,
    };
    let two_threads = crate::threads::use_two(args.threads, size);
    let result = if two_threads {
        dicom_to_json_pipelined(source, &mut *sink, options, bulk)
    } else {
        let reader = DicomReader::from_reader(source, options.reader.clone());
        dicom_to_json_with(reader, &mut *sink, options, bulk)
    };
    if let Some(s) = side_files {
        bulk_files.extend(s.written);
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let report = result.map_err(|e| match e {
        ToJsonError::Read(e) => Failure::new(exit::CANNOT_READ_INPUT, format!("{name}: {e}")),
        ToJsonError::Json(e @ dcmflow::json::JsonError::InvalidNumber { .. }) => {
            Failure::new(exit::CANNOT_WRITE_VALID_JSON, format!("{name}: {e}"))
        }
        ToJsonError::Json(dcmflow::json::JsonError::Write {
            kind: io::ErrorKind::BrokenPipe,
            ..
        }) => Failure::new(BROKEN_PIPE, "broken pipe"),
        ToJsonError::Json(e) => Failure::new(exit::CANNOT_WRITE_OUTPUT, format!("{name}: {e}")),
    })?;
    if args.read_file_only && report.transfer_syntax.is_none() {
        return Err(Failure::new(
            exit::CANNOT_READ_INPUT,
            format!(
                "{name}: not a DICOM file (no file meta information) and --read-file-only given"
            ),
        ));
    }
    if args.charset_strict {
        if let Some(w) = report.json_warnings.iter().find(|w| {
            matches!(
                w.kind,
                JsonWarningKind::CharacterReplaced
                    | JsonWarningKind::UndeclaredCharacterSet
                    | JsonWarningKind::UnknownCharacterSet
            )
        }) {
            return Err(Failure::new(
                exit::CANNOT_CONVERT_TO_UNICODE,
                format!("{name}: {w}"),
            ));
        }
    }
    if !args.quiet {
        for w in &report.read_warnings {
            eprintln!("dcmflow dcm2json: warning: {name}: {w}");
        }
        for w in &report.json_warnings {
            eprintln!("dcmflow dcm2json: warning: {name}: {w}");
        }
        let dropped = report.read_warnings_dropped + report.json_warnings_dropped;
        if dropped > 0 {
            eprintln!("dcmflow dcm2json: warning: {name}: {dropped} more warnings not shown");
        }
    }
    Ok(())
}

/// A progress bar on standard error, only when it is a terminal and the input is large enough to wait for.
fn progress_bar(args: &Dcm2JsonArgs, size: Option<u64>) -> Option<indicatif::ProgressBar> {
    const WORTH_SHOWING: u64 = 64 << 20;
    let size = size?;
    if args.no_progress || args.quiet || size < WORTH_SHOWING || !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .ok()?,
    );
    Some(bar)
}
