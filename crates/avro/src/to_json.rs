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
    /// `left` more entries of `value` in this block; `key` is the current entry's.
    Map {
        value: NodeId,
        left: u64,
        index: u64,
        key: String,
    },
    /// A union's wrapper object closes after its value.
    CloseWrapper,
}

/// Decodes one datum of type `root` from `cursor` and appends its JSON to `out`, laid out by `format`
/// (compact or indented).
pub fn datum_to_json<F: Formatter>(
    schema: &Schema,
    root: NodeId,
    cursor: &mut Cursor<'_>,
    encoding: Encoding,
    format: &mut F,
    out: &mut Vec<u8>,
) -> Result<(), DatumFault> {
    let mut stack: Vec<Frame> = Vec::new();
    let fault = |message: ReadFault, stack: &[Frame], schema: &Schema| DatumFault {
        message,
        path: path(stack, schema),
    };
    let mut next = Some(root);
    loop {
        if let Some(id) = next.take() {
            if let Err(message) = value(schema, id, cursor, encoding, format, out, &mut stack) {
                return Err(fault(message, &stack, schema));
            }
        }
        // The value is written (or a container opened): what comes next is the innermost frame's.
        let Some(frame) = stack.last_mut() else {
            return Ok(());
        };
        let step = match frame {
            Frame::Record { node, next: field } => {
                let Node::Record { fields, .. } = schema.node(*node) else {
                    unreachable!("a record frame holds a record");
                };
                match fields.get(*field) {
                    Some(f) => {
                        format.begin_member(out, *field == 0);
                        write_string(f.name.as_bytes(), out);
                        format.name_separator(out);
                        *field += 1;
                        Ok(Some(f.ty))
                    }
                    None => {
                        format.end_object(out, fields.is_empty());
                        stack.pop();
                        Ok(None)
                    }
                }
            }
            Frame::Array { item, left, index } => {
                let item = *item;
                match more_items(cursor, left, item, schema) {
                    Ok(true) => {
                        format.begin_array_value(out, *index == 0);
                        *index += 1;
                        Ok(Some(item))
                    }
                    Ok(false) => {
                        format.end_array(out, *index == 0);
                        stack.pop();
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            }
            Frame::Map {
                value,
                left,
                index,
                key,
            } => {
                let value = *value;
                match more_items(cursor, left, value, schema) {
                    Ok(true) => match cursor.bytes().and_then(|k| {
                        std::str::from_utf8(k).map_err(|_| "a map key that is not UTF-8")
                    }) {
                        Ok(k) => {
                            format.begin_member(out, *index == 0);
                            *index += 1;
                            key.clear();
                            key.push_str(k);
                            write_string(k.as_bytes(), out);
                            format.name_separator(out);
                            Ok(Some(value))
                        }
                        Err(e) => Err(e),
                    },
                    Ok(false) => {
                        format.end_object(out, *index == 0);
                        stack.pop();
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            }
            Frame::CloseWrapper => {
                format.end_object(out, false);
                stack.pop();
                Ok(None)
            }
        };
        match step {
            Ok(id) => next = id,
            Err(message) => return Err(fault(message, &stack, schema)),
        }
    }
}

/// Whether an array or map has another item: `left` in the current block, or the next block's count
/// (specification.md: a negative count is followed by the block's size in bytes; zero ends it).
fn more_items(
    cursor: &mut Cursor<'_>,
    left: &mut u64,
    item: NodeId,
    schema: &Schema,
) -> Result<bool, ReadFault> {
    if *left == 0 {
        let count = cursor.long()?;
        if count == 0 {
            return Ok(false);
        }
        if count < 0 {
            cursor.long()?;
        }
        let count = count.unsigned_abs();
        // No count promises more items than the bytes left could hold (an item takes at least one
        // byte), so a lying count ends in an error, not in a long loop; items of no bytes at all (null,
        // an empty record) are bounded separately.
        let bound = if takes_no_bytes(schema, item) {
            1 << 24
        } else {
            cursor.remaining() as u64
        };
        if count > bound {
            return Err("a block count beyond what the data can hold");
        }
        *left = count;
    }
    *left -= 1;
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

/// Writes a value, or opens its container (pushing its frame).
fn value<F: Formatter>(
    schema: &Schema,
    id: NodeId,
    cursor: &mut Cursor<'_>,
    encoding: Encoding,
    format: &mut F,
    out: &mut Vec<u8>,
    stack: &mut Vec<Frame>,
) -> Result<(), ReadFault> {
    match schema.node(id) {
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
            let text = cursor.bytes()?;
            std::str::from_utf8(text).map_err(|_| "a string that is not UTF-8")?;
            write_string(text, out);
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
            stack.push(Frame::Record { node: id, next: 0 });
        }
        Node::Array(item) => {
            format.begin_array(out);
            stack.push(Frame::Array {
                item: *item,
                left: 0,
                index: 0,
            });
        }
        Node::Map(values) => {
            format.begin_object(out);
            stack.push(Frame::Map {
                value: *values,
                left: 0,
                index: 0,
                key: String::new(),
            });
        }
        Node::Union(branches) => {
            let index = cursor.long()?;
            let branch = usize::try_from(index)
                .ok()
                .and_then(|i| branches.get(i))
                .copied()
                .ok_or("a union index beyond its branches")?;
            let node = schema.node(branch);
            if encoding == Encoding::Avro && *node != Node::Null {
                // specification.md, JSON Encoding: {"<name>": value}, the full name for named types.
                format.begin_object(out);
                format.begin_member(out, true);
                let name = match node {
                    Node::Record { name, .. }
                    | Node::Enum { name, .. }
                    | Node::Fixed { name, .. } => name.as_str(),
                    other => kind(other),
                };
                write_string(name.as_bytes(), out);
                format.name_separator(out);
                stack.push(Frame::CloseWrapper);
            }
            return value(schema, branch, cursor, encoding, format, out, stack);
        }
    }
    Ok(())
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
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x80 {
            dcmflow_engine::json::escape::write_escaped_bytes(out, &bytes[start..i]);
            out.extend_from_slice(&[0xC0 | b >> 6, 0x80 | b & 0x3F]);
            start = i + 1;
        }
    }
    dcmflow_engine::json::escape::write_escaped_bytes(out, &bytes[start..]);
    out.push(b'"');
}

/// The path of the value being decoded.
fn path(stack: &[Frame], schema: &Schema) -> String {
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
            Frame::Map { key, .. } => path.push_str(&format!("[{key:?}]")),
            _ => {}
        }
    }
    path
}
