//! The streaming roofline for InlineBinary JSON → DICOM: read the base64 text of one value (OFFSET and
//! LENGTH into FILE) in 4 MiB chunks, base64-simd-decode each into a reused buffer, write it to standard
//! output. No JSON, no DICOM encoding: the least any converter that streams the value must do.
//! `benches/peers.py --direction json2dcm` finds the value and times this beside the real tools.

use std::io::{self, Read, Seek, SeekFrom, Write};

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, offset, length] = args.as_slice() else {
        eprintln!("usage: roofline_decode FILE OFFSET LENGTH");
        std::process::exit(2);
    };
    let parse = |s: &str| {
        s.parse::<u64>()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    };
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(parse(offset)?))?;
    let mut text = file.take(parse(length)?);
    // A multiple of 4 base64 characters, so no carry is needed between chunks.
    let mut chunk = vec![0u8; 4 << 20];
    let mut decoded = Vec::with_capacity(3 << 20);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    loop {
        let mut filled = 0;
        while filled < chunk.len() {
            let n = text.read(&mut chunk[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            return Ok(());
        }
        decoded.clear();
        dcmflow_simd::append_decoded(&chunk[..filled], &mut decoded)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e:?}")))?;
        out.write_all(&decoded)?;
    }
}
