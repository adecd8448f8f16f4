//! Decimal128 (IEEE 754-2008, binary integer decimal) as text, by the rules of MongoDB's
//! `bson-decimal128` specification ("To String Representation"), which are those of the General Decimal
//! Arithmetic's to-scientific-string.

/// The exponent bias (decimal128.md: "the exponent bias is 6176").
const BIAS: i32 = 6176;
/// The largest significand of 34 digits; a larger one is not canonical and reads as zero.
const MAX_SIGNIFICAND: u128 = 9_999_999_999_999_999_999_999_999_999_999_999;

/// A decimal128 value taken apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decimal128 {
    /// Not a number (every NaN, signalling or quiet, whatever its sign).
    NaN,
    /// An infinity; `true` when negative.
    Infinity(bool),
    /// `(-1)^negative × significand × 10^exponent`.
    Finite {
        /// The sign bit (a zero keeps it: `-0`).
        negative: bool,
        /// The coefficient, at most 34 decimal digits.
        significand: u128,
        /// The unbiased exponent, -6176 ..= 6111.
        exponent: i32,
    },
}

impl Decimal128 {
    /// The value of the 16 bytes as BSON stores them (little endian).
    pub fn from_bytes(bytes: [u8; 16]) -> Decimal128 {
        let bits = u128::from_le_bytes(bytes);
        let high = (bits >> 64) as u64;
        let negative = high >> 63 == 1;
        // decimal128.md: the five bits after the sign decide NaN and infinity first.
        match (high >> 58) & 0x1F {
            0x1F => return Decimal128::NaN,
            0x1E => return Decimal128::Infinity(negative),
            _ => {}
        }
        let (exponent, significand) = if (high >> 61) & 0b11 == 0b11 {
            // The "11" form: the implied significand (100 followed by 110 bits) is always beyond 34
            // digits, so the value is a non-canonical zero.
            (((high >> 47) & 0x3FFF) as i32, 0)
        } else {
            let significand = bits & ((1u128 << 113) - 1);
            let significand = if significand > MAX_SIGNIFICAND {
                0
            } else {
                significand
            };
            (((high >> 49) & 0x3FFF) as i32, significand)
        };
        Decimal128::Finite {
            negative,
            significand,
            exponent: exponent - BIAS,
        }
    }

    /// Appends the value's text: `NaN`, `Infinity`, `-Infinity`, or the scientific-string form
    /// (`1.23E+5`, `0.001`, `-0`, `1E-6177`, …).
    pub fn write(self, out: &mut Vec<u8>) {
        let (negative, significand, exponent) = match self {
            Decimal128::NaN => return out.extend_from_slice(b"NaN"),
            Decimal128::Infinity(false) => return out.extend_from_slice(b"Infinity"),
            Decimal128::Infinity(true) => return out.extend_from_slice(b"-Infinity"),
            Decimal128::Finite {
                negative,
                significand,
                exponent,
            } => (negative, significand, exponent),
        };
        if negative {
            out.push(b'-');
        }
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(significand).as_bytes();
        let n = digits.len() as i32;
        let adjusted = exponent + (n - 1);
        if exponent <= 0 && adjusted >= -6 {
            // Plain notation.
            if exponent == 0 {
                out.extend_from_slice(digits);
            } else if n > -exponent {
                let point = (n + exponent) as usize;
                out.extend_from_slice(&digits[..point]);
                out.push(b'.');
                out.extend_from_slice(&digits[point..]);
            } else {
                out.extend_from_slice(b"0.");
                out.resize(out.len() + (-exponent - n) as usize, b'0');
                out.extend_from_slice(digits);
            }
        } else {
            // Scientific notation: one digit before the point, the exponent always signed.
            out.push(digits[0]);
            if n > 1 {
                out.push(b'.');
                out.extend_from_slice(&digits[1..]);
            }
            out.push(b'E');
            if adjusted >= 0 {
                out.push(b'+');
            }
            out.extend_from_slice(itoa::Buffer::new().format(adjusted).as_bytes());
        }
    }
}

/// Why a text is not a Decimal128 (decimal128.md, "From String Representation" and its exceptions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not a numeric string (Conversion syntax).
    Syntax,
    /// More than 34 significant digits whose extra digits are not all zeros: the value would have to be
    /// rounded (Inexact rounding).
    Inexact,
    /// Too large for the exponent range even with trailing zeros added (Overflow).
    Overflow,
    /// Too small: the coefficient cannot lose enough trailing zeros to reach the smallest exponent
    /// (Underflow).
    Underflow,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ParseError::Syntax => "not a decimal number",
            ParseError::Inexact => "more than 34 significant digits (it would have to be rounded)",
            ParseError::Overflow => "too large for Decimal128",
            ParseError::Underflow => "too small for Decimal128 (it would have to be rounded)",
        })
    }
}

/// The most digits a coefficient holds.
const MAX_DIGITS: usize = 34;
/// The unbiased exponent's range.
const MIN_EXPONENT: i64 = -6176;
const MAX_EXPONENT: i64 = 6111;

impl Decimal128 {
    /// Parses a numeric string (decimal128.md, "From String Representation"): an optional sign, digits
    /// with an optional point, an optional exponent; or `Infinity`/`Inf`/`NaN` in any case. A value is
    /// clamped (trailing zeros added or removed) into the exponent range when that is exact, and refused
    /// when it is not: this type never rounds.
    pub fn parse(text: &str) -> Result<Decimal128, ParseError> {
        let bytes = text.as_bytes();
        let (negative, rest) = match bytes.first() {
            Some(b'-') => (true, &bytes[1..]),
            Some(b'+') => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        if rest.first().is_some_and(u8::is_ascii_alphabetic) {
            return match rest.to_ascii_lowercase().as_slice() {
                b"inf" | b"infinity" => Ok(Decimal128::Infinity(negative)),
                // decimal128.md: every NaN is written `NaN`; its sign is not kept.
                b"nan" => Ok(Decimal128::NaN),
                _ => Err(ParseError::Syntax),
            };
        }
        let (significand, exponent) = parse_finite(rest)?;
        Ok(Decimal128::Finite {
            negative,
            significand,
            exponent,
        })
    }

    /// The 16 bytes BSON stores (little endian).
    pub fn to_bytes(self) -> [u8; 16] {
        let bits: u128 = match self {
            Decimal128::NaN => 0x7C00u128 << 112,
            Decimal128::Infinity(negative) => (0x7800u128 | u128::from(negative) << 15) << 112,
            Decimal128::Finite {
                negative,
                significand,
                exponent,
            } => {
                let biased = (exponent + BIAS) as u128;
                u128::from(negative) << 127 | biased << 113 | significand
            }
        };
        bits.to_le_bytes()
    }
}

/// The coefficient and exponent of `digits[.digits][e[sign]digits]`, clamped into range.
fn parse_finite(text: &[u8]) -> Result<(u128, i32), ParseError> {
    let mantissa_end = text
        .iter()
        .position(|&b| b == b'e' || b == b'E')
        .unwrap_or(text.len());
    let (mantissa, exponent_part) = text.split_at(mantissa_end);
    let mut significant: Vec<u8> = Vec::new();
    let (mut seen_digit, mut seen_point) = (false, false);
    let mut fraction_digits: i64 = 0;
    for &b in mantissa {
        match b {
            b'0'..=b'9' => {
                seen_digit = true;
                if seen_point {
                    fraction_digits += 1;
                }
                if b != b'0' || !significant.is_empty() {
                    significant.push(b);
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return Err(ParseError::Syntax),
        }
    }
    if !seen_digit {
        return Err(ParseError::Syntax);
    }
    let mut exponent = match exponent_part {
        [] => 0,
        [_, rest @ ..] => parse_exponent(rest)?,
    } - fraction_digits;
    if significant.len() > MAX_DIGITS {
        // Digits beyond 34 may go only when they are zeros (exact); otherwise the value would round.
        if significant[MAX_DIGITS..].iter().any(|&b| b != b'0') {
            return Err(ParseError::Inexact);
        }
        exponent += (significant.len() - MAX_DIGITS) as i64;
        significant.truncate(MAX_DIGITS);
    }
    let mut coefficient = significant
        .iter()
        .fold(0u128, |acc, &b| acc * 10 + u128::from(b - b'0'));
    if coefficient == 0 {
        // decimal128.md, Clamping: a zero's exponent moves into range without changing its value.
        return Ok((0, exponent.clamp(MIN_EXPONENT, MAX_EXPONENT) as i32));
    }
    let mut digits = significant.len();
    while exponent > MAX_EXPONENT {
        if digits >= MAX_DIGITS {
            return Err(ParseError::Overflow);
        }
        coefficient *= 10;
        digits += 1;
        exponent -= 1;
    }
    while exponent < MIN_EXPONENT {
        if coefficient % 10 != 0 {
            return Err(ParseError::Underflow);
        }
        coefficient /= 10;
        exponent += 1;
    }
    Ok((coefficient, exponent as i32))
}

/// `[sign]digits`, saturated far beyond any exponent Decimal128 can reach (it is clamped or refused
/// later), so that a long run of digits cannot overflow.
fn parse_exponent(text: &[u8]) -> Result<i64, ParseError> {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::Syntax);
    }
    let magnitude = digits.iter().fold(0i64, |acc, &b| {
        (acc * 10 + i64::from(b - b'0')).min(1 << 40)
    });
    Ok(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(hex_le: &str) -> String {
        let mut bytes = [0u8; 16];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex_le[2 * i..2 * i + 2], 16).unwrap();
        }
        let mut out = Vec::new();
        Decimal128::from_bytes(bytes).write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn spec_examples() {
        // Value bytes as stored (little endian), as in the corpus's decimal128-1.json.
        assert_eq!(text("0000000000000000000000000000007C"), "NaN");
        assert_eq!(text("00000000000000000000000000000078"), "Infinity");
        assert_eq!(text("000000000000000000000000000000F8"), "-Infinity");
        assert_eq!(text("01000000000000000000000000004030"), "1");
        assert_eq!(text("00000000000000000000000000004030"), "0");
        assert_eq!(text("000000000000000000000000000040B0"), "-0");
        assert_eq!(text("01000000000000000000000000004630"), "1E+3");
        assert_eq!(text("01000000000000000000000000003A30"), "0.001");
        assert_eq!(text("01000000000000000000000000002030"), "1E-16");
    }

    fn parsed(text: &str) -> Result<String, ParseError> {
        let mut hex = String::new();
        for b in Decimal128::parse(text)?.to_bytes() {
            hex.push_str(&format!("{b:02X}"));
        }
        Ok(hex)
    }

    #[test]
    fn parse_round_trips_and_clamps() {
        assert_eq!(parsed("1").unwrap(), "01000000000000000000000000004030");
        assert_eq!(parsed("-0").unwrap(), "000000000000000000000000000040B0");
        assert_eq!(parsed("1e3").unwrap(), "01000000000000000000000000004630");
        assert_eq!(parsed("-nan").unwrap(), "0000000000000000000000000000007C");
        assert_eq!(parsed("-Inf").unwrap(), "000000000000000000000000000000F8");
        assert_eq!(parsed("10E-6177").unwrap(), parsed("1E-6176").unwrap());
        assert_eq!(parsed("0E+2147483647").unwrap(), parsed("0E+6111").unwrap());
        assert_eq!(parsed("1E-6177"), Err(ParseError::Underflow));
        assert_eq!(parsed("7e10000"), Err(ParseError::Overflow));
        assert_eq!(
            parsed("1.11111111111111111111111111111234550"),
            Err(ParseError::Inexact)
        );
        for bad in [
            "", ".", "1e", "E01", "+-1", " 1", "1 ", "Infi", "NaNq", "1.2.3", "1e1.0",
        ] {
            assert_eq!(parsed(bad), Err(ParseError::Syntax), "{bad:?}");
        }
    }
}
