//! An object container file pushed in chunks (sans-IO): bytes are held until they complete the header or
//! a block, then handed whole to a [`ContainerReader`], which reads them as it reads a file. So pushed
//! input gives the same blocks, and the same errors at the same offsets, as the file read in one go,
//! whatever the chunks; memory holds at most one block (and its header) beyond what was decoded.

use std::collections::VecDeque;
use std::io::Read;

use crate::binary::{is_truncation, Cursor};
use crate::container::{Block, ContainerReader};
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
/// bytes complete with [`PushContainer::next_block`]; [`PushContainer::end_input`] at the end.
#[derive(Debug)]
pub struct PushContainer {
    held: Vec<u8>,
    reader: Option<ContainerReader<Released>>,
    max_block_size: usize,
    ended: bool,
}

impl PushContainer {
    /// Before any bytes; blocks (and the header) are at most `max_block_size` bytes.
    pub fn new(max_block_size: usize) -> Self {
        PushContainer {
            held: Vec::new(),
            reader: None,
            max_block_size,
            ended: false,
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

    /// The next block the pushed bytes complete; `None` when more input is needed (or, after
    /// [`PushContainer::end_input`], at the end of the file).
    pub fn next_block(&mut self) -> Result<Option<Block<'_>>, AvroError> {
        if self.reader.is_none() {
            let Some(n) = self.ready(header_unit) else {
                return Ok(None);
            };
            let mut released = Released::default();
            released.bytes.extend(self.held.drain(..n));
            self.reader = Some(ContainerReader::new(released, self.max_block_size)?);
        }
        let Some(n) = self.ready(block_unit) else {
            return Ok(None);
        };
        let reader = self.reader.as_mut().expect("made above");
        reader.input_mut().bytes.extend(self.held.drain(..n));
        reader.next_block()
    }
}

impl PushContainer {
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
