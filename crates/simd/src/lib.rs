//! Byte kernels on the hot path of every transcode: endian swapping and streaming base64.
//!
//! This is the one crate of the workspace where `unsafe` may live (each block with a `// SAFETY:` comment;
//! CPU features are detected at run time by base64-simd, never assumed at compile time). The swap kernels
//! are portable code that compiles to vector code (`pshufb`/`vpshufb` on x86-64 with the default target
//! features, measured in `benches/`); base64 is base64-simd's, fed in 3-byte-aligned chunks.
#![allow(unsafe_code)]

mod base64;
mod swap;

pub use base64::{append_encoded, base64_len, Base64Encoder};
pub use swap::{swap_in_place, swap_into, SwapCarry};
