//! Input generators shared by the benchmarks: realistic shapes, built in memory at bench start; and a
//! counting output sink.

use std::io::{self, Write};

/// Counts bytes, keeps the first few for a sanity check.
#[derive(Default, Debug)]
pub struct Sink {
    pub written: u64,
    pub head: Vec<u8>,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.head.len() < 64 {
            let n = (64 - self.head.len()).min(buf.len());
            self.head.extend_from_slice(&buf[..n]);
        }
        self.written += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Explicit VR LE element header + value.
fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(vr);
    let long = matches!(
        vr,
        b"OB"
            | b"OW"
            | b"SQ"
            | b"UN"
            | b"UT"
            | b"OF"
            | b"OD"
            | b"OL"
            | b"OV"
            | b"UC"
            | b"UR"
            | b"SV"
            | b"UV"
    );
    if long {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(value);
}

fn item_undefined(out: &mut Vec<u8>, content: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
    content(out);
    out.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
}

fn sequence_undefined(out: &mut Vec<u8>, group: u16, elem: u16, items: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(b"SQ\0\0\xFF\xFF\xFF\xFF");
    items(out);
    out.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
}

/// A bare Explicit VR LE data set shaped like an Enhanced MR header: a Per-Frame Functional Groups
/// Sequence with `frames` items, each with a few nested functional-group sequences.
pub fn metadata_heavy(frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    element(
        &mut out,
        0x0008,
        0x0016,
        b"UI",
        b"1.2.840.10008.5.1.4.1.1.4.1\0",
    );
    element(&mut out, 0x0010, 0x0010, b"PN", b"Bench^Metadata");
    sequence_undefined(&mut out, 0x5200, 0x9230, |out| {
        for i in 0..frames {
            item_undefined(out, |out| {
                sequence_undefined(out, 0x0020, 0x9111, |out| {
                    item_undefined(out, |out| {
                        element(out, 0x0018, 0x9151, b"DT", b"20261121120000.000000 ");
                        element(
                            out,
                            0x0020,
                            0x9157,
                            b"UL",
                            &[(i as u32).to_le_bytes(), 1u32.to_le_bytes()].concat(),
                        );
                    })
                });
                sequence_undefined(out, 0x0020, 0x9113, |out| {
                    item_undefined(out, |out| {
                        element(out, 0x0020, 0x0032, b"DS", b"-125.5\\-130.25\\42.75 ")
                    })
                });
                sequence_undefined(out, 0x0028, 0x9110, |out| {
                    item_undefined(out, |out| {
                        element(out, 0x0028, 0x0030, b"DS", b"0.9765625\\0.9765625 ")
                    })
                });
            })
        }
    });
    out
}

/// A bare Explicit VR LE data set with one OW Pixel Data value of `bytes` bytes.
pub fn pixel_heavy(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 64);
    element(&mut out, 0x0028, 0x0100, b"US", &16u16.to_le_bytes());
    out.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0]);
    out.extend_from_slice(&(bytes as u32).to_le_bytes());
    out.extend((0..bytes).map(|i| (i * 7) as u8));
    out
}

/// Options converting on one thread (the benches compare one path at a time).
pub fn to_json_options() -> dcmflow::ToJsonOptions {
    let mut options = dcmflow::ToJsonOptions::default();
    options.threads = dcmflow::Threads::One;
    options
}

/// Options converting on one thread.
pub fn to_dicom_options() -> dcmflow::ToDicomOptions {
    let mut options = dcmflow::ToDicomOptions::default();
    options.threads = dcmflow::Threads::One;
    options
}

/// DICOM → JSON of `input` into `sink` on one thread.
pub fn dicom_to_json<'i>(input: impl Into<dcmflow::Input<'i>>, sink: &mut (dyn Write + Send)) {
    dcmflow::DicomToJson::new(to_json_options())
        .convert(input, dcmflow::Output::stream(sink))
        .unwrap();
}
