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
}
