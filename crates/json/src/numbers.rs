//! Numbers in DICOM JSON: IS/DS text (PS3.18 F.2.3 "Number"), FL/FD binary floats, SV/UV 64-bit integers.
//!
//! Decisions (docs/design.md, Decisions): IS/DS text that already is an RFC 8259 number is copied verbatim (so it
//! round-trips exactly); valid DICOM that is not valid JSON (`+5`, `007`, `1.`, `.5`) is minimally
//! normalised; anything else is written as its text in a JSON string, with a warning. FL/FD use the
//! shortest text that reads back to the same binary value; NaN and infinities become the strings
//! `"NaN"`, `"Infinity"`, `"-Infinity"`. SV/UV beyond ±(2^53−1) become strings (F.2.3: "Number or String").

use dcmflow_core::Vr;

use crate::escape::write_string;
use dcmflow_engine::json::number::is_json_number;

/// How IS and DS values are written (DCMTK dcm2json's `-ia`, `-in`, `-is`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NumberPolicy {
    /// A number when the text is a valid IS/DS, else a string with a warning (`-ia`, default).
    #[default]
    Auto,
    /// Always a number; a value that is not a valid IS/DS is an error (`-in`).
    Number,
    /// Always a string holding the (trimmed) text (`-is`).
    String,
}

/// What happened to one IS/DS value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecimalOutcome {
    /// Written as the source text, unchanged (or as a string by policy).
    Verbatim,
    /// Valid DICOM, rewritten to be valid JSON (`+5` → `5`, `.5` → `0.5`).
    Normalised,
    /// Not a valid IS/DS: written as a string.
    Invalid,
    /// A valid IS/DS beyond the range of a binary64 number: written as a string, since JSON parsers
    /// refuse it or read an infinity (RFC 8259 §6 lets them limit the range; I-JSON, RFC 7493 §2.2).
    OutOfRange,
}

/// An IS/DS value that is not a number, under [`NumberPolicy::Number`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotANumber;

/// Writes one trimmed, non-empty IS or DS value. Fails only under [`NumberPolicy::Number`], for a value
/// that is not a number.
pub fn write_decimal(
    out: &mut Vec<u8>,
    text: &str,
    vr: Vr,
    policy: NumberPolicy,
) -> Result<DecimalOutcome, NotANumber> {
    if policy == NumberPolicy::String {
        write_string(out, text);
        return Ok(DecimalOutcome::Verbatim);
    }
    // Every RFC 8259 number is a valid DS, so for DS the JSON check alone settles the common case.
    let valid = vr != Vr::IS || is_dicom_integer(text);
    if valid && beyond_binary64(text) {
        if policy == NumberPolicy::Number {
            return Err(NotANumber);
        }
        write_string(out, text);
        return Ok(DecimalOutcome::OutOfRange);
    }
    if valid && is_json_number(text.as_bytes()) {
        out.extend_from_slice(text.as_bytes());
        return Ok(DecimalOutcome::Verbatim);
    }
    if valid && (vr == Vr::IS || is_dicom_decimal(text)) {
        normalise_decimal(out, text);
        return Ok(DecimalOutcome::Normalised);
    }
    if policy == NumberPolicy::Number {
        return Err(NotANumber);
    }
    write_string(out, text);
    Ok(DecimalOutcome::Invalid)
}

/// Whether a number text is too large in magnitude for an IEEE binary64. Only texts with an exponent or
/// of more than 308 characters can be (1.8e308 is the largest finite double), so the common value is
/// decided by one byte scan.
fn beyond_binary64(text: &str) -> bool {
    let may_overflow = text.len() > 308 || text.bytes().any(|b| b == b'e' || b == b'E');
    may_overflow && is_dicom_decimal(text) && text.parse::<f64>().is_ok_and(f64::is_infinite)
}

/// PS3.5 Table 6.2-1 IS: an optional sign and digits.
fn is_dicom_integer(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// PS3.5 Table 6.2-1 DS: a fixed or floating point number, `[+-]? (d+ (. d*)? | . d+) ([eE] [+-]? d+)?`.
fn is_dicom_decimal(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_digits = count_digits(&b[i..]);
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = count_digits(&b[i..]);
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        i += usize::from(matches!(b.get(i), Some(b'+' | b'-')));
        let exp_digits = count_digits(&b[i..]);
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == b.len()
}

fn count_digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// Rewrites a valid IS/DS as an RFC 8259 number with the fewest changes: no `+`, no leading zeros, a `0`
/// before a bare `.`, no `.` without digits after it. The exponent is already valid JSON.
fn normalise_decimal(out: &mut Vec<u8>, text: &str) {
    let (negative, rest) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    let int_len = count_digits(rest);
    let (int_part, rest) = rest.split_at(int_len);
    let (frac_part, exponent) = match rest {
        [b'.', after @ ..] => after.split_at(count_digits(after)),
        _ => (&[][..], rest),
    };
    if negative {
        out.push(b'-');
    }
    let significant = int_part.iter().position(|&c| c != b'0');
    match significant {
        Some(p) => out.extend_from_slice(&int_part[p..]),
        None => out.push(b'0'),
    }
    if !frac_part.is_empty() {
        out.push(b'.');
        out.extend_from_slice(frac_part);
    }
    out.extend_from_slice(exponent);
}

/// Writes a binary float: the shortest text that reads back to the same value, or a string for NaN and
/// the infinities. Returns `false` for those (the caller warns).
pub fn write_float(out: &mut Vec<u8>, value: f64, single: bool) -> bool {
    if !value.is_finite() {
        let text = if value.is_nan() {
            "NaN"
        } else if value > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        };
        write_string(out, text);
        return false;
    }
    if !single && write_short_decimal(out, value) {
        return true;
    }
    // Ryū: the shortest text that reads back to the same binary value, with an exponent for very large or
    // small magnitudes (`1e-7`, `1.5e16`); every form it produces is an RFC 8259 number. An f32 is
    // formatted as an f32 so that 0.1f32 is `0.1`, not `0.10000000149011612`.
    let mut buffer = ryu::Buffer::new();
    let text = if single {
        buffer.format_finite(value as f32)
    } else {
        buffer.format_finite(value)
    };
    out.extend_from_slice(text.strip_suffix(".0").unwrap_or(text).as_bytes());
    true
}

/// Powers of ten for [`write_short_decimal`]: at most this many decimals.
const SHORT_SCALES: [f64; 4] = [1.0, 10.0, 100.0, 1000.0];

/// The common measured values (`0`, `87.5`, `2750.25`, `0.125`) without Ryū's digit search: the double
/// is `n / 10^k` for an integer `n` and `k` ≤ 3 (checked by dividing back: IEEE division and decimal
/// parsing both round `n / 10^k` correctly, so the text reads back to this double), and the smallest
/// such `k` gives the digits Ryū would choose. Below 10^9 only: there a double's spacing is under
/// 10^-6, so one `k`-decimal number at most reads back to it (above, two can, and Ryū picks the closer).
/// Returns `false` (nothing written) for every other value; -0 is left to Ryū.
fn write_short_decimal(out: &mut Vec<u8>, value: f64) -> bool {
    // Finite here (`write_float` handles NaN and the infinities first).
    if value.abs() >= 1e9 || (value == 0.0 && value.is_sign_negative()) {
        return false;
    }
    for (decimals, &scale) in SHORT_SCALES.iter().enumerate() {
        let scaled = value * scale;
        // Rounded to the nearest integer by hand (`f64::round` is a libm call on baseline x86-64).
        let n = (scaled + if scaled < 0.0 { -0.5 } else { 0.5 }) as i64;
        if n.unsigned_abs() >= 1 << 53 || n as f64 / scale != value {
            continue;
        }
        let mut buffer = itoa::Buffer::new();
        let digits = buffer.format(n.unsigned_abs()).as_bytes();
        if n < 0 {
            out.push(b'-');
        }
        if decimals == 0 {
            out.extend_from_slice(digits);
        } else if digits.len() > decimals {
            let point = digits.len() - decimals;
            out.extend_from_slice(&digits[..point]);
            out.push(b'.');
            out.extend_from_slice(&digits[point..]);
        } else {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', decimals - digits.len()));
            out.extend_from_slice(digits);
        }
        return true;
    }
    false
}

/// The largest magnitude a JSON number carries exactly in an IEEE double: 2^53 − 1 (F.2.3, RFC 8259 §6).
const SAFE_INTEGER: u64 = (1 << 53) - 1;

/// SV: a number within ±(2^53−1), else a string.
pub fn write_i64(out: &mut Vec<u8>, value: i64) {
    write_integer(out, value, value.unsigned_abs() <= SAFE_INTEGER);
}

/// UV: a number up to 2^53−1, else a string.
pub fn write_u64(out: &mut Vec<u8>, value: u64) {
    write_integer(out, value, value <= SAFE_INTEGER);
}

/// An integer as a JSON number, or as a string when it is not `exact` in a double.
pub fn write_integer<I: itoa::Integer>(out: &mut Vec<u8>, value: I, exact: bool) {
    let mut buffer = itoa::Buffer::new();
    let text = buffer.format(value).as_bytes();
    if exact {
        out.extend_from_slice(text);
    } else {
        out.push(b'"');
        out.extend_from_slice(text);
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ryu_text(value: f64, single: bool) -> String {
        let mut buffer = ryu::Buffer::new();
        let text = if single {
            buffer.format_finite(value as f32)
        } else {
            buffer.format_finite(value)
        };
        text.strip_suffix(".0").unwrap_or(text).to_string()
    }

    fn float_text(value: f64, single: bool) -> String {
        let mut out = Vec::new();
        assert!(write_float(&mut out, value, single));
        String::from_utf8(out).unwrap()
    }

    /// The short-decimal path of `write_float` writes exactly what Ryū writes.
    #[test]
    fn short_decimals_match_ryu() {
        let samples = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            87.5,
            2750.5,
            -120.5,
            -117.25,
            0.9375,
            0.001,
            -0.001,
            0.1,
            0.3,
            1.2e3,
            0.0005,
            1e14,
            999_999_999_999_999.0,
            1e15,
            1e16,
            1e300,
            5e-324,
            0.1 + 0.2,
            1.23456789012345,
            9_007_199_254_740_993.0,
            4_503_599_627_370_495.5,
        ];
        for &value in &samples {
            for single in [false, true] {
                assert_eq!(
                    float_text(value, single),
                    ryu_text(value, single),
                    "{value:e}"
                );
            }
        }
        // Every n / 10^k over a wide band, their neighbours one ulp away, and a pseudo-random spread.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for i in -300_000i64..300_000 {
            for scale in [1.0, 10.0, 100.0, 1000.0, 10_000.0] {
                let value = (i * 7919 * if i % 2 == 0 { 1 } else { 65_537 }) as f64 / scale;
                for v in [
                    value,
                    f64::from_bits(value.to_bits() + 1),
                    f64::from_bits(value.to_bits().wrapping_sub(1)),
                ] {
                    if v.is_finite() {
                        assert_eq!(float_text(v, false), ryu_text(v, false), "{v:e}");
                    }
                }
            }
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state);
            if v.is_finite() {
                assert_eq!(float_text(v, false), ryu_text(v, false), "{v:e}");
            }
        }
    }

    fn decimal(text: &str, vr: Vr) -> (String, DecimalOutcome) {
        let mut out = Vec::new();
        let outcome = write_decimal(&mut out, text, vr, NumberPolicy::Auto).unwrap();
        (String::from_utf8(out).unwrap(), outcome)
    }

    #[test]
    fn ds_verbatim_when_already_json() {
        for t in ["12", "-0.5", "1E+05", "1e-7", "0", "0.25"] {
            assert_eq!(
                decimal(t, Vr::DS),
                (t.to_string(), DecimalOutcome::Verbatim)
            );
        }
    }

    #[test]
    fn ds_minimally_normalised_when_only_dicom() {
        for (t, want) in [
            ("+5", "5"),
            ("007", "7"),
            ("1.", "1"),
            (".5", "0.5"),
            ("-.5", "-0.5"),
            ("00.50", "0.50"),
            ("1.e5", "1e5"),
            ("+0012", "12"),
            ("-000", "-0"),
        ] {
            assert_eq!(
                decimal(t, Vr::DS),
                (want.to_string(), DecimalOutcome::Normalised),
                "{t}"
            );
        }
    }

    #[test]
    fn values_beyond_binary64_become_strings() {
        for t in ["-2.5E+530", "1e309", "+1.8e308"] {
            assert_eq!(
                decimal(t, Vr::DS),
                (format!("\"{t}\""), DecimalOutcome::OutOfRange),
                "{t}"
            );
        }
        let huge_integer = "9".repeat(310);
        assert_eq!(decimal(&huge_integer, Vr::IS).1, DecimalOutcome::OutOfRange);
        // The largest double, and underflow towards zero, stay numbers: parsers read them.
        for t in ["1.7976931348623157e308", "1e-400", "2.5E-530"] {
            assert_eq!(decimal(t, Vr::DS).1, DecimalOutcome::Verbatim, "{t}");
        }
        let mut out = Vec::new();
        assert_eq!(
            write_decimal(&mut out, "1e999", Vr::DS, NumberPolicy::Number),
            Err(NotANumber)
        );
    }

    #[test]
    fn invalid_values_become_strings() {
        for t in ["1,5", "NaN", "inf", "1e", ".", "-", "1.2.3", "0x10"] {
            assert_eq!(
                decimal(t, Vr::DS),
                (format!("\"{t}\""), DecimalOutcome::Invalid),
                "{t}"
            );
        }
        assert_eq!(
            decimal("1.5", Vr::IS),
            ("\"1.5\"".to_string(), DecimalOutcome::Invalid)
        );
        assert_eq!(
            decimal("+0012", Vr::IS),
            ("12".to_string(), DecimalOutcome::Normalised)
        );
    }

    #[test]
    fn policies() {
        let mut out = Vec::new();
        assert_eq!(
            write_decimal(&mut out, "1,5", Vr::DS, NumberPolicy::Number),
            Err(NotANumber)
        );
        write_decimal(&mut out, "12", Vr::IS, NumberPolicy::String).unwrap();
        assert_eq!(out, b"\"12\"");
    }

    #[test]
    fn floats_shortest_and_nonfinite_as_strings() {
        let f = |v: f64, single: bool| {
            let mut out = Vec::new();
            let finite = write_float(&mut out, v, single);
            (String::from_utf8(out).unwrap(), finite)
        };
        assert_eq!(f(1.5, false), ("1.5".into(), true));
        assert_eq!(f(1.0, false), ("1".into(), true));
        assert_eq!(f(0.1f32 as f64, true), ("0.1".into(), true));
        assert_eq!(f(1e-7, false), ("1e-7".into(), true));
        assert_eq!(f(-2.5e300, false), ("-2.5e300".into(), true));
        assert_eq!(f(f64::NAN, false), ("\"NaN\"".into(), false));
        assert_eq!(f(f64::INFINITY, false), ("\"Infinity\"".into(), false));
        assert_eq!(f(f64::NEG_INFINITY, true), ("\"-Infinity\"".into(), false));
        for v in [0.1, 1.0 / 3.0, 123456789.123, 5e-324, f64::MAX] {
            let text = f(v, false).0;
            assert_eq!(text.parse::<f64>().unwrap(), v, "{text}");
        }
    }

    #[test]
    fn sv_uv_beyond_2_53_are_strings() {
        let mut out = Vec::new();
        write_i64(&mut out, (1 << 53) - 1);
        out.push(b' ');
        write_i64(&mut out, -(1 << 53));
        out.push(b' ');
        write_u64(&mut out, u64::MAX);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "9007199254740991 \"-9007199254740992\" \"18446744073709551615\""
        );
    }
}
