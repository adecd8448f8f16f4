//! The type wrappers of Extended JSON (extended-json.md, Conversion table): an object below the top level
//! whose first key is a wrapper's is read as that type, with exactly the wrapper's keys in any order;
//! any other object is a document.

use super::binary::parse_uuid;
use super::reader::{describe, ExtJsonReader, Fault, Frame, FrameKind, TypeAt, Value};
use super::text::parse_iso_date;
use crate::decimal128::Decimal128;
use crate::error::ErrorKind;
use crate::types::ElementType;

/// What the first key of an object makes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wrapper {
    Oid,
    Symbol,
    NumberInt,
    NumberLong,
    NumberDouble,
    NumberDecimal,
    Binary,
    Uuid,
    Code,
    Scope,
    Timestamp,
    RegularExpression,
    DbPointer,
    Date,
    MinKey,
    MaxKey,
    Undefined,
    /// Legacy: `{"$regex": "…", "$options": "…"}` (a `$regex` whose value is not a string is the query
    /// operator, a document).
    LegacyRegex,
    /// Legacy: `$options` before `$regex`.
    LegacyOptions,
    /// Legacy: `{"$type": "…", "$binary": "…"}`; without `$binary`, the `$type` query operator.
    LegacyType,
}

fn classify(key: &[u8], legacy: bool) -> Option<Wrapper> {
    Some(match key {
        b"$oid" => Wrapper::Oid,
        b"$symbol" => Wrapper::Symbol,
        b"$numberInt" => Wrapper::NumberInt,
        b"$numberLong" => Wrapper::NumberLong,
        b"$numberDouble" => Wrapper::NumberDouble,
        b"$numberDecimal" => Wrapper::NumberDecimal,
        b"$binary" => Wrapper::Binary,
        b"$uuid" => Wrapper::Uuid,
        b"$code" => Wrapper::Code,
        b"$scope" => Wrapper::Scope,
        b"$timestamp" => Wrapper::Timestamp,
        b"$regularExpression" => Wrapper::RegularExpression,
        b"$dbPointer" => Wrapper::DbPointer,
        b"$date" => Wrapper::Date,
        b"$minKey" => Wrapper::MinKey,
        b"$maxKey" => Wrapper::MaxKey,
        b"$undefined" => Wrapper::Undefined,
        b"$regex" if legacy => Wrapper::LegacyRegex,
        b"$options" if legacy => Wrapper::LegacyOptions,
        b"$type" if legacy => Wrapper::LegacyType,
        _ => return None,
    })
}

/// Appends an element header (placeholder type byte, key, 0x00) to `doc`, recording the key in `frame`.
pub(super) fn push_member(doc: &mut Vec<u8>, frame: &mut Frame, key: &[u8]) -> TypeAt {
    let type_at = doc.len();
    doc.push(0);
    doc.extend_from_slice(key);
    frame.key = (type_at + 1, doc.len());
    doc.push(0);
    type_at
}

impl ExtJsonReader<'_> {
    /// After the `{` of an object below the top level, whose value goes at `type_at`.
    pub(super) fn object_value(&mut self, type_at: TypeAt) -> Result<Value, Fault> {
        if !self.lexer.object_has_first()? {
            self.doc[type_at] = ElementType::Document.byte();
            self.doc.extend_from_slice(&[5, 0, 0, 0, 0]);
            return Ok(Value::Done);
        }
        let (key, escaped) = self.lexer.read_key_bytes()?;
        let wrapper = if key.first() == Some(&b'$') {
            classify(key, self.options.legacy)
        } else {
            None
        };
        let Some(wrapper) = wrapper else {
            // A document: the common case, kept free of copies (the key is read from the lexer's window).
            if escaped && key.contains(&0) {
                return Err(nul_in_key());
            }
            if self.frames.len() >= self.options.max_depth {
                return Err(too_deep(self.options.max_depth));
            }
            self.doc[type_at] = ElementType::Document.byte();
            let start = self.doc.len();
            self.doc.extend_from_slice(&[0; 4]);
            let mut frame = Frame {
                kind: FrameKind::Document,
                start,
                key: (0, 0),
            };
            let member = push_member(&mut self.doc, &mut frame, key);
            self.frames.push(frame);
            return Ok(Value::Opened(member));
        };
        self.wrapper(type_at, wrapper)
    }

    fn wrapper(&mut self, type_at: TypeAt, wrapper: Wrapper) -> Result<Value, Fault> {
        match wrapper {
            Wrapper::Oid => {
                let oid = self.oid_string("$oid")?;
                self.set_type(type_at, ElementType::ObjectId);
                self.doc.extend_from_slice(&oid);
            }
            Wrapper::Symbol => {
                self.expect_string("$symbol")?;
                self.set_type(type_at, ElementType::Symbol);
                self.string_value()?;
            }
            Wrapper::NumberInt => {
                let text = self.short_string("$numberInt")?;
                let v: i32 = parse_integer(text)
                    .ok_or_else(|| bad_value("$numberInt", "a 32-bit integer", text))?;
                self.set_type(type_at, ElementType::Int32);
                self.doc.extend_from_slice(&v.to_le_bytes());
            }
            Wrapper::NumberLong => {
                let v = self.int64_value("$numberLong")?;
                self.set_type(type_at, ElementType::Int64);
                self.doc.extend_from_slice(&v.to_le_bytes());
            }
            Wrapper::NumberDouble => {
                let text = self.short_string("$numberDouble")?;
                let v = parse_double(text)
                    .ok_or_else(|| bad_value("$numberDouble", "a double", text))?;
                self.set_type(type_at, ElementType::Double);
                self.doc.extend_from_slice(&v.to_le_bytes());
            }
            Wrapper::NumberDecimal => {
                let text = self.short_string("$numberDecimal")?;
                let v = Decimal128::parse(text).map_err(|e| {
                    Fault::syntax(format!("$numberDecimal '{}': {e}", shorten(text)))
                })?;
                self.set_type(type_at, ElementType::Decimal128);
                self.doc.extend_from_slice(&v.to_bytes());
            }
            Wrapper::Binary => self.binary(type_at)?,
            Wrapper::Uuid => {
                let text = self.short_string("$uuid")?;
                let uuid = parse_uuid(text).ok_or_else(|| {
                    bad_value("$uuid", "a UUID (8-4-4-4-12 hexadecimal digits)", text)
                })?;
                self.set_type(type_at, ElementType::Binary);
                self.doc.extend_from_slice(&16i32.to_le_bytes());
                self.doc.push(4);
                self.doc.extend_from_slice(&uuid);
            }
            Wrapper::Code => return self.code(type_at),
            Wrapper::Scope => return self.scope_first(type_at),
            Wrapper::Timestamp => self.timestamp(type_at)?,
            Wrapper::RegularExpression => self.regular_expression(type_at)?,
            Wrapper::DbPointer => self.db_pointer(type_at)?,
            Wrapper::Date => {
                let ms = self.date()?;
                self.set_type(type_at, ElementType::DateTime);
                self.doc.extend_from_slice(&ms.to_le_bytes());
            }
            Wrapper::MinKey | Wrapper::MaxKey => {
                let (name, ty) = if wrapper == Wrapper::MinKey {
                    ("$minKey", ElementType::MinKey)
                } else {
                    ("$maxKey", ElementType::MaxKey)
                };
                let one = matches!(self.lexer.peek()?, Some(b'-' | b'0'..=b'9'))
                    && self.lexer.read_number()? == "1";
                if !one {
                    return Err(Fault::syntax(format!("{name} must be the number 1")));
                }
                self.set_type(type_at, ty);
            }
            Wrapper::Undefined => {
                if self.lexer.peek()? != Some(b't') {
                    return Err(Fault::syntax("$undefined must be true"));
                }
                self.lexer.read_literal("true")?;
                self.set_type(type_at, ElementType::Undefined);
            }
            Wrapper::LegacyRegex => return self.legacy_regex(type_at),
            Wrapper::LegacyOptions => return self.legacy_options_first(type_at),
            Wrapper::LegacyType => return self.legacy_type_first(type_at),
        }
        self.end_wrapper(wrapper_name(wrapper))?;
        Ok(Value::Done)
    }

    pub(super) fn set_type(&mut self, type_at: TypeAt, ty: ElementType) {
        self.doc[type_at] = ty.byte();
    }

    /// The `}` of a wrapper: any other member is an error (extended-json.md: "Any missing or extra keys
    /// constitute an error").
    pub(super) fn end_wrapper(&mut self, name: &str) -> Result<(), Fault> {
        if self.lexer.object_has_next()? {
            let key = self.lexer.read_key()?;
            return Err(Fault::syntax(format!(
                "'{}' in a {name} wrapper, which has exactly its own keys (extended-json.md, Parsers)",
                shorten(key)
            )));
        }
        Ok(())
    }

    pub(super) fn expect_string(&mut self, what: &str) -> Result<(), Fault> {
        match self.lexer.peek()? {
            Some(b'"') => Ok(()),
            Some(b) => Err(Fault::syntax(format!(
                "{what} must be a string, found {}",
                describe(b)
            ))),
            None => Err(Fault::truncated(what)),
        }
    }

    /// A short string value (a number's text, a subtype, …), borrowed from the lexer.
    pub(super) fn short_string(&mut self, what: &str) -> Result<&str, Fault> {
        self.expect_string(what)?;
        Ok(self.lexer.read_string()?)
    }

    pub(super) fn oid_string(&mut self, what: &str) -> Result<[u8; 12], Fault> {
        let text = self.short_string(what)?;
        let mut oid = [0u8; 12];
        if text.len() != 24 || !decode_hex(text.as_bytes(), &mut oid) {
            return Err(bad_value(what, "24 hexadecimal digits", text));
        }
        Ok(oid)
    }

    /// `$numberLong`'s string (or, legacy, a JSON integer).
    pub(super) fn int64_value(&mut self, what: &str) -> Result<i64, Fault> {
        if self.options.legacy && matches!(self.lexer.peek()?, Some(b'-' | b'0'..=b'9')) {
            let text = self.lexer.read_number()?;
            return parse_integer(text).ok_or_else(|| bad_value(what, "a 64-bit integer", text));
        }
        let text = self.short_string(what)?;
        parse_integer(text).ok_or_else(|| bad_value(what, "a 64-bit integer", text))
    }

    /// `{"$code": "…"}`, or with `$scope` after it: a code with scope.
    fn code(&mut self, type_at: TypeAt) -> Result<Value, Fault> {
        self.expect_string("$code")?;
        let value_start = self.doc.len();
        self.set_type(type_at, ElementType::JavaScript);
        self.string_value()?;
        if !self.lexer.object_has_next()? {
            return Ok(Value::Done);
        }
        let key = self.lexer.read_key()?;
        if key != "$scope" {
            return Err(Fault::syntax(format!(
                "'{}' in a $code wrapper, which has only $code and $scope",
                shorten(key)
            )));
        }
        // BSON: code with scope = total length, the code string, the scope document.
        self.doc
            .splice(value_start..value_start, [0; 4])
            .for_each(drop);
        self.open_scope(type_at, value_start, true)
    }

    /// `{"$scope": {…}, "$code": "…"}`: the scope comes first in the JSON, the code first in BSON.
    fn scope_first(&mut self, type_at: TypeAt) -> Result<Value, Fault> {
        let value_start = self.doc.len();
        self.doc.extend_from_slice(&[0; 4]);
        self.open_scope(type_at, value_start, false)
    }

    /// The scope document of a code with scope at `value_start`, whose `{` is next.
    fn open_scope(
        &mut self,
        type_at: TypeAt,
        value_start: usize,
        code_seen: bool,
    ) -> Result<Value, Fault> {
        if self.lexer.peek()? != Some(b'{') {
            return Err(Fault::syntax("$scope must be a document"));
        }
        self.lexer.bump();
        let kind = FrameKind::Scope {
            value_start,
            code_seen,
        };
        self.open_container(type_at, ElementType::CodeWithScope, kind)?;
        if !self.lexer.object_has_first()? {
            self.doc.push(0);
            let frame = self.frames.pop().expect("the scope was opened");
            self.patch_length(frame.start);
            self.finish_code_with_scope(value_start, code_seen)?;
            return Ok(Value::Done);
        }
        let (key, escaped) = self.lexer.read_key_bytes()?;
        if super::reader::is_wrapper_key(key, self.options.legacy) {
            return Err(Fault::syntax(format!(
                "a scope document whose first key is '{}': a scope is a document, not a wrapper",
                String::from_utf8_lossy(key)
            )));
        }
        if escaped && key.contains(&0) {
            return Err(nul_in_key());
        }
        let frame = self.frames.last_mut().expect("the scope was opened");
        Ok(Value::Opened(push_member(&mut self.doc, frame, key)))
    }

    /// After the scope document of the code with scope at `value_start` ended: its `$code` when that
    /// comes after it (moved before the scope), the wrapper's `}`, the total length.
    pub(super) fn finish_code_with_scope(
        &mut self,
        value_start: usize,
        code_seen: bool,
    ) -> Result<(), Fault> {
        if !code_seen {
            if !self.lexer.object_has_next()? || self.lexer.read_key()? != "$code" {
                return Err(Fault::syntax(
                    "$scope without $code: a code with scope has exactly $code and $scope",
                ));
            }
            self.expect_string("$code")?;
            let code_at = self.doc.len();
            self.string_value()?;
            let code_len = self.doc.len() - code_at;
            self.doc[value_start + 4..].rotate_right(code_len);
        }
        self.end_wrapper("$code")?;
        self.patch_length(value_start);
        self.check_size()
    }

    /// `{"$timestamp": {"t": <u32>, "i": <u32>}}`, members in any order.
    fn timestamp(&mut self, type_at: TypeAt) -> Result<(), Fault> {
        if self.lexer.peek()? != Some(b'{') {
            return Err(Fault::syntax(
                "$timestamp must be a document {\"t\": …, \"i\": …}",
            ));
        }
        self.lexer.bump();
        let (mut t, mut i) = (None, None);
        let mut more = self.lexer.object_has_first()?;
        while more {
            let slot = match self.lexer.read_key()? {
                "t" if t.is_none() => &mut t,
                "i" if i.is_none() => &mut i,
                other => {
                    return Err(Fault::syntax(format!(
                        "'{}' in $timestamp, which has exactly \"t\" and \"i\"",
                        shorten(other)
                    )))
                }
            };
            if !matches!(self.lexer.peek()?, Some(b'0'..=b'9')) {
                return Err(Fault::syntax(
                    "$timestamp's t and i must be non-negative integers",
                ));
            }
            let text = self.lexer.read_number()?;
            *slot =
                Some(text.parse::<u32>().map_err(|_| {
                    bad_value("$timestamp", "an integer from 0 to 4294967295", text)
                })?);
            more = self.lexer.object_has_next()?;
        }
        let (Some(t), Some(i)) = (t, i) else {
            return Err(Fault::syntax("$timestamp needs both \"t\" and \"i\""));
        };
        self.set_type(type_at, ElementType::Timestamp);
        // bsonspec.org: the increment in the low 32 bits, the seconds in the high.
        self.doc.extend_from_slice(&i.to_le_bytes());
        self.doc.extend_from_slice(&t.to_le_bytes());
        Ok(())
    }

    /// `{"$regularExpression": {"pattern": "…", "options": "…"}}`, members in any order.
    fn regular_expression(&mut self, type_at: TypeAt) -> Result<(), Fault> {
        if self.lexer.peek()? != Some(b'{') {
            return Err(Fault::syntax(
                "$regularExpression must be a document {\"pattern\": …, \"options\": …}",
            ));
        }
        self.lexer.bump();
        self.set_type(type_at, ElementType::Regex);
        let (mut pattern_seen, mut options_seen) = (false, false);
        self.scratch.clear();
        let mut more = self.lexer.object_has_first()?;
        while more {
            match self.lexer.read_key()? {
                "pattern" if !pattern_seen => {
                    self.expect_string("$regularExpression.pattern")?;
                    self.pattern()?;
                    pattern_seen = true;
                }
                "options" if !options_seen => {
                    self.expect_string("$regularExpression.options")?;
                    let text = self.lexer.read_string()?;
                    self.scratch.clear();
                    self.scratch.extend_from_slice(text.as_bytes());
                    options_seen = true;
                }
                other => {
                    return Err(Fault::syntax(format!(
                        "'{}' in $regularExpression, which has exactly \"pattern\" and \"options\"",
                        shorten(other)
                    )))
                }
            }
            more = self.lexer.object_has_next()?;
        }
        if !pattern_seen || !options_seen {
            return Err(Fault::syntax(
                "$regularExpression needs both \"pattern\" and \"options\"",
            ));
        }
        self.regex_options()
    }

    /// A regular expression's pattern (the string at the next byte) as a cstring onto `doc`.
    pub(super) fn pattern(&mut self) -> Result<(), Fault> {
        let start = self.string_content()?;
        if self.doc[start..].contains(&0) {
            return Err(Fault::syntax(
                "a regular expression holds U+0000, which BSON cannot store",
            ));
        }
        self.doc.push(0);
        Ok(())
    }

    /// The options held in `scratch`, sorted (as BSON stores them), as a cstring onto `doc`.
    pub(super) fn regex_options(&mut self) -> Result<(), Fault> {
        if self.scratch.contains(&0) {
            return Err(Fault::syntax(
                "regular expression options hold U+0000, which BSON cannot store",
            ));
        }
        // bsonspec.org: "Options MUST be stored in alphabetical order."
        crate::types::sort_regex_options(&mut self.scratch);
        self.doc.extend_from_slice(&self.scratch);
        self.doc.push(0);
        Ok(())
    }

    /// `{"$dbPointer": {"$ref": "…", "$id": {"$oid": "…"}}}`, members in any order.
    fn db_pointer(&mut self, type_at: TypeAt) -> Result<(), Fault> {
        if self.lexer.peek()? != Some(b'{') {
            return Err(Fault::syntax(
                "$dbPointer must be a document {\"$ref\": …, \"$id\": …}",
            ));
        }
        self.lexer.bump();
        self.set_type(type_at, ElementType::DbPointer);
        let (mut namespace_seen, mut id) = (false, None);
        let mut more = self.lexer.object_has_first()?;
        while more {
            match self.lexer.read_key()? {
                "$ref" if !namespace_seen => {
                    self.expect_string("$dbPointer.$ref")?;
                    self.string_value()?;
                    namespace_seen = true;
                }
                "$id" if id.is_none() => {
                    if self.lexer.peek()? != Some(b'{') {
                        return Err(Fault::syntax("$dbPointer.$id must be {\"$oid\": …}"));
                    }
                    self.lexer.bump();
                    if !self.lexer.object_has_first()? || self.lexer.read_key()? != "$oid" {
                        return Err(Fault::syntax("$dbPointer.$id must be {\"$oid\": …}"));
                    }
                    id = Some(self.oid_string("$dbPointer.$id")?);
                    self.end_wrapper("$oid")?;
                }
                other => {
                    return Err(Fault::syntax(format!(
                        "'{}' in $dbPointer, which has exactly \"$ref\" and \"$id\"",
                        shorten(other)
                    )))
                }
            }
            more = self.lexer.object_has_next()?;
        }
        match id.filter(|_| namespace_seen) {
            Some(id) => {
                self.doc.extend_from_slice(&id);
                Ok(())
            }
            None => Err(Fault::syntax("$dbPointer needs both \"$ref\" and \"$id\"")),
        }
    }

    /// `$date`'s value: `{"$numberLong": "…"}` (canonical), RFC 3339 text (relaxed), or milliseconds as
    /// a number (legacy).
    fn date(&mut self) -> Result<i64, Fault> {
        match self.lexer.peek()? {
            Some(b'{') => {
                self.lexer.bump();
                if !self.lexer.object_has_first()? || self.lexer.read_key()? != "$numberLong" {
                    return Err(Fault::syntax("$date as a document must be {\"$numberLong\": …}"));
                }
                let ms = self.int64_value("$date.$numberLong")?;
                self.end_wrapper("$numberLong")?;
                Ok(ms)
            }
            Some(b'"') => {
                let text = self.lexer.read_string()?;
                parse_iso_date(text).ok_or_else(|| {
                    bad_value("$date", "an RFC 3339 date-time (1970-01-01T00:00:00Z)", text)
                })
            }
            Some(b'-' | b'0'..=b'9') if self.options.legacy => {
                let text = self.lexer.read_number()?;
                parse_integer(text).ok_or_else(|| bad_value("$date", "milliseconds", text))
            }
            _ => Err(Fault::syntax(
                "$date must be {\"$numberLong\": …} or RFC 3339 text (milliseconds as a number are accepted with the legacy option)",
            )),
        }
    }
}

fn wrapper_name(wrapper: Wrapper) -> &'static str {
    match wrapper {
        Wrapper::Oid => "$oid",
        Wrapper::Symbol => "$symbol",
        Wrapper::NumberInt => "$numberInt",
        Wrapper::NumberLong => "$numberLong",
        Wrapper::NumberDouble => "$numberDouble",
        Wrapper::NumberDecimal => "$numberDecimal",
        Wrapper::Binary | Wrapper::LegacyType => "$binary",
        Wrapper::Uuid => "$uuid",
        Wrapper::Code | Wrapper::Scope => "$code",
        Wrapper::Timestamp => "$timestamp",
        Wrapper::RegularExpression => "$regularExpression",
        Wrapper::DbPointer => "$dbPointer",
        Wrapper::Date => "$date",
        Wrapper::MinKey => "$minKey",
        Wrapper::MaxKey => "$maxKey",
        Wrapper::Undefined => "$undefined",
        Wrapper::LegacyRegex | Wrapper::LegacyOptions => "$regex",
    }
}

/// An integer written as `-?[0-9]+` (no `+`, no spaces), in range for `T`.
fn parse_integer<T: std::str::FromStr>(text: &str) -> Option<T> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `$numberDouble`'s text: a decimal number, or exactly `Infinity`, `-Infinity`, `NaN`
/// (extended-json.md, "Representation of Non-finite Numeric Values").
fn parse_double(text: &str) -> Option<f64> {
    match text {
        "Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    // Rust's grammar also takes `inf`, `nan`, `infinity` in any case: only digits, sign, point, exponent.
    if !text
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    text.parse().ok()
}

/// Hexadecimal digits (either case) into `out`; false when one is not a digit.
pub(super) fn decode_hex(hex: &[u8], out: &mut [u8]) -> bool {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        match (digit(pair[0]), digit(pair[1])) {
            (Some(h), Some(l)) => *byte = h << 4 | l,
            _ => return false,
        }
    }
    hex.len() == out.len() * 2
}

pub(super) fn bad_value(what: &str, expected: &str, text: &str) -> Fault {
    Fault::syntax(format!("{what} '{}' is not {expected}", shorten(text)))
}

/// Text shown in a message, cut at 64 characters.
pub(super) fn shorten(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

pub(super) fn nul_in_key() -> Fault {
    Fault::syntax("a key holds U+0000, which BSON cannot store (keys end at a 0x00 byte)")
}

pub(super) fn too_deep(max_depth: usize) -> Fault {
    Fault::new(
        ErrorKind::TooDeep,
        format!("documents and arrays nest deeper than {max_depth} levels (max_depth)"),
    )
}
