//! The JSON number grammar (RFC 8259 §6), the one place it is written down: readers check numbers with it
//! and writers check that a text may go out as a bare number.

/// Whether `t` is exactly one JSON number. RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
#[inline]
pub fn is_json_number(t: &[u8]) -> bool {
    json_number_prefix(t) == t.len() && !t.is_empty()
}

/// The length of the longest prefix of `t` that is a JSON number (RFC 8259 §6), 0 when none is. Stops at
/// the first byte that cannot continue the grammar; a part that cannot end a number (`1.`, `1e`) counts
/// as no number.
#[inline]
pub fn json_number_prefix(t: &[u8]) -> usize {
    let mut i = 0;
    if t.first() == Some(&b'-') {
        i = 1;
    }
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < t.len() && t[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    };
    match t.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return 0,
    }
    if t.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return 0;
        }
    }
    if matches!(t.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(t.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return 0;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_of_the_grammar_and_near_misses() {
        for good in [
            "0",
            "-0",
            "1",
            "-12",
            "1.5",
            "0.25",
            "1e5",
            "1E+05",
            "-1.5e-7",
            "123456789012345678901",
        ] {
            assert!(is_json_number(good.as_bytes()), "{good}");
        }
        for bad in [
            "", "-", "01", "+1", "1.", ".5", "1e", "1e+", "0x1", "1 ", "NaN", "--1", "1.e5",
        ] {
            assert!(!is_json_number(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn prefix_stops_where_the_grammar_does() {
        assert_eq!(json_number_prefix(b"12,"), 2);
        assert_eq!(json_number_prefix(b"-0.5]"), 4);
        assert_eq!(json_number_prefix(b"1e9}"), 3);
        assert_eq!(json_number_prefix(b"1.}"), 0);
        assert_eq!(json_number_prefix(b"x"), 0);
    }
}
