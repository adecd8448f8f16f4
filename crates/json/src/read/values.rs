//! JSON values → DICOM value bytes (little endian), per VR (PS3.18 F.2.3 Table F.2.3-1, PS3.5 6.2).
//!
//! Each function appends one value to the element's buffer; the reader joins string values with `\` and
//! pads the result to even length. What the VR cannot hold is a [`Problem`]; what it can hold after a
//! change (an over-long DS shortened, an integral IS written as `5.0`) is written with a note.

use dcmflow_core::Vr;
use dcmflow_dicom::TextEncoder;

use super::error::{Problem, ReadWarningKind};
use super::lexer::is_json_number;

/// Notes about values written in a different form than given, and VR rules they break.
pub(crate) type Notes = Vec<(ReadWarningKind, String)>;

/// PS3.5 Table 6.2-1: the longest value of each string VR, in characters (`None`: up to 2^32−2 bytes).
fn max_chars(vr: Vr) -> Option<usize> {
    Some(match vr {
        Vr::AE | Vr::CS | Vr::SH | Vr::DS => 16,
        Vr::AS => 4,
        Vr::DA => 8,
        Vr::DT => 26,
        Vr::IS => 12,
        Vr::LO | Vr::UI | Vr::PN => 64,
        Vr::LT => 10240,
        Vr::ST => 1024,
        Vr::TM => 14,
        _ => return None,
    })
}

/// PS3.5 6.1.2.3: the VRs whose text uses the Specific Character Set; the others are the default
/// repertoire (ASCII) only.
pub(crate) fn uses_specific_charset(vr: Vr) -> bool {
    matches!(
        vr,
        Vr::SH | Vr::LO | Vr::ST | Vr::LT | Vr::PN | Vr::UC | Vr::UT
    )
}

/// PS3.5 Table 6.2-1: the characters a string VR allows, or a description of the first it does not.
fn repertoire_problem(vr: Vr, s: &str) -> Option<String> {
    let ok = |f: fn(char) -> bool| s.chars().all(f);
    let fine = match vr {
        Vr::CS => ok(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' ' || c == '_'),
        Vr::UI => ok(|c| c.is_ascii_digit() || c == '.'),
        Vr::DA => ok(|c| c.is_ascii_digit()),
        Vr::TM => ok(|c| c.is_ascii_digit() || c == '.' || c == ':'),
        Vr::DT => ok(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-')),
        Vr::AS => {
            s.len() == 4
                && s.as_bytes()[..3].iter().all(u8::is_ascii_digit)
                && matches!(s.as_bytes()[3], b'D' | b'W' | b'M' | b'Y')
        }
        // The value delimiter and control characters (ESC aside, for ISO 2022 text) are not text.
        Vr::AE | Vr::SH | Vr::LO | Vr::UC | Vr::PN => {
            ok(|c| c != '\\' && (c >= ' ' || c == '\u{1b}'))
        }
        Vr::LT | Vr::ST | Vr::UT => {
            ok(|c| c >= ' ' || matches!(c, '\r' | '\n' | '\t' | '\u{c}' | '\u{1b}'))
        }
        _ => true,
    };
    (!fine).then(|| {
        format!(
            "'{}' has characters {vr} does not allow (PS3.5 6.2)",
            clip(s)
        )
    })
}

fn clip(s: &str) -> String {
    if s.chars().count() > 40 {
        let head: String = s.chars().take(40).collect();
        format!("{head}…")
    } else {
        s.to_string()
    }
}

/// Where a value's VR rule checks go (PS3.5 6.2, Table 6.2-1: length, repertoire, format). By default
/// the value is written as it is with a note, so that what a DICOM source held comes back (real archives
/// are full of such values); under strict VR rules it is an error. Model errors (what the JSON cannot
/// mean, or the DICOM binary value cannot hold) never come here: they are errors either way.
#[derive(Debug)]
pub(crate) struct Checks<'n> {
    pub strict: bool,
    pub notes: &'n mut Notes,
}

impl Checks<'_> {
    pub fn violation(&mut self, message: String) -> Result<(), Problem> {
        if self.strict {
            Err(Problem::value(format!(
                "{message} (an error under strict VR rules; by default it is written as it is)"
            )))
        } else {
            self.notes.push((
                ReadWarningKind::VrRule,
                format!("{message}; written as it is"),
            ));
            Ok(())
        }
    }
}

/// A string value of a text VR, encoded and appended (without separator or padding).
pub(crate) fn push_text(
    vr: Vr,
    s: &str,
    encoder: &TextEncoder,
    checks: &mut Checks<'_>,
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    if let Some(max) = max_chars(vr) {
        let n = if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        };
        if n > max {
            checks.violation(format!(
                "'{}' is {n} characters, more than the {max} of {vr} (PS3.5 Table 6.2-1)",
                clip(s)
            ))?;
        }
    }
    if let Some(message) = repertoire_problem(vr, s) {
        checks.violation(message)?;
    }
    if !uses_specific_charset(vr) {
        return push_default_repertoire(vr, s, checks, out);
    }
    encode_text(vr, s, encoder, b"\\", checks.notes, out)
}

/// Text of a VR limited to the default repertoire (PS3.5 6.1.2.3). Other characters up to U+00FF are a
/// rule violation written as ISO 8859-1: the mirror of the DICOM reader, which decodes 8-bit bytes in
/// these VRs as ISO 8859-1, so a DICOM source round-trips byte for byte.
fn push_default_repertoire(
    vr: Vr,
    s: &str,
    checks: &mut Checks<'_>,
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    if s.is_ascii() {
        out.extend_from_slice(s.as_bytes());
        return Ok(());
    }
    checks.violation(format!(
        "'{}': {vr} allows only the default repertoire (ASCII)",
        clip(s)
    ))?;
    match s.chars().find(|&c| c as u32 > 0xFF) {
        None => {
            out.extend(s.chars().map(|c| c as u8));
            Ok(())
        }
        Some(c) => Err(charset_problem(vr, c)),
    }
}

fn charset_problem(vr: Vr, c: char) -> Problem {
    let hint = if uses_specific_charset(vr) {
        "not representable in the declared Specific Character Set (0008,0005), nor read from any byte \
         under it: declare a set that holds it, or option `charset_utf8` (ISO_IR 192)"
    } else {
        "not in the default repertoire (ASCII), the only one this VR allows"
    };
    Problem::new(
        super::ReadErrorKind::Charset,
        format!("character '{c}' (U+{:04X}) is {hint}", c as u32),
    )
}

/// Text in the element's character set (only the VRs that use it; the rest must be ASCII). A value
/// written by one of the encoder's fallbacks (the inverse of a reading rule) gets a note.
pub(crate) fn encode_text(
    vr: Vr,
    s: &str,
    encoder: &TextEncoder,
    resets: &[u8],
    notes: &mut Notes,
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    let result = if uses_specific_charset(vr) {
        encoder.encode(s, resets, out)
    } else {
        TextEncoder::ascii().encode(s, resets, out)
    };
    match result {
        Ok(None) => Ok(()),
        Ok(Some(fallback)) => {
            notes.push((
                ReadWarningKind::ValueConverted,
                format!("'{}' {fallback}", clip(s)),
            ));
            Ok(())
        }
        Err(c) => Err(charset_problem(vr, c)),
    }
}

/// `text` without leading and trailing spaces (DICOM padding), byte by byte: a space is one byte in
/// UTF-8, so the cuts are character boundaries. (`trim_matches(' ')` decodes characters; it showed in
/// profiles.)
fn trim_spaces(text: &str) -> &str {
    let bytes = text.as_bytes();
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |i| i + 1);
    &text[start..end]
}

/// PS3.5 6.2 DS: `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`
fn is_dicom_ds(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    i += int;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac;
    }
    if int + frac == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        i += usize::from(matches!(b.get(i), Some(b'+' | b'-')));
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// IS or DS from a JSON number or string (`quoted`). A valid value that fits is written as it is. The
/// rest is decided per rule (docs/behaviour.md, "VR rules"): a text that breaks IS/DS's length, format or
/// range rule is a violation written as it is, so a DICOM source's value round-trips; a JSON number
/// for IS that is not an integer is a model error (never truncated), one that is integral in another
/// form (`5.0`, `1e3`) is written as the integer.
pub(crate) fn push_decimal(
    vr: Vr,
    text: &str,
    quoted: bool,
    checks: &mut Checks<'_>,
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    let t = trim_spaces(text);
    let rule = if vr == Vr::DS {
        ds_rule(t)
    } else if !quoted && !is_plain_integer(t) {
        // PS3.18 F.2.3: an IS number is an integer; an integral one in another form is that integer.
        let v = integer(t, vr, checks.notes)?;
        return push_is_value(v, t, checks, out);
    } else {
        is_rule(t)
    };
    if let Some(message) = rule {
        checks.violation(message)?;
    }
    push_default_repertoire(vr, t, checks, out)
}

/// PS3.5 Table 6.2-1 DS: what `t` breaks, if anything.
fn ds_rule(t: &str) -> Option<String> {
    if !is_dicom_ds(t) {
        return Some(format!(
            "'{}' is not a decimal string (PS3.5 6.2 DS)",
            clip(t)
        ));
    }
    (t.len() > 16).then(|| {
        format!(
            "DS '{}' is {} bytes, more than the 16 of DS (PS3.5 Table 6.2-1)",
            clip(t),
            t.len()
        )
    })
}

/// PS3.5 Table 6.2-1 IS: what `t` breaks, if anything.
fn is_rule(t: &str) -> Option<String> {
    if !is_plain_integer(t) {
        return Some(format!(
            "'{}' is not an integer string (PS3.5 6.2 IS)",
            clip(t)
        ));
    }
    if t.len() > 12 {
        return Some(format!(
            "IS '{}' is {} bytes, more than the 12 of IS (PS3.5 Table 6.2-1)",
            clip(t),
            t.len()
        ));
    }
    let v: i128 = t.parse().unwrap_or(i128::MAX);
    (!IS_RANGE.contains(&v)).then(|| format!("IS {t} is outside ±(2^31−1) (PS3.5 6.2)"))
}

/// PS3.5 6.2 IS: −(2^31−1) ≤ n ≤ 2^31−1.
const IS_RANGE: std::ops::RangeInclusive<i128> = -(1i128 << 31) + 1..=(1i128 << 31) - 1;

/// An optional sign and at least one digit.
fn is_plain_integer(t: &str) -> bool {
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// An IS from a JSON number that named the integer `v` in another form (`5.0`).
fn push_is_value(
    v: i128,
    t: &str,
    checks: &mut Checks<'_>,
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    if !IS_RANGE.contains(&v) {
        checks.violation(format!("IS {} is outside ±(2^31−1) (PS3.5 6.2)", clip(t)))?;
    }
    out.extend_from_slice(v.to_string().as_bytes());
    Ok(())
}

/// An integer from JSON text: plain digits exactly; an integral number written with a fraction or an
/// exponent (`5.0`, `1e3`) with a note; anything else is an error (never truncated).
fn integer(text: &str, vr: Vr, notes: &mut Notes) -> Result<i128, Problem> {
    let t = trim_spaces(text);
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !digits.is_empty() && digits.len() <= 30 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<i128>()
            .map_err(|_| Problem::value(format!("'{t}' is not an integer")));
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 2f64.powi(63) => {
            notes.push((
                ReadWarningKind::ValueConverted,
                format!("{vr} '{t}' written as the integer {}", v as i128),
            ));
            Ok(v as i128)
        }
        Ok(v) if v.is_finite() => Err(Problem::value(format!(
            "{vr} '{}' is not an integer (never truncated)",
            clip(t)
        ))),
        _ => Err(Problem::value(format!(
            "{vr} '{}' is not a number",
            clip(t)
        ))),
    }
}

/// US SS UL SL SV UV from a JSON number (or, F.2.3, a string for SV/UV), range-checked.
pub(crate) fn push_binary_integer(
    vr: Vr,
    text: &str,
    notes: &mut Notes,
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    let v = integer(text, vr, notes)?;
    let (lo, hi, width): (i128, i128, usize) = match vr {
        Vr::US => (0, u16::MAX as i128, 2),
        Vr::SS => (i16::MIN as i128, i16::MAX as i128, 2),
        Vr::UL => (0, u32::MAX as i128, 4),
        Vr::SL => (i32::MIN as i128, i32::MAX as i128, 4),
        Vr::UV => (0, u64::MAX as i128, 8),
        _ => (i64::MIN as i128, i64::MAX as i128, 8),
    };
    if !(lo..=hi).contains(&v) {
        return Err(Problem::value(format!("{v} is outside the range of {vr}")));
    }
    out.extend_from_slice(&(v as u64).to_le_bytes()[..width]);
    Ok(())
}

/// FL/FD from a JSON number, or the strings "NaN", "Infinity", "-Infinity" (docs/design.md, Decisions).
pub(crate) fn push_float(
    vr: Vr,
    text: &str,
    quoted: bool,
    lenient: bool,
    notes: &mut Notes,
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    let special = match text {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    };
    let v = match (special, quoted) {
        (Some(v), true) => v,
        (_, false) => text
            .parse::<f64>()
            .map_err(|_| Problem::value("not a number"))?,
        (None, true) if lenient && is_json_number(text.trim().as_bytes()) => {
            notes.push((
                ReadWarningKind::LenientModel,
                format!("{vr} given as the string \"{text}\" (accepted: option `lenient`)"),
            ));
            text.trim()
                .parse::<f64>()
                .map_err(|_| Problem::value("not a number"))?
        }
        (None, true) => {
            return Err(Problem::value(format!(
                "{vr} must be a number or \"NaN\", \"Infinity\", \"-Infinity\", not \"{}\"",
                clip(text)
            )))
        }
    };
    if vr == Vr::FL {
        // Parsed straight to f32: one correct rounding, not two through f64.
        let f = if special.is_some() {
            v as f32
        } else {
            text.trim().parse::<f32>().unwrap_or(v as f32)
        };
        if f.is_infinite() && v.is_finite() {
            return Err(Problem::value(format!("{text} is beyond the range of FL")));
        }
        out.extend_from_slice(&f.to_le_bytes());
    } else {
        if v.is_infinite() && special.is_none() {
            return Err(Problem::value(format!("{text} is beyond the range of FD")));
        }
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(())
}

/// AT from "GGGGEEEE" (PS3.18 F.2.3: 8 hexadecimal digits): group then element, each little endian.
pub(crate) fn push_at(text: &str, out: &mut Vec<u8>) -> Result<(), Problem> {
    let tag = parse_tag_hex(text).ok_or_else(|| {
        Problem::value(format!(
            "AT '{}' is not 8 hexadecimal digits (PS3.18 F.2.3)",
            clip(text)
        ))
    })?;
    out.extend_from_slice(&((tag >> 16) as u16).to_le_bytes());
    out.extend_from_slice(&(tag as u16).to_le_bytes());
    Ok(())
}

/// 8 hexadecimal digits → a tag number.
pub(crate) fn parse_tag_hex(text: &str) -> Option<u32> {
    let digits: &[u8; 8] = text.as_bytes().try_into().ok()?;
    let mut tag = 0u32;
    for &b in digits {
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'F' => b - b'A' + 10,
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        tag = tag << 4 | u32::from(nibble);
    }
    Some(tag)
}

#[cfg(test)]
mod tests {
    /// The DS fast path of `JsonReader::one_value` relies on this: every JSON number is a DS.
    #[test]
    fn every_json_number_is_a_dicom_ds() {
        let signs = ["", "-"];
        let ints = ["0", "7", "10", "123456789"];
        let fracs = ["", ".0", ".5", ".0001", ".25"];
        let exps = ["", "e0", "E5", "e+12", "e-7", "E-300"];
        for sign in signs {
            for int in ints {
                for frac in fracs {
                    for exp in exps {
                        let n = format!("{sign}{int}{frac}{exp}");
                        assert!(super::super::lexer::is_json_number(n.as_bytes()), "{n}");
                        assert!(super::is_dicom_ds(&n), "{n}");
                    }
                }
            }
        }
    }

    #[test]
    fn spaces_trimmed() {
        assert_eq!(super::trim_spaces("  1.5 "), "1.5");
        assert_eq!(super::trim_spaces("   "), "");
        assert_eq!(super::trim_spaces(""), "");
        assert_eq!(super::trim_spaces(" Zürich\t "), "Zürich\t");
    }

    use super::*;

    /// One IS/DS value: what is written and how many notes, by default or under strict VR rules.
    fn decimal(vr: Vr, t: &str, quoted: bool, strict: bool) -> Result<(String, usize), Problem> {
        let mut notes = Notes::new();
        let mut out = Vec::new();
        let mut checks = Checks {
            strict,
            notes: &mut notes,
        };
        push_decimal(vr, t, quoted, &mut checks, &mut out)?;
        Ok((String::from_utf8_lossy(&out).into_owned(), notes.len()))
    }

    fn ds(t: &str) -> Result<(String, usize), Problem> {
        decimal(Vr::DS, t, true, false)
    }

    #[test]
    fn ds_is_verbatim_and_a_broken_rule_a_note_or_a_strict_error() {
        assert_eq!(ds("1.50").unwrap(), ("1.50".into(), 0));
        assert_eq!(ds("+5").unwrap(), ("+5".into(), 0));
        assert_eq!(ds(" 1e-5 ").unwrap(), ("1e-5".into(), 0));
        // Longer than 16 bytes, not a number, or 8-bit text: the source's value, with a note.
        for (t, notes) in [
            ("0.1234567890123456789", 1),
            ("1.9.10.0", 1),
            ("1,5", 1),
            ("NaN", 1),
        ] {
            assert_eq!(ds(t).unwrap(), (t.into(), notes), "{t}");
            assert!(decimal(Vr::DS, t, true, true).is_err(), "{t}");
        }
        assert_eq!(
            decimal(Vr::DS, "0.1234567890123456789", false, false).unwrap(),
            ("0.1234567890123456789".into(), 1)
        );
        // 8-bit text: ISO 8859-1, as the DICOM reader decoded it.
        assert_eq!(ds("1,5µ").unwrap(), ("1,5\u{FFFD}".into(), 2));
        assert!(ds("1.5Д").is_err(), "beyond ISO 8859-1: no faithful byte");
    }

    #[test]
    fn is_strings_are_kept_and_is_numbers_never_truncated() {
        let is = |t, quoted| decimal(Vr::IS, t, quoted, false);
        assert_eq!(is("42", false).unwrap(), ("42".into(), 0));
        assert_eq!(is("-0012", true).unwrap(), ("-0012".into(), 0));
        // A JSON number in another integral form is the integer; one that is not integral is an error.
        assert_eq!(is("5.0", false).unwrap(), ("5".into(), 1));
        assert_eq!(is("1e3", false).unwrap(), ("1000".into(), 1));
        assert!(is("1.5", false).is_err());
        assert!(decimal(Vr::IS, "1.5", false, false).is_err());
        // The same texts as strings (as dcm2json writes what is not a valid IS) come back as they are.
        for t in ["5.0", "1.5", "1A", "2147483648", "0000000000001"] {
            assert_eq!(is(t, true).unwrap(), (t.into(), 1), "{t}");
            assert!(decimal(Vr::IS, t, true, true).is_err(), "{t}");
        }
        assert_eq!(is("2147483648", false).unwrap(), ("2147483648".into(), 1));
        assert!(decimal(Vr::IS, "2147483648", false, true).is_err());
    }

    #[test]
    fn binary_numbers_are_range_checked_little_endian() {
        let mut notes = Notes::new();
        let mut out = Vec::new();
        push_binary_integer(Vr::US, "513", &mut notes, &mut out).unwrap();
        push_binary_integer(Vr::SS, "-2", &mut notes, &mut out).unwrap();
        push_binary_integer(Vr::UV, "18446744073709551615", &mut notes, &mut out).unwrap();
        assert_eq!(
            out,
            [1, 2, 0xFE, 0xFF, 255, 255, 255, 255, 255, 255, 255, 255]
        );
        assert!(push_binary_integer(Vr::US, "70000", &mut notes, &mut out).is_err());
        assert!(push_binary_integer(Vr::UL, "-1", &mut notes, &mut out).is_err());
        let mut f = Vec::new();
        push_float(Vr::FD, "NaN", true, false, &mut notes, &mut f).unwrap();
        assert!(f64::from_le_bytes(f[..8].try_into().unwrap()).is_nan());
        assert!(push_float(Vr::FD, "nan", true, false, &mut notes, &mut f).is_err());
        assert!(push_float(Vr::FL, "1e39", false, false, &mut notes, &mut f).is_err());
        f.clear();
        push_float(Vr::FL, "0.1", false, false, &mut notes, &mut f).unwrap();
        assert_eq!(f, 0.1f32.to_le_bytes());
    }

    #[test]
    fn at_and_tags_are_8_hex_digits() {
        let mut out = Vec::new();
        push_at("0020000D", &mut out).unwrap();
        assert_eq!(out, [0x20, 0, 0x0D, 0]);
        assert!(push_at("0020000", &mut out).is_err());
        assert!(push_at("(0020,000D)", &mut out).is_err());
    }

    #[test]
    fn checks_stop_or_note() {
        let mut notes = Notes::new();
        let enc = TextEncoder::ascii();
        let mut out = Vec::new();
        let mut strict = Checks {
            strict: true,
            notes: &mut notes,
        };
        assert!(push_text(Vr::CS, "lower", &enc, &mut strict, &mut out).is_err());
        assert!(push_text(Vr::SH, "seventeen chars!!", &enc, &mut strict, &mut out).is_err());
        let mut anyway = Checks {
            strict: false,
            notes: &mut notes,
        };
        push_text(Vr::CS, "lower", &enc, &mut anyway, &mut out).unwrap();
        assert_eq!(out, b"lower");
        assert_eq!(notes.len(), 1);
        let err = push_text(
            Vr::LO,
            "é",
            &enc,
            &mut Checks {
                strict: true,
                notes: &mut notes,
            },
            &mut out,
        );
        assert_eq!(err.unwrap_err().kind, super::super::ReadErrorKind::Charset);
    }
}
