//! The real-world corpus in `../shared/corpus` (not committed: not ours to ship). Every well-formed file
//! must parse to `Eof` with the same elements (path, tag, VR, length) as pydicom's listing in `expected/`;
//! every file in `malformed/` must give an error or a warning, never a panic.

mod listing;

use std::path::{Path, PathBuf};

use dcmflow_dicom::{DicomReader, ReaderOptions};
use listing::{listing, parse_expected, shared_dir, Line};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Files where pydicom's listing is wrong and ours is right, checked byte by byte. For these only a clean
/// parse to `Eof` is required.
const PYDICOM_WRONG: &[(&str, &str)] = &[
    // (0028,0120) has VR bytes "  " and a 2-byte length of 2 (the next element follows at once); pydicom
    // reads a 4-byte length (139296) and swallows the rest of the file. DCMTK reads it as we do.
    ("fo-dicom/GH179A.dcm", "invalid VR read with 4-byte length"),
    // (0002,0003) is stored with length 0x34 = 52; pydicom's listing says 50.
    ("fo-dicom/GH1376.dcm", "meta element length"),
    // (0008,0016) and (0008,0018) appear twice; pydicom's dict keeps only the last of each.
    (
        "pydicom-3.0.2/palettes/winter.dcm",
        "duplicate elements collapsed",
    ),
];

/// Compares one of our lines with pydicom's. Where pydicom re-encoded a value while reading (`=N`) its
/// stored length is unknown; implicit-VR VRs (`~XX`) are pydicom's dictionary choice, which for the
/// "US or SS"/"OB or OW" entries depends on other elements: any choice the dictionary allows is accepted.
/// pydicom also replaces UN by the dictionary VR (a UN holding a sequence becomes SQ with items); the
/// parser reports what the file says, and resolving UN is `--convert-un`'s job, so those are accepted.
fn line_matches(ours: &Line, theirs: &Line) -> bool {
    if ours.path != theirs.path || ours.tag != theirs.tag {
        return false;
    }
    if ours.vr == "UN" && (theirs.length.starts_with("items=") || theirs.length.starts_with('=')) {
        return true;
    }
    let vr_ok = match theirs.vr.strip_prefix('~') {
        Some(v) => v == ours.vr || ambiguous_allows(&theirs.tag, v, &ours.vr),
        None => theirs.vr == ours.vr,
    };
    let len_ok = theirs.length.starts_with('=') || theirs.length == ours.length;
    vr_ok && len_ok
}

/// Walks both listings; where pydicom expanded a UN into a sequence, its nested lines are skipped.
fn first_difference(ours: &[Line], theirs: &[Line]) -> Option<String> {
    let (mut i, mut j) = (0, 0);
    while i < ours.len() || j < theirs.len() {
        match (ours.get(i), theirs.get(j)) {
            (Some(a), Some(b)) if line_matches(a, b) => {
                i += 1;
                j += 1;
                if a.vr == "UN" && !a.length.starts_with("items=") && b.length.starts_with("items=")
                {
                    let nested = format!("{}{}[", b.path, b.tag);
                    while theirs.get(j).is_some_and(|l| l.path.starts_with(&nested)) {
                        j += 1;
                    }
                }
            }
            (a, b) => {
                return Some(format!(
                    "ours line {} {a:?}, pydicom line {} {b:?}",
                    i + 1,
                    j + 1
                ))
            }
        }
    }
    None
}

fn ambiguous_allows(tag: &str, theirs: &str, ours: &str) -> bool {
    let tag = dcmflow_core::Tag(u32::from_str_radix(tag, 16).unwrap());
    // pydicom may know a private dictionary VR where the parser says UN.
    if ours == "UN" {
        return true;
    }
    let choices: Vec<&str> = theirs.split(" or ").collect();
    choices.contains(&ours)
        || dcmflow_core::dict::tag(tag)
            .is_some_and(|e| e.vrs.len() > 1 && e.vrs.iter().any(|v| v.as_str() == theirs))
}

#[test]
fn every_well_formed_corpus_file_matches_pydicoms_listing() {
    let Some(shared) = shared_dir() else {
        eprintln!(
            "SKIPPED: ../shared/corpus not found (set DCMFLOW_SHARED); corpus conformance not run"
        );
        return;
    };
    let corpus = shared.join("corpus");
    let mut files = Vec::new();
    files_under(&corpus.join("expected"), &mut files);
    let mut failures = Vec::new();
    let mut checked = 0;
    for expected_path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
    {
        let rel = expected_path
            .strip_prefix(corpus.join("expected"))
            .unwrap()
            .with_extension("");
        let dcm = corpus.join(&rel);
        let data = std::fs::read(&dcm).unwrap();
        let expected = parse_expected(&std::fs::read_to_string(expected_path).unwrap());
        let mut reader = DicomReader::from_slice(&data, ReaderOptions::default());
        checked += 1;
        if PYDICOM_WRONG.iter().any(|(f, _)| Path::new(f) == rel) {
            if let Err(e) = listing(&mut reader) {
                failures.push(format!("{}: {e}", rel.display()));
            }
            continue;
        }
        match listing(&mut reader) {
            Err(e) => failures.push(format!("{}: {e}", rel.display())),
            Ok(ours) => {
                if let Some(diff) = first_difference(&ours, &expected) {
                    failures.push(format!("{}: {diff}", rel.display()));
                }
            }
        }
    }
    eprintln!(
        "corpus conformance: {checked} files checked, {} disagree",
        failures.len()
    );
    assert!(checked > 100, "expected listings missing?");
    assert!(
        failures.is_empty(),
        "{} files disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_malformed_file_gives_an_error_or_a_warning() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: ../shared/corpus not found; malformed suite not run");
        return;
    };
    let mut files = Vec::new();
    files_under(&shared.join("corpus/malformed"), &mut files);
    let mut silent = Vec::new();
    for f in &files {
        // Valid per CP-246: a UN of undefined length in a big-endian file holds an Implicit VR LE sequence,
        // which is what it has; pydicom fails on it, DCMTK reads it as we do.
        if f.ends_with("fo-dicom/GH177_D_CLUNIE_CT1_IVRLE_BigEndian_undefined_length.dcm") {
            let data = std::fs::read(f).unwrap();
            let mut reader = DicomReader::from_slice(&data, ReaderOptions::default());
            assert!(
                listing(&mut reader).is_ok(),
                "{} must read as DCMTK reads it",
                f.display()
            );
            continue;
        }
        let data = std::fs::read(f).unwrap();
        let mut reader = DicomReader::from_slice(&data, ReaderOptions::default());
        let outcome = listing(&mut reader);
        if outcome.is_ok() && reader.warnings().is_empty() {
            silent.push(f.display().to_string());
        }
    }
    eprintln!(
        "malformed: {} files, {} read without complaint",
        files.len(),
        silent.len()
    );
    assert!(
        silent.is_empty(),
        "read without error or warning:\n{}",
        silent.join("\n")
    );
}
