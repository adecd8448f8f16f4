//! The progress bar every conversion shows on standard error.

use std::io::{self, IsTerminal};

/// Inputs smaller than this finish before a bar would tell anything.
const WORTH_SHOWING: u64 = 64 << 20;

/// A bar counting `size` bytes, only when standard error is a terminal, the input is large enough to
/// wait for, and the user did not ask for silence (`hidden`: `--quiet` or `--no-progress`).
pub fn bar(hidden: bool, size: Option<u64>) -> Option<indicatif::ProgressBar> {
    let size = size?;
    if hidden || size < WORTH_SHOWING || !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}
