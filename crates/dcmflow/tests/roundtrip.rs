//! DICOM → DICOM: the same syntax gives the same bytes; every other uncompressed syntax and back gives
//! the same elements and values.

use std::path::{Path, PathBuf};

use dcmflow::dicom::{DicomReader, LengthMode, ReaderOptions};
use dcmflow::{convert, ConvertOptions};
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
    let report = match convert(data, &mut same, &ConvertOptions::default()) {
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
    let deflated = report.source.is_some_and(|s| s.deflated);
    if is_part10 && report.warnings.is_empty() && !byte_identical && !deflated {
        return Err(format!(
            "{}: same-syntax output differs from input",
            path.display()
        ));
    }
    let source = report.source.unwrap();
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
            let to = ConvertOptions {
                transfer_syntax: Some(target),
                lengths,
                ..Default::default()
            };
            convert(data, &mut there, &to)
                .map_err(|e| format!("{}: to {}: {e}", path.display(), target.name))?;
            let mut back = Vec::new();
            let from = ConvertOptions {
                transfer_syntax: Some(source),
                lengths,
                ..Default::default()
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
    let shared = std::env::var_os("DCMFLOW_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let corpus = shared.join("corpus");
    if !corpus.is_dir() {
        eprintln!("SKIPPED: ../shared/corpus not found; real-file round trips not run");
        return;
    }
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
