//! JSON string escaping (RFC 8259 §7): a 256-entry table; runs that need no escape are copied in one call.

/// What a byte needs inside a JSON string: 0 = nothing, else the letter after the backslash (`u` for
/// `\u00XX`).
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Appends `text` as the contents of a JSON string (without the quotes).
pub fn write_escaped(out: &mut Vec<u8>, text: &str) {
    write_escaped_bytes(out, text.as_bytes());
}

/// [`write_escaped`] for a piece of UTF-8 text that may begin or end inside a character (text handed
/// out in pieces): only ASCII bytes are escaped, so a character cut in two is copied unchanged.
pub fn write_escaped_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none of them needs an escape (most text).
        if let Some(word) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            if !any_needs_escape(word) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let escape = ESCAPE[b as usize];
        i += 1;
        if escape == 0 {
            continue;
        }
        let i = i - 1;
        out.extend_from_slice(&bytes[start..i]);
        // An ASCII byte that needs an escape: its escape (`\n`, `\"`, `\u001f`, …).
        out.extend_from_slice(dcmflow_simd::json_form(b));
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Whether any of the 8 bytes of `word` is below 0x20, `"` or `\\` (the bytes [`ESCAPE`] marks). The
/// zero-byte test `(x - 0x01…) & !x & 0x80…` finds whether some byte is zero (never a false answer for
/// the word as a whole); below-0x20 is the same test against 0x20, `"` and `\\` are a zero after XOR.
#[inline]
fn any_needs_escape(word: u64) -> bool {
    dcmflow_simd::json_escape_marks(word) != 0
}

/// Appends `text` as a complete JSON string, quotes included.
pub fn write_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    write_escaped(out, text);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time skip against the table, byte by byte, at every alignment.
    #[test]
    fn the_word_test_agrees_with_the_table() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = [b'a'; 8];
                word[at] = b;
                let any = any_needs_escape(u64::from_le_bytes(word));
                assert_eq!(any, ESCAPE[b as usize] != 0, "byte {b:#04x} at {at}");
            }
        }
        let text: Vec<u8> = (0..4096u32).map(|i| (i * 37 % 256) as u8).collect();
        let mut fast = Vec::new();
        write_escaped_bytes(&mut fast, &text);
        let mut slow = Vec::new();
        for &b in &text {
            write_escaped_bytes(&mut slow, &[b]);
        }
        assert_eq!(fast, slow);
    }

    #[test]
    fn escapes_quotes_backslashes_and_controls_only() {
        let mut out = Vec::new();
        write_string(&mut out, "a\"b\\c\n\t\u{1}é€\u{7f}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"b\\\\c\\n\\t\\u0001é€\u{7f}\""
        );
    }
}
