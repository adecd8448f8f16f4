//! ISO-8859-1 ⇄ JSON strings (Avro's JSON encoding of `bytes` and `fixed`: the string's code points
//! U+0000–U+00FF are the bytes). Plain ASCII moves eight bytes at a time; every other byte takes its
//! form from a table, written into a stack buffer so that the output grows once per 4 KiB.

use crate::ascii::json_escape_marks;

const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Each byte's form inside a JSON string (RFC 8259 §7: `\"`, `\\`, the short escapes, `\u00XX` for
/// other controls; U+0080–U+00FF as two bytes of UTF-8); its length in the last slot.
static FORM: [[u8; 8]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = match byte {
            0x08 => [b'\\', b'b', 0, 0, 0, 0, 0, 2],
            0x09 => [b'\\', b't', 0, 0, 0, 0, 0, 2],
            0x0A => [b'\\', b'n', 0, 0, 0, 0, 0, 2],
            0x0C => [b'\\', b'f', 0, 0, 0, 0, 0, 2],
            0x0D => [b'\\', b'r', 0, 0, 0, 0, 0, 2],
            b'"' => [b'\\', b'"', 0, 0, 0, 0, 0, 2],
            b'\\' => [b'\\', b'\\', 0, 0, 0, 0, 0, 2],
            0x00..=0x1F => [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(byte >> 4) as usize],
                HEX[(byte & 15) as usize],
                0,
                6,
            ],
            0x20..=0x7F => [byte, 0, 0, 0, 0, 0, 0, 1],
            _ => [0xC0 | byte >> 6, 0x80 | (byte & 0x3F), 0, 0, 0, 0, 0, 2],
        };
        b += 1;
    }
    table
};

/// The form of the character U+0000–U+00FF numbered `byte` inside a JSON string: itself, its escape
/// (`\"`, `\n`, `\u001f`, …), or its two bytes of UTF-8.
#[inline]
pub fn json_form(byte: u8) -> &'static [u8] {
    let form = &FORM[byte as usize];
    &form[..form[7] as usize]
}

/// Input bytes converted per output append.
const CHUNK: usize = 4096;

/// Appends `bytes` as the contents of a JSON string (without its quotes) whose code points are the
/// bytes.
pub fn append_latin1_as_json(bytes: &[u8], out: &mut Vec<u8>) {
    // Each byte's form is copied whole (8 bytes) and the position advanced by its length: the buffer
    // has room for the longest forms and the last copy's overhang.
    let mut buf = [0u8; CHUNK * 6 + 8];
    for chunk in bytes.chunks(CHUNK) {
        let (mut i, mut n) = (0, 0);
        while i < chunk.len() {
            if let Some(eight) = chunk.get(i..i + 8) {
                let word = u64::from_le_bytes(eight.try_into().expect("8 bytes"));
                if word & HIGH_BITS == 0 && json_escape_marks(word) == 0 {
                    buf[n..n + 8].copy_from_slice(eight);
                    n += 8;
                    i += 8;
                    continue;
                }
            }
            let form = &FORM[chunk[i] as usize];
            buf[n..n + 8].copy_from_slice(form);
            n += form[7] as usize;
            i += 1;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// How many bytes the UTF-8 `text` is as ISO-8859-1, if every character is at most U+00FF (each then
/// is one or two bytes of UTF-8): the bytes that do not continue a character.
pub fn latin1_len(text: &[u8]) -> usize {
    text.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

/// Appends the UTF-8 `text` (valid UTF-8) as ISO-8859-1 bytes; `Err` with the offset of the first
/// character above U+00FF (what was before it is appended).
pub fn append_utf8_as_latin1(text: &[u8], out: &mut Vec<u8>) -> Result<(), usize> {
    // Written into a stack buffer, appended once per chunk. Random bytes make a branch per character
    // unpredictable, so each step is branch-free: a C2/C3 lead takes the byte after it too (in valid
    // UTF-8 that is its continuation); any other byte of 0x80 or more starts a larger character, which
    // is noted and located once the chunk is done.
    let mut buf = [0u8; CHUNK];
    let mut i = 0;
    while i < text.len() {
        let (start, mut n, mut larger) = (i, 0, false);
        while n + 8 <= CHUNK && i < text.len() {
            if let Some(eight) = text.get(i..i + 8) {
                if u64::from_le_bytes(eight.try_into().expect("8 bytes")) & HIGH_BITS == 0 {
                    buf[n..n + 8].copy_from_slice(eight);
                    n += 8;
                    i += 8;
                    continue;
                }
            }
            let b = text[i];
            let next = text.get(i + 1).copied().unwrap_or(0);
            let lead = b & 0xFE == 0xC2;
            larger |= b >= 0x80 && !lead;
            let two = (b & 0x03) << 6 | (next & 0x3F);
            buf[n] = if lead { two } else { b };
            i += 1 + usize::from(lead);
            n += 1;
        }
        if larger {
            let at = start + first_larger(&text[start..i]);
            let mut done = Vec::new();
            append_utf8_as_latin1(&text[start..at], &mut done).expect("no larger character before");
            out.extend_from_slice(&done);
            return Err(at);
        }
        out.extend_from_slice(&buf[..n]);
    }
    Ok(())
}

/// The offset of the first character above U+00FF in UTF-8 `text` that has one.
fn first_larger(text: &[u8]) -> usize {
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            0xC2 | 0xC3 => i += 2,
            b if b < 0x80 => i += 1,
            _ => return i,
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_input::pseudo_random;

    /// The definition: each byte as the character U+00XX, escaped as RFC 8259 asks.
    fn oracle(bytes: &[u8]) -> Vec<u8> {
        let mut out = String::new();
        for &b in bytes {
            match b {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                0x08 => out.push_str("\\b"),
                0x09 => out.push_str("\\t"),
                0x0A => out.push_str("\\n"),
                0x0C => out.push_str("\\f"),
                0x0D => out.push_str("\\r"),
                0..=0x1F => out.push_str(&format!("\\u{:04x}", b)),
                _ => out.push(char::from(b)),
            }
        }
        out.into_bytes()
    }

    #[test]
    fn latin1_as_json_matches_the_definition() {
        for (n, seed) in [(0, 1), (7, 2), (8, 3), (4095, 4), (4096, 5), (10_000, 6)] {
            let mut bytes = pseudo_random(n, seed);
            for pass in 0..2 {
                let mut out = b"x".to_vec();
                append_latin1_as_json(&bytes, &mut out);
                assert_eq!(&out[1..], oracle(&bytes), "{n} bytes, pass {pass}");
                let text = std::str::from_utf8(&out[1..]).unwrap();
                assert!(serde_like_valid(text));
                // The second pass: mostly plain ASCII, the eight-byte path.
                bytes.iter_mut().for_each(|b| *b = b'a' + *b % 26);
                if let Some(b) = bytes.get_mut(n / 2) {
                    *b = 0xE9;
                }
            }
        }
    }

    /// Unescaped, the string holds no raw control character or lone quote.
    fn serde_like_valid(text: &str) -> bool {
        !text.bytes().any(|b| b < 0x20)
    }

    #[test]
    fn utf8_as_latin1_round_trips_and_refuses_larger_characters() {
        let bytes = pseudo_random(10_000, 9);
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        assert_eq!(latin1_len(text.as_bytes()), bytes.len());
        let mut out = Vec::new();
        append_utf8_as_latin1(text.as_bytes(), &mut out).unwrap();
        assert_eq!(out, bytes);
        let mut out = Vec::new();
        assert_eq!(append_utf8_as_latin1("aé€".as_bytes(), &mut out), Err(3));
        assert_eq!(out, b"a\xE9");
    }
}
