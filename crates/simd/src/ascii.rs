//! ASCII bytes as `&str` without UTF-8 validation: for tokens a lexer has already restricted to ASCII
//! (JSON numbers), where `str::from_utf8` would check every byte again and showed in profiles.

/// `bytes` as a `&str` when every byte is ASCII, else `None`.
#[inline]
pub fn ascii_str(bytes: &[u8]) -> Option<&str> {
    if !bytes.is_ascii() {
        return None;
    }
    // SAFETY: every byte is below 0x80 (checked just above), and ASCII is valid UTF-8.
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_only() {
        assert_eq!(ascii_str(b"-1.5e3"), Some("-1.5e3"));
        assert_eq!(ascii_str(b""), Some(""));
        assert_eq!(ascii_str("é".as_bytes()), None);
        assert_eq!(ascii_str(b"\x80"), None);
    }
}
