//! Byte kernels on the hot path of every transcode: endian swapping, streaming base64, ASCII as `str`,
//! ISO-8859-1 ⇄ JSON strings.
//!
//! This is the one crate of the workspace where `unsafe` may live (each block with a `// SAFETY:` comment;
//! CPU features are detected at run time by base64-simd, never assumed at compile time). The swap kernels
//! are portable code that compiles to vector code (`pshufb`/`vpshufb` on x86-64 with the default target
//! features, measured in `benches/`); base64 is base64-simd's, fed in 3-byte-aligned chunks.
#![allow(unsafe_code)]

mod ascii;
mod base64;
mod latin1;
mod swap;

pub use ascii::{ascii_str, json_escape_marks, plain_json_ascii, utf8_prefix_len, utf8_str};
pub use base64::{
    append_decoded, append_encoded, base64_len, decoded_len, Base64Encoder, Base64Error,
};
pub use latin1::{append_latin1_as_json, append_utf8_as_latin1, json_form, latin1_len};
pub use swap::{append_swapped, swap_in_place, swap_into, SwapCarry};

/// Deterministic pseudo-random bytes for the kernels' oracle tests (xorshift; no dependency).
#[cfg(test)]
mod test_input {
    pub fn pseudo_random(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }
}
