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
}
