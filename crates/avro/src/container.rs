//! Object container files (specification.md, "Object Container Files"): the header (magic, metadata with
//! the schema and codec, sync marker), then blocks of a count, a size, the (compressed) data and the sync
//! marker again. A block is held whole while its data is decoded, at most `max_block_size` bytes
//! compressed and decompressed; no length field sizes an allocation before its bytes have arrived.

use std::io::Read;

use crate::binary::Cursor;
use crate::error::AvroError;
use crate::schema::Schema;

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
            usize::try_from(size).map_err(|_| AvroError::new(size_at, "a negative block size"))?;
        if size > self.max_block_size {
            return Err(AvroError::new(
                size_at,
                format!(
                    "a block of {size} bytes, more than the {} allowed (max_block_size)",
                    self.max_block_size
                ),
            ));
        }
        self.raw.clear();
        let got = (&mut self.input)
            .take(size as u64)
            .read_to_end(&mut self.raw)
            .map_err(|e| AvroError::new(self.offset, format!("reading: {e}")))?;
        self.offset += got as u64;
        if got < size {
            return Err(AvroError::new(self.offset, "the file ends inside a block"));
        }
        let mut sync = [0u8; 16];
        self.exact(&mut sync, "a block's sync marker")?;
        if sync != self.header.sync {
            return Err(AvroError::new(self.offset - 16, "a block's sync marker is not the file's (the block is corrupt or the file was cut)"));
        }
        let limit = self.max_block_size as u64 + 1;
        let too_big = || AvroError::new(offset, "a block decompresses past max_block_size");
        let data: &[u8] = match self.header.codec {
            Codec::Null => &self.raw,
            Codec::Deflate => {
                self.block.clear();
                flate2::read::DeflateDecoder::new(&self.raw[..])
                    .take(limit)
                    .read_to_end(&mut self.block)
                    .map_err(|e| {
                        AvroError::new(offset, format!("the block's deflate data: {e}"))
                    })?;
                if self.block.len() as u64 >= limit {
                    return Err(too_big());
                }
                &self.block
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
                &self.block
            }
            Codec::Zstandard => {
                self.block.clear();
                zstd::stream::read::Decoder::new(&self.raw[..])
                    .and_then(|d| d.take(limit).read_to_end(&mut self.block))
                    .map_err(|e| {
                        AvroError::new(offset, format!("the block's zstandard data: {e}"))
                    })?;
                if self.block.len() as u64 >= limit {
                    return Err(too_big());
                }
                &self.block
            }
        };
        Ok(Some(Block {
            count,
            data,
            offset,
        }))
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
