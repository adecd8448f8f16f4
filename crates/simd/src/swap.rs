//! Endian swapping of binary values (PS3.5 7.3): OW/US/SS/AT in 2-byte words, OF/OL/FL/UL/SL in 4, OD/OV/FD/SV/UV in 8.

/// Reverses the byte order of every `unit`-byte word of `bytes` in place. `unit` is 1, 2, 4 or 8;
/// a trailing partial word (only in malformed values) is left as it is.
pub fn swap_in_place(bytes: &mut [u8], unit: usize) {
    match unit {
        2 => bytes.chunks_exact_mut(2).for_each(|w| w.swap(0, 1)),
        4 => bytes.chunks_exact_mut(4).for_each(|w| {
            let v = u32::from_ne_bytes([w[0], w[1], w[2], w[3]]).swap_bytes();
            w.copy_from_slice(&v.to_ne_bytes());
        }),
        8 => bytes.chunks_exact_mut(8).for_each(|w| {
            let v =
                u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]).swap_bytes();
            w.copy_from_slice(&v.to_ne_bytes());
        }),
        _ => {}
    }
}

use std::mem::MaybeUninit;

/// Copies `src` into `dst` (same length) with every `unit`-byte word reversed, in one pass. A trailing
/// partial word is copied unchanged.
pub fn swap_into(src: &[u8], dst: &mut [u8], unit: usize) {
    assert_eq!(src.len(), dst.len(), "swap_into needs equal lengths");
    // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and `swap_words` only writes
    // initialised bytes, so `dst` stays initialised.
    let dst = unsafe { &mut *(dst as *mut [u8] as *mut [MaybeUninit<u8>]) };
    swap_words(src, dst, unit);
}

/// Appends `src` with every `unit`-byte word reversed to `out`, writing into its spare capacity without
/// zero-filling it first (one pass over the destination, as a copy would be).
pub fn append_swapped(src: &[u8], unit: usize, out: &mut Vec<u8>) {
    out.reserve(src.len());
    let start = out.len();
    swap_words(src, &mut out.spare_capacity_mut()[..src.len()], unit);
    // SAFETY: `reserve` made room for `src.len()` more bytes and `swap_words` initialised all of them
    // (every whole word and the trailing partial one).
    unsafe { out.set_len(start + src.len()) };
}

/// The one swap kernel: writes every byte of `dst` (same length as `src`).
fn swap_words(src: &[u8], dst: &mut [MaybeUninit<u8>], unit: usize) {
    let whole = match unit {
        2 | 4 | 8 => src.len() - src.len() % unit,
        _ => 0,
    };
    let (src_words, src_tail) = src.split_at(whole);
    let (dst_words, dst_tail) = dst.split_at_mut(whole);
    match unit {
        2 => zip_words::<2>(src_words, dst_words, |w| {
            u16::from_ne_bytes(w).swap_bytes().to_ne_bytes()
        }),
        4 => zip_words::<4>(src_words, dst_words, |w| {
            u32::from_ne_bytes(w).swap_bytes().to_ne_bytes()
        }),
        8 => zip_words::<8>(src_words, dst_words, |w| {
            u64::from_ne_bytes(w).swap_bytes().to_ne_bytes()
        }),
        _ => {}
    }
    for (d, &s) in dst_tail.iter_mut().zip(src_tail) {
        d.write(s);
    }
}

fn zip_words<const N: usize>(
    src: &[u8],
    dst: &mut [MaybeUninit<u8>],
    f: impl Fn([u8; N]) -> [u8; N],
) {
    for (s, d) in src.chunks_exact(N).zip(dst.chunks_exact_mut(N)) {
        let mut w = [0u8; N];
        w.copy_from_slice(s);
        for (d, b) in d.iter_mut().zip(f(w)) {
            d.write(b);
        }
    }
}

/// Swaps a value that arrives in chunks of any size, carrying a partial word (at most 7 bytes) from one
/// chunk to the next so words split across chunk boundaries still swap whole.
#[derive(Debug, Default, Clone)]
pub struct SwapCarry {
    pending: [u8; 8],
    len: usize,
}

impl SwapCarry {
    pub fn new() -> SwapCarry {
        SwapCarry::default()
    }

    /// Swaps `chunk` into `out` (cleared first); bytes of an incomplete last word are kept for the next call.
    pub fn push(&mut self, chunk: &[u8], unit: usize, out: &mut Vec<u8>) {
        out.clear();
        self.append(chunk, unit, out);
    }

    /// Like [`SwapCarry::push`], appending to what `out` holds: a caller with its own output buffer swaps
    /// straight into it instead of copying from a scratch buffer afterwards.
    pub fn append(&mut self, chunk: &[u8], unit: usize, out: &mut Vec<u8>) {
        if unit <= 1 {
            out.extend_from_slice(chunk);
            return;
        }
        let mut rest = chunk;
        if self.len > 0 {
            let take = (unit - self.len).min(rest.len());
            self.pending[self.len..self.len + take].copy_from_slice(&rest[..take]);
            self.len += take;
            rest = &rest[take..];
            if self.len < unit {
                return;
            }
            let word = &mut self.pending[..unit];
            word.reverse();
            out.extend_from_slice(word);
            self.len = 0;
        }
        let whole = rest.len() - rest.len() % unit;
        append_swapped(&rest[..whole], unit, out);
        let tail = &rest[whole..];
        self.pending[..tail.len()].copy_from_slice(tail);
        self.len = tail.len();
    }

    /// The bytes of a trailing partial word (malformed value lengths), unswapped; resets the carry.
    pub fn finish(&mut self) -> &[u8] {
        let n = std::mem::take(&mut self.len);
        &self.pending[..n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_input::pseudo_random;

    /// The naive oracle: reverse each word with `reverse()`.
    fn naive(src: &[u8], unit: usize) -> Vec<u8> {
        let mut v = src.to_vec();
        if unit > 1 {
            v.chunks_exact_mut(unit).for_each(|w| w.reverse());
        }
        v
    }

    #[test]
    fn in_place_matches_oracle_for_all_units_and_lengths() {
        for unit in [1, 2, 4, 8] {
            for n in 0..70 {
                let src = pseudo_random(n, n as u64 * 31 + unit as u64);
                let mut got = src.clone();
                swap_in_place(&mut got, unit);
                assert_eq!(got, naive(&src, unit), "unit {unit} len {n}");
            }
        }
    }

    #[test]
    fn swap_into_matches_oracle_for_all_units_and_lengths() {
        for unit in [1, 2, 4, 8] {
            for n in 0..70 {
                let src = pseudo_random(n, 99 + n as u64);
                let mut got = vec![0u8; n];
                swap_into(&src, &mut got, unit);
                assert_eq!(got, naive(&src, unit), "unit {unit} len {n}");
            }
        }
    }

    #[test]
    fn known_words() {
        let mut w = [1u8, 2, 3, 4, 5, 6, 7, 8];
        swap_in_place(&mut w, 4);
        assert_eq!(w, [4, 3, 2, 1, 8, 7, 6, 5]);
        let mut d = [0u8; 8];
        swap_into(&[1, 2, 3, 4, 5, 6, 7, 8], &mut d, 8);
        assert_eq!(d, [8, 7, 6, 5, 4, 3, 2, 1]);
    }

    #[test]
    fn carry_matches_oracle_at_every_chunking() {
        let src = pseudo_random(1000, 7);
        for unit in [2, 4, 8] {
            for chunk in [1, 2, 3, 5, 7, 9, 64, 999] {
                let mut carry = SwapCarry::new();
                let mut out = Vec::new();
                let mut got = Vec::new();
                for c in src.chunks(chunk) {
                    carry.push(c, unit, &mut out);
                    got.extend_from_slice(&out);
                }
                got.extend_from_slice(carry.finish());
                assert_eq!(got, naive(&src, unit), "unit {unit} chunk {chunk}");
            }
        }
    }

    #[test]
    fn append_keeps_what_the_buffer_held() {
        let src = pseudo_random(301, 11);
        for unit in [2, 4, 8] {
            let mut carry = SwapCarry::new();
            let mut out = b"head".to_vec();
            for c in src.chunks(13) {
                carry.append(c, unit, &mut out);
            }
            out.extend_from_slice(carry.finish());
            let mut expected = b"head".to_vec();
            expected.extend_from_slice(&naive(&src, unit));
            assert_eq!(out, expected, "unit {unit}");
        }
    }
}
