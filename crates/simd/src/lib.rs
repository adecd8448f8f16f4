//! Byte kernels on the hot path of every transcode.
//!
//! This is the one crate of the workspace where `unsafe` may live (behind runtime CPU detection, each block
//! with a `// SAFETY:` comment). Today it needs none: the portable kernels below compile to vector code
//! (`pshufb`/`vpshufb` on x86-64 with the default target features, measured in `benches/`), so no hand-written
//! SIMD has earned its place yet.

mod swap;

pub use swap::{swap_in_place, swap_into, SwapCarry};
