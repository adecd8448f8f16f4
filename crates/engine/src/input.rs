//! Where a binary codec's parser gets its bytes: a borrowed slice (zero copy), an `io::Read` through one
//! bounded buffer, or chunks the caller pushes ([`PushInput`]). One small interface over the three:
//!
//! - [`Input::peek`]`(n)`: the next `n` bytes, contiguous, not consumed (fewer only at the end of input);
//!   for headers and fixed-size values, which a parser must see whole before it decides anything.
//! - [`Input::take`]`(max)`: the next 1 to `max` bytes, consumed; for the pieces of a value of any size.
//!   From a slice the piece is the rest of the value, whole; from pushed chunks it is the caller's own
//!   chunk, split off without a copy.
//! - [`Input::mark`] / [`Input::rewind`]: a parser over pushed input marks where each step starts and
//!   goes back there when the step runs out of input ([`InputError::NeedInput`]); the other inputs never
//!   run out, so both are no-ops there.

use std::io::{self, Read};

use bytes::Bytes;

use crate::push::{Need, PushInput};

/// Why bytes could not be had.
#[derive(Debug)]
pub enum InputError {
    /// The pushed bytes ran out and the input has not ended: push more, then retry the step.
    NeedInput,
    /// The `io::Read` failed.
    Io(io::Error),
}

impl From<Need> for InputError {
    fn from(need: Need) -> InputError {
        match need {
            Need::More => InputError::NeedInput,
            // Only after `PushInput::start_inflate`, which no user of this input calls.
            Need::CorruptDeflate(_) => InputError::Io(io::Error::new(
                io::ErrorKind::InvalidData,
                "corrupt deflate",
            )),
        }
    }
}

/// A parser's input. See the module docs.
pub struct Input<'a> {
    kind: Kind<'a>,
    /// The last `take` of a slice or stream: `(start, len)` in the slice or the stream's buffer.
    taken: (usize, usize),
}

enum Kind<'a> {
    Slice { data: &'a [u8], pos: usize },
    Stream(Stream<'a>),
    Push(Box<PushInput>),
}

struct Stream<'a> {
    reader: Box<dyn Read + Send + 'a>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Stream position of `buf[0]`.
    offset: u64,
    eof: bool,
}

impl std::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            Kind::Slice { .. } => "slice",
            Kind::Stream(_) => "stream",
            Kind::Push(_) => "push",
        };
        f.debug_struct("Input")
            .field("kind", &kind)
            .field("position", &self.position())
            .finish()
    }
}

impl<'a> Input<'a> {
    /// Bytes in memory, read in place.
    pub fn from_slice(data: &'a [u8]) -> Input<'a> {
        Input {
            kind: Kind::Slice { data, pos: 0 },
            taken: (0, 0),
        }
    }

    /// A stream, read through a buffer of `chunk` bytes (grown only as far as a `peek` asks).
    pub fn from_reader(reader: impl Read + Send + 'a, chunk: usize) -> Input<'a> {
        Input {
            kind: Kind::Stream(Stream {
                reader: Box::new(reader),
                buf: vec![0; chunk.max(64)],
                start: 0,
                end: 0,
                offset: 0,
                eof: false,
            }),
            taken: (0, 0),
        }
    }

    /// Chunks pushed by the caller ([`Input::push`], [`Input::end_input`]).
    pub fn pushed() -> Input<'static> {
        Input {
            kind: Kind::Push(Box::new(PushInput::new())),
            taken: (0, 0),
        }
    }

    /// Appends a pushed chunk (ignored by the other inputs, which have all their bytes).
    pub fn push(&mut self, chunk: Bytes) {
        if let Kind::Push(p) = &mut self.kind {
            p.push(chunk);
        }
    }

    /// No more chunks will be pushed.
    pub fn end_input(&mut self) {
        if let Kind::Push(p) = &mut self.kind {
            p.end();
        }
    }

    /// Whether this input is fed by pushes.
    pub fn is_pushed(&self) -> bool {
        matches!(self.kind, Kind::Push(_))
    }

    /// The position of the next byte to read.
    pub fn position(&self) -> u64 {
        match &self.kind {
            Kind::Slice { pos, .. } => *pos as u64,
            Kind::Stream(s) => s.offset + s.start as u64,
            Kind::Push(p) => p.position(),
        }
    }

    /// A step starts here (pushed input only).
    #[inline]
    pub fn mark(&mut self) {
        if let Kind::Push(p) = &mut self.kind {
            p.mark();
        }
    }

    /// Back to the last mark (pushed input only).
    #[inline]
    pub fn rewind(&mut self) {
        if let Kind::Push(p) = &mut self.kind {
            p.rewind();
        }
    }

    /// The next `n` bytes without consuming them: exactly `n` unless the input ends first.
    #[inline(always)]
    pub fn peek(&mut self, n: usize) -> Result<&[u8], InputError> {
        match &mut self.kind {
            Kind::Slice { data, pos } => Ok(&data[*pos..(*pos + n).min(data.len())]),
            Kind::Stream(s) => s.peek(n),
            Kind::Push(p) => Ok(p.peek(n)?),
        }
    }

    /// The bytes at hand without reading any: the rest of a slice, a stream's buffer. Pushed input
    /// answers with nothing (its bytes are reached through [`Input::peek`]). A parser tries a whole step
    /// in this window first and falls back to peeks when it is too short.
    #[inline(always)]
    pub fn buffered(&self) -> &[u8] {
        match &self.kind {
            Kind::Slice { data, pos } => &data[*pos..],
            Kind::Stream(s) => &s.buf[s.start..s.end],
            Kind::Push(_) => &[],
        }
    }

    /// Consumes `n` bytes that a preceding [`Input::peek`] returned.
    #[inline]
    pub fn advance(&mut self, n: usize) {
        match &mut self.kind {
            Kind::Slice { pos, .. } => *pos += n,
            Kind::Stream(s) => s.start += n,
            Kind::Push(p) => p.advance(n),
        }
    }

    /// The next 1 to `max` bytes, consumed; an empty slice only at the end of input (or for `max` 0).
    #[inline]
    pub fn take(&mut self, max: usize) -> Result<&[u8], InputError> {
        match &mut self.kind {
            Kind::Slice { data, pos } => {
                let at = *pos;
                let n = max.min(data.len() - at);
                *pos += n;
                self.taken = (at, n);
                Ok(&data[at..at + n])
            }
            Kind::Stream(s) => {
                let (at, n) = s.take(max)?;
                self.taken = (at, n);
                Ok(&s.buf[at..at + n])
            }
            Kind::Push(p) => Ok(p.take(max)?),
        }
    }

    /// The bytes the last [`Input::take`] handed out, again: a parser can decide what they are before
    /// it hands them on. Valid until the next call that reads.
    pub fn last_taken(&self) -> &[u8] {
        let (at, n) = self.taken;
        match &self.kind {
            Kind::Slice { data, .. } => &data[at..at + n],
            Kind::Stream(s) => &s.buf[at..at + n],
            Kind::Push(p) => p.last_taken(),
        }
    }

    /// Whether the input has no byte left. On pushed input that has not ended and holds nothing,
    /// [`InputError::NeedInput`].
    pub fn at_end(&mut self) -> Result<bool, InputError> {
        Ok(self.peek(1)?.is_empty())
    }
}

impl Stream<'_> {
    #[inline]
    fn peek(&mut self, n: usize) -> Result<&[u8], InputError> {
        if self.end - self.start >= n {
            return Ok(&self.buf[self.start..self.start + n]);
        }
        self.peek_refill(n)
    }

    /// [`Stream::peek`] when the buffer holds fewer than `n` bytes: out of line, so the common case
    /// stays a compare and a slice.
    #[inline(never)]
    fn peek_refill(&mut self, n: usize) -> Result<&[u8], InputError> {
        while self.end - self.start < n && !self.eof {
            if self.start > 0 && self.buf.len() - self.start < n {
                // Move the unread bytes to the front; grow only when a peek is wider than the buffer.
                self.buf.copy_within(self.start..self.end, 0);
                self.offset += self.start as u64;
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() < n {
                self.buf.resize(n, 0);
            }
            self.read_some()?;
        }
        let end = self.start + n.min(self.end - self.start);
        Ok(&self.buf[self.start..end])
    }

    /// The next piece: where it is in `buf`.
    fn take(&mut self, max: usize) -> Result<(usize, usize), InputError> {
        if self.start == self.end && !self.eof {
            self.offset += self.start as u64;
            self.start = 0;
            self.end = 0;
            self.read_some()?;
        }
        let n = max.min(self.end - self.start);
        let at = self.start;
        self.start += n;
        Ok((at, n))
    }

    fn read_some(&mut self) -> Result<(), InputError> {
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(InputError::Io(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `data` as a parser would: peeks of `peek` bytes and takes of `take`, alternating.
    fn drain(mut input: Input<'_>, peek: usize, take: usize) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let head = input.peek(peek).unwrap().to_vec();
            if head.is_empty() {
                assert!(input.at_end().unwrap());
                return out;
            }
            out.extend_from_slice(&head);
            input.advance(head.len());
            let piece = input.take(take).unwrap().to_vec();
            assert_eq!(input.last_taken(), piece);
            out.extend_from_slice(&piece);
        }
    }

    #[test]
    fn every_input_gives_the_same_bytes() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for (peek, take) in [(1, 1), (3, 7), (64, 5), (4096, 100_000)] {
            assert_eq!(drain(Input::from_slice(&data), peek, take), data);
            for chunk in [1, 7, 64, 8192] {
                let stream = Input::from_reader(&data[..], chunk);
                assert_eq!(drain(stream, peek, take), data, "{peek} {take} {chunk}");
            }
            let mut pushed = Input::pushed();
            for piece in data.chunks(333) {
                pushed.push(Bytes::copy_from_slice(piece));
            }
            pushed.end_input();
            assert_eq!(drain(pushed, peek, take), data);
        }
    }

    #[test]
    fn pushed_input_runs_out_and_rewinds() {
        let mut input = Input::pushed();
        input.push(Bytes::from_static(b"abc"));
        input.mark();
        assert_eq!(input.peek(2).unwrap(), b"ab");
        input.advance(2);
        assert!(matches!(input.peek(2), Err(InputError::NeedInput)));
        input.rewind();
        input.push(Bytes::from_static(b"d"));
        assert_eq!(input.peek(4).unwrap(), b"abcd");
        assert_eq!(input.position(), 0);
    }
}
