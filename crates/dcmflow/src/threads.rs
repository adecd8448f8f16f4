//! How many threads a conversion uses.

/// Whether a conversion reads and writes on one thread or two. With two, one thread reads (and renders
/// what it can) while the other writes; the output is the same either way, and memory stays bounded by
/// a few batches of at most 256 KiB of value bytes each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Threads {
    /// Two for inputs of 1 MiB or more (or of unknown size) on a machine with two cores or more; one
    /// otherwise.
    #[default]
    Auto,
    /// Everything on the calling thread.
    One,
    /// Reading and writing on two threads.
    Two,
}

/// Inputs smaller than this convert in less time than a second thread takes to pay for itself.
const WORTH_A_THREAD: u64 = 1 << 20;

impl Threads {
    /// Whether to use two threads for an input of `size` bytes (`None`: unknown).
    pub(crate) fn two(self, size: Option<u64>) -> bool {
        match self {
            Threads::One => false,
            Threads::Two => true,
            Threads::Auto => {
                size.is_none_or(|n| n >= WORTH_A_THREAD)
                    && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
            }
        }
    }
}
