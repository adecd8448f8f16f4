//! JSON values → DICOM value bytes (little endian), per VR (PS3.18 F.2.3 Table F.2.3-1, PS3.5 6.2).
//!
//! Each function appends one value to the element's buffer; the reader joins string values with `\` and
//! pads the result to even length. What the VR cannot hold is a [`Problem`]; what it can hold after a
//! change (an over-long DS shortened, an integral IS written as `5.0`) is written with a note.

use dcmflow_core::Vr;
use dcmflow_dicom::TextEncoder;

use super::error::Problem;
use super::lexer::is_json_number;

/// Notes about values written in a different form than given, and checks that failed under `+E`.
pub(crate) type Notes = Vec<String>;

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

/// Where a value's checks go: an error (`-E`, the default) or a note with the value written anyway (`+E`).
#[derive(Debug)]
pub(crate) struct Checks<'n> {
    pub write_anyway: bool,
    pub notes: &'n mut Notes,
}

impl Checks<'_> {
    pub fn violation(&mut self, message: String) -> Result<(), Problem> {
        if self.write_anyway {
            self.notes.push(format!("{message} (written anyway: +E)"));
            Ok(())
        } else {
            Err(Problem::value(format!(
                "{message} (use +E to write it anyway)"
            )))
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
    if !uses_specific_charset(vr) && !s.is_ascii() {
        // Only the default repertoire belongs here (PS3.5 6.1.2.3). +E writes it as ISO 8859-1, the
        // mirror of the reading side's fallback for such bytes, so a DICOM source round-trips.
        checks.violation(format!(
            "'{}': {vr} allows only the default repertoire (ASCII)",
            clip(s)
        ))?;
        return match s.chars().find(|&c| c as u32 > 0xFF) {
            None => {
                out.extend(s.chars().map(|c| c as u8));
                Ok(())
            }
            Some(c) => Err(charset_problem(vr, c)),
        };
    }
    encode_text(vr, s, encoder, b"\\", out)
}

fn charset_problem(vr: Vr, c: char) -> Problem {
    let hint = if uses_specific_charset(vr) {
        "not representable in the declared Specific Character Set (0008,0005); --charset-utf8 writes ISO_IR 192"
    } else {
        "not in the default repertoire (ASCII), the only one this VR allows"
    };
    Problem::new(
        super::ReadErrorKind::Charset,
        format!("character '{c}' (U+{:04X}) is {hint}", c as u32),
    )
}

/// Text in the element's character set (only the VRs that use it; the rest must be ASCII).
pub(crate) fn encode_text(
    vr: Vr,
    s: &str,
    encoder: &TextEncoder,
    resets: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    let result = if uses_specific_charset(vr) {
        encoder.encode(s, resets, out)
    } else {
        TextEncoder::ascii().encode(s, resets, out)
    };
    result.map_err(|c| charset_problem(vr, c))
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

/// The shortest text of `v` that fits a DS (16 bytes), round-tripping when 16 bytes allow it.
fn shortest_ds(v: f64) -> String {
    let plain = format!("{v}");
    let sci = format!("{v:e}");
    let best = if plain.len() <= sci.len() { plain } else { sci };
    if best.len() <= 16 {
        return best;
    }
    // The most precise fixed and scientific forms that fit; keep whichever is closer to `v`.
    let fixed = (0..=16)
        .rev()
        .map(|p| format!("{v:.p$}"))
        .find(|t| t.len() <= 16);
    let sci = (0..=16)
        .rev()
        .map(|p| format!("{v:.p$e}"))
        .find(|t| t.len() <= 16);
    let error = |t: &String| t.parse::<f64>().map_or(f64::INFINITY, |x| (x - v).abs());
    match (fixed, sci) {
        (Some(f), Some(s)) => {
            if error(&f) <= error(&s) {
                f
            } else {
                s
            }
        }
        (f, s) => f.or(s).unwrap_or_else(|| "0".into()),
    }
}

/// DS from a JSON number or string (DESIGN §6: verbatim when valid and ≤ 16 bytes, else shortest form).
pub(crate) fn push_ds(text: &str, notes: &mut Notes, out: &mut Vec<u8>) -> Result<(), Problem> {
    let t = trim_spaces(text);
    if is_dicom_ds(t) && t.len() <= 16 {
        out.extend_from_slice(t.as_bytes());
        return Ok(());
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && (is_dicom_ds(t) || is_json_number(t.as_bytes())) => {
            let short = shortest_ds(v);
            notes.push(format!(
                "DS '{}' written as '{short}' (PS3.5 6.2: at most 16 bytes)",
                clip(t)
            ));
            out.extend_from_slice(short.as_bytes());
            Ok(())
        }
        _ => Err(Problem::value(format!(
            "'{}' is not a decimal string (PS3.5 6.2 DS)",
            clip(t)
        ))),
    }
}

/// IS or DS from a JSON number or string; under `+E` a text neither rule accepts is written as it is
/// (trimmed), so a DICOM source's invalid number round-trips.
pub(crate) fn push_decimal(
    vr: Vr,
    text: &str,
    checks: &mut Checks<'_>,
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    let pushed = if vr == Vr::DS {
        push_ds(text, checks.notes, out)
    } else {
        push_is(text, checks.notes, out)
    };
    if let Err(problem) = pushed {
        checks.violation(problem.into_data().message)?;
        encode_text(vr, trim_spaces(text), &TextEncoder::ascii(), b"\\", out)?;
    }
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
            notes.push(format!("{vr} '{t}' written as the integer {}", v as i128));
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

/// IS from a JSON number or string: an integer within ±(2^31−1) (PS3.5 6.2 IS).
pub(crate) fn push_is(text: &str, notes: &mut Notes, out: &mut Vec<u8>) -> Result<(), Problem> {
    let t = trim_spaces(text);
    let v = integer(t, Vr::IS, notes)?;
    if !(-(1i128 << 31) + 1..=(1i128 << 31) - 1).contains(&v) {
        return Err(Problem::value(format!(
            "IS {v} is outside ±(2^31−1) (PS3.5 6.2)"
        )));
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.bytes().all(|b| b.is_ascii_digit()) && t.len() <= 12 {
        out.extend_from_slice(t.as_bytes());
    } else {
        out.extend_from_slice(v.to_string().as_bytes());
    }
    Ok(())
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

/// FL/FD from a JSON number, or the strings "NaN", "Infinity", "-Infinity" (DESIGN §6).
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
            notes.push(format!(
                "{vr} given as the string \"{text}\" (accepted: --lenient)"
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

    fn ds(t: &str) -> Result<(String, usize), Problem> {
        let mut notes = Notes::new();
        let mut out = Vec::new();
        push_ds(t, &mut notes, &mut out)?;
        Ok((String::from_utf8(out).unwrap(), notes.len()))
    }

    fn is(t: &str) -> Result<(String, usize), Problem> {
        let mut notes = Notes::new();
        let mut out = Vec::new();
        push_is(t, &mut notes, &mut out)?;
        Ok((String::from_utf8(out).unwrap(), notes.len()))
    }

    #[test]
    fn ds_is_verbatim_when_valid_and_short_else_shortest_with_a_note() {
        assert_eq!(ds("1.50").unwrap(), ("1.50".into(), 0));
        assert_eq!(ds("+5").unwrap(), ("+5".into(), 0));
        assert_eq!(ds("1e-5").unwrap(), ("1e-5".into(), 0));
        assert_eq!(
            ds("0.1234567890123456789").unwrap(),
            ("0.12345678901235".into(), 1)
        );
        let (long, notes) = ds("-1.2345678901234567e-300").unwrap();
        assert!(long.len() <= 16 && notes == 1, "{long}");
        assert!(ds("1,5").is_err());
        assert!(ds("NaN").is_err());
    }

    #[test]
    fn is_is_an_integer_never_truncated() {
        assert_eq!(is("42").unwrap(), ("42".into(), 0));
        assert_eq!(is("-0012").unwrap(), ("-0012".into(), 0));
        assert_eq!(is("5.0").unwrap(), ("5".into(), 1));
        assert_eq!(is("1e3").unwrap(), ("1000".into(), 1));
        assert!(is("1.5").is_err());
        assert!(is("2147483648").is_err());
        assert!(is("abc").is_err());
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
            write_anyway: false,
            notes: &mut notes,
        };
        assert!(push_text(Vr::CS, "lower", &enc, &mut strict, &mut out).is_err());
        assert!(push_text(Vr::SH, "seventeen chars!!", &enc, &mut strict, &mut out).is_err());
        let mut anyway = Checks {
            write_anyway: true,
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
                write_anyway: false,
                notes: &mut notes,
            },
            &mut out,
        );
        assert_eq!(err.unwrap_err().kind, super::super::ReadErrorKind::Charset);
    }
}
