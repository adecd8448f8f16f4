//! Legacy Extended JSON (on request): `{"$regex": …, "$options": …}` in either order and the `$type`
//! that goes with a legacy `$binary`; and the query operators those keys also name (`{"$regex": {…}}`,
//! `{"$type": "string"}`), which stay documents: an object is opened as a document once the key after a
//! held short value shows it is not the legacy form.

use super::reader::{ExtJsonReader, Fault, FrameKind, TypeAt, Value};
use super::wrappers::{nul_in_key, push_member};
use crate::types::ElementType;

impl ExtJsonReader<'_> {
    /// Legacy `{"$regex": <value>, …}`: a regular expression when the value is a string, else the
    /// `$regex` query operator, a document.
    pub(super) fn legacy_regex(&mut self, type_at: TypeAt) -> Result<Value, Fault> {
        if self.lexer.peek()? != Some(b'"') {
            return self.document_from(type_at, b"$regex");
        }
        self.set_type(type_at, ElementType::Regex);
        self.pattern()?;
        self.scratch.clear();
        if self.lexer.object_has_next()? {
            if self.lexer.read_key()? != "$options" {
                return Err(Fault::syntax(
                    "a legacy $regex has only $regex and $options",
                ));
            }
            self.expect_string("$options")?;
            let text = self.lexer.read_string()?;
            self.scratch.extend_from_slice(text.as_bytes());
            self.end_wrapper("$regex")?;
        }
        self.regex_options()?;
        Ok(Value::Done)
    }

    /// Legacy `{"$options": "…", "$regex": "…"}`; anything else is a document that starts with
    /// `$options`.
    pub(super) fn legacy_options_first(&mut self, type_at: TypeAt) -> Result<Value, Fault> {
        if self.lexer.peek()? != Some(b'"') {
            return self.document_from(type_at, b"$options");
        }
        let options = self.lexer.read_string()?.to_owned();
        if !self.lexer.object_has_next()? {
            return self.document_with_string(type_at, b"$options", &options, None);
        }
        let key = self.lexer.read_key()?.to_owned();
        if key != "$regex" || self.lexer.peek()? != Some(b'"') {
            return self.document_with_string(type_at, b"$options", &options, Some(&key));
        }
        self.set_type(type_at, ElementType::Regex);
        self.pattern()?;
        self.scratch.clear();
        self.scratch.extend_from_slice(options.as_bytes());
        self.regex_options()?;
        self.end_wrapper("$regex")?;
        Ok(Value::Done)
    }

    /// Legacy `{"$type": "…", "$binary": "…"}`; anything else is a document that starts with `$type`
    /// (the query operator, `{"$type": "string"}`).
    pub(super) fn legacy_type_first(&mut self, type_at: TypeAt) -> Result<Value, Fault> {
        let held = match self.lexer.peek()? {
            Some(b'"') => Held::String(self.lexer.read_string()?.to_owned()),
            Some(b'-' | b'0'..=b'9') => Held::Number(self.lexer.read_number()?.to_owned()),
            _ => return self.document_from(type_at, b"$type"),
        };
        let next = if self.lexer.object_has_next()? {
            Some(self.lexer.read_key()?.to_owned())
        } else {
            None
        };
        if next.as_deref() == Some("$binary") && self.lexer.peek()? == Some(b'"') {
            let subtype = match &held {
                Held::String(text) => u32::from_str_radix(text, 16)
                    .ok()
                    .filter(|&v| v <= 0xFF && text.len() <= 2 || v >= 0xFFFF_FF80)
                    .map(|v| v as u8),
                Held::Number(text) => text.parse::<u8>().ok(),
            }
            .ok_or_else(|| Fault::syntax("$type must be a binary subtype"))?;
            self.set_type(type_at, ElementType::Binary);
            let value_start = self.doc.len();
            self.doc.extend_from_slice(&[0; 5]);
            self.base64_content()?;
            self.finish_binary(value_start, subtype)?;
            self.end_wrapper("$binary")?;
            return Ok(Value::Done);
        }
        match held {
            Held::String(text) => {
                self.document_with_string(type_at, b"$type", &text, next.as_deref())
            }
            Held::Number(text) => {
                let at = self.open_document_with(type_at, b"$type")?;
                self.write_number(at, &text);
                self.continue_document(next.as_deref())
            }
        }
    }

    /// A document whose first member is `key`, its value not read yet.
    pub(super) fn document_from(&mut self, type_at: TypeAt, key: &[u8]) -> Result<Value, Fault> {
        let at = self.open_document_with(type_at, key)?;
        Ok(Value::Opened(at))
    }

    /// Opens a document at `type_at` and writes the header of its first member, `key`.
    pub(super) fn open_document_with(
        &mut self,
        type_at: TypeAt,
        key: &[u8],
    ) -> Result<TypeAt, Fault> {
        self.open_container(type_at, ElementType::Document, FrameKind::Document)?;
        let frame = self.frames.last_mut().expect("just opened");
        Ok(push_member(&mut self.doc, frame, key))
    }

    /// A document whose first member, `key`, is the string `value`; `next` is the key read after it.
    pub(super) fn document_with_string(
        &mut self,
        type_at: TypeAt,
        key: &[u8],
        value: &str,
        next: Option<&str>,
    ) -> Result<Value, Fault> {
        let at = self.open_document_with(type_at, key)?;
        self.doc[at] = ElementType::String.byte();
        self.doc
            .extend_from_slice(&(value.len() as i32 + 1).to_le_bytes());
        self.doc.extend_from_slice(value.as_bytes());
        self.doc.push(0);
        self.continue_document(next)
    }

    /// Goes on with the document just opened: its next member's key was read already (`Some`), or its
    /// `}` was.
    pub(super) fn continue_document(&mut self, next: Option<&str>) -> Result<Value, Fault> {
        match next {
            Some(key) => {
                if super::reader::is_wrapper_key(key.as_bytes(), self.options.legacy) {
                    return Err(Fault::syntax(format!(
                        "'{key}' among other members: a type wrapper has exactly its own keys"
                    )));
                }
                if key.as_bytes().contains(&0) {
                    return Err(nul_in_key());
                }
                let frame = self.frames.last_mut().expect("a document is open");
                Ok(Value::Opened(push_member(
                    &mut self.doc,
                    frame,
                    key.as_bytes(),
                )))
            }
            None => {
                let frame = self.frames.pop().expect("a document is open");
                self.doc.push(0);
                self.patch_length(frame.start);
                Ok(Value::Done)
            }
        }
    }
}

/// A short value held while the next key decides what an object is.
enum Held {
    String(String),
    Number(String),
}
