//! A block's data decompressed a piece at a time, for blocks streamed rather than held whole: stored
//! data as it is, raw deflate with flate2's `Decompress`, Zstandard with zstd's streaming decoder. The
//! output of each step is bounded by the room given, whatever the compressed bytes promise. Snappy is
//! not here: Avro's snappy codec is one raw Snappy block (and a CRC of all of it), which only decodes
//! whole.

use flate2::{Decompress, FlushDecompress};
use zstd::stream::raw::Operation;

use crate::container::Codec;

/// A streaming decompressor for one block.
pub struct Inflater {
    kind: Kind,
    /// The compressed data has reached its end (deflate's final block, a complete Zstandard frame).
    complete: bool,
}

enum Kind {
    Stored,
    Deflate(Box<Decompress>),
    Zstandard(Box<zstd::stream::raw::Decoder<'static>>),
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.kind {
            Kind::Stored => "Inflater(null)",
            Kind::Deflate(_) => "Inflater(deflate)",
            Kind::Zstandard(_) => "Inflater(zstandard)",
        })
    }
}

impl Inflater {
    /// A decompressor for a block of `codec`; `None` for snappy, which cannot be streamed.
    pub fn new(codec: Codec) -> Result<Option<Self>, String> {
        let kind = match codec {
            Codec::Null => Kind::Stored,
            // specification.md, Optional Codecs: deflate is RFC 1951 without a zlib header.
            Codec::Deflate => Kind::Deflate(Box::new(Decompress::new(false))),
            Codec::Zstandard => Kind::Zstandard(Box::new(
                zstd::stream::raw::Decoder::new().map_err(|e| e.to_string())?,
            )),
            Codec::Snappy => return Ok(None),
        };
        Ok(Some(Inflater {
            kind,
            complete: matches!(codec, Codec::Null),
        }))
    }

    /// The codec's name, for messages.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::Stored => "null",
            Kind::Deflate(_) => "deflate",
            Kind::Zstandard(_) => "zstandard",
        }
    }

    /// Decompresses from `raw`, appending at most `room` bytes to `out`; returns how many bytes of
    /// `raw` were used. With `raw` empty, writes what the decompressor still holds (0 when nothing).
    pub fn inflate(&mut self, raw: &[u8], out: &mut Vec<u8>, room: usize) -> Result<usize, String> {
        let start = out.len();
        match &mut self.kind {
            Kind::Stored => {
                let n = raw.len().min(room);
                out.extend_from_slice(&raw[..n]);
                Ok(n)
            }
            Kind::Deflate(state) => {
                if self.complete {
                    // Bytes after the deflate stream's end are not data (as a whole-block read
                    // ignores them).
                    return Ok(raw.len());
                }
                out.resize(start + room, 0);
                let (read, written) = (state.total_in(), state.total_out());
                let status = state.decompress(raw, &mut out[start..], FlushDecompress::None);
                let (read, written) = (
                    (state.total_in() - read) as usize,
                    (state.total_out() - written) as usize,
                );
                out.truncate(start + written);
                match status {
                    Ok(flate2::Status::StreamEnd) => self.complete = true,
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
                Ok(read)
            }
            Kind::Zstandard(decoder) => {
                out.resize(start + room, 0);
                let status = decoder.run_on_buffers(raw, &mut out[start..]);
                let status = match status {
                    Ok(status) => status,
                    Err(e) => {
                        out.truncate(start);
                        return Err(e.to_string());
                    }
                };
                out.truncate(start + status.bytes_written);
                if status.bytes_read > 0 || status.bytes_written > 0 {
                    // Zero bytes expected next: a frame is complete and all of it written.
                    self.complete = status.remaining == 0;
                }
                Ok(status.bytes_read)
            }
        }
    }

    /// Whether the compressed data ended where it should (deflate's final block; a whole Zstandard
    /// frame).
    pub fn complete(&self) -> bool {
        self.complete
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn pieces(codec: Codec, compressed: &[u8], raw_piece: usize, room: usize) -> (Vec<u8>, bool) {
        let mut inflater = Inflater::new(codec).unwrap().unwrap();
        let mut out = Vec::new();
        let mut at = 0;
        while at < compressed.len() {
            let end = (at + raw_piece).min(compressed.len());
            let before = out.len();
            let used = inflater
                .inflate(&compressed[at..end], &mut out, room)
                .unwrap();
            assert!(out.len() - before <= room);
            at += used;
        }
        // What the decompressor still holds.
        loop {
            let before = out.len();
            inflater.inflate(&[], &mut out, room).unwrap();
            if out.len() == before {
                break;
            }
        }
        (out, inflater.complete())
    }

    #[test]
    fn deflate_and_zstandard_in_pieces_give_the_data() {
        let data: Vec<u8> = (0..300_000u64).map(|i| (i * i % 253) as u8).collect();
        let mut deflated = flate2::write::DeflateEncoder::new(Vec::new(), Default::default());
        deflated.write_all(&data).unwrap();
        let deflated = deflated.finish().unwrap();
        let zstd = zstd::encode_all(&data[..], 3).unwrap();
        for (codec, compressed) in [
            (Codec::Null, &data),
            (Codec::Deflate, &deflated),
            (Codec::Zstandard, &zstd),
        ] {
            for (raw_piece, room) in [(1, 7), (100, 4096), (1 << 16, 1 << 18)] {
                let (out, complete) = pieces(codec, compressed, raw_piece, room);
                assert!(out == data, "{codec:?} {raw_piece} {room}");
                assert!(complete, "{codec:?}");
            }
            // Cut short: the data so far, and not complete.
            if codec != Codec::Null {
                let (out, complete) =
                    pieces(codec, &compressed[..compressed.len() / 2], 4096, 4096);
                assert!(!complete, "{codec:?} cut");
                assert!(data.starts_with(&out));
            }
        }
        assert!(Inflater::new(Codec::Snappy).unwrap().is_none());
    }
}
