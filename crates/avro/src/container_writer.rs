//! Writing object container files (specification.md, "Object Container Files"): the header, then data
//! gathered into blocks of about `block_size` bytes, each compressed by the codec and followed by the
//! sync marker.

use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};

use crate::binary::{write_bytes, write_long};
use crate::container::Codec;

/// How a container file is written.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// The blocks' compression.
    pub codec: Codec,
    /// The codec's level (deflate 0-9, zstandard 1-22); `None`: its default (6 and 3, as Java's).
    pub level: Option<i32>,
    /// The sync marker; `None`: 16 random bytes. Give one for output that is the same on every run.
    pub sync: Option<[u8; 16]>,
    /// A block is written once its data reach this many bytes (before compression).
    pub block_size: usize,
    /// More metadata (`avro.schema` and `avro.codec` are written by the writer).
    pub metadata: Vec<(String, Vec<u8>)>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            codec: Codec::Null,
            level: None,
            sync: None,
            // Java's DataFileWriter's default sync interval.
            block_size: 64000,
            metadata: Vec::new(),
        }
    }
}

/// The name of `codec` in `avro.codec`.
pub fn codec_name(codec: Codec) -> &'static str {
    match codec {
        Codec::Null => "null",
        Codec::Deflate => "deflate",
        Codec::Snappy => "snappy",
        Codec::Zstandard => "zstandard",
    }
}

/// 16 bytes that differ from run to run (a sync marker needs only to be unlikely inside the data).
pub fn random_sync() -> [u8; 16] {
    // std's hasher keys are random per process and per `RandomState`: two of them give 128 bits.
    let mut sync = [0u8; 16];
    for (i, half) in sync.chunks_exact_mut(8).enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_usize(i);
        half.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    sync
}

/// `json` without the whitespace between its tokens (a schema is stored so in a file's header);
/// strings are kept as they are.
pub fn minify_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// Writes a container file: [`ContainerWriter::new`] writes the header; each datum is appended to
/// [`ContainerWriter::buffer`] and counted with [`ContainerWriter::datum_done`]; [`ContainerWriter::finish`]
/// writes the last block.
pub struct ContainerWriter<W: Write> {
    out: W,
    codec: Codec,
    level: Option<i32>,
    sync: [u8; 16],
    block_size: usize,
    block: Vec<u8>,
    count: u64,
    compressed: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for ContainerWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerWriter")
            .field("codec", &self.codec)
            .finish()
    }
}

impl<W: Write> ContainerWriter<W> {
    /// Writes the header of a file of data of the schema `schema_json` to `out`.
    pub fn new(mut out: W, schema_json: &str, options: &WriterOptions) -> io::Result<Self> {
        let sync = options.sync.unwrap_or_else(random_sync);
        let mut header = Vec::with_capacity(schema_json.len() + 64);
        header.extend_from_slice(b"Obj\x01");
        // The metadata: a map of bytes, in one block. specification.md: an absent `avro.codec` means
        // null, so it is written only for the others (as Apache's interop files are).
        let with_codec = options.codec != Codec::Null;
        write_long(
            &mut header,
            1 + i64::from(with_codec) + options.metadata.len() as i64,
        );
        write_bytes(&mut header, b"avro.schema");
        write_bytes(&mut header, schema_json.as_bytes());
        if with_codec {
            write_bytes(&mut header, b"avro.codec");
            write_bytes(&mut header, codec_name(options.codec).as_bytes());
        }
        for (key, value) in &options.metadata {
            write_bytes(&mut header, key.as_bytes());
            write_bytes(&mut header, value);
        }
        header.push(0);
        header.extend_from_slice(&sync);
        out.write_all(&header)?;
        Ok(ContainerWriter {
            out,
            codec: options.codec,
            level: options.level,
            sync,
            block_size: options.block_size.max(1),
            block: Vec::new(),
            count: 0,
            compressed: Vec::new(),
        })
    }

    /// The sync marker written after every block.
    pub fn sync(&self) -> [u8; 16] {
        self.sync
    }

    /// The block being gathered: append one datum's bytes, then call [`ContainerWriter::datum_done`].
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.block
    }

    /// Counts the datum just appended; writes the block when it is full.
    pub fn datum_done(&mut self) -> io::Result<()> {
        self.count += 1;
        if self.block.len() >= self.block_size {
            self.flush_block()?;
        }
        Ok(())
    }

    /// Writes the block gathered so far, if it holds any data.
    pub fn flush_block(&mut self) -> io::Result<()> {
        if self.count == 0 {
            return Ok(());
        }
        let data: &[u8] = match self.codec {
            Codec::Null => &self.block,
            Codec::Deflate => {
                self.compressed.clear();
                let level = self.level.map_or(6, |l| l.clamp(0, 9) as u32);
                let mut encoder = flate2::write::DeflateEncoder::new(
                    std::mem::take(&mut self.compressed),
                    flate2::Compression::new(level),
                );
                encoder.write_all(&self.block)?;
                self.compressed = encoder.finish()?;
                &self.compressed
            }
            Codec::Snappy => {
                // specification.md, Optional Codecs: the compressed data, then the CRC-32 of the
                // uncompressed data, big endian.
                self.compressed.clear();
                self.compressed
                    .resize(snap::raw::max_compress_len(self.block.len()), 0);
                let n = snap::raw::Encoder::new()
                    .compress(&self.block, &mut self.compressed)
                    .map_err(io::Error::other)?;
                self.compressed.truncate(n);
                self.compressed
                    .extend_from_slice(&crc32fast::hash(&self.block).to_be_bytes());
                &self.compressed
            }
            Codec::Zstandard => {
                self.compressed = zstd::bulk::compress(&self.block, self.level.unwrap_or(3))?;
                &self.compressed
            }
        };
        let mut head = Vec::with_capacity(20);
        write_long(&mut head, self.count as i64);
        write_long(&mut head, data.len() as i64);
        self.out.write_all(&head)?;
        self.out.write_all(data)?;
        self.out.write_all(&self.sync)?;
        self.block.clear();
        self.count = 0;
        Ok(())
    }

    /// Writes the last block and returns the output (not flushed).
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_block()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::ContainerReader;

    #[test]
    fn written_files_read_back_with_every_codec() {
        for codec in [Codec::Null, Codec::Deflate, Codec::Snappy, Codec::Zstandard] {
            let options = WriterOptions {
                codec,
                sync: Some([7; 16]),
                block_size: 10,
                ..WriterOptions::default()
            };
            let mut writer = ContainerWriter::new(Vec::new(), "\"long\"", &options).unwrap();
            for n in 0..25i64 {
                write_long(writer.buffer(), n);
                writer.datum_done().unwrap();
            }
            let file = writer.finish().unwrap();
            let mut reader = ContainerReader::new(&file[..], 1 << 20).unwrap();
            assert_eq!(reader.header().codec, codec);
            assert_eq!(reader.header().sync, [7; 16]);
            let mut values = Vec::new();
            while let Some(block) = reader.next_block().unwrap() {
                let mut cursor = crate::binary::Cursor::new(block.data);
                for _ in 0..block.count {
                    values.push(cursor.long().unwrap());
                }
                assert_eq!(cursor.remaining(), 0);
            }
            assert_eq!(values, (0..25).collect::<Vec<_>>(), "{codec:?}");
        }
    }

    #[test]
    fn minified_json_keeps_strings_whole() {
        assert_eq!(
            minify_json("{ \"a b\" : [ 1 ,\n\t\"x\\\" y\" ] }"),
            "{\"a b\":[1,\"x\\\" y\"]}"
        );
    }

    #[test]
    fn random_sync_markers_differ() {
        assert_ne!(random_sync(), random_sync());
    }
}
