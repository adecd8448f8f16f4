//! Field defaults (specification.md, "Schema Declaration", Complex Types/Records): the JSON value a schema
//! gives as a field's `default`, encoded once into the binary encoding so a datum that omits the field
//! gets these bytes copied in.

use serde_json::Value;

use crate::binary::{write_bytes, write_long};
use crate::schema::{kind, Node, NodeId, Schema};

/// Deepest default value encoded (a default of a recursive record nests as deep as its JSON does).
const MAX_DEPTH: usize = 128;

/// Encodes `value`, the default of a field of type `ty`, or says why it is not a value of that type.
pub fn encode_default(schema: &Schema, ty: NodeId, value: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    encode(schema, ty, value, &mut out, 0)?;
    Ok(out)
}

fn encode(
    schema: &Schema,
    ty: NodeId,
    value: &Value,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels"));
    }
    let node = schema.node(ty);
    let mismatch = || format!("{value} is not a {}", kind(node));
    match (node, value) {
        (Node::Null, Value::Null) => {}
        (Node::Boolean, Value::Bool(b)) => out.push(u8::from(*b)),
        (Node::Int, Value::Number(n)) => {
            let n = n
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(mismatch)?;
            write_long(out, i64::from(n));
        }
        (Node::Long, Value::Number(n)) => write_long(out, n.as_i64().ok_or_else(mismatch)?),
        (Node::Float, Value::Number(n)) => {
            let n = n.as_f64().ok_or_else(mismatch)?;
            out.extend_from_slice(&(n as f32).to_le_bytes());
        }
        (Node::Double, Value::Number(n)) => {
            out.extend_from_slice(&n.as_f64().ok_or_else(mismatch)?.to_le_bytes());
        }
        // Java's encoder writes the non-finite values as these strings; a default may too.
        (Node::Float, Value::String(s)) => {
            let n = non_finite(s).ok_or_else(mismatch)?;
            out.extend_from_slice(&(n as f32).to_le_bytes());
        }
        (Node::Double, Value::String(s)) => {
            out.extend_from_slice(&non_finite(s).ok_or_else(mismatch)?.to_le_bytes());
        }
        (Node::String, Value::String(s)) => write_bytes(out, s.as_bytes()),
        // specification.md: defaults of bytes and fixed are strings whose code points 0-255 are the
        // bytes.
        (Node::Bytes, Value::String(s)) => write_bytes(out, &latin1(s).ok_or_else(mismatch)?),
        (Node::Fixed { size, .. }, Value::String(s)) => {
            let bytes = latin1(s)
                .filter(|b| b.len() == *size)
                .ok_or_else(mismatch)?;
            out.extend_from_slice(&bytes);
        }
        (Node::Enum { symbols, .. }, Value::String(s)) => {
            let index = symbols.iter().position(|x| x == s).ok_or_else(mismatch)?;
            write_long(out, index as i64);
        }
        (Node::Array(item), Value::Array(items)) => {
            if !items.is_empty() {
                write_long(out, items.len() as i64);
                for v in items {
                    encode(schema, *item, v, out, depth + 1)?;
                }
            }
            out.push(0);
        }
        (Node::Map(values), Value::Object(entries)) => {
            if !entries.is_empty() {
                write_long(out, entries.len() as i64);
                for (k, v) in entries {
                    write_bytes(out, k.as_bytes());
                    encode(schema, *values, v, out, depth + 1)?;
                }
            }
            out.push(0);
        }
        (Node::Record { fields, .. }, Value::Object(members)) => {
            for field in fields {
                match members.get(&field.name).or(field.default.as_ref()) {
                    Some(v) => encode(schema, field.ty, v, out, depth + 1)
                        .map_err(|e| format!("{}: {e}", field.name))?,
                    None => return Err(format!("no value for field '{}'", field.name)),
                }
            }
        }
        // specification.md: a union's default is a value of its first branch.
        (Node::Union(branches), _) => {
            let first = *branches.first().ok_or("an empty union has no values")?;
            out.push(0);
            encode(schema, first, value, out, depth + 1)
                .map_err(|e| format!("{e} (a union's default is of its first branch)"))?;
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// `"NaN"`, `"Infinity"`, `"-Infinity"` as the number they name.
pub(crate) fn non_finite(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// A string of code points U+0000-U+00FF as those bytes; `None` when it holds a larger one.
pub(crate) fn latin1(text: &str) -> Option<Vec<u8>> {
    text.chars().map(|c| u8::try_from(c).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(schema: &str, default: &str) -> Result<Vec<u8>, String> {
        let schema = Schema::parse_str(schema).unwrap();
        let value: Value = serde_json::from_str(default).unwrap();
        encode_default(&schema, schema.root(), &value)
    }

    #[test]
    fn defaults_encode_as_the_binary_encoding() {
        assert_eq!(encoded("\"int\"", "-2"), Ok(vec![3]));
        assert_eq!(encoded("\"bytes\"", "\"\\u00ff\""), Ok(vec![2, 0xff]));
        assert_eq!(encoded("[\"null\",\"string\"]", "null"), Ok(vec![0]));
        assert_eq!(
            encoded("{\"type\":\"array\",\"items\":\"long\"}", "[1,2]"),
            Ok(vec![4, 2, 4, 0])
        );
        assert_eq!(
            encoded(
                "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"boolean\",\"default\":true},{\"name\":\"b\",\"type\":\"string\"}]}",
                "{\"b\":\"x\"}"
            ),
            Ok(vec![1, 2, b'x'])
        );
    }

    #[test]
    fn defaults_of_the_wrong_type_are_refused() {
        assert!(encoded("\"int\"", "3000000000").is_err());
        assert!(encoded("\"bytes\"", "\"\\u0100\"").is_err());
        // A union's default must be of its first branch.
        assert!(encoded("[\"null\",\"string\"]", "\"x\"").is_err());
        assert!(encoded("{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}", "\"abc\"").is_err());
    }
}
