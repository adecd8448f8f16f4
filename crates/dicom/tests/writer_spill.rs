//! Computed sequence lengths with the held-back output spilled to a temporary file, or written out and
//! patched in a seekable output (`DicomWriter::new_seekable`), give the same bytes as with everything held
//! in memory (`WriterOptions::spill_at`).

use dcmflow_core::{Token, TransferSyntax};
use dcmflow_dicom::{DicomReader, DicomWriter, LengthMode, ReaderOptions, WriterOptions};

fn rewrite(data: &[u8], spill_at: usize, ts: TransferSyntax) -> Option<Vec<u8>> {
    rewrite_with(data, spill_at, ts, false, false)
}

fn rewrite_with(
    data: &[u8],
    spill_at: usize,
    ts: TransferSyntax,
    part10: bool,
    seekable: bool,
) -> Option<Vec<u8>> {
    let mut reader = DicomReader::from_slice(data, ReaderOptions::default());
    let mut options = WriterOptions::new(ts);
    options.lengths = LengthMode::Explicit;
    options.part10 = part10;
    options.keep_meta = false;
    options.spill_at = spill_at;
    // A seekable output that does not start at 0: patches are relative to where the writer began.
    let mut out = std::io::Cursor::new(b"prefix".to_vec());
    out.set_position(6);
    let mut writer = if seekable {
        DicomWriter::new_seekable(out, options).ok()?
    } else {
        DicomWriter::new(out, options)
    };
    loop {
        let token = reader.read_token().ok()?;
        writer.write_token(&token).ok()?;
        if token == Token::Eof {
            break;
        }
    }
    let out = writer.finish().ok()?.into_inner();
    assert_eq!(&out[..6], b"prefix");
    Some(out[6..].to_vec())
}

/// A bare Explicit VR LE data set: one sequence of `items` items of undefined length, each holding a
/// nested sequence and a 1000-byte OB value, so the sequence is far larger than the spill threshold.
fn long_sequence(items: usize) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(b"\x08\x00\x60\x00CS\x02\x00MR");
    d.extend_from_slice(b"\x00\x52\x30\x92SQ\x00\x00\xFF\xFF\xFF\xFF");
    for i in 0..items {
        d.extend_from_slice(b"\xFE\xFF\x00\xE0\xFF\xFF\xFF\xFF");
        d.extend_from_slice(b"\x20\x00\x11\x91SQ\x00\x00\xFF\xFF\xFF\xFF");
        d.extend_from_slice(b"\xFE\xFF\x00\xE0\xFF\xFF\xFF\xFF");
        d.extend_from_slice(b"\x20\x00\x57\x91UL\x04\x00");
        d.extend_from_slice(&(i as u32).to_le_bytes());
        d.extend_from_slice(b"\xFE\xFF\x0D\xE0\x00\x00\x00\x00");
        d.extend_from_slice(b"\xFE\xFF\xDD\xE0\x00\x00\x00\x00");
        d.extend_from_slice(b"\x09\x00\x10\x10OB\x00\x00\xE8\x03\x00\x00");
        d.extend(std::iter::repeat_n(i as u8, 1000));
        d.extend_from_slice(b"\xFE\xFF\x0D\xE0\x00\x00\x00\x00");
    }
    d.extend_from_slice(b"\xFE\xFF\xDD\xE0\x00\x00\x00\x00");
    d.extend_from_slice(b"\x10\x00\x10\x00PN\x04\x00Doe^");
    d
}

#[test]
fn spilled_output_equals_held_output() {
    let data = long_sequence(3000);
    for ts in [
        TransferSyntax::EXPLICIT_VR_LE,
        TransferSyntax::IMPLICIT_VR_LE,
        TransferSyntax::EXPLICIT_VR_BE,
    ] {
        let held = rewrite(&data, usize::MAX, ts).unwrap();
        for spill_at in [1, 4096, 1 << 20] {
            let spilled = rewrite(&data, spill_at, ts).unwrap();
            assert!(
                held == spilled,
                "{ts:?} spill_at {spill_at}: output differs"
            );
        }
    }
    // The lengths are right: the output reads back to the same tokens as the input.
    let held = rewrite(&data, 1, TransferSyntax::EXPLICIT_VR_LE).unwrap();
    let again = rewrite(&held, usize::MAX, TransferSyntax::EXPLICIT_VR_LE).unwrap();
    assert!(held == again);
    assert!(held.len() > 3_000_000);
}

#[test]
fn seekable_output_patches_to_the_same_bytes() {
    // The sequence first, as (0008,0006), and over META_WAIT_LIMIT (4 MiB): with part10 the meta waits for
    // SOP UIDs and is written mid-sequence, which moves the lengths to patch behind it.
    let mut data = long_sequence(6000);
    data.drain(..10);
    data[..4].copy_from_slice(b"\x08\x00\x06\x00");
    for ts in [
        TransferSyntax::EXPLICIT_VR_LE,
        TransferSyntax::IMPLICIT_VR_LE,
        TransferSyntax::EXPLICIT_VR_BE,
    ] {
        for part10 in [false, true] {
            let held = rewrite_with(&data, usize::MAX, ts, part10, false).unwrap();
            for spill_at in [1, 4096, 1 << 20] {
                let patched = rewrite_with(&data, spill_at, ts, part10, true).unwrap();
                assert!(
                    held == patched,
                    "{ts:?} part10 {part10} spill_at {spill_at}: output differs"
                );
            }
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/synthetic");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        for part10 in [false, true] {
            let ts = TransferSyntax::EXPLICIT_VR_LE;
            let Some(held) = rewrite_with(&data, usize::MAX, ts, part10, false) else {
                continue;
            };
            assert!(rewrite_with(&data, 1, ts, part10, true).unwrap() == held);
            checked += 1;
        }
    }
    assert!(checked >= 20);
}

#[test]
fn synthetic_corpus_spills_to_the_same_bytes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/synthetic");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let Some(held) = rewrite(&data, usize::MAX, TransferSyntax::EXPLICIT_VR_LE) else {
            continue;
        };
        assert!(rewrite(&data, 1, TransferSyntax::EXPLICIT_VR_LE).unwrap() == held);
        checked += 1;
    }
    assert!(checked >= 10);
}
