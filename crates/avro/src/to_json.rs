//! One datum of the binary encoding → JSON, in Avro's JSON encoding (specification.md, "JSON Encoding")
//! or GA4GH's. The schema is walked with a stack on the heap, never by recursion, so a deeply nested
//! or recursive type costs memory only as deep as the data goes. A datum can also be decoded in pieces
//! as its bytes arrive ([`JsonDecoder::resume`]): the decoder stops where a piece ends and goes on with
//! the next, and a `bytes`, `fixed` or `string` value longer than a piece is written as it comes, never
//! held whole.

use dcmflow_engine::json::format::Formatter;

use crate::binary::{is_truncation, Cursor, ReadFault};
use crate::schema::{kind, Node, NodeId, Schema};

/// Which JSON the datum becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// The specification's: a union's non-null value as `{"<type name>": value}`.
    #[default]
    Avro,
    /// GA4GH's: union values bare (their branch is the schema's business).
    Ga4gh,
}

/// A datum could not be decoded: the message, and the path to the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatumFault {
    /// What is wrong.
    pub message: &'static str,
    /// Fields, indices and keys down to the value.
    pub path: String,
    /// How far past the cursor's position the fault lies: a string's end that a piece did not reach
    /// (its text is checked as it comes; held whole, it is refused at its end).
    pub ahead: u64,
}

/// What [`JsonDecoder::resume`] returns when a piece ends before the datum: the bytes from the cursor's
/// position on are to be given again, with more after them.
const NEED_INPUT: ReadFault = "the piece ends inside the datum";

/// How far a datum decoded in pieces got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The datum is written whole.
    Done,
    /// The piece ended first: the bytes from the cursor's position on are to come again, followed by
    /// more.
    NeedInput,
}

/// Where a datum decoded in pieces goes on.
#[derive(Clone, Copy, Debug, Default)]
enum Resume {
    /// The value of this node comes next.
    Value(NodeId),
    /// The innermost frame's next step: its next field, item or entry, or its end.
    #[default]
    Step,
    /// Inside a `bytes` or `fixed` value (ISO-8859-1) or a `string` (text): this many of its bytes
    /// are still to come; its opening quote is written.
    Rest { left: u64, text: bool },
}

/// A datum's decoding between two pieces of input, taken from a decoder with
/// [`JsonDecoder::suspend`] and given back to one for the same schema with [`JsonDecoder::restore`].
#[derive(Debug, Default)]
pub struct Suspended {
    stack: Vec<Frame>,
    resume: Resume,
    kept_keys: Vec<(usize, String)>,
}

enum Frame {
    /// The record `node`'s field `next` comes next.
    Record { node: NodeId, next: usize },
    /// `left` more items of `item` in this block (then the next block's count).
    Array { item: NodeId, left: u64, index: u64 },
    /// `left` more entries of `value` in this block; the current entry's key is `key` (start and end
    /// in the cursor's data).
    Map {
        value: NodeId,
        left: u64,
        index: u64,
        key: (usize, usize),
    },
    /// A union's wrapper object closes after its value.
    CloseWrapper,
}

/// Decodes data of one schema into JSON: the field and type names are rendered once, and the value
/// stack is kept from one datum to the next.
#[derive(Debug)]
pub struct JsonDecoder<'s> {
    schema: &'s Schema,
    encoding: Encoding,
    /// Per record node: each field's name as a JSON string (quoted and escaped).
    field_names: Vec<Vec<Box<[u8]>>>,
    /// Per union node: each branch's wrapper name as a JSON string (`None` for null).
    branch_names: Vec<Vec<Option<Box<[u8]>>>>,
    stack: Vec<Frame>,
    resume: Resume,
    /// Map keys among bytes of earlier pieces, kept for error paths: the frame's depth and the key.
    kept_keys: Vec<(usize, String)>,
    /// [`DatumFault::ahead`] of the fault being returned.
    fault_ahead: u64,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Frame::Record { .. } => "Record",
            Frame::Array { .. } => "Array",
            Frame::Map { .. } => "Map",
            Frame::CloseWrapper => "CloseWrapper",
        })
    }
}

impl<'s> JsonDecoder<'s> {
    /// A decoder for data of `schema`, into `encoding`.
    pub fn new(schema: &'s Schema, encoding: Encoding) -> Self {
        let quoted = |text: &str| -> Box<[u8]> {
            let mut out = Vec::with_capacity(text.len() + 2);
            write_string(text.as_bytes(), &mut out);
            out.into_boxed_slice()
        };
        let nodes = schema.nodes();
        let field_names = nodes
            .iter()
            .map(|node| match node {
                Node::Record { fields, .. } => fields.iter().map(|f| quoted(&f.name)).collect(),
                _ => Vec::new(),
            })
            .collect();
        let branch_names = nodes
            .iter()
            .map(|node| match node {
                Node::Union(branches) => branches
                    .iter()
                    .map(|&b| match schema.node(b) {
                        Node::Null => None,
                        // specification.md, JSON Encoding: the full name for named types, else the
                        // type's name.
                        Node::Record { name, .. }
                        | Node::Enum { name, .. }
                        | Node::Fixed { name, .. } => Some(quoted(name)),
                        other => Some(quoted(kind(other))),
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        JsonDecoder {
            schema,
            encoding,
            field_names,
            branch_names,
            stack: Vec::new(),
            resume: Resume::Step,
            kept_keys: Vec::new(),
            fault_ahead: 0,
        }
    }

    /// Decodes one datum of the schema's top-level type from `cursor` and appends its JSON to `out`,
    /// laid out by `format` (compact or indented).
    pub fn decode<F: Formatter>(
        &mut self,
        cursor: &mut Cursor<'_>,
        format: &mut F,
        out: &mut Vec<u8>,
    ) -> Result<(), DatumFault> {
        self.begin();
        let result = self.run::<false, F>(cursor, format, out);
        result.map_err(|message| self.fault(message, cursor))
    }

    /// Starts a datum to be decoded in pieces with [`JsonDecoder::resume`].
    pub fn begin(&mut self) {
        self.stack.clear();
        self.kept_keys.clear();
        self.resume = Resume::Value(self.schema.root());
    }

    /// Goes on with the datum begun by [`JsonDecoder::begin`] over the next piece of its bytes,
    /// appending as much of its JSON as the piece completes. At [`Progress::NeedInput`] the bytes from
    /// the cursor's position on (an unfinished number or length, the first bytes of a character — a few
    /// bytes; a map key) must be given again with more after them. `last` says no more bytes will come:
    /// a datum cut short is then an error.
    pub fn resume<F: Formatter>(
        &mut self,
        cursor: &mut Cursor<'_>,
        format: &mut F,
        out: &mut Vec<u8>,
        last: bool,
    ) -> Result<Progress, DatumFault> {
        let result = if last {
            self.run::<false, F>(cursor, format, out)
        } else {
            self.run::<true, F>(cursor, format, out)
        };
        match result {
            Ok(()) => Ok(Progress::Done),
            Err(NEED_INPUT) => Ok(Progress::NeedInput),
            Err(message) => Err(self.fault(message, cursor)),
        }
    }

    /// The datum decoding so far, to go on with a decoder for the same schema (the decoder borrows
    /// its schema; this does not).
    pub fn suspend(&mut self) -> Suspended {
        Suspended {
            stack: std::mem::take(&mut self.stack),
            resume: std::mem::take(&mut self.resume),
            kept_keys: std::mem::take(&mut self.kept_keys),
        }
    }

    /// Goes on with a datum [`JsonDecoder::suspend`] took from a decoder for the same schema.
    pub fn restore(&mut self, suspended: Suspended) {
        self.stack = suspended.stack;
        self.resume = suspended.resume;
        self.kept_keys = suspended.kept_keys;
    }

    /// The first `consumed` bytes of `piece` will not be given again: the map keys among them are
    /// kept as text for error paths, the others moved to the next piece's offsets.
    pub fn forget_before(&mut self, piece: &[u8], consumed: usize) {
        let stack = &self.stack;
        // Keys of frames gone, or of frames that have read a key since, are no longer wanted.
        self.kept_keys.retain(|(depth, _)| {
            matches!(stack.get(*depth), Some(Frame::Map { key, .. }) if *key == FORGOTTEN_KEY)
        });
        for (depth, frame) in self.stack.iter_mut().enumerate() {
            let Frame::Map { key, .. } = frame else {
                continue;
            };
            if *key == FORGOTTEN_KEY {
                continue;
            }
            *key = match key.0.checked_sub(consumed) {
                Some(start) => (start, key.1 - consumed),
                None => {
                    self.kept_keys.push((depth, key_text(piece, *key)));
                    FORGOTTEN_KEY
                }
            };
        }
    }

    fn fault(&mut self, message: ReadFault, cursor: &Cursor<'_>) -> DatumFault {
        DatumFault {
            message,
            path: path(&self.stack, &self.kept_keys, self.schema, cursor.data()),
            ahead: std::mem::take(&mut self.fault_ahead),
        }
    }

    /// Decodes until the datum ends; with `PARTIAL`, stops with [`NEED_INPUT`] where the cursor's bytes
    /// end (the cursor moved back to where decoding goes on).
    fn run<const PARTIAL: bool, F: Formatter>(
        &mut self,
        cursor: &mut Cursor<'_>,
        format: &mut F,
        out: &mut Vec<u8>,
    ) -> Result<(), ReadFault> {
        let schema = self.schema;
        let mut next = match std::mem::take(&mut self.resume) {
            Resume::Value(id) => Some(id),
            Resume::Step => None,
            Resume::Rest { left, text } => {
                self.rest(left, text, cursor, out, PARTIAL)?;
                None
            }
        };
        loop {
            if let Some(id) = next.take() {
                self.value::<PARTIAL, F>(id, cursor, format, out)?;
            }
            // The value is written (or a container opened): what comes next is the innermost frame's.
            let before = *cursor;
            let Some(frame) = self.stack.last_mut() else {
                return Ok(());
            };
            match frame {
                Frame::Record { node, next: field } => {
                    let names = &self.field_names[*node];
                    match names.get(*field) {
                        Some(name) => {
                            format.begin_member(out, *field == 0);
                            out.extend_from_slice(name);
                            format.name_separator(out);
                            let Node::Record { fields, .. } = schema.node(*node) else {
                                unreachable!("a record frame holds a record");
                            };
                            next = Some(fields[*field].ty);
                            *field += 1;
                        }
                        None => {
                            format.end_object(out, names.is_empty());
                            self.stack.pop();
                        }
                    }
                }
                Frame::Array { item, left, index } => {
                    let saved = *left;
                    match more_items(cursor, left, *item, schema, PARTIAL) {
                        Ok(true) => {
                            format.begin_array_value(out, *index == 0);
                            *index += 1;
                            next = Some(*item);
                        }
                        Ok(false) => {
                            format.end_array(out, *index == 0);
                            self.stack.pop();
                        }
                        Err(fault) => {
                            *left = saved;
                            return Err(self.stop_step(fault, before, cursor, PARTIAL));
                        }
                    }
                }
                Frame::Map {
                    value,
                    left,
                    index,
                    key,
                } => {
                    let saved = *left;
                    let entry =
                        more_items(cursor, left, *value, schema, PARTIAL).and_then(|more| {
                            if !more {
                                return Ok(None);
                            }
                            let start = cursor.position();
                            Ok(Some((start, cursor.bytes()?)))
                        });
                    match entry {
                        Ok(Some((start, k))) => {
                            format.begin_member(out, *index == 0);
                            *index += 1;
                            *key = (start, cursor.position());
                            write_text(k, out).map_err(|_| "a map key that is not UTF-8")?;
                            format.name_separator(out);
                            next = Some(*value);
                        }
                        Ok(None) => {
                            format.end_object(out, *index == 0);
                            self.stack.pop();
                        }
                        Err(fault) => {
                            *left = saved;
                            return Err(self.stop_step(fault, before, cursor, PARTIAL));
                        }
                    }
                }
                Frame::CloseWrapper => {
                    format.end_object(out, false);
                    self.stack.pop();
                }
            }
        }
    }

    /// A frame's step read past the piece's end: with `partial`, it is taken again from `before` with
    /// the next piece.
    fn stop_step<'a>(
        &mut self,
        fault: ReadFault,
        before: Cursor<'a>,
        cursor: &mut Cursor<'a>,
        partial: bool,
    ) -> ReadFault {
        if !(partial && is_truncation(fault)) {
            return fault;
        }
        *cursor = before;
        self.resume = Resume::Step;
        NEED_INPUT
    }

    /// A value read past the piece's end: with `partial`, a `bytes`, `fixed` or `string` whose length
    /// is known is written as far as the piece goes and goes on with the next ([`Resume::Rest`]); any
    /// other value is read again from its start.
    fn stop_value<'a>(
        &mut self,
        fault: ReadFault,
        id: NodeId,
        before: Cursor<'a>,
        cursor: &mut Cursor<'a>,
        out: &mut Vec<u8>,
    ) -> ReadFault {
        if !is_truncation(fault) {
            return fault;
        }
        *cursor = before;
        let rest = match self.schema.node(id) {
            Node::Bytes => cursor.long().ok().map(|len| (len, false)),
            Node::String => cursor.long().ok().map(|len| (len, true)),
            Node::Fixed { size, .. } => i64::try_from(*size).ok().map(|size| (size, false)),
            _ => None,
        };
        match rest.and_then(|(len, text)| Some((u64::try_from(len).ok()?, text))) {
            Some((left, text)) => {
                out.push(b'"');
                match self.rest(left, text, cursor, out, true) {
                    Ok(()) => unreachable!("a value that ran past the piece cannot end in it"),
                    Err(stop) => stop,
                }
            }
            None => {
                *cursor = before;
                self.resume = Resume::Value(id);
                NEED_INPUT
            }
        }
    }

    /// Writes what the piece holds of a `bytes`/`fixed` (ISO-8859-1) or `string` value of which `left`
    /// bytes are to come, and its closing quote when they are all there; else [`NEED_INPUT`] (or,
    /// without `partial`, the data's end).
    fn rest(
        &mut self,
        left: u64,
        text: bool,
        cursor: &mut Cursor<'_>,
        out: &mut Vec<u8>,
        partial: bool,
    ) -> Result<(), ReadFault> {
        let available = cursor.rest();
        let whole = left <= available.len() as u64;
        if !(whole || partial) {
            return Err(crate::binary::RUNS_PAST_END);
        }
        let piece = &available[..left.min(available.len() as u64) as usize];
        let used = if text {
            // A character the piece cuts is left for the next one; at the value's end there is none.
            let valid = match dcmflow_simd::utf8_prefix_len(piece) {
                Some(valid) if !whole || valid == piece.len() => valid,
                _ => {
                    // Where a string held whole is refused: at its end.
                    self.fault_ahead = left;
                    return Err("a string that is not UTF-8");
                }
            };
            dcmflow_engine::json::escape::write_escaped_bytes(out, &piece[..valid]);
            valid
        } else {
            dcmflow_simd::append_latin1_as_json(piece, out);
            piece.len()
        };
        cursor.take(used)?;
        let left = left - used as u64;
        if left == 0 {
            out.push(b'"');
            return Ok(());
        }
        self.resume = Resume::Rest { left, text };
        Err(NEED_INPUT)
    }
}

/// Whether an array or map has another item: `left` in the current block, or the next block's count
/// (specification.md: a negative count is followed by the block's size in bytes; zero ends it).
#[inline]
fn more_items(
    cursor: &mut Cursor<'_>,
    left: &mut u64,
    item: NodeId,
    schema: &Schema,
    partial: bool,
) -> Result<bool, ReadFault> {
    if *left > 0 {
        *left -= 1;
        return Ok(true);
    }
    next_items_block(cursor, left, item, schema, partial)
}

/// [`more_items`] at the end of a block of items: the next block's count.
#[inline(never)]
fn next_items_block(
    cursor: &mut Cursor<'_>,
    left: &mut u64,
    item: NodeId,
    schema: &Schema,
    partial: bool,
) -> Result<bool, ReadFault> {
    let count = cursor.long()?;
    if count == 0 {
        return Ok(false);
    }
    if count < 0 {
        cursor.long()?;
    }
    let count = count.unsigned_abs();
    // No count promises more items than the bytes left could hold (an item takes at least one byte),
    // so a lying count ends in an error, not in a long loop; items of no bytes at all (null, an empty
    // record) are bounded separately. Decoding in pieces, the bytes still to come are not known: each
    // item then takes a byte of them until they run out.
    let bound = if takes_no_bytes(schema, item) {
        1 << 24
    } else if partial {
        u64::MAX
    } else {
        cursor.remaining() as u64
    };
    if count > bound {
        return Err("a block count beyond what the data can hold");
    }
    *left = count - 1;
    Ok(true)
}

fn takes_no_bytes(schema: &Schema, id: NodeId) -> bool {
    match schema.node(id) {
        Node::Null => true,
        Node::Fixed { size, .. } => *size == 0,
        Node::Record { fields, .. } => fields.is_empty(),
        _ => false,
    }
}

impl JsonDecoder<'_> {
    /// Writes a value, or opens its container (pushing its frame); with `PARTIAL`, a value the
    /// cursor's bytes cut short stops decoding to go on with the next piece.
    #[inline]
    fn value<const PARTIAL: bool, F: Formatter>(
        &mut self,
        mut id: NodeId,
        cursor: &mut Cursor<'_>,
        format: &mut F,
        out: &mut Vec<u8>,
    ) -> Result<(), ReadFault> {
        loop {
            let before = *cursor;
            match self.one_value(id, cursor, format, out) {
                Ok(None) => return Ok(()),
                Ok(Some(branch)) => id = branch,
                Err(fault) if PARTIAL => {
                    return Err(self.stop_value(fault, id, before, cursor, out))
                }
                Err(fault) => return Err(fault),
            }
        }
    }

    /// Writes a value or opens its container; for a union, reads its branch and returns it (the
    /// wrapper opened in Avro's encoding) to be written next.
    #[inline(always)]
    fn one_value<F: Formatter>(
        &mut self,
        id: NodeId,
        cursor: &mut Cursor<'_>,
        format: &mut F,
        out: &mut Vec<u8>,
    ) -> Result<Option<NodeId>, ReadFault> {
        {
            match self.schema.node(id) {
                Node::Null => out.extend_from_slice(b"null"),
                Node::Boolean => match cursor.take(1)?[0] {
                    0 => out.extend_from_slice(b"false"),
                    1 => out.extend_from_slice(b"true"),
                    _ => return Err("a boolean byte that is neither 0 nor 1"),
                },
                Node::Int => {
                    let v = cursor.int()?;
                    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
                }
                Node::Long => {
                    let v = cursor.long()?;
                    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
                }
                Node::Float => {
                    let v = f32::from_le_bytes(cursor.take(4)?.try_into().expect("4 bytes"));
                    if v.is_finite() {
                        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
                    } else {
                        write_non_finite(f64::from(v), out);
                    }
                }
                Node::Double => {
                    let v = f64::from_le_bytes(cursor.take(8)?.try_into().expect("8 bytes"));
                    if v.is_finite() {
                        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
                    } else {
                        write_non_finite(v, out);
                    }
                }
                Node::Bytes => write_latin1(cursor.bytes()?, out),
                Node::String => {
                    write_text(cursor.bytes()?, out).map_err(|_| "a string that is not UTF-8")?
                }
                Node::Fixed { size, .. } => write_latin1(cursor.take(*size)?, out),
                Node::Enum { symbols, .. } => {
                    let index = cursor.int()?;
                    let symbol = usize::try_from(index)
                        .ok()
                        .and_then(|i| symbols.get(i))
                        .ok_or("an enum index beyond its symbols")?;
                    write_string(symbol.as_bytes(), out);
                }
                Node::Record { .. } => {
                    format.begin_object(out);
                    self.stack.push(Frame::Record { node: id, next: 0 });
                }
                Node::Array(item) => {
                    format.begin_array(out);
                    self.stack.push(Frame::Array {
                        item: *item,
                        left: 0,
                        index: 0,
                    });
                }
                Node::Map(values) => {
                    format.begin_object(out);
                    self.stack.push(Frame::Map {
                        value: *values,
                        left: 0,
                        index: 0,
                        key: (0, 0),
                    });
                }
                Node::Union(branches) => {
                    let index = cursor.long()?;
                    let i = usize::try_from(index)
                        .ok()
                        .filter(|&i| i < branches.len())
                        .ok_or("a union index beyond its branches")?;
                    if self.encoding == Encoding::Avro {
                        if let Some(name) = &self.branch_names[id][i] {
                            // specification.md, JSON Encoding: {"<name>": value}.
                            format.begin_object(out);
                            format.begin_member(out, true);
                            out.extend_from_slice(name);
                            format.name_separator(out);
                            self.stack.push(Frame::CloseWrapper);
                        }
                    }
                    return Ok(Some(branches[i]));
                }
            }
            Ok(None)
        }
    }
}

/// Decodes one datum of type `schema.root()` from `cursor` and appends its JSON to `out` (a
/// [`JsonDecoder`] made for the one datum; keep one for many).
pub fn datum_to_json<F: Formatter>(
    schema: &Schema,
    cursor: &mut Cursor<'_>,
    encoding: Encoding,
    format: &mut F,
    out: &mut Vec<u8>,
) -> Result<(), DatumFault> {
    JsonDecoder::new(schema, encoding).decode(cursor, format, out)
}

/// NaN and the infinities as the strings Java's encoder writes (JSON has no such numbers).
fn write_non_finite(v: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(if v.is_nan() {
        b"\"NaN\""
    } else if v > 0.0 {
        b"\"Infinity\""
    } else {
        b"\"-Infinity\""
    });
}

/// A JSON string of bytes that must be UTF-8: printable ASCII is copied as it is (the common case,
/// found in one pass), anything else validated and escaped.
#[inline]
fn write_text(text: &[u8], out: &mut Vec<u8>) -> Result<(), std::str::Utf8Error> {
    let plain = dcmflow_simd::plain_json_ascii(text).len();
    out.push(b'"');
    out.extend_from_slice(&text[..plain]);
    if plain < text.len() {
        let rest = &text[plain..];
        std::str::from_utf8(rest)?;
        dcmflow_engine::json::escape::write_escaped_bytes(out, rest);
    }
    out.push(b'"');
    Ok(())
}

/// A JSON string of UTF-8 text.
fn write_string(text: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    dcmflow_engine::json::escape::write_escaped_bytes(out, text);
    out.push(b'"');
}

/// Bytes as a JSON string whose code points 0–255 are the bytes (specification.md, JSON Encoding:
/// ISO-8859-1).
fn write_latin1(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    dcmflow_simd::append_latin1_as_json(bytes, out);
    out.push(b'"');
}

/// A map key among bytes no longer at hand.
const FORGOTTEN_KEY: (usize, usize) = (usize::MAX, usize::MAX);

/// A map key's text: its bytes (after their length prefix) in `data` at `at`.
fn key_text(data: &[u8], at: (usize, usize)) -> String {
    let raw = data.get(at.0..at.1).unwrap_or_default();
    let text = Cursor::new(raw).bytes().unwrap_or_default();
    String::from_utf8_lossy(text).into_owned()
}

/// The path of the value being decoded (map keys from `data`, the cursor's bytes, or among those kept
/// from earlier pieces).
fn path(stack: &[Frame], kept_keys: &[(usize, String)], schema: &Schema, data: &[u8]) -> String {
    let mut path = String::new();
    for (depth, frame) in stack.iter().enumerate() {
        match frame {
            Frame::Record { node, next } if *next > 0 => {
                if let Node::Record { fields, .. } = schema.node(*node) {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&fields[next - 1].name);
                }
            }
            Frame::Array { index, .. } if *index > 0 => path.push_str(&format!("[{}]", index - 1)),
            Frame::Map { key, index, .. } if *index > 0 => {
                let text = if *key == FORGOTTEN_KEY {
                    kept_keys
                        .iter()
                        .rev()
                        .find(|(d, _)| *d == depth)
                        .map_or_else(String::new, |(_, k)| k.clone())
                } else {
                    key_text(data, *key)
                };
                path.push_str(&format!("[{text:?}]"));
            }
            _ => {}
        }
    }
    path
}
