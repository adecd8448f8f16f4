//! ASCII bytes as `&str` without UTF-8 validation: for tokens a lexer has already restricted to ASCII
//! (JSON numbers), where `str::from_utf8` would check every byte again and showed in profiles; and the
//! word-at-a-time scan for the bytes a JSON string cannot hold as they are.

/// `bytes` as a `&str` when every byte is ASCII, else `None`.
#[inline]
pub fn ascii_str(bytes: &[u8]) -> Option<&str> {
    if !bytes.is_ascii() {
        return None;
    }
    // SAFETY: every byte is below 0x80 (checked just above), and ASCII is valid UTF-8.
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// `bytes` as a `&str` when they are valid UTF-8: simdutf8's validation (SIMD, the CPU's features
/// detected at run time), several times std's on text that is not mostly ASCII.
#[inline]
pub fn utf8_str(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}

/// How much of `bytes` is valid UTF-8 when they are the start of longer text: all of them, or all but
/// a character cut at their end (its first bytes, left for the next piece). `None` when they hold a
/// byte sequence that is not UTF-8 whatever follows.
#[inline]
pub fn utf8_prefix_len(bytes: &[u8]) -> Option<usize> {
    match simdutf8::compat::from_utf8(bytes) {
        Ok(_) => Some(bytes.len()),
        // An error without a length is a character the end of `bytes` cut short.
        Err(e) if e.error_len().is_none() => Some(e.valid_up_to()),
        Err(_) => None,
    }
}

/// The high bit set in each byte of `word` (eight bytes, little endian) that a JSON string cannot hold
/// as it is: below 0x20, `"` or `\\` (RFC 8259 §7). The zero-byte test `(x - 0x01…) & !x` is exact for
/// the lowest marked byte; bytes above a true hit may be marked falsely.
#[inline]
pub fn json_escape_marks(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * b'"' as u64);
    let backslash = word ^ (ONES * b'\\' as u64);
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (below_space | quote | backslash) & HIGH
}

/// The leading run of `bytes` that is printable ASCII other than `"` and `\\`, as text: content a JSON
/// string holds as it is, which a reader takes without unescaping or UTF-8 validation. Eight bytes at a
/// time.
#[inline]
pub fn plain_json_ascii(bytes: &[u8]) -> &str {
    let mut n = 0;
    loop {
        let Some(word) = bytes.get(n..n + 8) else {
            n += bytes[n..]
                .iter()
                .position(|&b| !(0x20..0x80).contains(&b) || b == b'"' || b == b'\\')
                .unwrap_or(bytes.len() - n);
            break;
        };
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let special = json_escape_marks(word) | word & 0x8080_8080_8080_8080;
        if special != 0 {
            // The lowest marked byte is a true hit (see `json_escape_marks`).
            n += (special.trailing_zeros() / 8) as usize;
            break;
        }
        n += 8;
    }
    // SAFETY: every byte of `bytes[..n]` is below 0x80 (the high bit of each was tested above), and
    // ASCII is valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(&bytes[..n]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_prefix_leaves_a_cut_character_and_refuses_a_bad_one() {
        let text = "aé€😀".as_bytes(); // 1 + 2 + 3 + 4 bytes
        assert_eq!(utf8_prefix_len(text), Some(10));
        // Cut inside each character: the valid part is the characters before it.
        for (cut, valid) in [(2, 1), (4, 3), (5, 3), (7, 6), (8, 6), (9, 6)] {
            assert_eq!(utf8_prefix_len(&text[..cut]), Some(valid), "cut at {cut}");
        }
        assert_eq!(utf8_prefix_len(&[b'a', 0xff]), None);
        assert_eq!(utf8_prefix_len(&[0xc3, b'a']), None);
    }

    /// The run against the byte-by-byte definition, for every byte at every place in a 20-byte text.
    #[test]
    fn plain_json_ascii_stops_at_the_first_special_byte() {
        let slow = |bytes: &[u8]| {
            bytes
                .iter()
                .position(|&b| !(0x20..0x80).contains(&b) || b == b'"' || b == b'\\')
                .unwrap_or(bytes.len())
        };
        for b in 0..=255u8 {
            for at in 0..20 {
                let mut text = [b'a'; 20];
                text[at] = b;
                // A second special byte later must not move the answer.
                text[19.min(at + 3)] = 0x01;
                for len in [at + 1, 20] {
                    let run = plain_json_ascii(&text[..len]);
                    assert_eq!(run.len(), slow(&text[..len]), "{b:#04x} at {at}");
                }
            }
        }
    }

    #[test]
    fn ascii_only() {
        assert_eq!(ascii_str(b"-1.5e3"), Some("-1.5e3"));
        assert_eq!(ascii_str(b""), Some(""));
        assert_eq!(ascii_str("é".as_bytes()), None);
        assert_eq!(ascii_str(b"\x80"), None);
    }
}
