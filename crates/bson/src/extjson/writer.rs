//! Extended JSON from BSON tokens, streamed: a value is written as its tokens arrive (text escaped piece
//! by piece, binary base64-encoded piece by piece), keys and duplicates in BSON order.

use std::io::{self, Write};

use dcmflow_engine::json::escape::{write_escaped, write_escaped_bytes};
use dcmflow_engine::json::format::Formatter;
use dcmflow_simd::Base64Encoder;

use super::text::{write_double, write_hex, write_iso_date, RELAXED_DATE_END};
use crate::decimal128::Decimal128;
use crate::reader::{Container, Scalar, Token};
use crate::types::ElementType;

/// Which Extended JSON (extended-json.md, "Conversion table").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Every type preserved: numbers and dates in wrappers.
    Canonical,
    /// Readable: int32, int64 and finite doubles as JSON numbers, dates from 1970 to 9999 as ISO-8601
    /// text (the specification's default for generators).
    #[default]
    Relaxed,
    /// pymongo's legacy forms (`{"$date": <ms>}`, `{"$binary": "…", "$type": "00"}`, `{"$regex": …,
    /// "$options": …}`), but always valid JSON: NaN and infinities stay in `$numberDouble`.
    Legacy,
}

/// How the top-level documents are laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// Each document followed by a line break (NDJSON when compact, as bsondump writes).
    #[default]
    Lines,
    /// One JSON array of all the documents (mongoexport `--jsonArray`).
    Array,
}

/// Where the writer is inside a value made of several tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    /// Between elements.
    Nothing,
    /// Text pieces of a string (`"…"`), symbol, code or code with scope.
    Text(ElementType),
    /// A regular expression's pattern, then its options.
    RegexPattern,
    RegexOptions,
    /// A DBPointer's namespace, then its ObjectId.
    DbPointerNamespace,
    DbPointerId,
    /// A binary value, announced by its element, then its data.
    BinaryHead,
    BinaryData {
        subtype: u8,
    },
}

#[derive(Clone, Copy, Debug)]
struct Level {
    array: bool,
    first: bool,
    /// A code with scope's scope: its wrapper closes with it.
    scope: bool,
}

/// Staged output is handed to the `Write` in pieces of about this size.
const FLUSH_AT: usize = 64 * 1024;

/// The Extended JSON writer. Feed it every token of a [`crate::BsonReader`] in order, then
/// [`ExtJsonWriter::finish`].
pub struct ExtJsonWriter<W: Write, F: Formatter> {
    out: W,
    fmt: F,
    mode: Mode,
    layout: Layout,
    buf: Vec<u8>,
    flushed: u64,
    levels: Vec<Level>,
    pending: Pending,
    base64: Base64Encoder,
    documents: u64,
    /// A regular expression's options, gathered to be sorted.
    options: Vec<u8>,
}

impl<W: Write, F: Formatter> std::fmt::Debug for ExtJsonWriter<W, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtJsonWriter")
            .field("mode", &self.mode)
            .field("written", &self.written())
            .field("depth", &self.levels.len())
            .finish()
    }
}

/// A token that does not fit where it came (the reader never produces one).
fn out_of_order() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "BSON token out of order")
}

impl<W: Write, F: Formatter> ExtJsonWriter<W, F> {
    /// A writer of `mode` Extended JSON into `out`, laid out by `fmt` and `layout`.
    pub fn new(out: W, fmt: F, mode: Mode, layout: Layout) -> Self {
        ExtJsonWriter {
            out,
            fmt,
            mode,
            layout,
            buf: Vec::with_capacity(FLUSH_AT * 2),
            flushed: 0,
            levels: Vec::new(),
            pending: Pending::Nothing,
            base64: Base64Encoder::new(),
            documents: 0,
            options: Vec::new(),
        }
    }

    /// Bytes of JSON produced so far.
    pub fn written(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    /// Top-level documents written so far.
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// The output, holding what has been flushed so far.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Ends the output (closes the array of [`Layout::Array`]) and returns it, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.levels.is_empty() {
            return Err(out_of_order());
        }
        if self.layout == Layout::Array {
            if self.documents == 0 {
                self.fmt.begin_array(&mut self.buf);
            }
            self.fmt.end_array(&mut self.buf, self.documents == 0);
            self.buf.push(b'\n');
        }
        self.flush_all()?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn flush_all(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes one token.
    pub fn write_token(&mut self, token: &Token<'_>) -> io::Result<()> {
        match *token {
            Token::DocumentStart(container) => self.start_document(container)?,
            Token::Element { ty, key } => self.element(ty, key)?,
            Token::Scalar(scalar) => self.scalar(scalar)?,
            Token::Text { bytes, last } => self.text(bytes, last)?,
            Token::BinaryStart { subtype, .. } => self.binary_start(subtype)?,
            Token::Bytes { bytes, last } => self.binary_piece(bytes, last)?,
            Token::DocumentEnd => self.end_document()?,
            Token::End => {}
        }
        if self.buf.len() >= FLUSH_AT {
            self.flush_all()?;
        }
        Ok(())
    }

    // ---- structure -----------------------------------------------------------------------------------

    fn start_document(&mut self, container: Container) -> io::Result<()> {
        match container {
            Container::Top => {
                if !self.levels.is_empty() || self.pending != Pending::Nothing {
                    return Err(out_of_order());
                }
                if self.layout == Layout::Array {
                    if self.documents == 0 {
                        self.fmt.begin_array(&mut self.buf);
                    }
                    self.fmt
                        .begin_array_value(&mut self.buf, self.documents == 0);
                }
                self.documents += 1;
            }
            Container::Scope => {
                if self.pending != Pending::Text(ElementType::CodeWithScope) {
                    return Err(out_of_order());
                }
                self.pending = Pending::Nothing;
            }
            Container::Document | Container::Array => {}
        }
        let array = container == Container::Array;
        if array {
            self.fmt.begin_array(&mut self.buf);
        } else {
            self.fmt.begin_object(&mut self.buf);
        }
        self.levels.push(Level {
            array,
            first: true,
            scope: container == Container::Scope,
        });
        Ok(())
    }

    fn end_document(&mut self) -> io::Result<()> {
        let level = self.levels.pop().ok_or_else(out_of_order)?;
        if level.array {
            self.fmt.end_array(&mut self.buf, level.first);
        } else {
            self.fmt.end_object(&mut self.buf, level.first);
        }
        if level.scope {
            self.fmt.end_object(&mut self.buf, false); // the {"$code": …, "$scope": …} wrapper
        }
        if self.levels.is_empty() && self.layout == Layout::Lines {
            self.buf.push(b'\n');
        }
        Ok(())
    }

    /// The member name or array slot of an element, then the head of its value.
    fn element(&mut self, ty: ElementType, key: &str) -> io::Result<()> {
        if self.pending != Pending::Nothing {
            return Err(out_of_order());
        }
        let level = self.levels.last_mut().ok_or_else(out_of_order)?;
        let first = std::mem::replace(&mut level.first, false);
        if level.array {
            // bsonspec.org: array keys are "0", "1", …; JSON arrays have none, so what the file says
            // (right or not) is not written.
            self.fmt.begin_array_value(&mut self.buf, first);
        } else {
            self.fmt.begin_member(&mut self.buf, first);
            self.buf.push(b'"');
            write_escaped(&mut self.buf, key);
            self.buf.push(b'"');
            self.fmt.name_separator(&mut self.buf);
        }
        self.pending = match ty {
            ElementType::String => {
                self.buf.push(b'"');
                Pending::Text(ty)
            }
            ElementType::Symbol => {
                self.wrapper_open(b"$symbol");
                self.buf.push(b'"');
                Pending::Text(ty)
            }
            ElementType::JavaScript | ElementType::CodeWithScope => {
                self.wrapper_open(b"$code");
                self.buf.push(b'"');
                Pending::Text(ty)
            }
            ElementType::Regex => {
                if self.mode == Mode::Legacy {
                    self.wrapper_open(b"$regex");
                } else {
                    self.wrapper_open(b"$regularExpression");
                    self.wrapper_open(b"pattern");
                }
                self.buf.push(b'"');
                Pending::RegexPattern
            }
            ElementType::DbPointer => {
                self.wrapper_open(b"$dbPointer");
                self.wrapper_open(b"$ref");
                self.buf.push(b'"');
                Pending::DbPointerNamespace
            }
            ElementType::Binary => Pending::BinaryHead,
            _ => Pending::Nothing,
        };
        Ok(())
    }

    /// `{"name":` (the wrapper object of an Extended JSON type).
    fn wrapper_open(&mut self, name: &[u8]) {
        self.fmt.begin_object(&mut self.buf);
        self.fmt.begin_member(&mut self.buf, true);
        self.name(name);
    }

    /// `,"name":` (the next member of a wrapper).
    fn wrapper_member(&mut self, name: &[u8]) {
        self.fmt.begin_member(&mut self.buf, false);
        self.name(name);
    }

    fn name(&mut self, name: &[u8]) {
        self.buf.push(b'"');
        self.buf.extend_from_slice(name);
        self.buf.push(b'"');
        self.fmt.name_separator(&mut self.buf);
    }

    fn wrapper_close(&mut self) {
        self.fmt.end_object(&mut self.buf, false);
    }

    /// `{"name":"text"}`.
    fn wrapped_text(&mut self, name: &[u8], text: &[u8]) {
        self.wrapped_with(name, |buf| buf.extend_from_slice(text));
    }

    /// `{"name":"…"}`, the string's text (which needs no escape) written by `text` in place.
    fn wrapped_with(&mut self, name: &[u8], text: impl FnOnce(&mut Vec<u8>)) {
        self.wrapper_open(name);
        self.buf.push(b'"');
        text(&mut self.buf);
        self.buf.push(b'"');
        self.wrapper_close();
    }

    // ---- values ---------------------------------------------------------------------------------------

    fn scalar(&mut self, scalar: Scalar) -> io::Result<()> {
        if self.pending == Pending::DbPointerId {
            let Scalar::ObjectId(id) = scalar else {
                return Err(out_of_order());
            };
            self.wrapper_member(b"$id");
            self.object_id(&id);
            self.wrapper_close();
            self.wrapper_close();
            self.pending = Pending::Nothing;
            return Ok(());
        }
        if self.pending != Pending::Nothing {
            return Err(out_of_order());
        }
        let canonical = self.mode == Mode::Canonical;
        match scalar {
            Scalar::Double(v) => {
                // extended-json.md: finite doubles are numbers in relaxed form; NaN and the infinities
                // have no JSON number, so every mode keeps them in `$numberDouble` (legacy included:
                // bare NaN is not JSON).
                if !v.is_finite() {
                    let text: &[u8] = if v.is_nan() {
                        b"NaN"
                    } else if v > 0.0 {
                        b"Infinity"
                    } else {
                        b"-Infinity"
                    };
                    self.wrapped_text(b"$numberDouble", text);
                } else if canonical {
                    self.wrapped_with(b"$numberDouble", |buf| write_double(buf, v));
                } else {
                    write_double(&mut self.buf, v);
                }
            }
            Scalar::Int32(v) => {
                let mut digits = itoa::Buffer::new();
                let text = digits.format(v).as_bytes();
                if canonical {
                    self.wrapped_text(b"$numberInt", text);
                } else {
                    self.buf.extend_from_slice(text);
                }
            }
            Scalar::Int64(v) => {
                let mut digits = itoa::Buffer::new();
                let text = digits.format(v).as_bytes();
                if canonical {
                    self.wrapped_text(b"$numberLong", text);
                } else {
                    self.buf.extend_from_slice(text);
                }
            }
            Scalar::Boolean(v) => self
                .buf
                .extend_from_slice(if v { b"true" } else { b"false" }),
            Scalar::Null => self.buf.extend_from_slice(b"null"),
            Scalar::DateTime(ms) => self.date(ms),
            Scalar::Timestamp { t, i } => {
                self.wrapper_open(b"$timestamp");
                self.wrapper_open(b"t");
                self.buf
                    .extend_from_slice(itoa::Buffer::new().format(t).as_bytes());
                self.wrapper_member(b"i");
                self.buf
                    .extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
                self.wrapper_close();
                self.wrapper_close();
            }
            Scalar::ObjectId(id) => self.object_id(&id),
            Scalar::Decimal128(bytes) => self.wrapped_with(b"$numberDecimal", |buf| {
                Decimal128::from_bytes(bytes).write(buf)
            }),
            Scalar::Undefined => {
                self.wrapper_open(b"$undefined");
                self.buf.extend_from_slice(b"true");
                self.wrapper_close();
            }
            Scalar::MinKey => {
                self.wrapper_open(b"$minKey");
                self.buf.push(b'1');
                self.wrapper_close();
            }
            Scalar::MaxKey => {
                self.wrapper_open(b"$maxKey");
                self.buf.push(b'1');
                self.wrapper_close();
            }
        }
        Ok(())
    }

    fn object_id(&mut self, id: &[u8; 12]) {
        self.wrapped_with(b"$oid", |buf| write_hex(buf, id));
    }

    fn date(&mut self, ms: i64) {
        self.wrapper_open(b"$date");
        match self.mode {
            // extended-json.md: relaxed only for years 1970 to 9999, else the canonical form.
            Mode::Relaxed if (0..RELAXED_DATE_END).contains(&ms) => {
                self.buf.push(b'"');
                write_iso_date(&mut self.buf, ms);
                self.buf.push(b'"');
            }
            // pymongo's legacy form: the milliseconds as a number.
            Mode::Legacy => self
                .buf
                .extend_from_slice(itoa::Buffer::new().format(ms).as_bytes()),
            _ => {
                let mut digits = itoa::Buffer::new();
                let text = digits.format(ms).as_bytes();
                self.wrapped_text(b"$numberLong", text);
            }
        }
        self.wrapper_close();
    }

    fn text(&mut self, bytes: &[u8], last: bool) -> io::Result<()> {
        match self.pending {
            Pending::RegexOptions => {
                self.options.extend_from_slice(bytes);
                if last {
                    self.regex_options();
                    self.pending = Pending::Nothing;
                }
                return Ok(());
            }
            Pending::Text(_) | Pending::RegexPattern | Pending::DbPointerNamespace => {}
            _ => return Err(out_of_order()),
        }
        write_escaped_bytes(&mut self.buf, bytes);
        if !last {
            return Ok(());
        }
        self.buf.push(b'"');
        self.pending = match self.pending {
            Pending::Text(ElementType::String) => Pending::Nothing,
            Pending::Text(ElementType::CodeWithScope) => {
                self.wrapper_member(b"$scope");
                // The scope document follows; its end closes the wrapper.
                Pending::Text(ElementType::CodeWithScope)
            }
            Pending::Text(_) => {
                self.wrapper_close();
                Pending::Nothing
            }
            Pending::RegexPattern => {
                if self.mode == Mode::Legacy {
                    self.wrapper_member(b"$options");
                } else {
                    self.wrapper_member(b"options");
                }
                self.options.clear();
                Pending::RegexOptions
            }
            Pending::DbPointerNamespace => Pending::DbPointerId,
            other => other,
        };
        Ok(())
    }

    /// extended-json.md, note 2: options in alphabetical order; an unknown flag is kept, not dropped.
    fn regex_options(&mut self) {
        let mut options = std::mem::take(&mut self.options);
        self.buf.push(b'"');
        crate::types::sort_regex_options(&mut options);
        write_escaped_bytes(&mut self.buf, &options);
        self.buf.push(b'"');
        self.options = options;
        self.wrapper_close();
        if self.mode != Mode::Legacy {
            self.wrapper_close();
        }
    }

    fn binary_start(&mut self, subtype: u8) -> io::Result<()> {
        if self.pending != Pending::BinaryHead {
            return Err(out_of_order());
        }
        self.wrapper_open(b"$binary");
        if self.mode != Mode::Legacy {
            self.wrapper_open(b"base64");
        }
        self.buf.push(b'"');
        self.pending = Pending::BinaryData { subtype };
        Ok(())
    }

    fn binary_piece(&mut self, bytes: &[u8], last: bool) -> io::Result<()> {
        let Pending::BinaryData { subtype } = self.pending else {
            return Err(out_of_order());
        };
        self.base64.push(bytes, &mut self.buf);
        if !last {
            return Ok(());
        }
        self.base64.finish(&mut self.buf);
        self.buf.push(b'"');
        // extended-json.md: the subtype as a one- or two-character hex string; pymongo writes two.
        if self.mode == Mode::Legacy {
            self.wrapper_member(b"$type");
        } else {
            self.wrapper_member(b"subType");
        }
        self.buf.push(b'"');
        write_hex(&mut self.buf, &[subtype]);
        self.buf.push(b'"');
        self.wrapper_close();
        if self.mode != Mode::Legacy {
            self.wrapper_close();
        }
        self.pending = Pending::Nothing;
        Ok(())
    }
}
