//! Implicit VR "US or SS" elements take their VR from Pixel Representation (0028,0103) in scope, as
//! pydicom reads them (PS3.5 A.1: the VR is not in the data; PS3.3 C.7.6.3.1.x: signed when it is 1).

use dcmflow_core::{Tag, Token, TransferSyntax, Vr};
use dcmflow_dicom::{DicomReader, ReaderOptions};

/// Implicit VR LE element.
fn el(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((tag >> 16) as u16).to_le_bytes());
    v.extend_from_slice(&(tag as u16).to_le_bytes());
    v.extend_from_slice(&(value.len() as u32).to_le_bytes());
    v.extend_from_slice(value);
    v
}

fn item(content: Vec<u8>) -> Vec<u8> {
    let mut v = b"\xFE\xFF\x00\xE0".to_vec();
    v.extend_from_slice(&(content.len() as u32).to_le_bytes());
    v.extend(content);
    v
}

/// (tag, VR) of every element, in order, read at chunk size `chunk` from a stream.
fn vrs(data: &[u8], chunk: usize) -> Vec<(u32, Vr)> {
    let options = || ReaderOptions {
        transfer_syntax: Some(TransferSyntax::IMPLICIT_VR_LE),
        chunk_size: chunk,
        ..ReaderOptions::default()
    };
    let mut out = Vec::new();
    for mut reader in [
        DicomReader::from_slice(data, options()),
        DicomReader::from_reader(data, options()),
    ] {
        let mut seen = Vec::new();
        loop {
            match reader.read_token().unwrap() {
                Token::Element(h) => seen.push((h.tag.0, h.vr)),
                Token::SequenceStart { tag, vr, .. } => seen.push((tag.0, vr)),
                Token::Eof => break,
                _ => {}
            }
        }
        if !out.is_empty() {
            assert_eq!(out, seen, "slice and stream disagree");
        }
        out = seen;
    }
    out
}

#[test]
fn pixel_representation_decides_us_or_ss_in_its_scope() {
    let mut data = el(0x0028_0103, &1u16.to_le_bytes()); // signed
    data.extend(el(0x0028_0106, &(-2i16).to_le_bytes())); // Smallest Image Pixel Value: SS
    data.extend(el(0x0028_3002, b"\x00\x10\x00\x80\x10\x00")); // LUT Descriptor: stays US
                                                               // A sequence item with its own Pixel Representation 0, and one without (inherits 1).
    let mut seq = item(
        [
            el(0x0028_0103, &0u16.to_le_bytes()),
            el(0x0028_0120, &7u16.to_le_bytes()),
        ]
        .concat(),
    );
    seq.extend(item(el(0x0028_0120, &(-7i16).to_le_bytes())));
    data.extend(el(0x0028_3010, &seq)); // VOI LUT Sequence (SQ by the dictionary)
    data.extend(el(0x0028_1101, b"\x00\x01\x00\x00\x10\x00")); // Red Palette Color LUT Descriptor: US
    let want = vec![
        (0x0028_0103, Vr::US),
        (0x0028_0106, Vr::SS),
        (0x0028_3002, Vr::US),
        (0x0028_3010, Vr::SQ),
        (0x0028_0103, Vr::US),
        (0x0028_0120, Vr::US),
        (0x0028_0120, Vr::SS),
        (0x0028_1101, Vr::US),
    ];
    for chunk in [1, 3, 4096] {
        assert_eq!(vrs(&data, chunk), want, "chunk {chunk}");
    }
    // Unsigned, or no Pixel Representation at all: US (the dictionary's first choice).
    let mut unsigned = el(0x0028_0103, &0u16.to_le_bytes());
    unsigned.extend(el(0x0028_0106, &2u16.to_le_bytes()));
    assert_eq!(vrs(&unsigned, 4096)[1], (0x0028_0106, Vr::US));
    assert_eq!(
        vrs(&el(0x0028_0106, &2u16.to_le_bytes()), 4096),
        vec![(0x0028_0106, Vr::US)]
    );
    assert_eq!(Tag::PIXEL_REPRESENTATION, Tag(0x0028_0103));
}
