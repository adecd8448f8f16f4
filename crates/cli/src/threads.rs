//! `--threads`: whether a conversion reads and writes on two threads (see `dcmflow::pipeline`).

/// Inputs smaller than this convert in less time than a second thread takes to pay for itself.
const WORTH_A_THREAD: u64 = 1 << 20;

/// Two threads when asked (`--threads 2`), or by default for inputs of 1 MiB or more (or of unknown size,
/// such as standard input) on a machine with two cores or more.
pub fn use_two(requested: Option<u8>, input_size: Option<u64>) -> bool {
    match requested {
        Some(n) => n == 2,
        None => {
            input_size.is_none_or(|n| n >= WORTH_A_THREAD)
                && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
        }
    }
}
