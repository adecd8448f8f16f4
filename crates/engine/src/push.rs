//! Push input: the caller hands over chunks of bytes as they arrive (`bytes::Bytes` from a network stack,
//! or slices) and a parser pulls from them, told "need more input" where a pull source would block.
//!
//! A parser built for pull input asks for bytes in two ways: `peek(n)` (a header it must see whole before
//! it decides anything) and `take(max)` (the next piece of a value, any non-empty length will do). Over
//! pushed chunks:
//!
//! - `take` hands out the caller's own chunk, split off without a copy, whenever no bytes of an earlier
//!   chunk are pending; a value of any size is never copied or held whole.
//! - `peek` needs contiguous bytes, so a header that straddles two chunks is copied into a small carry
//!   buffer (at most the peek size plus what the parser consumed since its last mark).
//! - When a peek cannot be satisfied and the input has not ended, the parser gets [`Need::More`] and
//!   rewinds to its last [`PushInput::mark`]: everything peeked and consumed since the mark is still in
//!   the carry buffer, so the step is simply tried again once more input has been pushed. A `take`
//!   commits (a value piece handed out is never read again).
//!
//! A raw deflate stream can take over at any position ([`PushInput::start_inflate`]); from there on the
//! parser sees inflated bytes and positions count them.

use std::collections::VecDeque;

use bytes::{Buf, Bytes};
use flate2::{Decompress, FlushDecompress, Status};

/// Why a request for bytes could not be met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The pushed bytes run out before the request and the input has not ended: push more, then retry
    /// from the last mark.
    More,
    /// The inflated stream is corrupt (only after [`PushInput::start_inflate`]); at this position.
    CorruptDeflate(u64),
}

/// Bytes pushed by the caller, read by a parser with marks to rewind to. See the module docs.
#[derive(Debug, Default)]
pub struct PushInput {
    /// Bytes copied out of chunks (headers that straddled chunks, inflated output); `carry[..start]` has
    /// been consumed, `carry[..mark]` can be dropped.
    carry: Vec<u8>,
    start: usize,
    mark: usize,
    /// Stream position of `carry[0]`.
    carry_offset: u64,
    /// Chunks not yet read from (raw deflate input once inflating).
    chunks: VecDeque<Bytes>,
    /// Bytes left in `chunks` (not counted once inflating: raw bytes say nothing of inflated ones).
    pending: usize,
    /// The piece of a chunk handed out by the last `take`.
    taken: Bytes,
    /// Where the last `take` was served from the carry buffer instead: `carry[at..at + n]`.
    taken_from_carry: Option<(usize, usize)>,
    ended: bool,
    inflater: Option<Inflater>,
}

struct Inflater {
    state: Decompress,
    done: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Inflated bytes are produced in pieces of this size.
const INFLATE_PIECE: usize = 64 * 1024;

impl PushInput {
    /// An empty input, waiting for chunks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a chunk. An empty chunk is ignored (the end of input is [`PushInput::end`]).
    pub fn push(&mut self, chunk: Bytes) {
        debug_assert!(!self.ended, "push after end");
        if !chunk.is_empty() {
            if self.inflater.is_none() {
                self.pending += chunk.len();
            }
            self.chunks.push_back(chunk);
        }
    }

    /// No more chunks will come: requests that cannot be met now see the end of input.
    pub fn end(&mut self) {
        self.ended = true;
    }

    /// Whether [`PushInput::end`] was called.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The stream position of the next byte to read.
    pub fn position(&self) -> u64 {
        self.carry_offset + self.start as u64
    }

    /// The parser is between steps here: a later [`PushInput::rewind`] comes back to this position, and
    /// bytes before it are no longer kept.
    pub fn mark(&mut self) {
        self.mark = self.start;
        if self.mark == self.carry.len() {
            self.carry_offset += self.carry.len() as u64;
            self.carry.clear();
            self.start = 0;
            self.mark = 0;
        }
    }

    /// Back to the last mark (a step ran out of input half way).
    pub fn rewind(&mut self) {
        self.start = self.mark;
    }

    fn buffered(&self) -> usize {
        self.carry.len() - self.start
    }

    /// Whether at least `n` bytes can be read without more being pushed (known only before inflation).
    pub fn holds_at_least(&self, n: usize) -> bool {
        self.buffered() >= n || (self.inflater.is_none() && self.buffered() + self.pending >= n)
    }

    /// Up to `n` bytes without consuming them: exactly `n` unless the input has ended.
    pub fn peek(&mut self, n: usize) -> Result<&[u8], Need> {
        self.fill(n)?;
        let end = self.start + n.min(self.buffered());
        Ok(&self.carry[self.start..end])
    }

    /// Consumes `n` bytes a preceding [`PushInput::peek`] returned.
    pub fn advance(&mut self, n: usize) {
        debug_assert!(n <= self.buffered());
        self.start += n;
    }

    /// The next 1 to `max` bytes of a value, without a copy where they are still in the caller's chunk.
    /// `Ok` of an empty slice means the input has ended. Taking commits: the mark moves past the bytes
    /// taken (a value piece handed out is never read again).
    pub fn take(&mut self, max: usize) -> Result<&[u8], Need> {
        if self.buffered() == 0 && self.inflater.is_none() {
            while self.chunks.front().is_some_and(Bytes::is_empty) {
                self.chunks.pop_front();
            }
            if let Some(front) = self.chunks.front_mut() {
                // Nothing pending in the carry buffer: serve straight from the caller's chunk. The
                // carry is dropped only now that the take succeeds (it commits), so a take that finds
                // no input leaves the bytes since the mark for a rewind.
                self.carry_offset += self.carry.len() as u64;
                self.carry.clear();
                self.start = 0;
                self.mark = 0;
                let n = max.min(front.len());
                self.taken = front.split_to(n);
                self.taken_from_carry = None;
                self.pending -= n;
                self.carry_offset += n as u64;
                return Ok(&self.taken);
            }
        }
        self.fill(1)?;
        let n = max.min(self.buffered());
        let at = self.start;
        self.start += n;
        self.mark = self.start;
        self.taken_from_carry = Some((at, n));
        Ok(&self.carry[at..at + n])
    }

    /// The bytes the last [`PushInput::take`] handed out, again (valid until the next call that reads).
    pub fn last_taken(&self) -> &[u8] {
        match self.taken_from_carry {
            Some((at, n)) => &self.carry[at..at + n],
            None => &self.taken,
        }
    }

    /// From the current position on, the input is a raw deflate stream (RFC 1951, no header).
    pub fn start_inflate(&mut self) {
        // Bytes already copied past the position are deflate input, ahead of the chunks still queued.
        let rest = self.carry.split_off(self.start);
        if !rest.is_empty() {
            self.chunks.push_front(Bytes::from(rest));
        }
        self.pending = 0;
        self.inflater = Some(Inflater {
            state: Decompress::new(false),
            done: false,
        });
    }

    /// Makes at least `n` bytes contiguous in `carry[start..]`, or fewer at the end of input.
    fn fill(&mut self, n: usize) -> Result<(), Need> {
        while self.buffered() < n {
            self.drop_marked();
            if self.inflater.is_some() {
                if !self.inflate_some()? {
                    break;
                }
                continue;
            }
            let Some(front) = self.chunks.front_mut() else {
                if self.ended {
                    break;
                }
                return Err(Need::More);
            };
            let want = (n - (self.carry.len() - self.start)).min(front.len());
            self.carry.extend_from_slice(&front[..want]);
            front.advance(want);
            self.pending -= want;
            if front.is_empty() {
                self.chunks.pop_front();
            }
        }
        Ok(())
    }

    /// Drops the consumed bytes before the mark, so the carry buffer holds one step's bytes at most.
    fn drop_marked(&mut self) {
        if self.mark > 0 && self.mark * 2 >= self.carry.len() {
            self.carry.drain(..self.mark);
            self.carry_offset += self.mark as u64;
            self.start -= self.mark;
            self.mark = 0;
        }
    }

    /// Inflates what the queued chunks hold into the carry buffer; false at the end of the stream.
    fn inflate_some(&mut self) -> Result<bool, Need> {
        let at = self.position() + self.buffered() as u64;
        let inflater = self.inflater.as_mut().expect("inflating");
        if inflater.done {
            return Ok(false);
        }
        loop {
            let input: &[u8] = self.chunks.front().map_or(&[], |c| &c[..]);
            if input.is_empty() && !self.chunks.is_empty() {
                self.chunks.pop_front();
                continue;
            }
            if input.is_empty() && !self.ended {
                return Err(Need::More);
            }
            let before_in = inflater.state.total_in();
            let before_out = inflater.state.total_out();
            self.carry.reserve(INFLATE_PIECE);
            let status = inflater
                .state
                .decompress_vec(input, &mut self.carry, FlushDecompress::None)
                .map_err(|_| Need::CorruptDeflate(at))?;
            let used = (inflater.state.total_in() - before_in) as usize;
            let made = inflater.state.total_out() - before_out;
            let input_was_empty = input.is_empty();
            if let Some(front) = self.chunks.front_mut() {
                front.advance(used);
            }
            match status {
                Status::StreamEnd => {
                    inflater.done = true;
                    return Ok(made > 0);
                }
                _ if made > 0 => return Ok(true),
                // Nothing in, nothing out, input over: the stream stops short of its end.
                _ if input_was_empty => return Err(Need::CorruptDeflate(at)),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks_of(data: &[u8], size: usize) -> PushInput {
        let mut input = PushInput::new();
        for c in data.chunks(size) {
            input.push(Bytes::copy_from_slice(c));
        }
        input.end();
        input
    }

    /// A step that peeks and advances, then takes with no input left, goes back to its mark: the take
    /// that fails drops nothing (a fuzz find of the BSON reader, whose string length is read before its
    /// first piece is taken).
    #[test]
    fn a_take_that_needs_input_keeps_what_follows_the_mark() {
        let mut p = PushInput::new();
        p.push(Bytes::from_static(b"abcd"));
        p.mark();
        assert_eq!(p.peek(4).unwrap(), b"abcd");
        p.advance(4);
        assert_eq!(p.take(10), Err(Need::More));
        p.rewind();
        assert_eq!(p.position(), 0);
        p.push(Bytes::from_static(b"ef"));
        assert_eq!(p.peek(4).unwrap(), b"abcd");
        p.advance(4);
        assert_eq!(p.take(10).unwrap(), b"ef");
        assert_eq!(p.position(), 6);
    }

    #[test]
    fn peeks_straddle_chunks_and_takes_need_no_copy() {
        let data: Vec<u8> = (0..=255).collect();
        for size in [1, 2, 3, 7, 64, 4096] {
            let mut input = chunks_of(&data, size);
            assert_eq!(input.peek(12).unwrap(), &data[..12]);
            input.advance(12);
            input.mark();
            let mut got = data[..12].to_vec();
            loop {
                let piece = input.take(50).unwrap();
                if piece.is_empty() {
                    break;
                }
                assert!(piece.len() <= 50);
                got.extend_from_slice(piece);
                input.mark();
            }
            assert_eq!(got, data, "chunk size {size}");
            assert_eq!(input.position(), 256);
        }
    }

    #[test]
    fn a_step_short_of_input_rewinds_to_its_mark() {
        let mut input = PushInput::new();
        input.push(Bytes::from_static(b"abcdef"));
        input.mark();
        assert_eq!(input.peek(4).unwrap(), b"abcd");
        input.advance(4);
        assert_eq!(input.peek(4), Err(Need::More));
        input.rewind();
        assert_eq!(input.position(), 0);
        input.push(Bytes::from_static(b"ghij"));
        assert_eq!(input.peek(8).unwrap(), b"abcdefgh");
        input.end();
        input.advance(8);
        assert_eq!(input.peek(4).unwrap(), b"ij", "fewer only at the end");
    }

    #[test]
    fn inflates_from_a_position_whatever_the_chunking() {
        use std::io::Write;
        let plain: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&plain).unwrap();
        let mut data = b"HEAD".to_vec();
        data.extend(enc.finish().unwrap());
        for size in [1, 7, 4096, data.len()] {
            let mut input = chunks_of(&data, size);
            assert_eq!(input.peek(4).unwrap(), b"HEAD");
            input.advance(4);
            input.start_inflate();
            let mut got = Vec::new();
            loop {
                let piece = input.take(1000).unwrap();
                if piece.is_empty() {
                    break;
                }
                got.extend_from_slice(piece);
                input.mark();
            }
            assert_eq!(got, plain, "chunk size {size}");
        }
    }

    #[test]
    fn a_truncated_deflate_stream_is_corrupt() {
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[7u8; 10_000]).unwrap();
        let mut deflated = enc.finish().unwrap();
        deflated.truncate(deflated.len() / 2);
        let mut input = chunks_of(&deflated, 16);
        input.start_inflate();
        let err = loop {
            match input.take(4096) {
                Ok([]) => panic!("a truncated stream is not a clean end"),
                Ok(_) => input.mark(),
                Err(e) => break e,
            }
        };
        assert!(matches!(err, Need::CorruptDeflate(_)));
    }
}
