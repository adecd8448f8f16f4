//! Held-back output moved to an anonymous temporary file, so a length that is not known yet costs bounded
//! memory.
//!
//! Binary formats put a container's length before its content (a DICOM sequence, a BSON document). When
//! the output cannot be patched in place (a pipe), a writer holds the container's bytes until it ends;
//! past a threshold it appends them here instead, patches length fields in place as containers close, and
//! copies everything to the output once nothing waits for a length. The file is created on first use and
//! removed by the operating system when dropped.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Bytes appended in order to an anonymous temporary file, patchable until drained.
#[derive(Debug, Default)]
pub struct Spill {
    file: Option<File>,
    len: u64,
}

impl Spill {
    /// Bytes held in the file.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `bytes` after those held, creating the file on first use.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = match self.file.as_mut() {
            Some(f) => f,
            None => self.file.insert(tempfile::tempfile()?),
        };
        file.seek(SeekFrom::Start(self.len))?;
        file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Overwrites bytes already appended, at offset `at` from the first byte held (a length field).
    pub fn patch(&mut self, at: u64, bytes: &[u8]) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .filter(|_| at + bytes.len() as u64 <= self.len)
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "patch outside the spill")
            })?;
        file.seek(SeekFrom::Start(at))?;
        file.write_all(bytes)
    }

    /// Copies everything held to `out` and empties the file (it is reused).
    pub fn drain_into(&mut self, out: &mut dyn Write) -> io::Result<u64> {
        let Some(file) = self.file.as_mut() else {
            return Ok(0);
        };
        file.seek(SeekFrom::Start(0))?;
        let copied = io::copy(&mut (&mut *file).take(self.len), out)?;
        if copied != self.len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "spill file shrank",
            ));
        }
        file.set_len(0)?;
        self.len = 0;
        Ok(copied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_patches_and_drains() {
        let mut spill = Spill::default();
        spill.append(b"abcd").unwrap();
        spill.append(b"efgh").unwrap();
        spill.patch(2, b"XY").unwrap();
        assert!(spill.patch(7, b"XY").is_err());
        let mut out = Vec::new();
        assert_eq!(spill.drain_into(&mut out).unwrap(), 8);
        assert_eq!(out, b"abXYefgh");
        spill.append(b"z").unwrap();
        out.clear();
        spill.drain_into(&mut out).unwrap();
        assert_eq!(out, b"z");
    }
}
