//! DICOM → DICOM: the same syntax gives the same bytes; every other uncompressed syntax and back gives
//! the same elements and values.

use std::path::{Path, PathBuf};

use dcmflow::dicom::{DicomReader, LengthMode, ReaderOptions};
use dcmflow::{Output, Transcode, TranscodeOptions};

/// DICOM → DICOM of `data` into `output`.
fn convert<'o>(
    data: &[u8],
    output: impl Into<Output<'o>>,
    options: &TranscodeOptions,
) -> Result<dcmflow::Report, dcmflow::Error> {
    Transcode::new(options.clone()).convert(data, output)
}
use dcmflow_core::{Token, TransferSyntax};

/// One element as (path, tag, value bytes in little-endian order); sequences/items as markers without
/// their lengths (which legitimately change between syntaxes and length modes).
fn elements(data: &[u8]) -> (Vec<(String, u32, Vec<u8>)>, bool) {
    let mut reader = DicomReader::from_slice(data, ReaderOptions::default());
    let mut out = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut current: Option<(u32, usize, Vec<u8>)> = None;
    let mut big = false;
    // CP-246 sequences hold Implicit VR LE whatever the file's byte order.
    let mut little_inside: Vec<bool> = Vec::new();
    loop {
        match reader.read_token().expect("converted output reads back") {
            Token::Eof => break,
            Token::Element(h) => {
                big = h.tag.group() != 2
                    && reader.encoding().big_endian
                    && !little_inside.iter().any(|&l| l);
                current = Some((h.tag.0, h.vr.swap_unit(), Vec::new()));
            }
            Token::Value { bytes, last } => {
                if let Some((_, _, v)) = current.as_mut() {
                    v.extend_from_slice(bytes);
                }
                if last {
                    if let Some((tag, unit, mut v)) = current.take() {
                        if big && unit > 1 {
                            v.chunks_exact_mut(unit).for_each(|w| w.reverse());
                        }
                        // Group lengths are dropped when header sizes change; file meta is regenerated.
                        if tag & 0xFFFF != 0 && tag >> 16 != 2 {
                            out.push((path.join("/"), tag, v));
                        }
                    }
                }
            }
            Token::SequenceStart { tag, vr, .. } => {
                out.push((path.join("/"), tag.0, b"SQ".to_vec()));
                path.push(format!("{:08X}", tag.0));
                little_inside.push(vr.as_str() == "UN");
            }
            Token::PixelSequenceStart { tag, .. } => {
                out.push((path.join("/"), tag.0, b"PIXELS".to_vec()));
                path.push(format!("{:08X}", tag.0));
                little_inside.push(false);
            }
            Token::ItemStart { .. } => {
                out.push((path.join("/"), 0xFFFE_E000, Vec::new()));
                current = Some((0xFFFE_E000, 1, Vec::new()));
            }
            Token::ItemEnd => {
                current = None;
            }
            Token::SequenceEnd => {
                path.pop();
                little_inside.pop();
            }
        }
    }
    (out, reader.warnings().is_empty())
}

fn synthetic_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/synthetic");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

const UNCOMPRESSED: [TransferSyntax; 4] = [
    TransferSyntax::IMPLICIT_VR_LE,
    TransferSyntax::EXPLICIT_VR_LE,
    TransferSyntax::EXPLICIT_VR_BE,
    TransferSyntax::DEFLATED_EXPLICIT_VR_LE,
];

fn check_file(path: &Path, data: &[u8]) -> Result<Option<bool>, String> {
    let mut same = Vec::new();
    let report = match convert(data, &mut same, &TranscodeOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            return Err(format!(
                "{}: same-syntax convert failed: {e}",
                path.display()
            ))
        }
    };
    let is_part10 = data.len() > 132 && &data[128..132] == b"DICM";
    let byte_identical = same == data;
    // A deflated file re-deflates to other (equally valid) bytes: its inflated content is compared below.
    let deflated = report.source_transfer_syntax.is_some_and(|s| s.deflated);
    if is_part10 && report.warnings.is_empty() && !byte_identical && !deflated {
        return Err(format!(
            "{}: same-syntax output differs from input",
            path.display()
        ));
    }
    let source = report.source_transfer_syntax.unwrap();
    if !source.is_uncompressed() {
        return Ok(Some(byte_identical));
    }
    let (original, _) = elements(data);
    for target in UNCOMPRESSED {
        for lengths in [
            LengthMode::Keep,
            LengthMode::Undefined,
            LengthMode::Explicit,
        ] {
            let mut there = Vec::new();
            let to = {
                let mut o = TranscodeOptions::default();
                o.transfer_syntax = Some(target);
                o.lengths = lengths;
                o
            };
            convert(data, &mut there, &to)
                .map_err(|e| format!("{}: to {}: {e}", path.display(), target.name))?;
            let mut back = Vec::new();
            let from = {
                let mut o = TranscodeOptions::default();
                o.transfer_syntax = Some(source);
                o.lengths = lengths;
                o
            };
            convert(&there[..], &mut back, &from)
                .map_err(|e| format!("{}: back from {}: {e}", path.display(), target.name))?;
            let (there_elements, _) = elements(&there);
            let (back_elements, _) = elements(&back);
            if there_elements != original || back_elements != original {
                return Err(format!(
                    "{}: values differ via {} ({lengths:?})",
                    path.display(),
                    target.name
                ));
            }
        }
    }
    Ok(Some(byte_identical))
}

#[test]
fn synthetic_corpus_round_trips() {
    let mut failures = Vec::new();
    for f in synthetic_files() {
        if let Err(e) = check_file(&f, &std::fs::read(&f).unwrap()) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shared_corpus_round_trips() {
    let Some(shared) = dcmflow_testkit::shared_dir() else {
        eprintln!("SKIPPED: ../shared/corpus not found; real-file round trips not run");
        return;
    };
    let corpus = shared.join("corpus");
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let mut failures = Vec::new();
    let (mut files, mut identical) = (0, 0);
    for line in manifest.lines().skip(1) {
        let rel = line.split('\t').next().unwrap();
        if rel.starts_with("malformed/") || rel.is_empty() {
            continue;
        }
        let path = corpus.join(rel);
        let data = std::fs::read(&path).unwrap();
        files += 1;
        match check_file(&path, &data) {
            Ok(Some(true)) => identical += 1,
            Ok(_) => {}
            Err(e) => failures.push(e),
        }
    }
    eprintln!(
        "round trips: {files} files, {identical} byte-identical in their own syntax, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A PS3.10 file (Explicit VR LE) whose data set is (0040,0260) SQ of defined length `sq_len` holding one
/// item of defined length `item_len`, with `content` inside the item.
fn defined_length_sequence(sq_len: u32, item_len: u32, content: &[u8]) -> Vec<u8> {
    fn meta_element(meta: &mut Vec<u8>, element: u8, value: &[u8]) {
        meta.extend_from_slice(&[0x02, 0x00, element, 0x00, b'U', b'I']);
        meta.extend_from_slice(&(value.len() as u16).to_le_bytes());
        meta.extend_from_slice(value);
    }
    let mut meta = vec![0x02, 0x00, 0x01, 0x00, b'O', b'B', 0, 0, 2, 0, 0, 0, 0, 1];
    meta_element(&mut meta, 0x02, b"1.2.840.10008.5.1.4.1.1.7\0");
    meta_element(&mut meta, 0x03, b"1.2.3.4");
    meta_element(&mut meta, 0x10, b"1.2.840.10008.1.2.1\0");
    let mut d = vec![0; 128];
    d.extend_from_slice(b"DICM");
    d.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 4, 0]);
    d.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    d.extend_from_slice(&meta);
    d.extend_from_slice(&[0x40, 0x00, 0x60, 0x02, b'S', b'Q', 0, 0]);
    d.extend_from_slice(&sq_len.to_le_bytes());
    d.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
    d.extend_from_slice(&item_len.to_le_bytes());
    d.extend_from_slice(content);
    d
}

/// (0008,0100) SH "CODE01" in Explicit VR LE: 14 bytes.
const SH_CODE: [u8; 14] = [
    0x08, 0x00, 0x00, 0x01, b'S', b'H', 6, 0, b'C', b'O', b'D', b'E', b'0', b'1',
];

/// Converts with lengths kept into a file (patchable) and, when `also_in_memory`, into a plain stream;
/// checks the output reads back without a warning to the same elements, the same either way.
fn kept_lengths_read_back(data: &[u8], also_in_memory: bool) {
    use std::io::{Read, Seek, SeekFrom};
    let options = {
        let mut o = TranscodeOptions::default();
        o.transfer_syntax = Some(TransferSyntax::EXPLICIT_VR_LE);
        o.lengths = LengthMode::Keep;
        o
    };
    let mut file = tempfile::tempfile().unwrap();
    let report = Transcode::new(options.clone())
        .convert(dcmflow::Input::reader(data), &mut file)
        .expect("converts");
    assert!(
        !report.warnings.is_empty(),
        "the reader reports its recovery"
    );
    let mut written = Vec::new();
    file.seek(SeekFrom::Start(0)).unwrap();
    file.read_to_end(&mut written).unwrap();
    let (original, _) = elements(data);
    let (read_back, clean) = elements(&written);
    assert!(clean, "our output reads back without a warning");
    assert_eq!(read_back, original);
    if also_in_memory {
        let mut streamed = Vec::new();
        convert(data, &mut streamed, &options).expect("converts into a stream");
        assert_eq!(
            streamed, written,
            "corrected in the writer's buffer as in the file"
        );
    }
}

#[test]
fn a_defined_length_the_input_does_not_fill_is_corrected() {
    // The item and its sequence claim 1000 bytes; the input ends after one element (truncated file).
    kept_lengths_read_back(&defined_length_sequence(1008, 1000, &SH_CODE), true);
    // The fuzz find: nested undefined-length sequences around such an item, delimiters with bad VR bytes.
    let find = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus/regressions/roundtrip_truncated_defined_item.dcm");
    let data = std::fs::read(find).unwrap();
    let options = {
        let mut o = TranscodeOptions::default();
        o.transfer_syntax = Some(TransferSyntax::EXPLICIT_VR_LE);
        o
    };
    let mut once = Vec::new();
    convert(&data[..], &mut once, &options).expect("converts");
    let mut twice = Vec::new();
    convert(&once[..], &mut twice, &options).expect("our own output reads back");
    assert_eq!(once, twice);
}

#[test]
fn an_element_overrunning_its_item_extends_the_written_lengths() {
    // The item says 8 bytes, its one element takes 14: the reader extends the item (and sequence).
    let mut data = defined_length_sequence(16, 8, &SH_CODE);
    data.extend_from_slice(&[0x10, 0x00, 0x10, 0x00, b'P', b'N', 2, 0, b'A', b' ']);
    kept_lengths_read_back(&data, true);
}

#[test]
fn a_length_already_streamed_out_is_an_error_not_a_broken_file() {
    // 300 KiB inside an item that claims 1 MiB, into a plain stream: the item's length field has left
    // the writer's buffer by the time the item ends, so it cannot be corrected.
    let mut content = vec![0x09, 0x00, 0x10, 0x00, b'O', b'B', 0, 0];
    content.extend_from_slice(&(300u32 * 1024).to_le_bytes());
    content.resize(content.len() + 300 * 1024, 0xAB);
    let data = defined_length_sequence(1 << 20, (1 << 20) - 8, &content);
    let options = {
        let mut o = TranscodeOptions::default();
        o.transfer_syntax = Some(TransferSyntax::EXPLICIT_VR_LE);
        o
    };
    let mut sink = Vec::new();
    let err = convert(&data[..], Output::stream(&mut sink), &options)
        .expect_err("a length that no longer holds cannot be left in the output");
    assert!(
        err.to_string()
            .contains("defined length kept from the input"),
        "{err}"
    );
    // Into a file it is patched.
    kept_lengths_read_back(&data, false);
}

#[test]
fn a_group_0002_sequence_first_in_the_data_set_is_refused_not_written_as_file_meta() {
    // The roundtrip fuzz find: a bare Implicit VR data set whose first element, (0002,0000), has an
    // undefined length (so it is a sequence). Written after a file meta, readers took it for meta.
    let find = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus/regressions/roundtrip_group2_sequence_first.dcm");
    let data = std::fs::read(find).unwrap();
    let options = {
        let mut o = TranscodeOptions::default();
        o.transfer_syntax = Some(TransferSyntax::EXPLICIT_VR_LE);
        o
    };
    let err = convert(&data[..], &mut Vec::new(), &options).expect_err("cannot be PS3.10");
    assert!(
        err.to_string().contains("(0002,0000) is a sequence"),
        "{err}"
    );
    // As a bare data set it is written, and reads back.
    let bare = {
        let mut o = options;
        o.part10 = false;
        o
    };
    // Nor as a bare data set: its first header spells a VR, so readers take it for file meta too.
    convert(&data[..], &mut Vec::new(), &bare).expect_err("not as a bare data set either");
}
