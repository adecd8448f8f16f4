//! The text of Extended JSON values: doubles, dates, hexadecimal.

/// Appends a finite double as the shortest text that reads back to the same value, laid out as Python's
/// `repr` (and so pymongo) lays it out: plain notation with at least one digit after the point for
/// decimal exponents -4 to 16, else `d.ddde±XX` (at least two exponent digits). `-0.0` keeps its sign.
pub fn write_double(out: &mut Vec<u8>, value: f64) {
    debug_assert!(value.is_finite());
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(value).as_bytes();
    let (negative, shortest) = match shortest.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, shortest),
    };
    // Take ryu's text apart into significant digits and the position of the decimal point:
    // value = 0.d1d2d3… × 10^point.
    let (mantissa, exponent) = match shortest.iter().position(|&b| b == b'e') {
        Some(e) => (&shortest[..e], parse_exponent(&shortest[e + 1..])),
        None => (shortest, 0),
    };
    let mut digits = [0u8; 32];
    let mut n = 0;
    let mut point = None;
    for &b in mantissa {
        if b == b'.' {
            point = Some(n);
        } else {
            digits[n] = b;
            n += 1;
        }
    }
    let mut point = point.unwrap_or(n) as i32 + exponent;
    // Leading zeros (0.001) and trailing zeros (100.0) are not significant digits.
    let lead = digits[..n].iter().take_while(|&&d| d == b'0').count();
    let digits = if lead == n {
        point = 1;
        &b"0"[..]
    } else {
        point -= lead as i32;
        let end = n - digits[..n].iter().rev().take_while(|&&d| d == b'0').count();
        &digits[lead..end]
    };
    if negative {
        out.push(b'-');
    }
    let k = digits.len() as i32;
    if (-3..=16).contains(&point) {
        if point <= 0 {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-point) as usize, b'0');
            out.extend_from_slice(digits);
        } else if point >= k {
            out.extend_from_slice(digits);
            out.resize(out.len() + (point - k) as usize, b'0');
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..point as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[point as usize..]);
        }
    } else {
        out.push(digits[0]);
        if k > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        let e = point - 1;
        out.extend_from_slice(if e < 0 { b"e-" } else { b"e+" });
        let e = e.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(itoa::Buffer::new().format(e).as_bytes());
    }
}

fn parse_exponent(text: &[u8]) -> i32 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let value = digits
        .iter()
        .fold(0i32, |acc, &d| acc * 10 + i32::from(d - b'0'));
    if negative {
        -value
    } else {
        value
    }
}

/// The first millisecond of the year 10000: relaxed Extended JSON writes dates before it (and from
/// 1970 on) as ISO-8601 text (extended-json.md, conversion table).
pub const RELAXED_DATE_END: i64 = 253_402_300_800_000;

/// Appends milliseconds since the epoch as RFC 3339 UTC text, `YYYY-MM-DDTHH:MM:SS[.mmm]Z`, for
/// 0 ≤ `ms` < [`RELAXED_DATE_END`] (milliseconds only when not zero: extended-json.md, note 5).
pub fn write_iso_date(out: &mut Vec<u8>, ms: i64) {
    debug_assert!((0..RELAXED_DATE_END).contains(&ms));
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    let two = |out: &mut Vec<u8>, v: i64| {
        out.push(b'0' + (v / 10) as u8);
        out.push(b'0' + (v % 10) as u8);
    };
    two(out, year / 100);
    two(out, year % 100);
    out.push(b'-');
    two(out, month);
    out.push(b'-');
    two(out, day);
    out.push(b'T');
    two(out, h);
    out.push(b':');
    two(out, m);
    out.push(b':');
    two(out, s);
    if milli != 0 {
        out.push(b'.');
        out.push(b'0' + (milli / 100) as u8);
        two(out, milli % 100);
    }
    out.push(b'Z');
}

/// Year, month, day of a day count from 1970-01-01 in the proleptic Gregorian calendar (the
/// era-based algorithm of H. Hinnant's "chrono-Compatible Low-Level Date Algorithms").
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days from 1970-01-01 of a proleptic Gregorian date (the inverse of `civil_from_days`, same source).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds since the epoch of RFC 3339 date-time text, `YYYY-MM-DDTHH:MM:SS[.fraction]` then `Z` or
/// an offset (`±HH:MM`; pymongo's `±HHMM` and `±HH` too). Digits of the fraction past milliseconds are
/// dropped, as pymongo drops them. `None` when the text is not such a date.
pub fn parse_iso_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0i64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| b.get(i) != Some(&c))
        || !matches!(b.get(10), Some(b'T' | b't'))
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let days_in_month = match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=days_in_month).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if b.get(at) == Some(&b'.') {
        let digits = b[at + 1..]
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        for i in 0..3 {
            millis = millis * 10
                + if i < digits {
                    i64::from(b[at + 1 + i] - b'0')
                } else {
                    0
                };
        }
        at += 1 + digits;
    }
    let offset_minutes = match &b[at..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest.len() {
                5 if rest[2] == b':' => (num(at + 1..at + 3)?, num(at + 4..at + 6)?),
                4 => (num(at + 1..at + 3)?, num(at + 3..at + 5)?),
                2 => (num(at + 1..at + 3)?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'-' {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// Appends `bytes` as lowercase hexadecimal.
pub fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(v: f64) -> String {
        let mut out = Vec::new();
        write_double(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn doubles_as_python_repr() {
        for (v, text) in [
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1.0001220703125, "1.0001220703125"),
            (1.2345678921232e18, "1.2345678921232e+18"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (123456789.0, "123456789.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e300, "1e+300"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (12345.678, "12345.678"),
        ] {
            assert_eq!(double(v), text, "{v:e}");
        }
    }

    #[test]
    fn every_double_text_reads_back() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if v.is_finite() {
                let text = double(v);
                assert_eq!(
                    text.parse::<f64>().unwrap().to_bits(),
                    v.to_bits(),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn dates_as_rfc3339() {
        let date = |ms| {
            let mut out = Vec::new();
            write_iso_date(&mut out, ms);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(date(0), "1970-01-01T00:00:00Z");
        assert_eq!(date(1_356_351_330_501), "2012-12-24T12:15:30.501Z");
        assert_eq!(date(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(date(RELAXED_DATE_END - 1), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn iso_dates_parse_back() {
        for ms in [
            0,
            1,
            999,
            1_356_351_330_501,
            951_782_400_000,
            253_402_300_799_999,
        ] {
            let mut text = Vec::new();
            write_iso_date(&mut text, ms);
            assert_eq!(
                parse_iso_date(std::str::from_utf8(&text).unwrap()),
                Some(ms)
            );
        }
        assert_eq!(parse_iso_date("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_iso_date("1970-01-01T00:00:00-0130"),
            Some(90 * 60_000)
        );
        assert_eq!(parse_iso_date("1970-01-01T00:00:00.1234567Z"), Some(123));
        for bad in [
            "1970-01-01",
            "1970-01-01T00:00:00",
            "1970-02-30T00:00:00Z",
            "1970-01-01T24:00:00Z",
            "1970-01-01T00:00:00.Z",
            "1970-01-01 00:00:00Z",
            "197O-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }
}
