//! Object container files (specification.md, "Object Container Files"): the header (magic, metadata with
//! the schema and codec, sync marker), then blocks of a count, a size, the (compressed) data and the sync
//! marker again. A block is held whole while its data is decoded, at most `max_block_size` bytes
//! compressed and decompressed — or, read with [`ContainerReader::next_block_streaming`], a block
//! larger than a bound is streamed instead (its compressed bytes read a piece at a time, see
//! `streamed`), whatever its size. No length field sizes an allocation before its bytes have arrived.

use std::io::Read;

use crate::binary::Cursor;
use crate::error::AvroError;
use crate::inflate::Inflater;
use crate::schema::Schema;
use crate::streamed::StreamedBlock;

/// The compression of a file's blocks (`avro.codec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// `null`: stored as they are.
    Null,
    /// `deflate`: raw deflate (RFC 1951).
    Deflate,
    /// `snappy`: a raw Snappy block, then the CRC-32 of the uncompressed data (big endian).
    Snappy,
    /// `zstandard`: a Zstandard frame.
    Zstandard,
}

/// A file's header.
#[derive(Clone, Debug)]
pub struct Header {
    /// The writer's schema (`avro.schema`).
    pub schema: Schema,
    /// Its JSON text as the file holds it.
    pub schema_json: String,
    /// `avro.codec`.
    pub codec: Codec,
    /// The metadata, in file order (`avro.schema` and `avro.codec` included).
    pub metadata: Vec<(String, Vec<u8>)>,
    /// The sync marker that ends every block.
    pub sync: [u8; 16],
}

/// Reads a container file's header and then its blocks, one at a time.
pub struct ContainerReader<R: Read> {
    input: R,
    header: Header,
    /// Bytes read so far.
    offset: u64,
    max_block_size: usize,
    raw: Vec<u8>,
    block: Vec<u8>,
    /// The block being streamed, if any.
    streaming: Option<Streaming>,
    /// Where the last block's size was read (for its message).
    size_at: u64,
}

/// Where a streamed block's compressed bytes come from.
#[derive(Clone, Copy, Debug)]
enum Streaming {
    /// The input: this many are still to be read, then the sync marker.
    FromInput { left: u64 },
    /// The block read whole (its sync marker checked) that decompresses past what is held: from `at`.
    FromHeld { at: usize },
}

/// A block's count and compressed size, and where it starts.
struct BlockHead {
    count: u64,
    size: u64,
    offset: u64,
}

impl<R: Read> std::fmt::Debug for ContainerReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerReader")
            .field("offset", &self.offset)
            .finish()
    }
}

/// One block's decoded data and how many data it holds.
#[derive(Debug)]
pub struct Block<'a> {
    /// Data in the block.
    pub count: u64,
    /// The decompressed bytes of the data.
    pub data: &'a [u8],
    /// Where the block starts in the file.
    pub offset: u64,
}

/// What comes next in a file read with [`ContainerReader::next_block_streaming`].
#[derive(Debug)]
pub enum NextBlock<'a> {
    /// A block held whole.
    Whole(Block<'a>),
    /// A block to stream: its compressed bytes come from [`ContainerReader::streamed_raw`].
    Streamed(StreamedBlock),
}

/// The largest block read by default (compressed or not).
pub const DEFAULT_MAX_BLOCK_SIZE: usize = 64 << 20;

impl<R: Read> ContainerReader<R> {
    /// Reads the header from `input`.
    pub fn new(input: R, max_block_size: usize) -> Result<Self, AvroError> {
        let mut reader = ContainerReader {
            input,
            header: Header {
                schema: Schema::parse_str("\"null\"").expect("a valid schema"),
                schema_json: String::new(),
                codec: Codec::Null,
                metadata: Vec::new(),
                sync: [0; 16],
            },
            offset: 0,
            max_block_size,
            raw: Vec::new(),
            block: Vec::new(),
            streaming: None,
            size_at: 0,
        };
        let mut magic = [0u8; 4];
        reader.exact(&mut magic, "the file's magic bytes")?;
        if &magic != b"Obj\x01" {
            return Err(AvroError::new(
                0,
                "not an Avro object container file (no 'Obj' 0x01 at its start)",
            ));
        }
        // The metadata: a map of bytes, in blocks like any map.
        loop {
            let at = reader.offset;
            let mut count = reader.long("the metadata's count")?;
            if count == 0 {
                break;
            }
            if count < 0 {
                reader.long("the metadata block's size")?;
                count = -count;
            }
            for _ in 0..count {
                let key = reader.sized("a metadata key", 1 << 20)?;
                let key = String::from_utf8(key)
                    .map_err(|_| AvroError::new(at, "a metadata key that is not UTF-8"))?;
                let value = reader.sized("a metadata value", max_block_size)?;
                reader.header.metadata.push((key, value));
            }
        }
        let mut sync = [0u8; 16];
        reader.exact(&mut sync, "the sync marker")?;
        reader.header.sync = sync;
        let schema_json = reader
            .header
            .metadata
            .iter()
            .find(|(k, _)| k == "avro.schema")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| AvroError::new(4, "the header has no avro.schema"))?;
        let schema_json = String::from_utf8(schema_json)
            .map_err(|_| AvroError::new(4, "avro.schema is not UTF-8"))?;
        reader.header.schema = Schema::parse_str(&schema_json)
            .map_err(|e| AvroError::new(4, format!("avro.schema: {e}")))?;
        reader.header.schema_json = schema_json;
        reader.header.codec = match reader
            .header
            .metadata
            .iter()
            .find(|(k, _)| k == "avro.codec")
        {
            None => Codec::Null,
            Some((_, v)) => match v.as_slice() {
                b"null" => Codec::Null,
                b"deflate" => Codec::Deflate,
                b"snappy" => Codec::Snappy,
                b"zstandard" => Codec::Zstandard,
                other => {
                    return Err(AvroError::new(
                        4,
                        format!(
                        "the codec '{}' is not supported (null, deflate, snappy and zstandard are)",
                        String::from_utf8_lossy(other)
                    ),
                    ))
                }
            },
        };
        Ok(reader)
    }

    /// The input, to give it more bytes between blocks (see `container_push`).
    pub fn input_mut(&mut self) -> &mut R {
        &mut self.input
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The next block, or `None` at the end of the file.
    pub fn next_block(&mut self) -> Result<Option<Block<'_>>, AvroError> {
        let Some(head) = self.block_head()? else {
            return Ok(None);
        };
        self.read_block(head.size, head.offset, None)?;
        Ok(Some(Block {
            count: head.count,
            data: self.held_data(),
            offset: head.offset,
        }))
    }

    /// The next block, held whole when its compressed size is at most `stream_above` bytes (or its
    /// codec is snappy, which decodes only whole), else streamed: a block of any size is then read in
    /// bounded memory, its bytes taken with [`ContainerReader::streamed_raw`] until it returns false.
    pub fn next_block_streaming(
        &mut self,
        stream_above: usize,
    ) -> Result<Option<NextBlock<'_>>, AvroError> {
        let Some(head) = self.block_head()? else {
            return Ok(None);
        };
        let (count, offset) = (head.count, head.offset);
        let codec = self.header.codec;
        let inflater = || Inflater::new(codec).map_err(|e| AvroError::new(offset, e));
        if head.size > stream_above as u64 {
            if let Some(inflater) = inflater()? {
                self.streaming = Some(Streaming::FromInput { left: head.size });
                let max_held = self.max_block_size;
                return Ok(Some(NextBlock::Streamed(StreamedBlock::new(
                    count, offset, inflater, max_held,
                ))));
            }
        }
        if !self.read_block(head.size, offset, Some(stream_above))? {
            // Small compressed, large decompressed: streamed from the bytes held.
            let inflater = inflater()?.expect("only codecs that stream decline to decompress");
            self.streaming = Some(Streaming::FromHeld { at: 0 });
            let max_held = self.max_block_size;
            return Ok(Some(NextBlock::Streamed(StreamedBlock::new(
                count, offset, inflater, max_held,
            ))));
        }
        Ok(Some(NextBlock::Whole(Block {
            count,
            data: self.held_data(),
            offset,
        })))
    }

    /// The streamed block's next compressed bytes (at most `max`) in `buf`, replacing what it held;
    /// false once they have all been read and the block's sync marker checked.
    pub fn streamed_raw(&mut self, buf: &mut Vec<u8>, max: usize) -> Result<bool, AvroError> {
        buf.clear();
        match self.streaming {
            None => Ok(false),
            Some(Streaming::FromHeld { at }) => {
                let piece = &self.raw[at..(at + max).min(self.raw.len())];
                buf.extend_from_slice(piece);
                self.streaming = if piece.is_empty() {
                    None
                } else {
                    Some(Streaming::FromHeld {
                        at: at + piece.len(),
                    })
                };
                Ok(!piece.is_empty())
            }
            Some(Streaming::FromInput { left: 0 }) => {
                self.streaming = None;
                self.sync_marker()?;
                Ok(false)
            }
            Some(Streaming::FromInput { left }) => {
                let got = (&mut self.input)
                    .take(left.min(max as u64))
                    .read_to_end(buf)
                    .map_err(|e| AvroError::new(self.offset, format!("reading: {e}")))?;
                self.offset += got as u64;
                if got == 0 {
                    return Err(AvroError::new(self.offset, "the file ends inside a block"));
                }
                self.streaming = Some(Streaming::FromInput {
                    left: left - got as u64,
                });
                Ok(true)
            }
        }
    }

    /// A block's count and size, and where it starts; `None` at the end of the file. The size is
    /// checked against `max_block_size` by the caller that holds the block.
    fn block_head(&mut self) -> Result<Option<BlockHead>, AvroError> {
        if self.streaming.is_some() {
            return Err(AvroError::new(
                self.offset,
                "the streamed block was not read to its end",
            ));
        }
        let offset = self.offset;
        let mut first = [0u8; 1];
        match self.input.read(&mut first) {
            Ok(0) => return Ok(None),
            Ok(_) => self.offset += 1,
            Err(e) => return Err(AvroError::new(offset, format!("reading: {e}"))),
        }
        let count = self.long_after(first[0], "a block's count")?;
        let count =
            u64::try_from(count).map_err(|_| AvroError::new(offset, "a negative block count"))?;
        let size_at = self.offset;
        let size = self.long("a block's size")?;
        let size =
            u64::try_from(size).map_err(|_| AvroError::new(size_at, "a negative block size"))?;
        self.size_at = size_at;
        Ok(Some(BlockHead {
            count,
            size,
            offset,
        }))
    }

    /// A block's bytes read and checked, and decompressed into `self.block` (null: left in
    /// `self.raw`, see [`ContainerReader::held_data`]). With `stream_past` (at most `max_block_size`),
    /// a block that decompresses past it is not decompressed: false, to be streamed from its bytes.
    fn read_block(
        &mut self,
        size: u64,
        offset: u64,
        stream_past: Option<usize>,
    ) -> Result<bool, AvroError> {
        let size_at = self.size_at;
        let size = usize::try_from(size)
            .ok()
            .filter(|&size| size <= self.max_block_size)
            .ok_or_else(|| {
                AvroError::new(
                    size_at,
                    format!(
                        "a block of {size} bytes, more than the {} allowed (max_block_size)",
                        self.max_block_size
                    ),
                )
            })?;
        self.raw.clear();
        let got = (&mut self.input)
            .take(size as u64)
            .read_to_end(&mut self.raw)
            .map_err(|e| AvroError::new(self.offset, format!("reading: {e}")))?;
        self.offset += got as u64;
        if got < size {
            return Err(AvroError::new(self.offset, "the file ends inside a block"));
        }
        self.sync_marker()?;
        // Snappy decodes only whole: held up to max_block_size, whatever `stream_past` says.
        let hold = match stream_past {
            Some(limit) if self.header.codec != Codec::Snappy => limit.min(self.max_block_size),
            _ => self.max_block_size,
        };
        let limit = hold as u64 + 1;
        let too_big = || AvroError::new(offset, "a block decompresses past max_block_size");
        // Past `stream_past` the block streams; past a max_block_size below it, it is refused.
        let streams = self.header.codec != Codec::Snappy
            && stream_past.is_some_and(|limit| limit <= self.max_block_size);
        match self.header.codec {
            Codec::Null => {}
            Codec::Deflate => {
                self.block.clear();
                flate2::read::DeflateDecoder::new(&self.raw[..])
                    .take(limit)
                    .read_to_end(&mut self.block)
                    .map_err(|e| {
                        AvroError::new(offset, format!("the block's deflate data: {e}"))
                    })?;
                if self.block.len() as u64 >= limit {
                    return if streams { Ok(false) } else { Err(too_big()) };
                }
            }
            Codec::Snappy => {
                // specification.md, Optional Codecs: the compressed data, then 4 bytes of CRC-32
                // (big endian) of the uncompressed data.
                let Some(split) = self.raw.len().checked_sub(4) else {
                    return Err(AvroError::new(
                        offset,
                        "a snappy block shorter than its checksum",
                    ));
                };
                let (compressed, crc) = self.raw.split_at(split);
                let bad = |e: snap::Error| {
                    AvroError::new(offset, format!("the block's snappy data: {e}"))
                };
                // The length Snappy declares is checked before anything is allocated for it.
                let len = snap::raw::decompress_len(compressed).map_err(bad)?;
                if len as u64 >= limit {
                    return Err(too_big());
                }
                self.block.resize(len, 0);
                snap::raw::Decoder::new()
                    .decompress(compressed, &mut self.block)
                    .map_err(bad)?;
                if crc32fast::hash(&self.block).to_be_bytes() != crc {
                    return Err(AvroError::new(
                        offset,
                        "a snappy block whose CRC-32 does not match its data",
                    ));
                }
            }
            Codec::Zstandard => {
                self.block.clear();
                zstd::stream::read::Decoder::new(&self.raw[..])
                    .and_then(|d| d.take(limit).read_to_end(&mut self.block))
                    .map_err(|e| {
                        AvroError::new(offset, format!("the block's zstandard data: {e}"))
                    })?;
                if self.block.len() as u64 >= limit {
                    return if streams { Ok(false) } else { Err(too_big()) };
                }
            }
        }
        Ok(true)
    }

    /// The data of the block [`ContainerReader::read_block`] decompressed.
    fn held_data(&self) -> &[u8] {
        match self.header.codec {
            Codec::Null => &self.raw,
            _ => &self.block,
        }
    }

    /// A block's closing sync marker, which must be the file's.
    fn sync_marker(&mut self) -> Result<(), AvroError> {
        let mut sync = [0u8; 16];
        self.exact(&mut sync, "a block's sync marker")?;
        if sync != self.header.sync {
            return Err(AvroError::new(self.offset - 16, "a block's sync marker is not the file's (the block is corrupt or the file was cut)"));
        }
        Ok(())
    }

    fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), AvroError> {
        self.input.read_exact(buf).map_err(|e| {
            let message = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                format!("the file ends inside {what}")
            } else {
                format!("reading {what}: {e}")
            };
            AvroError::new(self.offset, message)
        })?;
        self.offset += buf.len() as u64;
        Ok(())
    }

    fn long(&mut self, what: &str) -> Result<i64, AvroError> {
        let mut first = [0u8; 1];
        self.exact(&mut first, what)?;
        self.long_after(first[0], what)
    }

    /// A `long` whose first byte was read.
    fn long_after(&mut self, first: u8, what: &str) -> Result<i64, AvroError> {
        let mut bytes = vec![first];
        while bytes.last().is_some_and(|b| b & 0x80 != 0) && bytes.len() < 10 {
            let mut b = [0u8; 1];
            self.exact(&mut b, what)?;
            bytes.push(b[0]);
        }
        Cursor::new(&bytes)
            .long()
            .map_err(|m| AvroError::new(self.offset, format!("{what}: {m}")))
    }

    /// A length-prefixed value of at most `max` bytes, read without trusting the length up front.
    fn sized(&mut self, what: &str, max: usize) -> Result<Vec<u8>, AvroError> {
        let at = self.offset;
        let len = self.long(what)?;
        let len = usize::try_from(len)
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| {
                AvroError::new(
                    at,
                    format!("{what} with a length of {len} (negative or over {max})"),
                )
            })?;
        // The header as a whole is bounded too (its entries could be many).
        if self.offset + len as u64 > self.max_block_size as u64 {
            return Err(AvroError::new(
                at,
                format!(
                    "{what} would make the header longer than {} bytes (max_block_size)",
                    self.max_block_size
                ),
            ));
        }
        let mut value = Vec::new();
        let got = (&mut self.input)
            .take(len as u64)
            .read_to_end(&mut value)
            .map_err(|e| AvroError::new(self.offset, format!("reading: {e}")))?;
        self.offset += got as u64;
        if got < len {
            return Err(AvroError::new(
                self.offset,
                format!("the file ends inside {what}"),
            ));
        }
        Ok(value)
    }
}
