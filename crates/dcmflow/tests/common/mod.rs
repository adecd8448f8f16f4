//! Helpers shared by the integration tests: an output that fails.
#![allow(dead_code)]

/// An output that fails once it has taken `room` bytes.
pub struct FailingOutput {
    pub room: usize,
}

impl std::io::Write for FailingOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.room {
            return Err(std::io::Error::other("disk full"));
        }
        self.room -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
