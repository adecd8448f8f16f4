//! `dcmflow dcm2json`: DICOM → DICOM JSON with DCMTK dcm2json's options (and their spellings).

use crate::failure::Failure;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dcmflow::dicom::{CharacterSet, ReaderOptions};
use dcmflow::json::bulk::{file_uri, BulkSelection, SideFiles, SourceReference};
use dcmflow::json::{BulkHandler, JsonOptions, JsonWarningKind, NumberPolicy};
use dcmflow::{Category, DicomToJson, ToJsonOptions, WarningCode};
use dcmflow_core::{dict, Tag, TransferSyntax, Vr};

use crate::exit;
use crate::input::{self, Input};
use crate::output::{self, Content};
use crate::spelling;

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
  dcmflow dcm2json -r --ndjson --with-source -o index.ndjson archive/   # bad files reported, skipped
  dcmflow dcm2json -r --output-dir json/ archive/   # archive/x/IM1 -> json/x/IM1.json
  cat image.dcm | dcmflow dcm2json - > image.json

Exit codes (DCMTK's): 0 success, 1 command line, 20 cannot read input (or not DICOM), 21 no input
files, 40 cannot write output, 80 character set conversion failed (--charset-strict), 81 cannot write
valid JSON (--is-ds-num and a value that is not a number); ours: 25 several inputs and some failed
(each reported with its path and reason, the others converted).
A failed conversion leaves no output file behind; in a batch, no part of a failed input's JSON.";

#[derive(clap::Args)]
pub struct Dcm2JsonArgs {
    /// DICOM input files or directories (with -r), or - for standard input. With one input and no -o,
    /// a second path is the output; it is refused when it exists and is not JSON.
    #[arg(required = false)]
    paths: Vec<PathBuf>,
    /// Output file (default: standard output; - is standard output too).
    #[arg(short = 'o', long, conflicts_with = "output_dir")]
    output: Option<PathBuf>,
    /// Several inputs: write one JSON array of data sets.
    #[arg(long, conflicts_with_all = ["ndjson", "output_dir"])]
    array: bool,
    /// Several inputs: write one compact data set per line (NDJSON).
    #[arg(long, conflicts_with = "output_dir")]
    ndjson: bool,
    /// Several inputs: one JSON file per input in this directory, named after the input (x.dcm ->
    /// x.json, IM0001 -> IM0001.json), below it as below the directory given with -r.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Convert the files below the directories given, in name order (links to directories are not
    /// followed; files there that are not DICOM are skipped and counted).
    #[arg(short = 'r', long)]
    recursive: bool,
    /// With --ndjson or --array: each data set object starts with a member "source" holding the input's
    /// path (no DICOM key can be named so: they are 8 hexadecimal digits).
    #[arg(long)]
    with_source: bool,
    /// Several inputs: stop at the first one that fails and write nothing (default: report it, skip
    /// it, convert the rest and exit 25).
    #[arg(long)]
    stop_on_first_error: bool,

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
        Ok(Outcome::AllConverted) => ExitCode::SUCCESS,
        Ok(Outcome::SomeFailed) => ExitCode::from(exit::SOME_INPUTS_FAILED),
        // The reader of our standard output went away (`| head`): nothing more is wanted, as with `dump`.
        Err(f) if f.code == BROKEN_PIPE => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("dcmflow dcm2json: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// How a run ended when it did not fail as a whole.
enum Outcome {
    AllConverted,
    /// Several inputs, and at least one failed (reported on standard error): exit 25.
    SomeFailed,
}

/// Where the JSON goes.
enum Destination<'p> {
    /// One stream: standard output or a file (several inputs: NDJSON or an array).
    Stream(Option<&'p Path>),
    /// `--output-dir`: one file per input.
    Directory(&'p Path),
}

fn run_inner(args: &Dcm2JsonArgs) -> Result<Outcome, Failure> {
    let several = args.array || args.ndjson || args.output_dir.is_some();
    let (named, destination): (&[PathBuf], Destination<'_>) = match (&args.output_dir, several) {
        (Some(dir), _) => (&args.paths, Destination::Directory(dir)),
        (None, true) => (&args.paths, Destination::Stream(args.output.as_deref())),
        (None, false) => {
            match args.paths.as_slice() {
                [input, output] if args.output.is_none() => {
                    // `dcm2json a.dcm b.dcm` (a glob matching two files) must not turn b.dcm into JSON.
                    if let Some(content) =
                        output::existing_content(output).filter(|c| *c != Content::Json)
                    {
                        return Err(Failure::new(
                        exit::COMMANDLINE,
                        format!(
                            "{} exists and is {}: not overwritten. Name the output with -o FILE, or \
                             convert several inputs with --ndjson, --array or --output-dir",
                            output.display(),
                            content.describe()
                        ),
                    ));
                    }
                    (
                        &args.paths[..1],
                        Destination::Stream(Some(output.as_path())),
                    )
                }
                [_, _, ..] => return Err(Failure::new(
                    exit::COMMANDLINE,
                    "several inputs need --ndjson, --array or --output-dir (and -o for the output \
                     of the first two)",
                )),
                paths => (paths, Destination::Stream(args.output.as_deref())),
            }
        }
    };
    if args.with_source && !(args.array || args.ndjson) {
        return Err(Failure::new(
            exit::COMMANDLINE,
            "--with-source goes with --ndjson or --array",
        ));
    }
    if named.is_empty() {
        return Err(Failure::new(exit::NO_INPUT_FILES, "no input files"));
    }
    if named.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Failure::new(
            exit::COMMANDLINE,
            "standard input can be read once",
        ));
    }
    if args.bulk_ref && named.iter().any(|p| p.as_os_str() == "-") {
        return Err(Failure::new(
            exit::COMMANDLINE,
            "--bulk-ref needs an input file to refer to (not standard input)",
        ));
    }
    let options = to_json_options(args)?;
    let inputs = input::expand(named, args.recursive);
    let batch = several || inputs.len() != 1 || named.iter().any(|p| p.is_dir());
    if let Destination::Stream(Some(out)) = destination {
        let paths = inputs.iter().flatten().map(|i| i.path.as_path());
        output::refuse_input_as_output(out, paths)
            .map_err(|m| Failure::new(exit::COMMANDLINE, m))?;
    }
    if !batch {
        let input = inputs.into_iter().next().expect("one input");
        let input = input.map_err(|m| Failure::new(exit::CANNOT_READ_INPUT, m))?;
        let Destination::Stream(out) = destination else {
            unreachable!("--output-dir is a batch")
        };
        let mut run = Batch::new(args, 1);
        stream_output(out, |sink| run.convert(&input, &options, sink, false))?;
        return Ok(Outcome::AllConverted);
    }
    let mut run = Batch::new(args, inputs.len());
    match destination {
        Destination::Directory(dir) => {
            let mut outputs = std::collections::HashSet::new();
            for input in &inputs {
                match input {
                    Ok(input) => {
                        let result =
                            to_own_file(args, input, dir, &mut outputs, &options, &mut run);
                        run.record(input, result)?;
                    }
                    Err(message) => run.record_unreadable(message)?,
                }
            }
        }
        Destination::Stream(out) => {
            stream_output(out, |sink| {
                let mut documents = DocumentSink::new(sink);
                if args.array {
                    documents.raw(b"[")?;
                }
                for input in &inputs {
                    let input = match input {
                        Ok(input) => input,
                        Err(message) => {
                            run.record_unreadable(message)?;
                            continue;
                        }
                    };
                    let separator: &[u8] = if args.array && run.converted > 0 {
                        b","
                    } else {
                        b""
                    };
                    let result = documents.document(separator, |doc| {
                        run.convert(input, &options, doc, args.with_source)?;
                        if args.ndjson {
                            doc.write_all(b"\n").map_err(write_failure)?;
                        }
                        Ok(())
                    });
                    run.record(input, result)?;
                }
                if args.array {
                    documents.raw(b"]\n")?;
                }
                Ok(())
            })?;
        }
    }
    Ok(run.finish())
}

/// The JSON stream's sink: standard output or a file written atomically. On failure an output file is
/// not created.
fn stream_output(
    out: Option<&Path>,
    body: impl FnOnce(&mut StreamSink<'_>) -> Result<(), Failure>,
) -> Result<(), Failure> {
    match out.filter(|p| *p != Path::new("-")) {
        None => {
            let mut sink = StreamSink::stdout();
            body(&mut sink)?;
            sink.flush().map_err(write_failure)
        }
        Some(path) => {
            // A temporary file beside the output, renamed into place on success only.
            let cannot = |e: io::Error| {
                Failure::new(
                    exit::CANNOT_WRITE_OUTPUT,
                    format!("cannot write {}: {e}", path.display()),
                )
            };
            let out = output::Output::create(path).map_err(cannot)?;
            let regular = matches!(out, output::Output::Atomic { .. });
            let mut sink = StreamSink::File {
                file: out.file(),
                regular,
            };
            body(&mut sink)?;
            sink.flush().map_err(cannot)?;
            out.commit().map_err(cannot)
        }
    }
}

/// Where a stream of JSON goes: a file (the output file, or standard output's descriptor, written
/// without std's line buffering, which scans every write for a newline), or standard output's handle
/// where there is no descriptor to take.
enum StreamSink<'f> {
    File { file: &'f File, regular: bool },
    Stdout { file: File, regular: bool },
    Handle(io::Stdout),
}

impl StreamSink<'_> {
    fn stdout() -> StreamSink<'static> {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            if let Ok(fd) = io::stdout().as_fd().try_clone_to_owned() {
                let file = File::from(fd);
                let regular = file.metadata().is_ok_and(|m| m.is_file());
                return StreamSink::Stdout { file, regular };
            }
        }
        StreamSink::Handle(io::stdout())
    }

    /// The file behind the sink when it is a regular file, whose end can be cut back.
    fn regular_file(&self) -> Option<&File> {
        match self {
            StreamSink::File {
                file,
                regular: true,
            } => Some(file),
            StreamSink::Stdout {
                file,
                regular: true,
            } => Some(file),
            _ => None,
        }
    }
}

impl Write for StreamSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            StreamSink::File { file, .. } => file.write(buf),
            StreamSink::Stdout { file, .. } => file.write(buf),
            StreamSink::Handle(h) => h.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            StreamSink::File { file, .. } => file.write_all(buf),
            StreamSink::Stdout { file, .. } => file.write_all(buf),
            StreamSink::Handle(h) => h.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            StreamSink::File { file, .. } => file.flush(),
            StreamSink::Stdout { file, .. } => file.flush(),
            StreamSink::Handle(h) => h.flush(),
        }
    }
}

/// `--output-dir`: the input's JSON in its own file below `dir`.
fn to_own_file(
    args: &Dcm2JsonArgs,
    input: &Input,
    dir: &Path,
    outputs: &mut std::collections::HashSet<PathBuf>,
    options: &ToJsonOptions,
    run: &mut Batch<'_>,
) -> Result<(), Failure> {
    let path = dir.join(json_name(&input.relative));
    let cannot = |e: io::Error| {
        Failure::new(
            exit::CANNOT_WRITE_OUTPUT,
            format!("cannot write {}: {e}", path.display()),
        )
    };
    if !outputs.insert(path.clone()) {
        return Err(Failure::new(
            exit::CANNOT_WRITE_OUTPUT,
            format!(
                "{}: its output {} is an earlier input's; not overwritten",
                input.path.display(),
                path.display()
            ),
        ));
    }
    if let Some(content) = output::existing_content(&path).filter(|c| *c != Content::Json) {
        return Err(Failure::new(
            exit::CANNOT_WRITE_OUTPUT,
            format!(
                "{} exists and is {}: not overwritten",
                path.display(),
                content.describe()
            ),
        ));
    }
    output::refuse_input_as_output(&path, [input.path.as_path()])
        .map_err(|m| Failure::new(exit::CANNOT_WRITE_OUTPUT, m))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(cannot)?;
    }
    let out = output::Output::create(&path).map_err(cannot)?;
    let mut sink = out.file();
    run.convert(input, options, &mut sink, false)?;
    if !args.ndjson {
        sink.write_all(b"\n").map_err(cannot)?;
    }
    sink.flush().map_err(cannot)?;
    out.commit().map_err(cannot)
}

/// `x.dcm` → `x.json`; a name with another (or no) extension keeps it: `1.2.840.5` → `1.2.840.5.json`
/// (UIDs as file names would otherwise lose their last component and collide).
fn json_name(relative: &Path) -> PathBuf {
    let is_dicom_extension = relative
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("dcm") || e.eq_ignore_ascii_case("dicom"));
    if is_dicom_extension {
        relative.with_extension("json")
    } else {
        let mut name = relative.as_os_str().to_owned();
        name.push(".json");
        PathBuf::from(name)
    }
}

/// A batch of inputs: their bulk side files, and what became of each.
struct Batch<'a> {
    args: &'a Dcm2JsonArgs,
    total: usize,
    converted: usize,
    failed: usize,
    skipped: usize,
    /// Every side file written by a conversion that succeeded (removed if the whole run fails).
    bulk_files: Vec<PathBuf>,
}

impl<'a> Batch<'a> {
    fn new(args: &'a Dcm2JsonArgs, total: usize) -> Self {
        Batch {
            args,
            total,
            converted: 0,
            failed: 0,
            skipped: 0,
            bulk_files: Vec::new(),
        }
    }

    /// Converts one input into `sink`; on failure its own side files are removed.
    fn convert(
        &mut self,
        input: &Input,
        options: &ToJsonOptions,
        sink: &mut (dyn Write + Send),
        with_source: bool,
    ) -> Result<(), Failure> {
        let mut side_files = Vec::new();
        let result = if with_source {
            let mut sourced = SourceMember::new(sink, &input.path);
            convert_one(self.args, input, options, &mut sourced, &mut side_files)
        } else {
            convert_one(self.args, input, options, sink, &mut side_files)
        };
        match result {
            Ok(()) => self.bulk_files.extend(side_files),
            Err(_) => remove_all(&side_files),
        }
        result
    }

    /// What became of `input` in a batch: a failure is reported and counted, unless it must end the run
    /// (--stop-on-first-error, a broken pipe, an output that cannot be written).
    fn record(&mut self, input: &Input, result: Result<(), Failure>) -> Result<(), Failure> {
        let failure = match result {
            Ok(()) => {
                self.converted += 1;
                return Ok(());
            }
            Err(f) => f,
        };
        let ends_the_run = self.args.stop_on_first_error
            || failure.code == BROKEN_PIPE
            || failure.code == exit::CANNOT_WRITE_OUTPUT && self.args.output_dir.is_none();
        if ends_the_run {
            remove_all(&self.bulk_files);
            return Err(failure);
        }
        if input.found && failure.not_dicom {
            self.skipped += 1;
            if !self.args.quiet {
                eprintln!("dcmflow dcm2json: skipped: {}", failure.message);
            }
        } else {
            self.failed += 1;
            eprintln!("dcmflow dcm2json: error: {}", failure.message);
        }
        Ok(())
    }

    fn record_unreadable(&mut self, message: &str) -> Result<(), Failure> {
        let failure = Failure::new(exit::CANNOT_READ_INPUT, message);
        if self.args.stop_on_first_error {
            remove_all(&self.bulk_files);
            return Err(failure);
        }
        self.failed += 1;
        eprintln!("dcmflow dcm2json: error: {message}");
        Ok(())
    }

    fn finish(self) -> Outcome {
        if self.failed > 0 || (!self.args.quiet && self.total > 1) {
            let mut summary = format!(
                "dcmflow dcm2json: {} converted, {} failed",
                self.converted, self.failed
            );
            if self.skipped > 0 {
                summary.push_str(&format!(", {} skipped (not DICOM)", self.skipped));
            }
            eprintln!("{summary}");
        }
        if self.failed > 0 {
            Outcome::SomeFailed
        } else {
            Outcome::AllConverted
        }
    }
}

/// The documents of a batch in one stream: each one can be taken back when its input fails, so the
/// stream holds whole documents only. A regular file is cut back to where the document began; into a
/// pipe each document is spooled (in memory, then a temporary file) and copied out once complete.
struct DocumentSink<'s, 'f> {
    out: &'s mut StreamSink<'f>,
}

/// A spooled document stays in memory up to this size, then moves to an anonymous temporary file.
const SPOOL_IN_MEMORY: usize = 8 << 20;

impl<'s, 'f> DocumentSink<'s, 'f> {
    fn new(out: &'s mut StreamSink<'f>) -> Self {
        DocumentSink { out }
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.out.write_all(bytes).map_err(write_failure)
    }

    fn document(
        &mut self,
        separator: &[u8],
        body: impl FnOnce(&mut (dyn Write + Send)) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        use std::io::{Seek, SeekFrom};
        if let Some(mut file) = self.out.regular_file() {
            let start = file.stream_position().map_err(write_failure)?;
            self.raw(separator)?;
            let result = body(&mut *self.out);
            if result.is_err() {
                let mut file = self.out.regular_file().expect("still a file");
                file.set_len(start).map_err(write_failure)?;
                file.seek(SeekFrom::Start(start)).map_err(write_failure)?;
            }
            return result;
        }
        let mut spool = tempfile::SpooledTempFile::new(SPOOL_IN_MEMORY);
        spool.write_all(separator).map_err(write_failure)?;
        body(&mut spool)?;
        spool.rewind().map_err(write_failure)?;
        io::copy(&mut spool, &mut *self.out).map_err(write_failure)?;
        Ok(())
    }
}

fn write_failure(e: io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::BrokenPipe => Failure::new(BROKEN_PIPE, "broken pipe"),
        _ => Failure::new(exit::CANNOT_WRITE_OUTPUT, format!("writing output: {e}")),
    }
}

/// `--with-source`: `{"source":"<path>",` before the data set's members (or `{"source":"<path>"}` for
/// an empty data set), written as the data set's opening brace goes by.
struct SourceMember<'a> {
    out: &'a mut (dyn Write + Send),
    head: Option<Vec<u8>>,
    /// The opening brace was replaced; the next byte decides whether a comma follows the member.
    after_head: bool,
}

impl<'a> SourceMember<'a> {
    fn new(out: &'a mut (dyn Write + Send), source: &Path) -> Self {
        let mut head = b"{\"source\":".to_vec();
        dcmflow::json::escape::write_string(&mut head, &source.to_string_lossy());
        SourceMember {
            out,
            head: Some(head),
            after_head: false,
        }
    }
}

impl Write for SourceMember<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        if let Some(head) = self.head.take() {
            // The data set's first byte is its '{'.
            self.out.write_all(&head)?;
            rest = rest.strip_prefix(b"{").unwrap_or(rest);
            self.after_head = true;
        }
        if self.after_head {
            let Some(&first) = rest.first() else {
                return Ok(buf.len());
            };
            if first != b'}' {
                self.out.write_all(b",")?;
            }
            self.after_head = false;
        }
        self.out.write_all(rest)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn remove_all(files: &[PathBuf]) {
    for f in files {
        let _ = std::fs::remove_file(f);
    }
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
    let mut options = ToJsonOptions::default();
    options.json = JsonOptions {
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
    };
    options.pretty = args.formatted_code && !args.ndjson;
    options.reader = ReaderOptions {
        chunk_size: args.chunk_size.clamp(1, 64 << 20),
        max_depth: args.max_depth,
        transfer_syntax,
        ..ReaderOptions::default()
    };
    Ok(options)
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
    input: &Input,
    options: &ToJsonOptions,
    sink: &mut (dyn Write + Send),
    bulk_files: &mut Vec<PathBuf>,
) -> Result<(), Failure> {
    let relative = &input.relative;
    let input = input.path.as_path();
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
    // Told from the first bytes, before any output: JSON, text or gzip is no DICOM, and +fo needs DICM.
    let (head, source) = input::peek(source)
        .map_err(|e| Failure::new(exit::CANNOT_READ_INPUT, format!("{name}: {e}")))?;
    if let Some(what) = input::not_dicom(&head) {
        return Err(Failure::not_dicom(format!(
            "{name}: not a DICOM file: {what}"
        )));
    }
    if args.read_file_only && !input::has_dicm(&head) {
        return Err(Failure::not_dicom(format!(
            "{name}: not a DICOM file (no DICM header) and --read-file-only (+fo) given"
        )));
    }
    let progress = crate::progress::bar(args.quiet || args.no_progress, size);
    let source: Box<dyn Read + Send> = match &progress {
        Some(bar) => Box::new(bar.wrap_read(source)),
        None => source,
    };

    let mut handler: Option<Box<dyn BulkHandler>> = None;
    let mut side_files: Option<SideFiles> = None;
    if args.bulk_ref {
        let absolute = std::fs::canonicalize(input).map_err(|e| {
            Failure::new(exit::CANNOT_READ_INPUT, format!("cannot open {name}: {e}"))
        })?;
        handler = Some(Box::new(SourceReference {
            selection: bulk_selection(args)?,
            source_uri: file_uri(&absolute),
        }));
    } else if args.bulk_enabled {
        let root = args.bulk_dir.clone().unwrap_or_else(|| PathBuf::from("."));
        let cannot_create = |dir: &Path, e: io::Error| {
            Failure::new(
                exit::CANNOT_WRITE_OUTPUT,
                format!("cannot create {}: {e}", dir.display()),
            )
        };
        std::fs::create_dir_all(&root).map_err(|e| cannot_create(&root, e))?;
        let dir = if args.bulk_subdir {
            // One new subdirectory per input, named after it (a/IM0001 and b/IM0001: IM0001, IM0001-2).
            let stem = relative
                .file_stem()
                .map_or("stdin".into(), |s| s.to_string_lossy().into_owned());
            new_directory(&root, &stem).map_err(|e| cannot_create(&root.join(&stem), e))?
        } else {
            root
        };
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
    let mut options = options.clone();
    options.threads = crate::threads::choice(args.threads);
    let mut conversion = DicomToJson::new(options);
    if let Some(handler) = bulk {
        conversion = conversion.bulk_handler(handler);
    }
    let result = conversion.convert(
        // The file's size keeps a small file on one thread (`Threads::Auto`).
        dcmflow::Input::reader(source).with_size(size),
        dcmflow::Output::stream(&mut *sink),
    );
    if let Some(s) = side_files {
        bulk_files.extend(s.written);
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let report = result.map_err(|e| match e.classify() {
        Category::InputIo | Category::InvalidInput | Category::Limit => Failure::new(
            exit::CANNOT_READ_INPUT,
            format!("{name}: {}", spelling::cli(&e.to_string())),
        ),
        Category::InvalidValue => Failure::new(
            exit::CANNOT_WRITE_VALID_JSON,
            format!("{name}: {}", spelling::cli(&e.to_string())),
        ),
        Category::OutputIo if e.io_kind() == Some(io::ErrorKind::BrokenPipe) => {
            Failure::new(BROKEN_PIPE, "broken pipe")
        }
        _ => Failure::new(exit::CANNOT_WRITE_OUTPUT, format!("{name}: {e}")),
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
        if let Some(w) = report.warnings.iter().find(|w| {
            matches!(
                w.code(),
                WarningCode::JsonOutput(
                    JsonWarningKind::CharacterReplaced
                        | JsonWarningKind::UndeclaredCharacterSet
                        | JsonWarningKind::UnknownCharacterSet
                )
            )
        }) {
            return Err(Failure::new(
                exit::CANNOT_CONVERT_TO_UNICODE,
                format!("{name}: {w}"),
            ));
        }
    }
    if !args.quiet {
        for w in &report.warnings {
            eprintln!(
                "dcmflow dcm2json: warning: {name}: {}",
                spelling::cli(&w.to_string())
            );
        }
        let dropped = report.warnings_dropped;
        if dropped > 0 {
            eprintln!("dcmflow dcm2json: warning: {name}: {dropped} more warnings not shown");
        }
    }
    Ok(())
}

/// A directory below `parent` that did not exist: `name`, else `name-2`, `name-3`, …
fn new_directory(parent: &Path, name: &str) -> io::Result<PathBuf> {
    for n in 1u32.. {
        let candidate = if n == 1 {
            parent.join(name)
        } else {
            parent.join(format!("{name}-{n}"))
        };
        match std::fs::create_dir(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("u32 names run out")
}
