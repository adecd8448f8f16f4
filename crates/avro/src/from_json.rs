//! JSON → one datum of the binary encoding, read token by token with the engine's lexer and written
//! straight into the output: Avro's JSON encoding (specification.md, "JSON Encoding") or GA4GH's.
//!
//! The schema is walked with a stack on the heap, never by recursion. Where the JSON's order is not the
//! binary encoding's, the bytes are put right in place:
//! - a record's members are encoded as they come; when the record closes, members that came out of the
//!   schema's order are moved into it and omitted fields get their default's bytes (encoded once, when
//!   the encoder is made). A record whose members came in order costs nothing more.
//! - an array or map is written as one block: its count is not known until it closes, so one byte is
//!   kept for it and widened in place when the count needs more.

use std::collections::HashMap;

use dcmflow_engine::json::lexer::{LexError, LexErrorKind, Lexer};

use crate::binary::{long_len, write_bytes, write_long};
use crate::defaults::{encode_default, non_finite};
use crate::schema::{kind, Node, NodeId, Schema, SchemaError};
use crate::to_json::Encoding;

/// Why a JSON value could not be encoded; the encoder's [`JsonEncoder::path`] says where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeFault {
    /// Not JSON, the input failing, or a limit passed (`None`: valid JSON that does not fit the schema).
    pub lex: Option<LexErrorKind>,
    /// What is wrong.
    pub message: String,
}

impl From<LexError> for EncodeFault {
    fn from(e: LexError) -> Self {
        let data = e.into_data();
        EncodeFault {
            lex: Some(data.kind),
            message: data.message,
        }
    }
}

fn mismatch(message: impl Into<String>) -> EncodeFault {
    EncodeFault {
        lex: None,
        message: message.into(),
    }
}

type Step<T> = Result<T, EncodeFault>;

enum Frame {
    /// A record's members: the bytes from `start`; member spans from `spans[base..]`; `next` is the
    /// field expected next while the members come in the schema's order.
    Record {
        node: NodeId,
        start: usize,
        base: usize,
        next: usize,
        in_order: bool,
    },
    /// An array's items: the count's byte at `start`, `count` items so far.
    Array {
        item: NodeId,
        start: usize,
        count: u64,
    },
    /// A map's entries: as an array; the current entry's key (an Avro string) is at `key_at` (`MAX`
    /// before the first).
    Map {
        value: NodeId,
        start: usize,
        count: u64,
        key_at: usize,
    },
    /// `{"<branch>": value}` of Avro's encoding: closes after its one member.
    Wrapper,
}

/// What the encoder knows of a record node.
#[derive(Debug, Default)]
struct RecordPlan {
    /// Field names to their index.
    by_name: HashMap<Box<[u8]>, usize>,
    /// Each field's member name as compact JSON writes it, with its quotes and colon (`"name":`).
    keys: Vec<Box<[u8]>>,
    /// Each field's default, encoded; `None` where the field has none.
    defaults: Vec<Option<Box<[u8]>>>,
}

/// Encodes JSON values of one schema into its binary encoding.
pub struct JsonEncoder<'s> {
    schema: &'s Schema,
    encoding: Encoding,
    /// Per node (empty for all but records).
    records: Vec<RecordPlan>,
    /// Per union node: each branch's name in Avro's JSON encoding (full name, or the type's name).
    branch_names: Vec<Vec<Box<[u8]>>>,
    stack: Vec<Frame>,
    /// Member spans of the open records: (field, start of its bytes).
    spans: Vec<(usize, usize)>,
    /// Spans of the record being put in order, with their ends.
    sorting: Vec<(usize, usize, usize)>,
    scratch: Vec<u8>,
    /// A string value read before its union branch is chosen (GA4GH).
    text: String,
    max_depth: usize,
    max_size: usize,
    /// Where the datum being encoded starts in the output.
    datum_start: usize,
}

impl std::fmt::Debug for JsonEncoder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonEncoder")
            .field("encoding", &self.encoding)
            .finish()
    }
}

/// The deepest nesting of arrays, maps, records and union wrappers by default.
pub const DEFAULT_MAX_DEPTH: usize = 1000;

impl<'s> JsonEncoder<'s> {
    /// An encoder for JSON of `encoding` into data of `schema`. Fails when a field's default is not a
    /// value of the field's type (the default is encoded now, once).
    pub fn new(schema: &'s Schema, encoding: Encoding) -> Result<Self, SchemaError> {
        let mut records = Vec::with_capacity(schema.nodes().len());
        let mut branch_names = Vec::with_capacity(schema.nodes().len());
        for node in schema.nodes() {
            let mut plan = RecordPlan::default();
            if let Node::Record { name, fields } = node {
                for (i, field) in fields.iter().enumerate() {
                    plan.by_name
                        .insert(field.name.as_bytes().to_vec().into_boxed_slice(), i);
                    // Field names are `[A-Za-z_][A-Za-z0-9_]*`: nothing to escape.
                    plan.keys.push(
                        format!("\"{}\":", field.name)
                            .into_bytes()
                            .into_boxed_slice(),
                    );
                    let default = match &field.default {
                        None => None,
                        Some(value) => Some(
                            encode_default(schema, field.ty, value)
                                .map_err(|message| SchemaError {
                                    path: format!("{name}.{}", field.name),
                                    message: format!("the default {message}"),
                                })?
                                .into_boxed_slice(),
                        ),
                    };
                    plan.defaults.push(default);
                }
            }
            records.push(plan);
            branch_names.push(match node {
                Node::Union(branches) => branches
                    .iter()
                    .map(|&b| wrapper_name(schema.node(b)).as_bytes().into())
                    .collect(),
                _ => Vec::new(),
            });
        }
        Ok(JsonEncoder {
            schema,
            encoding,
            records,
            branch_names,
            stack: Vec::new(),
            spans: Vec::new(),
            sorting: Vec::new(),
            scratch: Vec::new(),
            text: String::new(),
            max_depth: DEFAULT_MAX_DEPTH,
            max_size: usize::MAX,
            datum_start: 0,
        })
    }

    /// Sets the deepest nesting accepted.
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Sets the largest datum encoded, in bytes (checked as it grows, so a value never holds more).
    pub fn with_max_size(mut self, max_size: usize) -> Self {
        self.max_size = max_size;
        self
    }

    /// Reads one JSON value of the schema's top-level type from `lexer` and appends its binary encoding
    /// to `out`. After a fault, `out` may hold part of the datum: the caller truncates it.
    pub fn encode(&mut self, lexer: &mut Lexer<'_>, out: &mut Vec<u8>) -> Step<()> {
        self.stack.clear();
        self.spans.clear();
        self.datum_start = out.len();
        let mut node = self.schema.root();
        loop {
            let opened = self.value(node, lexer, out)?;
            match self.advance(lexer, out, opened)? {
                Some(next) => node = next,
                None => return Ok(()),
            }
        }
    }

    /// Encodes a scalar value of `node` (false), or opens a container or union wrapper (true).
    fn value(&mut self, node: NodeId, lexer: &mut Lexer<'_>, out: &mut Vec<u8>) -> Step<bool> {
        let schema = self.schema;
        match schema.node(node) {
            Node::Null => expect_null(lexer, "null")?,
            Node::Boolean => out.push(u8::from(read_boolean(lexer)?)),
            Node::Int | Node::Long | Node::Float | Node::Double => {
                let target = schema.node(node);
                match lexer.peek()? {
                    Some(b'"') if matches!(target, Node::Float | Node::Double) => {
                        let text = lexer.read_string()?;
                        encode_number_text(target, text, true, out)?;
                    }
                    Some(b'-' | b'0'..=b'9') => {
                        let text = lexer.read_number()?;
                        encode_number_text(target, text, false, out)?;
                    }
                    _ => {
                        let what = format!("a number ({})", a(kind(target)));
                        return Err(expected(lexer, &what));
                    }
                }
            }
            Node::String | Node::Bytes | Node::Fixed { .. } | Node::Enum { .. } => {
                let target = schema.node(node);
                if let Some(plain) = lexer.take_plain_ascii_string() {
                    // Printable ASCII: the same bytes as UTF-8 and as ISO-8859-1.
                    encode_plain_text(target, plain, out)?;
                } else {
                    if lexer.peek()? != Some(b'"') {
                        return Err(expected(lexer, &format!("a string ({})", a(kind(target)))));
                    }
                    let text = lexer.read_string()?;
                    encode_text(target, text, out)?;
                }
            }
            Node::Record { .. } => {
                expect_open(lexer, b'{', "an object (a record)")?;
                self.push(Frame::Record {
                    node,
                    start: out.len(),
                    base: self.spans.len(),
                    next: 0,
                    in_order: true,
                })?;
                return Ok(true);
            }
            Node::Array(item) => {
                expect_open(lexer, b'[', "an array")?;
                self.push(Frame::Array {
                    item: *item,
                    start: out.len(),
                    count: 0,
                })?;
                out.push(0);
                return Ok(true);
            }
            Node::Map(value) => {
                expect_open(lexer, b'{', "an object (a map)")?;
                self.push(Frame::Map {
                    value: *value,
                    start: out.len(),
                    count: 0,
                    key_at: usize::MAX,
                })?;
                out.push(0);
                return Ok(true);
            }
            Node::Union(branches) => return self.union(node, branches, lexer, out),
        }
        Ok(false)
    }

    /// A union's value: its branch index, then the value (scalars are written here; a container or a
    /// wrapper is opened and `true` returned, with the branch's node as the pending value).
    fn union(
        &mut self,
        node: NodeId,
        branches: &[NodeId],
        lexer: &mut Lexer<'_>,
        out: &mut Vec<u8>,
    ) -> Step<bool> {
        let schema = self.schema;
        let null_branch = || branches.iter().position(|&b| *schema.node(b) == Node::Null);
        match (lexer.peek()?, self.encoding) {
            (Some(b'n'), _) => {
                let index = null_branch()
                    .ok_or_else(|| mismatch("null, but the union has no null branch"))?;
                expect_null(lexer, "null")?;
                write_long(out, index as i64);
                Ok(false)
            }
            // specification.md, JSON Encoding: a non-null union value is `{"<type name>": value}`.
            (Some(b'{'), Encoding::Avro) => {
                lexer.bump();
                if !lexer.object_has_first()? {
                    return Err(mismatch(
                        "an empty object where a union value {\"<type name>\": value} is expected",
                    ));
                }
                let key = lexer.read_key()?;
                let names = &self.branch_names[node];
                let Some(index) = names.iter().position(|n| **n == *key.as_bytes()) else {
                    return Err(mismatch(format!(
                        "'{key}' is not a branch of the union ({})",
                        union_names(names)
                    )));
                };
                write_long(out, index as i64);
                self.push(Frame::Wrapper)?;
                let opened = self.value(branches[index], lexer, out)?;
                if !opened {
                    self.close_wrapper(lexer)?;
                }
                Ok(opened)
            }
            (Some(_), Encoding::Avro) => Err(expected(
                lexer,
                "a union value: null or {\"<type name>\": value}",
            )),
            (Some(first), Encoding::Ga4gh) => self.inferred_union(first, branches, lexer, out),
            (None, _) => Err(expected(lexer, "a union value")),
        }
    }

    /// GA4GH's bare union value: the first branch, in the union's order, that the JSON value can be
    /// (the rule docs/avro.md gives under "Reading JSON").
    fn inferred_union(
        &mut self,
        first: u8,
        branches: &[NodeId],
        lexer: &mut Lexer<'_>,
        out: &mut Vec<u8>,
    ) -> Step<bool> {
        let schema = self.schema;
        let pick =
            |fits: &dyn Fn(&Node) -> bool| branches.iter().position(|&b| fits(schema.node(b)));
        let no_branch = |what: &str| mismatch(format!("no branch of the union can hold {what}"));
        match first {
            b't' | b'f' => {
                let index = pick(&|n| *n == Node::Boolean).ok_or_else(|| no_branch("a boolean"))?;
                let value = read_boolean(lexer)?;
                write_long(out, index as i64);
                out.push(u8::from(value));
                Ok(false)
            }
            b'"' => {
                let mut text = std::mem::take(&mut self.text);
                text.clear();
                text.push_str(lexer.read_string()?);
                // A string goes to a string-like branch first; to float or double ("NaN",
                // "Infinity", "-Infinity") only when none holds it.
                let found = pick(&|n| string_fits(n, &text)).or_else(|| {
                    pick(&|n| {
                        matches!(n, Node::Float | Node::Double) && non_finite(&text).is_some()
                    })
                });
                let done = match found {
                    Some(index) => {
                        write_long(out, index as i64);
                        let target = schema.node(branches[index]);
                        match target {
                            Node::Float | Node::Double => {
                                encode_number_text(target, &text, true, out)
                            }
                            _ => encode_text(target, &text, out),
                        }
                    }
                    None => Err(no_branch(&format!("the string \"{}\"", shorten(&text)))),
                };
                self.text = text;
                done.map(|()| false)
            }
            b'-' | b'0'..=b'9' => {
                let text = lexer.read_number()?;
                let index = pick(&|n| number_fits(n, text))
                    .ok_or_else(|| no_branch(&format!("the number {text}")))?;
                write_long(out, index as i64);
                encode_number_text(schema.node(branches[index]), text, false, out)?;
                Ok(false)
            }
            b'{' | b'[' => {
                let index = if first == b'{' {
                    pick(&|n| matches!(n, Node::Record { .. } | Node::Map(_)))
                        .ok_or_else(|| no_branch("an object"))?
                } else {
                    pick(&|n| matches!(n, Node::Array(_))).ok_or_else(|| no_branch("an array"))?
                };
                write_long(out, index as i64);
                self.value(branches[index], lexer, out)
            }
            _ => Err(expected(lexer, "a JSON value")),
        }
    }

    fn push(&mut self, frame: Frame) -> Step<()> {
        if self.stack.len() >= self.max_depth {
            return Err(EncodeFault {
                lex: Some(LexErrorKind::Limit),
                message: format!("nested deeper than {} levels (max_depth)", self.max_depth),
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    /// After a value (or right after a container opened, `opened`): the next value to read, closing the
    /// containers that end; `None` when the datum is complete.
    fn advance(
        &mut self,
        lexer: &mut Lexer<'_>,
        out: &mut Vec<u8>,
        mut opened: bool,
    ) -> Step<Option<NodeId>> {
        if out.len() - self.datum_start > self.max_size {
            return Err(EncodeFault {
                lex: Some(LexErrorKind::Limit),
                message: format!(
                    "the datum is more than {} bytes long here (max_datum_size)",
                    self.max_size
                ),
            });
        }
        loop {
            let Some(top) = self.stack.last_mut() else {
                return Ok(None);
            };
            match top {
                Frame::Record { node, .. } => {
                    let node = *node;
                    let more = if opened {
                        lexer.object_has_first()?
                    } else {
                        lexer.object_has_next()?
                    };
                    if more {
                        return self.record_member(node, lexer, out).map(Some);
                    }
                    self.close_record(out)?;
                }
                Frame::Array { item, count, .. } => {
                    let item = *item;
                    if !opened {
                        *count += 1;
                    }
                    let more = if opened {
                        lexer.array_has_first()?
                    } else {
                        lexer.array_has_next()?
                    };
                    if more {
                        return Ok(Some(item));
                    }
                    self.close_block(out);
                }
                Frame::Map {
                    value,
                    count,
                    key_at,
                    ..
                } => {
                    let value = *value;
                    if !opened {
                        *count += 1;
                    }
                    let more = if opened {
                        lexer.object_has_first()?
                    } else {
                        lexer.object_has_next()?
                    };
                    if more {
                        *key_at = out.len();
                        let (key, _) = lexer.read_key_bytes()?;
                        write_bytes(out, key);
                        return Ok(Some(value));
                    }
                    self.close_block(out);
                }
                Frame::Wrapper => self.close_wrapper(lexer)?,
            }
            opened = false;
        }
    }

    /// A record member's name: its field, noted where its bytes start; the field's type is returned.
    fn record_member(&mut self, node: NodeId, lexer: &mut Lexer<'_>, out: &[u8]) -> Step<NodeId> {
        let Node::Record { fields, name } = self.schema.node(node) else {
            unreachable!("a record frame holds a record node")
        };
        let Some(Frame::Record { next, in_order, .. }) = self.stack.last_mut() else {
            unreachable!("called for the record on top")
        };
        let plan = &self.records[node];
        // The field expected next, in the window as compact JSON writes its name: taken whole.
        if let Some(key) = plan.keys.get(*next) {
            if lexer.window().starts_with(key) {
                lexer.consume(key.len());
                let field = *next;
                *next += 1;
                self.spans.push((field, out.len()));
                return Ok(fields[field].ty);
            }
        }
        let (key, _) = lexer.read_key_bytes()?;
        let field = if fields.get(*next).is_some_and(|f| f.name.as_bytes() == key) {
            *next
        } else {
            *in_order = false;
            *plan.by_name.get(key).ok_or_else(|| {
                mismatch(format!(
                    "record '{name}' has no field '{}'",
                    String::from_utf8_lossy(key)
                ))
            })?
        };
        *next = field + 1;
        self.spans.push((field, out.len()));
        Ok(fields[field].ty)
    }

    /// Closes the record on top: its members put in the schema's order, omitted ones defaulted.
    fn close_record(&mut self, out: &mut Vec<u8>) -> Step<()> {
        let Some(Frame::Record {
            node,
            start,
            base,
            next,
            in_order,
        }) = self.stack.last()
        else {
            unreachable!("called for the record on top")
        };
        let (node, start, base) = (*node, *start, *base);
        let Node::Record { fields, name } = self.schema.node(node) else {
            unreachable!("a record frame holds a record node")
        };
        if !(*in_order && *next == fields.len() && self.spans.len() - base == fields.len()) {
            if let Err(message) = self.reorder(node, start, base, out) {
                // The fault is the record's, not its last member's.
                self.spans.truncate(base);
                return Err(mismatch(format!("record '{name}': {message}")));
            }
        }
        self.spans.truncate(base);
        self.stack.pop();
        Ok(())
    }

    /// The members of a record, encoded in the order they came from `start`, rewritten in the schema's
    /// order with defaults for the omitted ones.
    fn reorder(
        &mut self,
        node: NodeId,
        start: usize,
        base: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let Node::Record { fields, .. } = self.schema.node(node) else {
            unreachable!("a record frame holds a record node")
        };
        let spans = &self.spans[base..];
        self.sorting.clear();
        for (i, &(field, from)) in spans.iter().enumerate() {
            let to = spans.get(i + 1).map_or(out.len(), |&(_, next)| next);
            self.sorting.push((field, from - start, to - start));
        }
        self.sorting.sort_unstable_by_key(|&(field, ..)| field);
        if let Some(pair) = self.sorting.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!("field '{}' is given twice", fields[pair[0].0].name));
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(&out[start..]);
        out.truncate(start);
        let mut given = self.sorting.iter().peekable();
        for (i, field) in fields.iter().enumerate() {
            match given.peek() {
                Some(&&(f, from, to)) if f == i => {
                    out.extend_from_slice(&self.scratch[from..to]);
                    given.next();
                }
                _ => match &self.records[node].defaults[i] {
                    Some(bytes) => out.extend_from_slice(bytes),
                    None => {
                        return Err(format!(
                            "field '{}' is missing and has no default",
                            field.name
                        ))
                    }
                },
            }
        }
        Ok(())
    }

    /// Closes the array or map on top: its count written before its items, the block's end after them.
    // specification.md, Binary Encoding, Complex Types: a block's count, its items, and a count of 0.
    fn close_block(&mut self, out: &mut Vec<u8>) {
        let (Some(Frame::Array { start, count, .. }) | Some(Frame::Map { start, count, .. })) =
            self.stack.pop()
        else {
            unreachable!("called for an array or map on top")
        };
        if count == 0 {
            // The byte kept for the count is the end-of-blocks 0.
            return;
        }
        let count = count as i64;
        let width = long_len(count);
        if width == 1 {
            out[start] = (count << 1) as u8;
        } else {
            let mut encoded = [0u8; 10];
            let mut head = Vec::with_capacity(10);
            write_long(&mut head, count);
            encoded[..width].copy_from_slice(&head);
            out.splice(start..start + 1, encoded[..width].iter().copied());
        }
        out.push(0);
    }

    fn close_wrapper(&mut self, lexer: &mut Lexer<'_>) -> Step<()> {
        if lexer.object_has_next()? {
            return Err(mismatch(
                "a union value's object {\"<type name>\": value} holds one member only",
            ));
        }
        self.stack.pop();
        Ok(())
    }

    /// Where the last fault was, from the open containers: fields, indices and map keys (`calls[3]
    /// .genotype`). `out` is what the failed [`JsonEncoder::encode`] left (map keys are read from it).
    pub fn path(&self, out: &[u8]) -> String {
        // The spans of the records on the stack lie one after another in `spans`: a record's current
        // field is the last span before the next record's first.
        let bases: Vec<usize> = self
            .stack
            .iter()
            .filter_map(|frame| match frame {
                Frame::Record { base, .. } => Some(*base),
                _ => None,
            })
            .collect();
        let mut path = String::new();
        let mut records = 0;
        for frame in &self.stack {
            match frame {
                Frame::Record { node, base, .. } => {
                    records += 1;
                    let end = bases.get(records).copied().unwrap_or(self.spans.len());
                    if end > *base {
                        if let Node::Record { fields, .. } = self.schema.node(*node) {
                            if !path.is_empty() {
                                path.push('.');
                            }
                            path.push_str(&fields[self.spans[end - 1].0].name);
                        }
                    }
                }
                Frame::Array { count, .. } => path.push_str(&format!("[{count}]")),
                Frame::Map { key_at, .. } => {
                    if let Some(Ok(key)) = out
                        .get(*key_at..)
                        .map(|rest| crate::binary::Cursor::new(rest).bytes())
                    {
                        path.push_str(&format!("[\"{}\"]", String::from_utf8_lossy(key)));
                    }
                }
                Frame::Wrapper => {}
            }
        }
        path
    }
}

/// A union branch's name in Avro's JSON encoding: the full name of a named type, else the type's.
fn wrapper_name(node: &Node) -> &str {
    match node {
        Node::Record { name, .. } | Node::Enum { name, .. } | Node::Fixed { name, .. } => name,
        other => kind(other),
    }
}

fn union_names(names: &[Box<[u8]>]) -> String {
    names
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `word` with its indefinite article: "an int", "a long".
fn a(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

/// A short excerpt of a value, for messages.
fn shorten(text: &str) -> String {
    let mut cut: String = text.chars().take(40).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

fn expected(lexer: &mut Lexer<'_>, what: &str) -> EncodeFault {
    // A misspelt literal is not JSON: a syntax error before any mismatch.
    let literal = match lexer.peek() {
        Ok(Some(b't')) => Some("true"),
        Ok(Some(b'f')) => Some("false"),
        Ok(Some(b'n')) => Some("null"),
        _ => None,
    };
    let found = match literal {
        Some(word) => match lexer.read_literal(word) {
            Err(e) => return e.into(),
            Ok(()) if word == "null" => Ok(Some(b'n')),
            Ok(()) => Ok(Some(b't')),
        },
        None => lexer.peek(),
    };
    let found = match found {
        Ok(Some(b'{')) => "an object",
        Ok(Some(b'[')) => "an array",
        Ok(Some(b'"')) => "a string",
        Ok(Some(b't' | b'f')) => "a boolean",
        Ok(Some(b'n')) => "null",
        Ok(Some(b'-' | b'0'..=b'9')) => "a number",
        Ok(Some(b'N' | b'I')) => {
            return LexError::syntax(format!("expected {what}, found {BARE_NON_FINITE}")).into()
        }
        Ok(Some(_)) => {
            return LexError::syntax(format!("expected {what}, found no JSON value")).into()
        }
        Ok(None) => {
            return LexError::syntax(format!("the input ends where {what} is expected")).into()
        }
        Err(e) => return e.into(),
    };
    mismatch(format!("expected {what}, found {found}"))
}

/// Why `NaN`, `Infinity` and `-Infinity` written bare are refused, and what to write instead.
const BARE_NON_FINITE: &str = "a bare NaN or Infinity, which is not JSON (RFC 8259): write \"NaN\", \"Infinity\" or \"-Infinity\"";

fn expect_open(lexer: &mut Lexer<'_>, open: u8, what: &str) -> Step<()> {
    if lexer.peek()? == Some(open) {
        lexer.bump();
        Ok(())
    } else {
        Err(expected(lexer, what))
    }
}

fn expect_null(lexer: &mut Lexer<'_>, what: &str) -> Step<()> {
    if lexer.peek()? == Some(b'n') {
        lexer.read_literal("null")?;
        Ok(())
    } else {
        Err(expected(lexer, what))
    }
}

fn read_boolean(lexer: &mut Lexer<'_>) -> Step<bool> {
    match lexer.peek()? {
        Some(b't') => lexer
            .read_literal("true")
            .map(|()| true)
            .map_err(Into::into),
        Some(b'f') => lexer
            .read_literal("false")
            .map(|()| false)
            .map_err(Into::into),
        _ => Err(expected(lexer, "a boolean")),
    }
}

/// Whether a JSON string can be a value of the string-like `node` (GA4GH union inference).
fn string_fits(node: &Node, text: &str) -> bool {
    match node {
        Node::String => true,
        Node::Bytes => text.chars().all(|c| u32::from(c) <= 0xFF),
        Node::Fixed { size, .. } => {
            text.chars().count() == *size && text.chars().all(|c| u32::from(c) <= 0xFF)
        }
        Node::Enum { symbols, .. } => symbols.iter().any(|s| s == text),
        _ => false,
    }
}

/// Whether a JSON number can be a value of `node` (GA4GH union inference).
fn number_fits(node: &Node, text: &str) -> bool {
    match node {
        Node::Int => text.parse::<i32>().is_ok(),
        Node::Long => text.parse::<i64>().is_ok(),
        Node::Float => text.parse::<f32>().is_ok_and(f32::is_finite),
        Node::Double => text.parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    }
}

/// A number of `node`'s type from its JSON text (`quoted`: a string, which only the non-finite values
/// of float and double may be).
fn encode_number_text(node: &Node, text: &str, quoted: bool, out: &mut Vec<u8>) -> Step<()> {
    let bad = |what: &str| mismatch(format!("{} is not {what}", shorten(text)));
    match node {
        Node::Int if !quoted => {
            let n: i32 = text
                .parse()
                .map_err(|_| bad("an int (an integer from -2^31 to 2^31-1)"))?;
            write_long(out, i64::from(n));
        }
        Node::Long if !quoted => {
            let n: i64 = text
                .parse()
                .map_err(|_| bad("a long (an integer from -2^63 to 2^63-1)"))?;
            write_long(out, n);
        }
        // specification.md has no JSON for NaN and the infinities; Java's encoder writes these strings.
        Node::Float => {
            let n: f32 = if quoted {
                non_finite(text).ok_or_else(|| {
                    bad("a float (\"NaN\", \"Infinity\" or \"-Infinity\" as a string)")
                })? as f32
            } else {
                text.parse()
                    .ok()
                    .filter(|n: &f32| n.is_finite())
                    .ok_or_else(|| bad("within a float's range"))?
            };
            out.extend_from_slice(&n.to_le_bytes());
        }
        Node::Double => {
            let n: f64 = if quoted {
                non_finite(text).ok_or_else(|| {
                    bad("a double (\"NaN\", \"Infinity\" or \"-Infinity\" as a string)")
                })?
            } else {
                text.parse()
                    .ok()
                    .filter(|n: &f64| n.is_finite())
                    .ok_or_else(|| bad("within a double's range"))?
            };
            out.extend_from_slice(&n.to_le_bytes());
        }
        other => return Err(bad(&a(kind(other)))),
    }
    Ok(())
}

/// A string of printable ASCII as a value of `node` (string, bytes, fixed or enum).
#[inline]
fn encode_plain_text(node: &Node, text: &[u8], out: &mut Vec<u8>) -> Step<()> {
    match node {
        Node::String | Node::Bytes => write_bytes(out, text),
        Node::Fixed { size, .. } if text.len() == *size => out.extend_from_slice(text),
        // Not the fixed's size, or an enum: the general path says what is wrong.
        _ => encode_text(node, dcmflow_simd::ascii_str(text).unwrap_or_default(), out)?,
    }
    Ok(())
}

/// A JSON string as a value of `node` (string, bytes, fixed or enum).
fn encode_text(node: &Node, text: &str, out: &mut Vec<u8>) -> Step<()> {
    match node {
        Node::String => write_bytes(out, text.as_bytes()),
        // specification.md, JSON Encoding: bytes and fixed are strings whose code points 0-255 are
        // the bytes.
        Node::Bytes => {
            write_long(out, dcmflow_simd::latin1_len(text.as_bytes()) as i64);
            append_latin1(text, out)?;
        }
        Node::Fixed { name, size } => {
            let len = dcmflow_simd::latin1_len(text.as_bytes());
            if len != *size {
                return Err(mismatch(format!(
                    "fixed '{name}' is {size} bytes; the string holds {len}"
                )));
            }
            append_latin1(text, out)?;
        }
        Node::Enum { name, symbols } => {
            let index = symbols.iter().position(|s| s == text).ok_or_else(|| {
                mismatch(format!(
                    "\"{}\" is not a symbol of enum '{name}'",
                    shorten(text)
                ))
            })?;
            write_long(out, index as i64);
        }
        other => return Err(mismatch(format!("a string is not {}", a(kind(other))))),
    }
    Ok(())
}

/// A string's characters as bytes (each at most U+00FF), appended to `out`.
fn append_latin1(text: &str, out: &mut Vec<u8>) -> Step<()> {
    dcmflow_simd::append_utf8_as_latin1(text.as_bytes(), out).map_err(|at| {
        let c = text[at..].chars().next().unwrap_or('?');
        mismatch(format!(
            "U+{:04X} in a string of bytes (bytes and fixed are strings of U+0000-U+00FF, one per byte)",
            u32::from(c)
        ))
    })
}
