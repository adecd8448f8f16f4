//! Parsing Canonical Form and the 64-bit Rabin fingerprint of a schema (specification.md, "Parsing
//! Canonical Form for Schemas", "Schema Fingerprints").

use crate::schema::{Node, NodeId, Schema};

/// The schema's Parsing Canonical Form: primitives as bare names, full names only, only the attributes
/// that matter to parsing (`name`, `type`, `fields`, `symbols`, `items`, `values`, `size`, in that
/// order), strings unescaped, no whitespace. A named type is written whole where it first appears and
/// by its full name after.
pub fn parsing_canonical_form(schema: &Schema) -> String {
    let mut out = String::new();
    let mut defined = Vec::new();
    write_node(schema, schema.root(), &mut defined, &mut out);
    out
}

fn write_node(schema: &Schema, id: NodeId, defined: &mut Vec<NodeId>, out: &mut String) {
    let node = schema.node(id);
    match node {
        Node::Record { name, .. } | Node::Enum { name, .. } | Node::Fixed { name, .. } => {
            if defined.contains(&id) {
                write_string(name, out);
                return;
            }
            defined.push(id);
        }
        _ => {}
    }
    match node {
        Node::Record { name, fields } => {
            out.push_str("{\"name\":");
            write_string(name, out);
            out.push_str(",\"type\":\"record\",\"fields\":[");
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"name\":");
                write_string(&field.name, out);
                out.push_str(",\"type\":");
                write_node(schema, field.ty, defined, out);
                out.push('}');
            }
            out.push_str("]}");
        }
        Node::Enum { name, symbols } => {
            out.push_str("{\"name\":");
            write_string(name, out);
            out.push_str(",\"type\":\"enum\",\"symbols\":[");
            for (i, symbol) in symbols.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(symbol, out);
            }
            out.push_str("]}");
        }
        Node::Fixed { name, size } => {
            out.push_str("{\"name\":");
            write_string(name, out);
            out.push_str(",\"type\":\"fixed\",\"size\":");
            out.push_str(&size.to_string());
            out.push('}');
        }
        Node::Array(items) => {
            out.push_str("{\"type\":\"array\",\"items\":");
            write_node(schema, *items, defined, out);
            out.push('}');
        }
        Node::Map(values) => {
            out.push_str("{\"type\":\"map\",\"values\":");
            write_node(schema, *values, defined, out);
            out.push('}');
        }
        Node::Union(branches) => {
            out.push('[');
            for (i, branch) in branches.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_node(schema, *branch, defined, out);
            }
            out.push(']');
        }
        primitive => {
            out.push('"');
            out.push_str(crate::schema::kind(primitive));
            out.push('"');
        }
    }
}

/// A JSON string with only what JSON requires escaped ([STRINGS]: no `\uXXXX` for other characters).
fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// specification.md: `EMPTY`, the fingerprint of nothing, which is also the polynomial.
const EMPTY: u64 = 0xc15d_213a_a4d7_a795;

/// The CRC-64-AVRO (Rabin) fingerprint of `bytes` (specification.md, "Schema Fingerprints"), as the
/// specification's table-driven pseudo-code computes it.
pub fn fingerprint64(bytes: &[u8]) -> u64 {
    static TABLE: std::sync::OnceLock<[u64; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u64; 256];
        for (i, entry) in table.iter_mut().enumerate() {
            let mut fp = i as u64;
            for _ in 0..8 {
                fp = (fp >> 1) ^ (EMPTY & (fp & 1).wrapping_neg());
            }
            *entry = fp;
        }
        table
    });
    bytes.iter().fold(EMPTY, |fp, &b| {
        (fp >> 8) ^ table[((fp ^ u64::from(b)) & 0xff) as usize]
    })
}
