//! An object container file pushed in chunks (sans-IO): bytes are held until they complete the header or
//! a block, then handed whole to a [`ContainerReader`], which reads them as it reads a file. So pushed
//! input gives the same blocks, and the same errors at the same offsets, as the file read in one go,
//! whatever the chunks; memory holds at most one block (and its header) beyond what was decoded. With
//! streaming ([`PushContainer::next_block_streaming`]), a block too large to hold is released as its
//! bytes come, a piece at a time, for a [`crate::StreamedBlock`] to decode.

use std::collections::VecDeque;
use std::io::Read;

use crate::binary::{is_truncation, Cursor};
use crate::container::{Codec, ContainerReader, NextBlock};
use crate::error::AvroError;

/// The bytes released to the reader: whole units only, so it never reads past what was pushed.
#[derive(Debug, Default)]
pub struct Released {
    bytes: VecDeque<u8>,
}

impl Read for Released {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let (front, _) = self.bytes.as_slices();
        let n = front.len().min(buf.len());
        buf[..n].copy_from_slice(&front[..n]);
        self.bytes.drain(..n);
        Ok(n)
    }
}

/// What a unit at the front of the held bytes is.
enum Unit {
    /// Its length: all of it is held.
    Complete(usize),
    /// More bytes are needed.
    Incomplete,
    /// Not a valid unit: released as it is, for the reader to say what is wrong.
    Invalid,
}

/// A container file pushed in chunks: [`PushContainer::push`] the bytes, then take each block the
/// bytes complete with [`PushContainer::next_block_streaming`]; [`PushContainer::end_input`] at the end.
#[derive(Debug)]
pub struct PushContainer {
    held: Vec<u8>,
    reader: Option<ContainerReader<Released>>,
    max_block_size: usize,
    ended: bool,
    /// The streamed block being released, if any.
    streaming: Option<Release>,
}

/// How a streamed block's bytes reach the reader.
#[derive(Clone, Copy, Debug)]
enum Release {
    /// As they are pushed: this many are still to come, then the sync marker.
    Pushed { left: u64 },
    /// Released whole already (small compressed, large decompressed): the reader has them.
    Held,
}

impl PushContainer {
    /// Before any bytes; blocks (and the header) are at most `max_block_size` bytes.
    pub fn new(max_block_size: usize) -> Self {
        PushContainer {
            held: Vec::new(),
            reader: None,
            max_block_size,
            ended: false,
            streaming: None,
        }
    }

    /// More of the file.
    pub fn push(&mut self, chunk: &[u8]) {
        self.held.extend_from_slice(chunk);
    }

    /// No more bytes will come: what is held is released, and the reader reports a file cut short.
    pub fn end_input(&mut self) {
        self.ended = true;
    }

    /// The header, once it has been read.
    pub fn reader(&self) -> Option<&ContainerReader<Released>> {
        self.reader.as_ref()
    }
}

impl PushContainer {
    /// The next block, as [`ContainerReader::next_block_streaming`] gives it: held whole once the
    /// pushed bytes complete it, or — larger than `stream_above` and of a codec that streams — as soon
    /// as its count and size have come, its bytes then taken with [`PushContainer::streamed_raw`].
    /// `None` when more input is needed (or, after [`PushContainer::end_input`], at the end).
    pub fn next_block_streaming(
        &mut self,
        stream_above: usize,
    ) -> Result<Option<NextBlock<'_>>, AvroError> {
        if self.reader.is_none() {
            let Some(n) = self.ready(header_unit) else {
                return Ok(None);
            };
            let mut released = Released::default();
            released.bytes.extend(self.held.drain(..n));
            self.reader = Some(ContainerReader::new(released, self.max_block_size)?);
        }
        let streams = self
            .reader
            .as_ref()
            .is_some_and(|r| r.header().codec != Codec::Snappy);
        let head = match streamed_head(&self.held, stream_above) {
            Err(Incomplete) if !self.ended => return Ok(None),
            Ok(Some(head)) if streams => Some(head),
            _ => None,
        };
        let n = match head {
            Some((n, _)) => n,
            None => match self.ready(block_unit) {
                Some(n) => n,
                None => return Ok(None),
            },
        };
        let reader = self.reader.as_mut().expect("made above");
        reader.input_mut().bytes.extend(self.held.drain(..n));
        let next = reader.next_block_streaming(stream_above)?;
        if matches!(next, Some(NextBlock::Streamed(_))) {
            self.streaming = Some(match head {
                Some((_, size)) => Release::Pushed { left: size },
                None => Release::Held,
            });
        }
        Ok(next)
    }

    /// The streamed block's next compressed bytes (at most `max`) in `buf`: `Some(true)` with bytes,
    /// `Some(false)` once they have all come and the block's sync marker is checked, `None` while
    /// more input is needed.
    pub fn streamed_raw(
        &mut self,
        buf: &mut Vec<u8>,
        max: usize,
    ) -> Result<Option<bool>, AvroError> {
        buf.clear();
        let Some(reader) = self.reader.as_mut() else {
            return Ok(Some(false));
        };
        let release = match self.streaming {
            None => return Ok(Some(false)),
            Some(Release::Held) => 0,
            Some(Release::Pushed { left: 0 }) => {
                // The sync marker, whole (or what is left at the end, for the reader to refuse).
                if self.held.len() < 16 && !self.ended {
                    return Ok(None);
                }
                self.held.len().min(16)
            }
            Some(Release::Pushed { left }) => {
                let n = (self.held.len() as u64).min(left).min(max as u64) as usize;
                if n == 0 && !self.ended {
                    return Ok(None);
                }
                self.streaming = Some(Release::Pushed {
                    left: left - n as u64,
                });
                n
            }
        };
        reader.input_mut().bytes.extend(self.held.drain(..release));
        let more = reader.streamed_raw(buf, max)?;
        if !more {
            self.streaming = None;
        }
        Ok(Some(more))
    }

    /// How many held bytes to release for the next unit `find` looks for: all of it when complete,
    /// everything held when it is invalid or the input has ended (the reader then says what is wrong),
    /// `None` while more bytes are needed.
    fn ready(&self, find: fn(&[u8], usize) -> Unit) -> Option<usize> {
        let unit = if self.ended {
            Unit::Invalid
        } else {
            find(&self.held, self.max_block_size)
        };
        match unit {
            Unit::Incomplete => None,
            Unit::Complete(n) => Some(n),
            Unit::Invalid => Some(self.held.len()),
        }
    }
}

/// The header at the front of `held`: magic, the metadata map's blocks, the sync marker. A key or value
/// whose declared length would take the header past `max` makes it invalid, as the reader decides.
fn header_unit(held: &[u8], max: usize) -> Unit {
    let mut cursor = Cursor::new(held);
    let step = (|| {
        cursor.take(4)?;
        loop {
            let count = cursor.long()?;
            if count == 0 {
                break;
            }
            if count < 0 {
                cursor.long()?;
            }
            // Each entry is a key and a value, both length-prefixed.
            for _ in 0..count.unsigned_abs() {
                for _ in 0..2 {
                    let len = cursor.long()?;
                    match usize::try_from(len) {
                        Ok(len) if cursor.position() + len <= max => cursor.take(len)?,
                        _ => return Err("a metadata entry out of range"),
                    };
                }
            }
        }
        cursor.take(16).map(|_| ())
    })();
    unit(step, cursor.position(), held.len(), max)
}

/// A block's head not all pushed yet.
struct Incomplete;

/// The head (count and size) of a block at the front of `held` whose size is over `stream_above`: its
/// length and the size. `Ok(None)` for a block to hold (or not a valid head: the reader then says
/// what is wrong).
fn streamed_head(held: &[u8], stream_above: usize) -> Result<Option<(usize, u64)>, Incomplete> {
    let mut cursor = Cursor::new(held);
    let size = cursor.long().and_then(|_| cursor.long());
    match size {
        Ok(size) if size > 0 && size as u64 > stream_above as u64 => {
            Ok(Some((cursor.position(), size as u64)))
        }
        Ok(_) => Ok(None),
        // Two numbers take at most 20 bytes.
        Err(fault) if is_truncation(fault) && held.len() < 20 => Err(Incomplete),
        Err(_) => Ok(None),
    }
}

/// The block at the front of `held`: its count, its size, that many bytes, the sync marker.
fn block_unit(held: &[u8], max: usize) -> Unit {
    let mut cursor = Cursor::new(held);
    let step = (|| {
        cursor.long()?;
        let size = cursor.long()?;
        match usize::try_from(size) {
            Ok(size) if size <= max => cursor.take(size).and_then(|_| cursor.take(16)),
            _ => Err("a block size out of range"),
        }
        .map(|_| ())
    })();
    unit(step, cursor.position(), held.len(), max)
}

fn unit(step: Result<(), &'static str>, at: usize, held: usize, max: usize) -> Unit {
    match step {
        Ok(()) => Unit::Complete(at),
        // Held bytes are bounded: a unit that would need more than a block and its head is invalid.
        Err(fault) if is_truncation(fault) && held <= max + 64 => Unit::Incomplete,
        Err(_) => Unit::Invalid,
    }
}
