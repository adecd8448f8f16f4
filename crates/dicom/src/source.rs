//! Where the parser's bytes come from: a borrowed slice (zero copy) or an `io::Read` through one bounded
//! buffer. A deflated data set switches either kind to an inflating stream mid-file.

use std::io::{self, Read};

use dcmflow_core::{Error, ErrorKind, Result};
use dcmflow_engine::push::{Need, PushInput};
use flate2::read::DeflateDecoder;

/// The largest lookahead the parser asks for: a 128-byte preamble plus `DICM`.
pub(crate) const MAX_PEEK: usize = 132;

/// An explicit one-byte tag: the variant is matched on every peek and take, and a byte compare is the
/// cheapest match; a niche-encoded discriminant of three variants costs several instructions each time.
#[repr(u8)]
pub(crate) enum Source<'a> {
    Slice {
        data: &'a [u8],
        pos: usize,
    },
    Stream(StreamSource<'a>),
    /// Chunks pushed by the caller; a request they cannot meet yet is `ErrorKind::NeedInput`. Boxed, and
    /// reached through out-of-line functions, so the pull sources' paths stay as small as they were.
    Push(Box<PushInput>),
}

#[inline(never)]
fn push_peek(p: &mut PushInput, n: usize) -> Result<&[u8]> {
    let at = p.position();
    p.peek(n).map_err(|e| need(e, at))
}

#[inline(never)]
fn push_take(p: &mut PushInput, remaining: u64, chunk: usize) -> Result<&[u8]> {
    let at = p.position();
    match p.take(remaining.min(chunk as u64) as usize) {
        Ok([]) => Err(Error::new(ErrorKind::UnexpectedEof, at)),
        Ok(bytes) => Ok(bytes),
        Err(e) => Err(need(e, at)),
    }
}

fn need(n: Need, at: u64) -> Error {
    match n {
        Need::More => Error::new(ErrorKind::NeedInput, at),
        Need::CorruptDeflate(at) => Error::new(ErrorKind::Inflate, at),
    }
}

pub(crate) struct StreamSource<'a> {
    inner: Box<dyn Read + Send + 'a>,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Absolute offset of `buf[start]`.
    offset: u64,
    eof: bool,
    /// Errors from an inflating stream are reported as corrupt deflate data, not I/O.
    inflating: bool,
}

impl<'a> Source<'a> {
    /// The push input, when the source is one.
    pub fn pushed(&mut self) -> Option<&mut PushInput> {
        match self {
            Source::Push(p) => Some(p),
            _ => None,
        }
    }

    pub fn stream(inner: Box<dyn Read + Send + 'a>, chunk_size: usize, offset: u64) -> Source<'a> {
        // Twice the chunk size so a chunk can be filled without compacting on every call.
        let cap = (chunk_size.saturating_mul(2)).max(8192);
        Source::Stream(StreamSource {
            inner,
            buf: vec![0; cap].into_boxed_slice(),
            start: 0,
            end: 0,
            offset,
            eof: false,
            inflating: false,
        })
    }

    pub fn position(&self) -> u64 {
        match self {
            Source::Slice { pos, .. } => *pos as u64,
            Source::Stream(s) => s.offset,
            Source::Push(p) => p.position(),
        }
    }

    /// Up to `n` (≤ [`MAX_PEEK`]) bytes without consuming them; fewer only at the end of input.
    pub fn peek(&mut self, n: usize) -> Result<&[u8]> {
        debug_assert!(n <= MAX_PEEK);
        match self {
            Source::Slice { data, pos } => Ok(&data[*pos..(*pos + n).min(data.len())]),
            Source::Stream(s) => {
                s.fill(n)?;
                Ok(&s.buf[s.start..s.start + n.min(s.end - s.start)])
            }
            Source::Push(p) => push_peek(p, n),
        }
    }

    /// Consumes `n` bytes that a preceding `peek` returned.
    pub fn advance(&mut self, n: usize) {
        match self {
            Source::Slice { pos, .. } => *pos += n,
            Source::Stream(s) => {
                debug_assert!(n <= s.end - s.start);
                s.start += n;
                s.offset += n as u64;
            }
            Source::Push(p) => p.advance(n),
        }
    }

    /// Bytes known to remain, when the source knows (a slice); `None` for streams.
    pub fn remaining_hint(&self) -> Option<u64> {
        match self {
            Source::Slice { data, pos } => Some((data.len() - pos) as u64),
            Source::Stream(_) | Source::Push(_) => None,
        }
    }

    /// The next piece of a value with `remaining` bytes left: all of it from a slice, at most `chunk` bytes
    /// from a stream. Never empty: running out of input is `UnexpectedEof`.
    pub fn take(&mut self, remaining: u64, chunk: usize) -> Result<&[u8]> {
        match self {
            Source::Slice { data, pos } => {
                let left = data.len() - *pos;
                if (left as u64) < remaining {
                    return Err(Error::new(ErrorKind::UnexpectedEof, data.len() as u64));
                }
                let n = remaining as usize;
                let bytes = &data[*pos..*pos + n];
                *pos += n;
                Ok(bytes)
            }
            Source::Stream(s) => {
                let want = (remaining.min(chunk as u64) as usize).min(s.buf.len());
                s.fill(want)?;
                let n = want.min(s.end - s.start);
                if n == 0 {
                    return Err(Error::new(ErrorKind::UnexpectedEof, s.offset));
                }
                let bytes = &s.buf[s.start..s.start + n];
                s.start += n;
                s.offset += n as u64;
                Ok(bytes)
            }
            Source::Push(p) => push_take(p, remaining, chunk),
        }
    }

    /// PS3.5 A.5: from here on the input is a raw deflate stream (no zlib header). Offsets continue to
    /// count, from this point, in inflated bytes.
    pub fn start_inflate(&mut self, chunk_size: usize) {
        let offset = self.position();
        let inflated: Box<dyn Read + Send + 'a> =
            match std::mem::replace(self, Source::Slice { data: &[], pos: 0 }) {
                Source::Slice { data, pos } => Box::new(DeflateDecoder::new(&data[pos..])),
                Source::Stream(s) => {
                    let pending = s.buf[s.start..s.end].to_vec();
                    Box::new(DeflateDecoder::new(io::Cursor::new(pending).chain(s.inner)))
                }
                // Push input inflates in place: it holds the raw bytes still to come.
                Source::Push(mut p) => {
                    p.start_inflate();
                    *self = Source::Push(p);
                    return;
                }
            };
        *self = Source::stream(inflated, chunk_size, offset);
        if let Source::Stream(s) = self {
            s.inflating = true;
        }
    }
}

impl StreamSource<'_> {
    /// Reads until at least `want` bytes are buffered or the input ends.
    #[inline]
    fn fill(&mut self, want: usize) -> Result<()> {
        if self.end - self.start >= want || self.eof {
            return Ok(());
        }
        self.refill(want)
    }

    /// The slow half of `fill`, kept out of line so the check above inlines into every peek.
    #[inline(never)]
    fn refill(&mut self, want: usize) -> Result<()> {
        if self.buf.len() - self.start < want {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < want {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let at = self.offset + (self.end - self.start) as u64;
                    // A deflate stream cut short is corrupt data too (flate2 reports it as an early end).
                    let corrupt = matches!(
                        e.kind(),
                        io::ErrorKind::InvalidInput
                            | io::ErrorKind::InvalidData
                            | io::ErrorKind::UnexpectedEof
                    );
                    return Err(if self.inflating && corrupt {
                        Error::new(ErrorKind::Inflate, at)
                    } else {
                        Error::io(&e, at)
                    });
                }
            }
        }
        Ok(())
    }
}
