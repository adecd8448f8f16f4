//! `DicomWriter::new_in_memory` swaps values straight into the output `Vec`; its output must equal the
//! ordinary writer's for every syntax, with or without file meta, and whatever chunks the values arrive in
//! (words split across chunks carry over).

use dcmflow_core::{Token, TransferSyntax};
use dcmflow_dicom::{DicomReader, DicomWriter, ReaderOptions, WriterOptions};

fn options(ts: TransferSyntax, part10: bool) -> WriterOptions {
    let mut options = WriterOptions::new(ts);
    options.part10 = part10;
    options.keep_meta = false;
    options
}

fn copy_tokens<W: std::io::Write>(
    data: &[u8],
    chunk_size: usize,
    writer: &mut DicomWriter<W>,
) -> Option<()> {
    let reader_options = ReaderOptions {
        chunk_size,
        ..ReaderOptions::default()
    };
    let mut reader = DicomReader::from_reader(data, reader_options);
    loop {
        let token = reader.read_token().ok()?;
        writer.write_token(&token).ok()?;
        if token == Token::Eof {
            return Some(());
        }
    }
}

fn ordinary(data: &[u8], chunk_size: usize, ts: TransferSyntax, part10: bool) -> Option<Vec<u8>> {
    let mut writer = DicomWriter::new(Vec::new(), options(ts, part10));
    copy_tokens(data, chunk_size, &mut writer)?;
    writer.finish().ok()
}

fn in_memory(data: &[u8], chunk_size: usize, ts: TransferSyntax, part10: bool) -> Vec<u8> {
    let mut out = b"kept".to_vec();
    let mut writer = DicomWriter::new_in_memory(&mut out, options(ts, part10));
    copy_tokens(data, chunk_size, &mut writer).expect("the ordinary writer took it");
    writer.finish().expect("the ordinary writer finished");
    assert_eq!(&out[..4], b"kept", "appends to what the vector held");
    out.split_off(4)
}

#[test]
fn in_memory_output_equals_the_ordinary_writer() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/synthetic");
    let mut compared = 0;
    let mut swapped = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        for ts in [
            TransferSyntax::EXPLICIT_VR_LE,
            TransferSyntax::IMPLICIT_VR_LE,
            TransferSyntax::EXPLICIT_VR_BE,
        ] {
            for part10 in [false, true] {
                for chunk_size in [1, 3, 7, 4096] {
                    let Some(expected) = ordinary(&data, chunk_size, ts, part10) else {
                        continue;
                    };
                    let got = in_memory(&data, chunk_size, ts, part10);
                    assert!(
                        got == expected,
                        "{} {ts:?} part10 {part10} chunk {chunk_size}: output differs",
                        path.display()
                    );
                    compared += 1;
                    swapped += usize::from(ts == TransferSyntax::EXPLICIT_VR_BE);
                }
            }
        }
    }
    assert!(compared >= 200 && swapped >= 60, "{compared} {swapped}");
}
