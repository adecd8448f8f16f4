//! The element types of BSON 1.1 (bsonspec.org, "element").

/// The type byte of an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElementType {
    /// 0x01: binary64.
    Double,
    /// 0x02: UTF-8 string.
    String,
    /// 0x03: embedded document.
    Document,
    /// 0x04: array (a document whose keys are "0", "1", …).
    Array,
    /// 0x05: binary data with a subtype.
    Binary,
    /// 0x06: undefined (deprecated).
    Undefined,
    /// 0x07: ObjectId, 12 bytes.
    ObjectId,
    /// 0x08: boolean, one byte 0 or 1.
    Boolean,
    /// 0x09: UTC datetime, int64 milliseconds since the epoch.
    DateTime,
    /// 0x0A: null.
    Null,
    /// 0x0B: regular expression, pattern and options as cstrings.
    Regex,
    /// 0x0C: DBPointer (deprecated): a namespace string and an ObjectId.
    DbPointer,
    /// 0x0D: JavaScript code.
    JavaScript,
    /// 0x0E: symbol (deprecated).
    Symbol,
    /// 0x0F: JavaScript code with a scope document.
    CodeWithScope,
    /// 0x10: int32.
    Int32,
    /// 0x11: timestamp: uint32 increment, then uint32 seconds.
    Timestamp,
    /// 0x12: int64.
    Int64,
    /// 0x13: IEEE 754-2008 decimal128 (BID).
    Decimal128,
    /// 0xFF: min key.
    MinKey,
    /// 0x7F: max key.
    MaxKey,
}

impl ElementType {
    /// The type of a type byte; `None` for a byte BSON does not define.
    pub fn from_byte(b: u8) -> Option<ElementType> {
        Some(match b {
            0x01 => ElementType::Double,
            0x02 => ElementType::String,
            0x03 => ElementType::Document,
            0x04 => ElementType::Array,
            0x05 => ElementType::Binary,
            0x06 => ElementType::Undefined,
            0x07 => ElementType::ObjectId,
            0x08 => ElementType::Boolean,
            0x09 => ElementType::DateTime,
            0x0A => ElementType::Null,
            0x0B => ElementType::Regex,
            0x0C => ElementType::DbPointer,
            0x0D => ElementType::JavaScript,
            0x0E => ElementType::Symbol,
            0x0F => ElementType::CodeWithScope,
            0x10 => ElementType::Int32,
            0x11 => ElementType::Timestamp,
            0x12 => ElementType::Int64,
            0x13 => ElementType::Decimal128,
            0xFF => ElementType::MinKey,
            0x7F => ElementType::MaxKey,
            _ => return None,
        })
    }

    /// The type byte.
    pub fn byte(self) -> u8 {
        match self {
            ElementType::Double => 0x01,
            ElementType::String => 0x02,
            ElementType::Document => 0x03,
            ElementType::Array => 0x04,
            ElementType::Binary => 0x05,
            ElementType::Undefined => 0x06,
            ElementType::ObjectId => 0x07,
            ElementType::Boolean => 0x08,
            ElementType::DateTime => 0x09,
            ElementType::Null => 0x0A,
            ElementType::Regex => 0x0B,
            ElementType::DbPointer => 0x0C,
            ElementType::JavaScript => 0x0D,
            ElementType::Symbol => 0x0E,
            ElementType::CodeWithScope => 0x0F,
            ElementType::Int32 => 0x10,
            ElementType::Timestamp => 0x11,
            ElementType::Int64 => 0x12,
            ElementType::Decimal128 => 0x13,
            ElementType::MinKey => 0xFF,
            ElementType::MaxKey => 0x7F,
        }
    }

    /// The size of a value of fixed size; `None` for the types whose size is in the value.
    pub fn fixed_size(self) -> Option<usize> {
        Some(match self {
            ElementType::Undefined
            | ElementType::Null
            | ElementType::MinKey
            | ElementType::MaxKey => 0,
            ElementType::Boolean => 1,
            ElementType::Int32 => 4,
            ElementType::Double
            | ElementType::DateTime
            | ElementType::Timestamp
            | ElementType::Int64 => 8,
            ElementType::ObjectId => 12,
            ElementType::Decimal128 => 16,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_byte_maps_back() {
        let mut known = 0;
        for b in 0..=255u8 {
            if let Some(t) = ElementType::from_byte(b) {
                assert_eq!(t.byte(), b);
                known += 1;
            }
        }
        assert_eq!(known, 21);
    }
}

/// Sorts a regular expression's options as bsonspec.org stores them ("in alphabetical order"): by
/// character, so that an option outside ASCII stays the UTF-8 it was (bytes sorted one by one would
/// tear it apart). Options that are not UTF-8 are left as they are (the readers refuse them).
pub(crate) fn sort_regex_options(options: &mut Vec<u8>) {
    if options.is_ascii() {
        options.sort_unstable();
        return;
    }
    if let Ok(text) = std::str::from_utf8(options) {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        *options = chars.into_iter().collect::<String>().into_bytes();
    }
}

#[cfg(test)]
mod regex_option_tests {
    use super::sort_regex_options;

    #[test]
    fn options_sort_by_character() {
        let mut ascii = b"xmi".to_vec();
        sort_regex_options(&mut ascii);
        assert_eq!(ascii, b"imx");
        let mut mixed = "xᘕai".as_bytes().to_vec();
        sort_regex_options(&mut mixed);
        assert_eq!(String::from_utf8(mixed).unwrap(), "aixᘕ");
    }
}
