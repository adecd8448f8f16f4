//! One datum of the binary encoding → JSON, in Avro's JSON encoding (specification.md, "JSON Encoding")
//! or GA4GH's. The schema is walked with a stack on the heap, never by recursion, so a deeply nested
//! or recursive type costs memory only as deep as the data goes.

use dcmflow_engine::json::format::Formatter;

use crate::binary::{Cursor, ReadFault};
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
        self.stack.clear();
        let result = self.run(cursor, format, out);
        result.map_err(|message| DatumFault {
            message,
            path: path(&self.stack, self.schema, cursor.data()),
        })
    }

    fn run<F: Formatter>(
        &mut self,
        cursor: &mut Cursor<'_>,
        format: &mut F,
        out: &mut Vec<u8>,
    ) -> Result<(), ReadFault> {
        let schema = self.schema;
        let mut next = Some(schema.root());
        loop {
            if let Some(id) = next.take() {
                self.value(id, cursor, format, out)?;
            }
            // The value is written (or a container opened): what comes next is the innermost frame's.
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
                    if more_items(cursor, left, *item, schema)? {
                        format.begin_array_value(out, *index == 0);
                        *index += 1;
                        next = Some(*item);
                    } else {
                        format.end_array(out, *index == 0);
                        self.stack.pop();
                    }
                }
                Frame::Map {
                    value,
                    left,
                    index,
                    key,
                } => {
                    if more_items(cursor, left, *value, schema)? {
                        let start = cursor.position();
                        let k = cursor.bytes()?;
                        format.begin_member(out, *index == 0);
                        *index += 1;
                        *key = (start, cursor.position());
                        write_text(k, out).map_err(|_| "a map key that is not UTF-8")?;
                        format.name_separator(out);
                        next = Some(*value);
                    } else {
                        format.end_object(out, *index == 0);
                        self.stack.pop();
                    }
                }
                Frame::CloseWrapper => {
                    format.end_object(out, false);
                    self.stack.pop();
                }
            }
        }
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
) -> Result<bool, ReadFault> {
    if *left > 0 {
        *left -= 1;
        return Ok(true);
    }
    next_items_block(cursor, left, item, schema)
}

/// [`more_items`] at the end of a block of items: the next block's count.
#[inline(never)]
fn next_items_block(
    cursor: &mut Cursor<'_>,
    left: &mut u64,
    item: NodeId,
    schema: &Schema,
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
    // record) are bounded separately.
    let bound = if takes_no_bytes(schema, item) {
        1 << 24
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
    /// Writes a value, or opens its container (pushing its frame).
    fn value<F: Formatter>(
        &mut self,
        mut id: NodeId,
        cursor: &mut Cursor<'_>,
        format: &mut F,
        out: &mut Vec<u8>,
    ) -> Result<(), ReadFault> {
        loop {
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
                    id = branches[i];
                    continue;
                }
            }
            return Ok(());
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

/// The path of the value being decoded (map keys from `data`, the cursor's bytes).
fn path(stack: &[Frame], schema: &Schema, data: &[u8]) -> String {
    let mut path = String::new();
    for frame in stack {
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
                // The key's bytes after its length prefix.
                let raw = data.get(key.0..key.1).unwrap_or_default();
                let text = crate::binary::Cursor::new(raw).bytes().unwrap_or_default();
                path.push_str(&format!("[{:?}]", String::from_utf8_lossy(text)));
            }
            _ => {}
        }
    }
    path
}
