//! `$binary` (canonical and legacy) and `$uuid`: base64 decoded straight into the document as it streams
//! through the lexer, the length and subtype patched in after.

use super::reader::{ExtJsonReader, Fault, TypeAt};
use super::wrappers::{bad_value, decode_hex, shorten};
use crate::types::ElementType;

impl ExtJsonReader<'_> {
    /// `{"$binary": {"base64": …, "subType": …}}`, or legacy `{"$binary": "…", "$type": "…"}`.
    pub(super) fn binary(&mut self, type_at: TypeAt) -> Result<(), Fault> {
        self.set_type(type_at, ElementType::Binary);
        let value_start = self.doc.len();
        // Length and subtype, patched when the data has been decoded.
        self.doc.extend_from_slice(&[0; 5]);
        match self.lexer.peek()? {
            Some(b'{') => self.lexer.bump(),
            Some(b'"') if self.options.legacy => {
                self.base64_content()?;
                if !self.lexer.object_has_next()? || self.lexer.read_key()? != "$type" {
                    return Err(Fault::syntax(
                        "a legacy $binary string needs its $type (extended-json.md, legacy form)",
                    ));
                }
                let subtype = self.legacy_subtype()?;
                return self.finish_binary(value_start, subtype);
            }
            Some(b'"') => {
                return Err(Fault::syntax(
                    "$binary must be {\"base64\": …, \"subType\": …}; the legacy string form is accepted with the legacy option",
                ))
            }
            _ => return Err(Fault::syntax("$binary must be a document")),
        }
        let (mut data_seen, mut subtype) = (false, None);
        let mut more = self.lexer.object_has_first()?;
        while more {
            match self.lexer.read_key()? {
                "base64" if !data_seen => {
                    self.expect_string("$binary.base64")?;
                    self.base64_content()?;
                    data_seen = true;
                }
                "subType" if subtype.is_none() => {
                    let text = self.short_string("$binary.subType")?;
                    let mut byte = [0u8; 1];
                    let padded;
                    let hex = match text.len() {
                        1 => {
                            padded = [b'0', text.as_bytes()[0]];
                            &padded[..]
                        }
                        _ => text.as_bytes(),
                    };
                    if hex.len() != 2 || !decode_hex(hex, &mut byte) {
                        return Err(bad_value(
                            "$binary.subType",
                            "one or two hexadecimal digits",
                            text,
                        ));
                    }
                    subtype = Some(byte[0]);
                }
                other => {
                    return Err(Fault::syntax(format!(
                        "'{}' in $binary, which has exactly \"base64\" and \"subType\"",
                        shorten(other)
                    )))
                }
            }
            more = self.lexer.object_has_next()?;
        }
        let Some(subtype) = subtype.filter(|_| data_seen) else {
            return Err(Fault::syntax(
                "$binary needs both \"base64\" and \"subType\"",
            ));
        };
        self.finish_binary(value_start, subtype)
    }

    /// Patches the length and subtype of the binary value at `value_start`, whose data follows.
    pub(super) fn finish_binary(&mut self, value_start: usize, subtype: u8) -> Result<(), Fault> {
        let data_len = (self.doc.len() - value_start - 5) as i32;
        if subtype == 0x02 {
            // The old binary subtype repeats the data's length inside its value (bsonspec.org).
            let inner = value_start + 5;
            self.doc
                .splice(inner..inner, data_len.to_le_bytes())
                .for_each(drop);
            self.doc[value_start..value_start + 4].copy_from_slice(&(data_len + 4).to_le_bytes());
        } else {
            self.doc[value_start..value_start + 4].copy_from_slice(&data_len.to_le_bytes());
        }
        self.doc[value_start + 4] = subtype;
        self.check_size()
    }

    /// A legacy `$type`: hexadecimal text (mongoexport's `ffffff80` form included) or a number.
    pub(super) fn legacy_subtype(&mut self) -> Result<u8, Fault> {
        let text = match self.lexer.peek()? {
            Some(b'"') => self.lexer.read_string()?,
            Some(b'-' | b'0'..=b'9') => {
                let text = self.lexer.read_number()?;
                return text
                    .parse::<u8>()
                    .map_err(|_| bad_value("$type", "a binary subtype (0 to 255)", text));
            }
            _ => return Err(Fault::syntax("$type must be a string or a number")),
        };
        match u32::from_str_radix(text, 16) {
            Ok(v) if v <= 0xFF && text.len() <= 2 => Ok(v as u8),
            Ok(v) if v >= 0xFFFF_FF80 => Ok(v as u8),
            _ => Err(bad_value("$type", "a binary subtype in hexadecimal", text)),
        }
    }

    /// The base64 string at the next byte, decoded onto the end of `doc` as it streams through the
    /// lexer's window (extended-json.md: base64 "with padding as `=`").
    pub(super) fn base64_content(&mut self) -> Result<(), Fault> {
        self.lexer.expect(b'"', "a base64 string")?;
        self.scratch.clear();
        let mut padded = false;
        loop {
            let (mut piece, stop) = self.lexer.take_until_quote(1 << 16)?;
            let taken = piece.len() + usize::from(stop == Some(b'"'));
            let max = self.options.max_document_size;
            let mut consumed = 0;
            if !self.scratch.is_empty() {
                let take = (4 - self.scratch.len()).min(piece.len());
                self.scratch.extend_from_slice(&piece[..take]);
                piece = &piece[take..];
                consumed = take;
                if self.scratch.len() == 4 {
                    let before = self.doc.len();
                    let decoded = decode_groups(&self.scratch, &mut padded, &mut self.doc);
                    self.scratch.clear();
                    if decoded.is_err() {
                        self.lexer.unread(taken - consumed);
                        return Err(bad_base64());
                    }
                    if past_limit(before, self.doc.len(), 4, max).is_some() {
                        self.lexer.unread(taken - consumed);
                        return Err(self.too_large());
                    }
                }
            }
            let whole = piece.len() / 4 * 4;
            let before = self.doc.len();
            if let Err(end) = decode_groups(&piece[..whole], &mut padded, &mut self.doc) {
                self.lexer.unread(taken - consumed - end);
                return Err(bad_base64());
            }
            if let Some(after) = past_limit(before, self.doc.len(), whole, max) {
                self.lexer.unread(after + taken - consumed - whole);
                return Err(self.too_large());
            }
            self.scratch.extend_from_slice(&piece[whole..]);
            match stop {
                Some(b'"') => break,
                Some(_) => {
                    let c = self.lexer.take_escape()?;
                    if !c.is_ascii() {
                        return Err(bad_base64());
                    }
                    self.scratch.push(c as u8);
                    if self.scratch.len() == 4 {
                        let decoded = decode_groups(&self.scratch, &mut padded, &mut self.doc);
                        self.scratch.clear();
                        decoded.map_err(|_| bad_base64())?;
                        self.check_size()?;
                    }
                }
                None => {}
            }
        }
        if !self.scratch.is_empty() {
            return Err(Fault::syntax(
                "base64 whose length is not a multiple of 4 (extended-json.md: padded with '=')",
            ));
        }
        Ok(())
    }
}

/// Decodes whole base64 groups onto `out`; padding ends the data (`padded` then refuses more). On an
/// error, `Err(n)`: the bad group ends `n` characters into `groups` (errors are reported at the end of
/// their group, which does not depend on where the lexer's pieces end).
fn decode_groups(groups: &[u8], padded: &mut bool, out: &mut Vec<u8>) -> Result<(), usize> {
    if groups.is_empty() {
        return Ok(());
    }
    if *padded {
        return Err(4);
    }
    if dcmflow_simd::append_decoded(groups, out).is_err() {
        // Find the group: decode one at a time (the error path only).
        for (k, group) in groups.chunks_exact(4).enumerate() {
            if *padded || dcmflow_simd::append_decoded(group, out).is_err() {
                return Err(4 * (k + 1));
            }
            *padded = group[3] == b'=';
        }
    }
    *padded = groups.last() == Some(&b'=');
    Ok(())
}

fn bad_base64() -> Fault {
    Fault::syntax("base64 holds a character outside its alphabet, or text after its '=' padding")
}

/// When decoding `raw_len` base64 characters grew `doc` from `before` to `after` bytes past `max`: how
/// many of those characters come after the group that crossed the limit (so the error is reported at that
/// group, wherever the piece ended).
fn past_limit(before: usize, after: usize, raw_len: usize, max: usize) -> Option<usize> {
    if after <= max {
        return None;
    }
    let crossing_group = max.saturating_sub(before) / 3;
    Some(raw_len.saturating_sub(4 * (crossing_group + 1)))
}

/// A UUID as 8-4-4-4-12 hexadecimal digits (extended-json.md, `$uuid`), or 32 without the hyphens.
pub(super) fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let b = text.as_bytes();
    let mut hex = [0u8; 32];
    match b.len() {
        36 => {
            if [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
                return None;
            }
            let mut n = 0;
            for (i, &c) in b.iter().enumerate() {
                if ![8, 13, 18, 23].contains(&i) {
                    hex[n] = c;
                    n += 1;
                }
            }
        }
        32 => hex.copy_from_slice(b),
        _ => return None,
    }
    let mut uuid = [0u8; 16];
    decode_hex(&hex, &mut uuid).then_some(uuid)
}
