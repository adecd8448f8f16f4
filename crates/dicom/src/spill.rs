//! Staged output moved to an anonymous temporary file, so computed sequence lengths cost bounded memory.
//!
//! A sequence with a computed (explicit) length must be complete before its length is known, and its
//! header comes before it (PS3.5 7.5.1). Rather than holding a whole Per-Frame Functional Groups Sequence
//! in memory, the writer appends its staging buffer here past a threshold, patches lengths in place when
//! sequences and items close, and copies everything to the output once nothing waits for a length.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

#[derive(Debug, Default)]
pub(crate) struct Spill {
    file: Option<File>,
    len: u64,
}

impl Spill {
    /// Bytes held in the file.
    pub fn len(&self) -> u64 {
        self.len
    }

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

    /// Overwrites bytes already appended, at `at` (a length field).
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
