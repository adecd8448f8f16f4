//! Avro schemas (specification.md, "Schema Declaration"): parsed from their JSON into a graph of nodes
//! where a named type is defined once and referred to by index, so a recursive record (a linked list, a
//! tree) is a cycle in the graph, not an infinite value.

use std::collections::HashMap;

use serde_json::Value;

/// A node's index in [`Schema::nodes`].
pub type NodeId = usize;

/// One type of a schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `null`.
    Null,
    /// `boolean`.
    Boolean,
    /// `int`: 32-bit signed.
    Int,
    /// `long`: 64-bit signed.
    Long,
    /// `float`: IEEE 754 single.
    Float,
    /// `double`: IEEE 754 double.
    Double,
    /// `bytes`.
    Bytes,
    /// `string`: UTF-8.
    String,
    /// A record: its full name and fields in order.
    Record {
        /// The full name (`namespace.name`).
        name: String,
        /// The fields, in the order of the schema (and of the binary encoding).
        fields: Vec<Field>,
    },
    /// An enum: its full name and symbols.
    Enum {
        /// The full name.
        name: String,
        /// The symbols, in order (the binary encoding is the index).
        symbols: Vec<String>,
    },
    /// An array of items of one type.
    Array(NodeId),
    /// A map from strings to values of one type.
    Map(NodeId),
    /// A union of branches (the binary encoding is the branch index, then the value).
    Union(Vec<NodeId>),
    /// A fixed number of bytes.
    Fixed {
        /// The full name.
        name: String,
        /// The number of bytes.
        size: usize,
    },
}

/// A field of a record.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// Its type.
    pub ty: NodeId,
    /// Its default value, as the schema's JSON gives it (for a union, a value of the first branch).
    pub default: Option<Value>,
}

/// A parsed schema: its nodes and which of them is the top-level type.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    nodes: Vec<Node>,
    root: NodeId,
    /// Named types by full name.
    names: HashMap<String, NodeId>,
}

/// Why a schema is not a valid Avro schema, with the JSON path of the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    /// Where in the schema's JSON (`fields[2].type`), empty at the top.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for SchemaError {}

impl Schema {
    /// Parses a schema from its JSON text.
    pub fn parse_str(json: &str) -> Result<Schema, SchemaError> {
        let value: Value = serde_json::from_str(json).map_err(|e| SchemaError {
            path: String::new(),
            message: format!("not JSON: {e}"),
        })?;
        Schema::parse(&value)
    }

    /// Parses a schema from its JSON value.
    pub fn parse(value: &Value) -> Result<Schema, SchemaError> {
        let mut parser = Parser {
            schema: Schema {
                nodes: Vec::new(),
                root: 0,
                names: HashMap::new(),
            },
            path: Vec::new(),
        };
        parser.schema.root = parser.parse(value, "")?;
        Ok(parser.schema)
    }

    /// The top-level type.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// Every node; a node's index is its [`NodeId`].
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The node `id`.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// The named type `full_name`, when the schema defines it.
    pub fn named(&self, full_name: &str) -> Option<NodeId> {
        self.names.get(full_name).copied()
    }
}

struct Parser {
    schema: Schema,
    /// The JSON path being parsed, for errors.
    path: Vec<String>,
}

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

impl Parser {
    fn error(&self, message: impl Into<String>) -> SchemaError {
        let mut path = String::new();
        for part in &self.path {
            if !path.is_empty() && !part.starts_with('[') {
                path.push('.');
            }
            path.push_str(part);
        }
        SchemaError {
            path,
            message: message.into(),
        }
    }

    /// specification.md: `aliases` of a named type or a field is an array of names. They matter only
    /// when data are read with another schema (schema resolution, not done here): checked, then kept
    /// out of the node graph.
    fn check_aliases(&self, object: &serde_json::Map<String, Value>) -> Result<(), SchemaError> {
        match object.get("aliases") {
            None => Ok(()),
            Some(Value::Array(aliases))
                if aliases
                    .iter()
                    .all(|a| a.as_str().is_some_and(|a| a.split('.').all(is_name))) =>
            {
                Ok(())
            }
            Some(_) => Err(self.error("\"aliases\" must be an array of names")),
        }
    }

    fn add(&mut self, node: Node) -> NodeId {
        self.schema.nodes.push(node);
        self.schema.nodes.len() - 1
    }

    fn within<T>(
        &mut self,
        part: String,
        f: impl FnOnce(&mut Self) -> Result<T, SchemaError>,
    ) -> Result<T, SchemaError> {
        self.path.push(part);
        let out = f(self);
        self.path.pop();
        out
    }

    /// A schema value, in the enclosing `namespace`.
    fn parse(&mut self, value: &Value, namespace: &str) -> Result<NodeId, SchemaError> {
        match value {
            Value::String(name) => self.reference(name, namespace),
            Value::Array(branches) => self.union(branches, namespace),
            Value::Object(object) => {
                let Some(Value::String(ty)) = object.get("type") else {
                    return Err(self.error("a schema object needs a \"type\" string"));
                };
                match ty.as_str() {
                    "record" | "error" => self.record(object, namespace),
                    "enum" => self.enumeration(object, namespace),
                    "fixed" => self.fixed(object, namespace),
                    "array" => {
                        let items = object
                            .get("items")
                            .ok_or_else(|| self.error("an array needs \"items\""))?;
                        let items = self.within("items".into(), |p| p.parse(items, namespace))?;
                        Ok(self.add(Node::Array(items)))
                    }
                    "map" => {
                        let values = object
                            .get("values")
                            .ok_or_else(|| self.error("a map needs \"values\""))?;
                        let values =
                            self.within("values".into(), |p| p.parse(values, namespace))?;
                        Ok(self.add(Node::Map(values)))
                    }
                    // `{"type": "int", "logicalType": …}`: the primitive (logical types are carried as
                    // their underlying type), or a reference written as an object.
                    other => self.reference(other, namespace),
                }
            }
            _ => Err(self.error("a schema is a string, an array (union) or an object")),
        }
    }

    /// A primitive type's name or a reference to a named type defined before.
    fn reference(&mut self, name: &str, namespace: &str) -> Result<NodeId, SchemaError> {
        let primitive = match name {
            "null" => Some(Node::Null),
            "boolean" => Some(Node::Boolean),
            "int" => Some(Node::Int),
            "long" => Some(Node::Long),
            "float" => Some(Node::Float),
            "double" => Some(Node::Double),
            "bytes" => Some(Node::Bytes),
            "string" => Some(Node::String),
            _ => None,
        };
        if let Some(node) = primitive {
            return Ok(self.add(node));
        }
        // specification.md, Names: a name with a dot is a full name; otherwise it is in the namespace
        // of the enclosing definition (then, as Java does, in the null namespace).
        let full = full_name(name, namespace);
        self.schema
            .names
            .get(&full)
            .or_else(|| self.schema.names.get(name))
            .copied()
            .ok_or_else(|| {
                self.error(format!(
                    "unknown type '{name}' (a named type must be defined before it is used)"
                ))
            })
    }

    fn union(&mut self, branches: &[Value], namespace: &str) -> Result<NodeId, SchemaError> {
        let mut ids = Vec::with_capacity(branches.len());
        let mut seen: Vec<String> = Vec::new();
        for (i, branch) in branches.iter().enumerate() {
            let id = self.within(format!("[{i}]"), |p| p.parse(branch, namespace))?;
            // specification.md, Unions: no union directly in a union; at most one branch of each
            // unnamed type, and of each named type's name.
            let key = match &self.schema.nodes[id] {
                Node::Union(_) => {
                    return Err(self.error(format!("branch {i} is a union inside a union")))
                }
                Node::Record { name, .. } | Node::Enum { name, .. } | Node::Fixed { name, .. } => {
                    name.clone()
                }
                other => kind(other).to_string(),
            };
            if seen.contains(&key) {
                return Err(self.error(format!("the union holds '{key}' twice")));
            }
            seen.push(key);
            ids.push(id);
        }
        Ok(self.add(Node::Union(ids)))
    }

    /// The full name and namespace a named type's definition gives, registered (a definition that
    /// repeats a full name is an error).
    fn define(
        &mut self,
        object: &serde_json::Map<String, Value>,
        namespace: &str,
        placeholder: Node,
    ) -> Result<(NodeId, String, String), SchemaError> {
        let Some(Value::String(name)) = object.get("name") else {
            return Err(self.error("a named type needs a \"name\" string"));
        };
        let given_namespace = match object.get("namespace") {
            Some(Value::String(ns)) => Some(ns.as_str()),
            None | Some(Value::Null) => None,
            Some(_) => return Err(self.error("\"namespace\" must be a string")),
        };
        let full = if name.contains('.') {
            name.clone()
        } else {
            full_name(name, given_namespace.unwrap_or(namespace))
        };
        for part in full.split('.') {
            if !is_name(part) {
                return Err(self.error(format!(
                    "'{full}' is not a valid name (specification.md, Names: [A-Za-z_][A-Za-z0-9_]*, dot-separated)"
                )));
            }
        }
        self.check_aliases(object)?;
        if PRIMITIVES.contains(&full.as_str()) {
            return Err(self.error(format!("'{full}' is a primitive type's name")));
        }
        if self.schema.names.contains_key(&full) {
            return Err(self.error(format!("'{full}' is defined twice")));
        }
        let id = self.add(placeholder);
        self.schema.names.insert(full.clone(), id);
        let inner_namespace = full.rsplit_once('.').map_or("", |(ns, _)| ns).to_string();
        Ok((id, full, inner_namespace))
    }

    fn record(
        &mut self,
        object: &serde_json::Map<String, Value>,
        namespace: &str,
    ) -> Result<NodeId, SchemaError> {
        let placeholder = Node::Record {
            name: String::new(),
            fields: Vec::new(),
        };
        let (id, full, inner) = self.define(object, namespace, placeholder)?;
        // The record is known by its name before its fields: a field may refer to it (recursion).
        self.schema.nodes[id] = Node::Record {
            name: full.clone(),
            fields: Vec::new(),
        };
        let Some(Value::Array(list)) = object.get("fields") else {
            return Err(self.error(format!("record '{full}' needs a \"fields\" array")));
        };
        let mut fields: Vec<Field> = Vec::with_capacity(list.len());
        for (i, field) in list.iter().enumerate() {
            let parsed = self.within(format!("fields[{i}]"), |p| {
                let Value::Object(field) = field else {
                    return Err(p.error("a field is an object"));
                };
                let Some(Value::String(name)) = field.get("name") else {
                    return Err(p.error("a field needs a \"name\" string"));
                };
                if !is_name(name) {
                    return Err(p.error(format!("'{name}' is not a valid field name")));
                }
                p.check_aliases(field)?;
                let ty = field
                    .get("type")
                    .ok_or_else(|| p.error(format!("field '{name}' needs a \"type\"")))?;
                let ty = p.within("type".into(), |p| p.parse(ty, &inner))?;
                Ok(Field {
                    name: name.clone(),
                    ty,
                    default: field.get("default").cloned(),
                })
            })?;
            if fields.iter().any(|f| f.name == parsed.name) {
                return Err(self.error(format!(
                    "record '{full}' has two fields named '{}'",
                    parsed.name
                )));
            }
            fields.push(parsed);
        }
        self.schema.nodes[id] = Node::Record { name: full, fields };
        Ok(id)
    }

    fn enumeration(
        &mut self,
        object: &serde_json::Map<String, Value>,
        namespace: &str,
    ) -> Result<NodeId, SchemaError> {
        let (id, full, _) = self.define(object, namespace, Node::Null)?;
        let Some(Value::Array(list)) = object.get("symbols") else {
            return Err(self.error(format!("enum '{full}' needs a \"symbols\" array")));
        };
        let mut symbols: Vec<String> = Vec::with_capacity(list.len());
        for symbol in list {
            let Value::String(symbol) = symbol else {
                return Err(self.error(format!("enum '{full}': a symbol is a string")));
            };
            if !is_name(symbol) || symbols.contains(symbol) {
                return Err(self.error(format!(
                    "enum '{full}': '{symbol}' is not a valid symbol or is there twice"
                )));
            }
            symbols.push(symbol.clone());
        }
        self.schema.nodes[id] = Node::Enum {
            name: full,
            symbols,
        };
        Ok(id)
    }

    fn fixed(
        &mut self,
        object: &serde_json::Map<String, Value>,
        namespace: &str,
    ) -> Result<NodeId, SchemaError> {
        let (id, full, _) = self.define(object, namespace, Node::Null)?;
        let size = match object.get("size") {
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        }
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            self.error(format!(
                "fixed '{full}' needs a \"size\" that is a non-negative integer"
            ))
        })?;
        self.schema.nodes[id] = Node::Fixed { name: full, size };
        Ok(id)
    }
}

/// `name` in `namespace` (a name with a dot is already full).
fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}.{name}")
    }
}

/// specification.md, Names: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The type name of an unnamed node.
pub(crate) fn kind(node: &Node) -> &'static str {
    match node {
        Node::Null => "null",
        Node::Boolean => "boolean",
        Node::Int => "int",
        Node::Long => "long",
        Node::Float => "float",
        Node::Double => "double",
        Node::Bytes => "bytes",
        Node::String => "string",
        Node::Record { .. } => "record",
        Node::Enum { .. } => "enum",
        Node::Array(_) => "array",
        Node::Map(_) => "map",
        Node::Union(_) => "union",
        Node::Fixed { .. } => "fixed",
    }
}
