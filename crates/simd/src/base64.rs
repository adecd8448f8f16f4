//! Streaming base64 (RFC 4648 standard alphabet, padded) over base64-simd.
//!
//! A DICOM value reaches the JSON writer in chunks of any size. Base64 maps 3 input bytes to 4 output bytes,
//! so each chunk is encoded up to its last whole 3-byte group straight into the caller's output buffer, and
//! the 0–2 bytes left over are carried into the next chunk. Nothing the size of the value is ever held.

use base64_simd::{Out, STANDARD};

/// Encodes a value that arrives in chunks, appending base64 text to a `Vec<u8>`.
///
/// ```
/// use dcmflow_simd::Base64Encoder;
/// let mut out = Vec::new();
/// let mut enc = Base64Encoder::new();
/// enc.push(b"he", &mut out);
/// enc.push(b"llo", &mut out);
/// enc.finish(&mut out);
/// assert_eq!(out, b"aGVsbG8=");
/// ```
#[derive(Debug, Default, Clone)]
pub struct Base64Encoder {
    carry: [u8; 3],
    carry_len: usize,
}

impl Base64Encoder {
    pub fn new() -> Base64Encoder {
        Base64Encoder::default()
    }

    /// Appends the base64 text of every whole 3-byte group of (carry + `chunk`) to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<u8>) {
        if self.carry_len > 0 {
            let take = (3 - self.carry_len).min(chunk.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&chunk[..take]);
            self.carry_len += take;
            chunk = &chunk[take..];
            if self.carry_len < 3 {
                return;
            }
            let group = self.carry;
            append_encoded(&group, out);
            self.carry_len = 0;
        }
        let whole = chunk.len() - chunk.len() % 3;
        append_encoded(&chunk[..whole], out);
        let tail = &chunk[whole..];
        self.carry[..tail.len()].copy_from_slice(tail);
        self.carry_len = tail.len();
    }

    /// Appends the last group (with `=` padding) and resets the encoder for the next value.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let n = std::mem::take(&mut self.carry_len);
        let tail = self.carry;
        append_encoded(&tail[..n], out);
    }
}

/// The base64 length of `n` bytes, padded.
pub fn base64_len(n: u64) -> u64 {
    n.div_ceil(3) * 4
}

/// Appends the padded base64 text of `src` to `out` without zero-filling the space first.
pub fn append_encoded(src: &[u8], out: &mut Vec<u8>) {
    if src.is_empty() {
        return;
    }
    let n = STANDARD.encoded_length(src.len());
    out.reserve(n);
    let start = out.len();
    let written = STANDARD
        .encode(
            src,
            Out::from_uninit_slice(&mut out.spare_capacity_mut()[..n]),
        )
        .len();
    debug_assert_eq!(written, n);
    // SAFETY: `encode` initialised exactly `written` bytes of the spare capacity (it returns that slice),
    // and `reserve(n)` made room for them, so `start + written` bytes are initialised and in capacity.
    unsafe { out.set_len(start + written) };
}

/// Why base64 text could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Base64Error;

/// The decoded length of a complete, padded base64 text of `len` characters whose last two characters are
/// `tail`; `None` when `len` is not a multiple of 4 (RFC 4648 §4: the standard encoding is padded).
pub fn decoded_len(len: u64, tail: [u8; 2]) -> Option<u64> {
    if len % 4 != 0 {
        return None;
    }
    let pad = match tail {
        [b'=', b'='] => 2,
        [_, b'='] => 1,
        _ => 0,
    };
    Some((len / 4 * 3).saturating_sub(pad))
}

/// Appends the bytes of `src` (whole 4-character groups; `=` padding only in the last group) to `out`
/// without zero-filling the space first. Non-alphabet characters are an error.
pub fn append_decoded(src: &[u8], out: &mut Vec<u8>) -> Result<(), Base64Error> {
    if src.is_empty() {
        return Ok(());
    }
    if src.len() % 4 != 0 {
        return Err(Base64Error);
    }
    let n = src.len() / 4 * 3;
    out.reserve(n);
    let start = out.len();
    let written = STANDARD
        .decode(
            src,
            Out::from_uninit_slice(&mut out.spare_capacity_mut()[..n]),
        )
        .map_err(|_| Base64Error)?
        .len();
    debug_assert!(written <= n);
    // SAFETY: `decode` initialised exactly `written` bytes of the spare capacity (it returns that slice),
    // and `reserve(n)` made room for at least that many, so `start + written` bytes are initialised.
    unsafe { out.set_len(start + written) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive oracle: RFC 4648 §4 written out bit by bit.
    fn naive(src: &[u8]) -> Vec<u8> {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        for group in src.chunks(3) {
            let b = [
                group[0],
                *group.get(1).unwrap_or(&0),
                *group.get(2).unwrap_or(&0),
            ];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for i in 0..4 {
                if i <= group.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]);
                } else {
                    out.push(b'=');
                }
            }
        }
        out
    }

    #[test]
    fn matches_the_oracle_for_every_chunking() {
        for len in [0usize, 1, 2, 3, 4, 5, 31, 32, 33, 64, 95, 1000] {
            let src = crate::test_input::pseudo_random(len, len as u64 + 7);
            for chunk in [1usize, 2, 3, 4, 5, 7, 16, 64, 4096] {
                let mut out = b"prefix".to_vec();
                let mut enc = Base64Encoder::new();
                for piece in src.chunks(chunk) {
                    enc.push(piece, &mut out);
                }
                enc.finish(&mut out);
                assert_eq!(&out[..6], b"prefix");
                assert_eq!(out[6..], naive(&src), "len {len} chunk {chunk}");
            }
        }
    }

    #[test]
    fn decode_inverts_the_oracle_in_any_whole_group_chunking() {
        for len in [0usize, 1, 2, 3, 4, 5, 31, 32, 33, 64, 95, 1000] {
            let src = crate::test_input::pseudo_random(len, len as u64 + 11);
            let text = naive(&src);
            let tail = [
                text.len().checked_sub(2).map_or(0, |i| text[i]),
                text.last().copied().unwrap_or(0),
            ];
            assert_eq!(decoded_len(text.len() as u64, tail), Some(len as u64));
            for groups in [1usize, 2, 3, 16, 1024] {
                let mut out = b"prefix".to_vec();
                for piece in text.chunks(groups * 4) {
                    append_decoded(piece, &mut out).unwrap();
                }
                assert_eq!(out[6..], src, "len {len} groups {groups}");
            }
        }
    }

    #[test]
    fn decode_rejects_what_is_not_padded_base64() {
        let mut out = Vec::new();
        assert_eq!(append_decoded(b"YQ=", &mut out), Err(Base64Error));
        assert_eq!(append_decoded(b"Y*==", &mut out), Err(Base64Error));
        assert_eq!(append_decoded(b"YQ==YQ==", &mut out), Err(Base64Error));
        assert_eq!(decoded_len(3, *b"Q="), None);
        assert!(out.is_empty());
    }

    #[test]
    fn encoder_is_reusable_after_finish() {
        let mut out = Vec::new();
        let mut enc = Base64Encoder::new();
        enc.push(b"a", &mut out);
        enc.finish(&mut out);
        enc.push(b"bc", &mut out);
        enc.finish(&mut out);
        assert_eq!(out, b"YQ==YmM=");
        assert_eq!(base64_len(0), 0);
        assert_eq!(base64_len(4), 8);
    }
}
