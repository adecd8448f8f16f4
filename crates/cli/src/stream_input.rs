//! The input of the commands that read one stream (`bson2json`, `json2bson`): a file or standard input,
//! gunzipped when it is gzip.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// The input and its size on disk.
pub fn open(path: &Path) -> io::Result<(Box<dyn Read + Send>, Option<u64>)> {
    if path == Path::new("-") {
        return Ok((Box::new(io::stdin()), None));
    }
    let file = File::open(path)?;
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    Ok((Box::new(file), size))
}

/// The input, gunzipped when it starts with gzip's magic bytes (mongodump --gzip).
pub fn gunzip_if_gzip(raw: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
    let mut buffered = BufReader::with_capacity(1 << 16, raw);
    // RFC 1952 2.3.1: ID1 ID2 = 0x1f 0x8b.
    if buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
    } else {
        Ok(Box::new(buffered))
    }
}
