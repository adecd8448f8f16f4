//! `--threads`: one thread or two (see `dcmflow::Threads`; without the option the library decides).

/// The library's choice for `--threads N`: 1 → one, 2 → two, none given → its own rule.
pub fn choice(requested: Option<u8>) -> dcmflow::Threads {
    match requested {
        Some(1) => dcmflow::Threads::One,
        Some(_) => dcmflow::Threads::Two,
        None => dcmflow::Threads::Auto,
    }
}
