//! The streaming roofline for DICOM → InlineBinary JSON: read the file in 3 MiB chunks, base64 each chunk
//! into a reused buffer, write it to standard output. No parsing, no JSON: the least any converter that
//! inlines the bytes must do. `benches/peers.py` times it beside the real tools.

use std::io::{self, Read, Write};

fn main() -> io::Result<()> {
    let path = std::env::args().nth(1).expect("usage: roofline FILE");
    let mut file = std::fs::File::open(path)?;
    let mut chunk = vec![0u8; 3 << 20];
    let mut encoded = Vec::with_capacity(5 << 20);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    loop {
        // Fill whole chunks (a multiple of 3 bytes) so no carry is needed between them.
        let mut filled = 0;
        while filled < chunk.len() {
            let n = file.read(&mut chunk[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            return Ok(());
        }
        encoded.clear();
        dcmflow_simd::append_encoded(&chunk[..filled], &mut encoded);
        out.write_all(&encoded)?;
    }
}
