//! `dcmflow json2dcm`: DICOM JSON → DICOM with DCMTK json2dcm's options (and their spellings).

use crate::failure::Failure;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dcmflow::dicom::LengthMode;
use dcmflow::json::read::{ArrayMode, FileResolver, IgnoreBulk, ReadOptions};
use dcmflow::{Category, DataSets, JsonToDicom, Report, ToDicomOptions};
use dcmflow_core::TransferSyntax;

use crate::exit;
use crate::spelling;

/// DCMTK json2dcm spellings, rewritten to the GNU long options before clap parses them.
pub const DCMTK_SPELLINGS: &[(&str, &str)] = &[
    ("+f", "--read-meta-info"),
    ("-f", "--ignore-meta-info"),
    ("+as", "--array-select"),
    ("-ar", "--array-reject"),
    ("+ar", "--array-sequence"),
    ("+Ug", "--generate-new-uids"),
    ("-Uo", "--dont-overwrite-uids"),
    ("+Uo", "--overwrite-uids"),
    ("-E", "--strict"),
    ("+E", "--ignore-errors"),
    ("+Bd", "--bulk-dir"),
    ("-Bu", "--bulk-ignore"),
    ("+F", "--write-file"),
    ("+Fu", "--update-meta-info"),
    ("-F", "--write-dataset"),
    ("+t=", "--write-xfer-same"),
    ("+te", "--write-xfer-little"),
    ("+tb", "--write-xfer-big"),
    ("+ti", "--write-xfer-implicit"),
    ("+td", "--write-xfer-deflated"),
    ("+e", "--length-explicit"),
    ("-e", "--length-undefined"),
    ("+u", "--enable-new-vr"),
    ("-u", "--disable-new-vr"),
    ("+cl", "--compression-level"),
];

/// Exit codes of DCMTK json2dcm beyond the common ones, and ours for character sets.
mod code {
    /// The JSON is not valid (DICOM) JSON, or a value cannot be written (DCMTK: EXITCODE_INVALID_INPUT).
    pub const INVALID_JSON: u8 = 65;
    /// A BulkDataURI that is refused or cannot be read.
    pub const BULK_DATA: u8 = 66;
    /// A string the declared Specific Character Set cannot represent (dcmflow's own code).
    pub const CHARSET: u8 = 67;
}

pub const AFTER_HELP: &str = "\
DCMTK json2dcm spellings are accepted as well: +f -f, +as N -ar +ar, +Ug +Uo -Uo, -E +E, +Bd DIR -Bu,
+F +Fu -F, +t= +te +tb +ti +td, +e -e, +u -u, +cl N.

Examples:
  dcmflow json2dcm image.json image.dcm                 # Explicit VR LE (or the JSON's 0002,0010)
  dcmflow json2dcm +ti image.json image.dcm             # Implicit VR Little Endian
  dcmflow json2dcm +Bd bulk ct.json ct.dcm              # BulkDataURIs read from files under bulk/
  dcmflow json2dcm --split out/ study.json              # a top-level array: one file per data set
  cat search_results.json | dcmflow json2dcm +as 1 - first.dcm   # the first of an array
  dcmflow json2dcm --strict image.json image.dcm        # validate: a broken VR rule is an error

VR rules and model errors (docs/behaviour.md):
  rule broken by a value (PS3.5 6.2, Table 6.2-1)        default                  --strict (-E)
  longer than its VR allows (SH 16, LO 64, DS 16, IS 12)  written as is, warning   error, exit 65
  characters its VR does not allow (CS 'Brain', DA '1994.11.05', UI letters)
                                                          written as is, warning   error, exit 65
  IS/DS text that is not a number ('1A', '1.9.10.0'), IS beyond +-(2^31-1)
                                                          written as is, warning   error, exit 65
  8-bit text in an ASCII-only VR (CS, DA, UI, IS, ...)    ISO 8859-1, warning      error, exit 65
  model error: two of Value/InlineBinary/BulkDataURI, an unknown vr, invalid base64, an IS number
  that is not an integer, a binary number out of its VR's range, a string for US/SS/UL/SL
  (--lenient takes numeric ones), a character no encoding of the data set can hold
                                                          error, exit 65 (67)      error

Exit codes: 0 ok, 1 command line, 20 cannot read the input, 40 cannot write the output,
65 invalid JSON or DICOM JSON (the message gives line:column and the element path),
66 BulkDataURI refused or unreadable, 67 text not representable in the declared character set.
A failed conversion leaves no output file behind.";

#[derive(clap::Args, Debug)]
pub struct Json2DcmArgs {
    /// Input JSON file, or - for standard input.
    input: PathBuf,
    /// Output DICOM file, or - for standard output (default). Refused when it exists and is JSON or
    /// anything but DICOM (name it with -o to replace it anyway).
    output_path: Option<PathBuf>,
    /// Output DICOM file, replaced whatever it holds (not when it is the input or read-only).
    #[arg(short = 'o', long, conflicts_with = "output_path")]
    output: Option<PathBuf>,

    /// Group 0002 keys of the JSON feed the file meta (default).
    #[arg(long, overrides_with = "ignore_meta_info")]
    read_meta_info: bool,
    /// Group 0002 keys of the JSON are ignored; the meta is generated.
    #[arg(long)]
    ignore_meta_info: bool,

    /// A top-level array: convert only the data set at this 1-based index.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    array_select: Option<u64>,
    /// A top-level array of more than one data set is an error (default).
    #[arg(long)]
    array_reject: bool,
    /// A top-level array: every data set becomes an item of the private sequence (0009,1000), creator
    /// JSON2DCM_LIST_OF_DATASETS (as DCMTK json2dcm +ar).
    #[arg(long)]
    array_sequence: bool,
    /// A top-level array: write each data set to its own file in this directory, named by its SOP
    /// Instance UID (or its index).
    #[arg(long, value_name = "DIR")]
    split: Option<PathBuf>,

    /// New Study, Series and SOP Instance UIDs (2.25 form).
    #[arg(long)]
    generate_new_uids: bool,
    /// With --generate-new-uids: accepted for DCMTK compatibility (UIDs are always replaced).
    #[arg(long)]
    overwrite_uids: bool,
    /// Accepted for DCMTK compatibility.
    #[arg(long)]
    dont_overwrite_uids: bool,

    /// Strict VR rules: a value that breaks its VR's length, repertoire or format rule (PS3.5 6.2) is
    /// an error, exit 65 (for validating JSON). By default such a value is written as it is, with a
    /// warning, so that DICOM -> JSON -> DICOM gives back what the source held.
    #[arg(long, alias = "stop-on-error", overrides_with = "ignore_errors")]
    strict: bool,
    /// Write values that break a VR rule as they are, with a warning (the default; DCMTK's +E).
    #[arg(long)]
    ignore_errors: bool,
    /// Accept what DCMTK json2dcm tolerates, each with a warning: trailing commas, case-insensitive
    /// member names, a missing vr (from the dictionary), a bare value, PN as a plain string.
    #[arg(long)]
    lenient: bool,
    /// Write all text as UTF-8 and declare ISO_IR 192, instead of failing on text the declared
    /// character set cannot represent.
    #[arg(long)]
    charset_utf8: bool,

    /// Read BulkDataURI files under this directory (repeatable). Nothing else is read.
    #[arg(long, value_name = "DIR")]
    bulk_dir: Vec<PathBuf>,
    /// Also read BulkDataURI files under the JSON file's own directory.
    #[arg(long)]
    bulk_json_dir: bool,
    /// Ignore BulkDataURIs: such elements are written empty, with a warning.
    #[arg(long)]
    bulk_ignore: bool,

    /// Write a PS3.10 file with preamble and meta (default).
    #[arg(long)]
    write_file: bool,
    /// Accepted for DCMTK compatibility: the meta is always brought up to date.
    #[arg(long)]
    update_meta_info: bool,
    /// Write a bare data set.
    #[arg(long)]
    write_dataset: bool,

    /// Transfer syntax: the JSON's (0002,0010), else Explicit VR LE (default) [+t=].
    #[arg(long)]
    write_xfer_same: bool,
    /// Write Explicit VR Little Endian [+te].
    #[arg(long)]
    write_xfer_little: bool,
    /// Write Explicit VR Big Endian (retired) [+tb].
    #[arg(long)]
    write_xfer_big: bool,
    /// Write Implicit VR Little Endian [+ti].
    #[arg(long)]
    write_xfer_implicit: bool,
    /// Write Deflated Explicit VR Little Endian (level: --compression-level) [+td].
    #[arg(long)]
    write_xfer_deflated: bool,
    /// Deflate level 0-9 for --write-xfer-deflated.
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=9))]
    compression_level: u32,

    /// Sequences and items with computed lengths (default).
    #[arg(long)]
    length_explicit: bool,
    /// Sequences and items with undefined lengths.
    #[arg(long)]
    length_undefined: bool,
    /// Accepted for DCMTK compatibility: newer VRs are always written as such.
    #[arg(long)]
    enable_new_vr: bool,
    /// Not supported: every VR is written as itself.
    #[arg(long)]
    disable_new_vr: bool,

    /// Largest string held in memory, in MiB (longer InlineBinary is streamed or spooled).
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    max_string: usize,
    /// Deepest sequence nesting accepted.
    #[arg(long, default_value_t = 64)]
    max_depth: usize,
    /// Print no warnings.
    #[arg(short, long)]
    quiet: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    no_progress: bool,
    /// Threads per conversion: 2 writes the DICOM on a second thread while this one reads JSON (the
    /// output is the same); 1 does both on one. Default: 2 for inputs of 1 MiB or more (and stdin) when
    /// the machine has two cores or more. `--split` always uses one.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    threads: Option<u8>,
}

pub fn run(args: Json2DcmArgs) -> ExitCode {
    match check_output(&args).and_then(|()| run_inner(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("dcmflow json2dcm: {}: {}", args.input.display(), f.message);
            ExitCode::from(f.code)
        }
    }
}

/// The output path, as given positionally or with -o.
fn output_path(args: &Json2DcmArgs) -> Option<&Path> {
    args.output.as_deref().or(args.output_path.as_deref())
}

/// Nothing the user had is replaced by mistake: not the input, and (given positionally) not a file
/// that holds anything but DICOM.
fn check_output(args: &Json2DcmArgs) -> Result<(), Failure> {
    let Some(out) = output_path(args).filter(|p| *p != Path::new("-")) else {
        return Ok(());
    };
    if args.split.is_none() {
        crate::output::refuse_input_as_output(out, [args.input.as_path()])
            .map_err(|m| Failure::new(exit::COMMANDLINE, m))?;
    }
    if args.output.is_none() && args.split.is_none() {
        let content = crate::output::existing_content(out);
        if let Some(c) = content.filter(|c| *c != crate::output::Content::Dicom) {
            return Err(Failure::new(
                exit::COMMANDLINE,
                format!(
                    "{} exists and is {}: not overwritten (name the output with -o FILE to replace it)",
                    out.display(),
                    c.describe()
                ),
            ));
        }
    }
    Ok(())
}

fn dicom_options(args: &Json2DcmArgs) -> Result<ToDicomOptions, Failure> {
    if args.disable_new_vr {
        return Err(Failure::new(
            exit::COMMANDLINE,
            "-u/--disable-new-vr is not supported: every VR is written as itself",
        ));
    }
    if args.array_sequence && (args.split.is_some() || args.array_select.is_some()) {
        return Err(Failure::new(
            exit::COMMANDLINE,
            "+ar/--array-sequence cannot be combined with --split or +as",
        ));
    }
    let transfer_syntax = if args.write_xfer_implicit {
        Some(TransferSyntax::IMPLICIT_VR_LE)
    } else if args.write_xfer_big {
        Some(TransferSyntax::EXPLICIT_VR_BE)
    } else if args.write_xfer_deflated {
        Some(TransferSyntax::DEFLATED_EXPLICIT_VR_LE)
    } else if args.write_xfer_little {
        Some(TransferSyntax::EXPLICIT_VR_LE)
    } else {
        None
    };
    let mut options = ToDicomOptions::default();
    options.transfer_syntax = transfer_syntax;
    options.part10 = !args.write_dataset;
    options.meta_from_json = !args.ignore_meta_info;
    options.lengths = if args.length_undefined {
        LengthMode::Undefined
    } else {
        LengthMode::Explicit
    };
    options.deflate_level = args.compression_level;
    options.new_uids = args.generate_new_uids;
    options.array_sequence = args.array_sequence;
    options.reader = read_options(args);
    options.threads = crate::threads::choice(args.threads);
    Ok(options)
}

fn read_options(args: &Json2DcmArgs) -> ReadOptions {
    ReadOptions {
        lenient: args.lenient,
        strict_vr_rules: args.strict,
        charset_utf8: args.charset_utf8,
        max_depth: args.max_depth,
        max_string: args.max_string.max(1) << 20,
        array: match (
            args.split.is_some() || args.array_sequence,
            args.array_select,
        ) {
            (true, _) => ArrayMode::Each,
            (false, Some(n)) => ArrayMode::Select(n as usize),
            (false, None) => ArrayMode::Single,
        },
        ..ReadOptions::default()
    }
}

fn failure_of(e: dcmflow::Error) -> Failure {
    let code = match e.classify() {
        Category::InputIo => exit::CANNOT_READ_INPUT,
        Category::BulkData => code::BULK_DATA,
        Category::CharacterSet => code::CHARSET,
        Category::OutputIo => exit::CANNOT_WRITE_OUTPUT,
        _ => code::INVALID_JSON,
    };
    Failure::new(code, spelling::cli(&e.to_string()))
}

fn run_inner(args: &Json2DcmArgs) -> Result<(), Failure> {
    let options = dicom_options(args)?;
    let stdin = args.input == Path::new("-");
    let file = if stdin {
        None
    } else {
        Some(
            File::open(&args.input)
                .map_err(|e| Failure::new(exit::CANNOT_READ_INPUT, format!("cannot open: {e}")))?,
        )
    };
    let size = file
        .as_ref()
        .and_then(|f| f.metadata().ok())
        .map(|m| m.len());
    let progress = crate::progress::bar(args.quiet || args.no_progress, size);
    let input = match &file {
        Some(f) => match &progress {
            // With a progress bar the bytes go through it; long InlineBinary is still measured ahead.
            Some(bar) => dcmflow::Input::reader(bar.wrap_read(f)).with_size(size),
            None => dcmflow::Input::from(f),
        },
        None => dcmflow::Input::reader(io::stdin()),
    };
    let mut conversion = JsonToDicom::new(options).bulk_resolver(bulk_resolver(args)?);
    let result = match &args.split {
        Some(dir) => split_all(&mut conversion.data_sets(input), dir),
        None => {
            let output = output_path(args).unwrap_or(Path::new("-"));
            write_one(&mut conversion, input, output).map(|report| vec![report])
        }
    };
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let reports = result?;
    if !args.quiet {
        for w in reports.iter().flat_map(|r| &r.warnings) {
            eprintln!(
                "dcmflow json2dcm: warning: {}: {}",
                args.input.display(),
                spelling::cli(&w.to_string())
            );
        }
        let dropped = reports.last().map_or(0, |r| r.warnings_dropped);
        if dropped > 0 {
            eprintln!(
                "dcmflow json2dcm: warning: {}: {dropped} more warnings not shown",
                args.input.display()
            );
        }
    }
    Ok(())
}

fn bulk_resolver(
    args: &Json2DcmArgs,
) -> Result<Box<dyn dcmflow::json::read::BulkResolver>, Failure> {
    if args.bulk_ignore {
        return Ok(Box::new(IgnoreBulk));
    }
    let json_dir = if args.input == Path::new("-") {
        PathBuf::from(".")
    } else {
        args.input
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or(PathBuf::from("."), Path::to_path_buf)
    };
    let mut resolver = FileResolver::new(&json_dir);
    let dirs = args
        .bulk_dir
        .iter()
        .cloned()
        .chain(args.bulk_json_dir.then(|| json_dir.clone()));
    for dir in dirs {
        resolver.allow(&dir).map_err(|e| {
            Failure::new(
                exit::COMMANDLINE,
                format!("bulk data directory {}: {e}", dir.display()),
            )
        })?;
    }
    Ok(Box::new(resolver))
}

/// The output's buffer. The DICOM writer gathers small writes itself and hands over pieces of 256 KiB or
/// more; `BufWriter` passes a write of at least its capacity straight through, so a buffer smaller than
/// those pieces only gathers what is left (patched lengths, the last piece). At 1 MiB it copied every
/// byte once more: 6% of a 512 MiB InlineBinary conversion.
const OUTPUT_BUFFER: usize = 64 << 10;

/// One data set to `output` (a temporary file renamed into place on success, or standard output).
fn write_one(
    conversion: &mut JsonToDicom,
    input: dcmflow::Input<'_>,
    output: &Path,
) -> Result<Report, Failure> {
    if output == Path::new("-") {
        let mut out = BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout());
        let report = conversion
            .convert(input, dcmflow::Output::stream(&mut out))
            .map_err(failure_of)?;
        out.flush()
            .map_err(|e| Failure::new(exit::CANNOT_WRITE_OUTPUT, format!("writing output: {e}")))?;
        return Ok(report);
    }
    let file = crate::output::Output::create(output).map_err(|e| {
        Failure::new(
            exit::CANNOT_WRITE_OUTPUT,
            format!("cannot write {}: {e}", output.display()),
        )
    })?;
    let mut out = BufWriter::with_capacity(OUTPUT_BUFFER, file.file());
    // A regular file can take lengths patched in afterwards: long InlineBinary is read once.
    let sink = if file.is_seekable() {
        dcmflow::Output::seekable(&mut out)
    } else {
        dcmflow::Output::stream(&mut out)
    };
    let report = conversion.convert(input, sink).map_err(failure_of)?;
    out.into_inner().map_err(|e| {
        Failure::new(
            exit::CANNOT_WRITE_OUTPUT,
            format!("writing {}: {}", output.display(), e.error()),
        )
    })?;
    file.commit().map_err(|e| {
        Failure::new(
            exit::CANNOT_WRITE_OUTPUT,
            format!("cannot write {}: {e}", output.display()),
        )
    })?;
    Ok(report)
}

/// `--split DIR`: each data set of the array to its own file, named by SOP Instance UID or index. On a
/// failure the files already written are removed.
fn split_all(data_sets: &mut DataSets<'_>, dir: &Path) -> Result<Vec<Report>, Failure> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::new(
            exit::CANNOT_WRITE_OUTPUT,
            format!("cannot create {}: {e}", dir.display()),
        )
    })?;
    let mut written: Vec<PathBuf> = Vec::new();
    let mut reports = Vec::new();
    let result = (|| -> Result<(), Failure> {
        loop {
            let index = written.len() + 1;
            let temp = crate::output::temp_beside(&dir.join("x"), None).map_err(|e| {
                Failure::new(exit::CANNOT_WRITE_OUTPUT, format!("{}: {e}", dir.display()))
            })?;
            let mut out = BufWriter::with_capacity(OUTPUT_BUFFER, temp.as_file());
            let converted = data_sets
                .convert_next(dcmflow::Output::seekable(&mut out))
                .map_err(failure_of)?;
            let Some(report) = converted else {
                return Ok(()); // the temporary file is removed as it is dropped
            };
            reports.push(report);
            out.into_inner()
                .map_err(|e| Failure::new(exit::CANNOT_WRITE_OUTPUT, e.error().to_string()))?;
            let name = sop_instance_uid(temp.path())
                .filter(|uid| !written.iter().any(|p| p.ends_with(format!("{uid}.dcm"))))
                .map_or_else(|| format!("{index:06}.dcm"), |uid| format!("{uid}.dcm"));
            let path = dir.join(name);
            temp.persist(&path)
                .map_err(|e| Failure::new(exit::CANNOT_WRITE_OUTPUT, e.error.to_string()))?;
            written.push(path);
        }
    })();
    if result.is_err() {
        for p in &written {
            let _ = std::fs::remove_file(p);
        }
    }
    result.map(|()| reports)
}

/// The (0008,0018) of a file just written, for naming it.
fn sop_instance_uid(path: &Path) -> Option<String> {
    let mut reader =
        dcmflow::dicom::DicomReader::from_reader(File::open(path).ok()?, Default::default());
    let mut in_uid = false;
    let mut depth = 0usize;
    loop {
        match reader.read_token().ok()? {
            dcmflow_core::Token::Element(h) => {
                in_uid = depth == 0 && h.tag == dcmflow_core::Tag::SOP_INSTANCE_UID
            }
            dcmflow_core::Token::Value { bytes, .. } if in_uid => {
                let uid = String::from_utf8_lossy(bytes)
                    .trim_end_matches(['\0', ' '])
                    .to_string();
                let safe = !uid.is_empty() && uid.bytes().all(|b| b.is_ascii_digit() || b == b'.');
                return safe.then_some(uid);
            }
            dcmflow_core::Token::SequenceStart { .. }
            | dcmflow_core::Token::PixelSequenceStart { .. } => depth += 1,
            dcmflow_core::Token::SequenceEnd => depth = depth.saturating_sub(1),
            dcmflow_core::Token::Eof => return None,
            _ => {}
        }
    }
}
