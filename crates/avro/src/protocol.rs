//! Protocols (`.avpr`; specification.md, "Protocol Declaration"): a name, a namespace, named types and
//! messages. Data are of one of its types: [`Protocol::schema_json`] gives that type as a schema of its
//! own (`.avsc`), with every named type it uses defined inside it.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::schema::{Schema, SchemaError};

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// A parsed protocol: its named types, each as the JSON that defines it, with full names.
#[derive(Clone, Debug)]
pub struct Protocol {
    /// The protocol's full name.
    pub name: String,
    /// Named types by full name, in the order the protocol defines them, each as its JSON with its
    /// names made full (so it means the same wherever it is put).
    types: Vec<(String, Value)>,
}

fn error(path: impl Into<String>, message: impl Into<String>) -> SchemaError {
    SchemaError {
        path: path.into(),
        message: message.into(),
    }
}

/// Whether a JSON value is a protocol (an object with a `"protocol"` member) rather than a schema.
pub fn is_protocol(value: &Value) -> bool {
    value.get("protocol").is_some()
}

/// What a schema file (`.avsc` or `.avpr`) holds.
#[derive(Clone, Debug)]
pub enum SchemaFile {
    /// A schema: the file's text.
    Schema(String),
    /// A protocol.
    Protocol(Protocol),
}

impl SchemaFile {
    /// A schema file's text: a protocol when it is one, else the text as it is (parse it as a schema).
    pub fn parse(text: &str) -> Result<SchemaFile, SchemaError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| error("", format!("not JSON: {e}")))?;
        if is_protocol(&value) {
            Protocol::parse(&value).map(SchemaFile::Protocol)
        } else {
            Ok(SchemaFile::Schema(text.to_string()))
        }
    }
}

impl Protocol {
    /// Parses a protocol's JSON; its types must form valid schemas.
    pub fn parse_str(json: &str) -> Result<Protocol, SchemaError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| error("", format!("not JSON: {e}")))?;
        Protocol::parse(&value)
    }

    /// Parses a protocol from its JSON value.
    pub fn parse(value: &Value) -> Result<Protocol, SchemaError> {
        let Some(Value::String(name)) = value.get("protocol") else {
            return Err(error("", "a protocol needs a \"protocol\" name"));
        };
        let namespace = match value.get("namespace") {
            Some(Value::String(ns)) => ns.clone(),
            None | Some(Value::Null) => String::new(),
            Some(_) => return Err(error("namespace", "\"namespace\" must be a string")),
        };
        let types = match value.get("types") {
            Some(Value::Array(types)) => types.clone(),
            None => Vec::new(),
            Some(_) => return Err(error("types", "\"types\" must be an array")),
        };
        if let Some(messages) = value.get("messages") {
            if !messages.is_object() {
                return Err(error("messages", "\"messages\" must be an object"));
            }
        }
        // The types, parsed together as one union, are checked as the schema parser checks any
        // schema (names defined once and before use, valid names, fields, …).
        Schema::parse(&Value::Array(
            types
                .iter()
                .map(|t| with_namespace(t, &namespace))
                .collect(),
        ))
        .map_err(|e| error(format!("types{}", e.path), e.message))?;
        let mut protocol = Protocol {
            name: full_name(name, &namespace),
            types: Vec::new(),
        };
        for t in &types {
            let mut defined = Vec::new();
            let full = qualify(t, &namespace, &mut defined);
            protocol.types.extend(defined);
            let _ = full;
        }
        Ok(protocol)
    }

    /// The full names of the protocol's named types, in order (nested definitions included).
    pub fn type_names(&self) -> impl Iterator<Item = &str> {
        self.types.iter().map(|(name, _)| name.as_str())
    }

    /// The named type `name` (a full name, or a simple name that only one type has) as a schema of its
    /// own: its JSON, with every named type it refers to defined inside it at first use.
    pub fn schema_json(&self, name: &str) -> Option<String> {
        let full = self.resolve(name)?;
        let mut emitted = HashSet::new();
        let value = self.inline(&Value::String(full.to_string()), &mut emitted);
        Some(value.to_string())
    }

    fn resolve(&self, name: &str) -> Option<&str> {
        if let Some((full, _)) = self.types.iter().find(|(full, _)| full == name) {
            return Some(full);
        }
        let mut matching = self
            .types
            .iter()
            .filter(|(full, _)| full.rsplit('.').next() == Some(name));
        let first = matching.next()?;
        matching.next().is_none().then_some(first.0.as_str())
    }

    fn definition(&self, full: &str) -> Option<&Value> {
        self.types.iter().find(|(n, _)| n == full).map(|(_, v)| v)
    }

    /// `value` (qualified JSON) with references to types not yet emitted replaced by their definitions.
    fn inline(&self, value: &Value, emitted: &mut HashSet<String>) -> Value {
        match value {
            Value::String(name) if !PRIMITIVES.contains(&name.as_str()) => {
                if emitted.contains(name) {
                    return value.clone();
                }
                match self.definition(name) {
                    Some(definition) => {
                        emitted.insert(name.clone());
                        self.inline_definition(definition, emitted)
                    }
                    None => value.clone(),
                }
            }
            Value::Array(branches) => {
                Value::Array(branches.iter().map(|b| self.inline(b, emitted)).collect())
            }
            Value::Object(object) => {
                if let Some(Value::String(name)) = object.get("name") {
                    if matches!(
                        object.get("type").and_then(Value::as_str),
                        Some("record" | "error" | "enum" | "fixed")
                    ) {
                        if emitted.contains(name) {
                            return Value::String(name.clone());
                        }
                        emitted.insert(name.clone());
                    }
                }
                self.inline_definition(value, emitted)
            }
            other => other.clone(),
        }
    }

    /// A definition's members, with the types inside it inlined.
    fn inline_definition(&self, definition: &Value, emitted: &mut HashSet<String>) -> Value {
        let Value::Object(object) = definition else {
            return definition.clone();
        };
        let mut out = Map::new();
        for (key, member) in object {
            let member = match key.as_str() {
                "items" | "values" => self.inline(member, emitted),
                "type" if !member.is_string() || !is_kind(member) => self.inline(member, emitted),
                "fields" => map_field_types(member, |ty| self.inline(ty, emitted)),
                _ => member.clone(),
            };
            out.insert(key.clone(), member);
        }
        Value::Object(out)
    }
}

/// A record's `fields` with each field's `type` replaced by `f` of it.
fn map_field_types(fields: &Value, mut f: impl FnMut(&Value) -> Value) -> Value {
    let fields = fields.as_array().into_iter().flatten().map(|field| {
        let mut field = field.as_object().cloned().unwrap_or_default();
        if let Some(ty) = field.get("type").cloned() {
            field.insert("type".into(), f(&ty));
        }
        Value::Object(field)
    });
    Value::Array(fields.collect())
}

/// Whether a `"type"` string is a kind of definition (`record`, `array`, …) rather than a reference.
fn is_kind(value: &Value) -> bool {
    matches!(
        value.as_str(),
        Some("record" | "error" | "enum" | "fixed" | "array" | "map")
    ) || value.as_str().is_some_and(|s| PRIMITIVES.contains(&s))
}

/// A type's JSON with the protocol's namespace given to a top-level named type that has none.
fn with_namespace(value: &Value, namespace: &str) -> Value {
    match value {
        Value::Object(object) if !namespace.is_empty() && object.get("namespace").is_none() => {
            let mut object = object.clone();
            object.insert("namespace".into(), Value::String(namespace.into()));
            Value::Object(object)
        }
        other => other.clone(),
    }
}

fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}.{name}")
    }
}

/// `value` with every name made full (definitions named by full name, without `namespace`; references
/// by full name), in the enclosing `namespace`; the named definitions met are pushed to `defined`,
/// each with the definitions inside it replaced by references.
fn qualify(value: &Value, namespace: &str, defined: &mut Vec<(String, Value)>) -> Value {
    match value {
        Value::String(name) if !PRIMITIVES.contains(&name.as_str()) => {
            Value::String(reference(name, namespace, defined))
        }
        Value::Array(branches) => Value::Array(
            branches
                .iter()
                .map(|b| qualify(b, namespace, defined))
                .collect(),
        ),
        Value::Object(object) => {
            let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
            let named = matches!(kind, "record" | "error" | "enum" | "fixed");
            let (inner_ns, full) = match (named, object.get("name").and_then(Value::as_str)) {
                (true, Some(name)) => {
                    let ns = object
                        .get("namespace")
                        .and_then(Value::as_str)
                        .unwrap_or(namespace);
                    let full = full_name(name, ns);
                    let inner = full.rsplit_once('.').map_or("", |(ns, _)| ns).to_string();
                    (inner, Some(full))
                }
                _ => (namespace.to_string(), None),
            };
            let mut out = Map::new();
            for (key, member) in object {
                let member = match key.as_str() {
                    "namespace" if full.is_some() => continue,
                    "name" if full.is_some() => Value::String(full.clone().unwrap_or_default()),
                    "items" | "values" => qualify(member, &inner_ns, defined),
                    "type" if !is_kind(member) => qualify(member, &inner_ns, defined),
                    "fields" => map_field_types(member, |ty| qualify(ty, &inner_ns, defined)),
                    _ => member.clone(),
                };
                out.insert(key.clone(), member);
            }
            match full {
                Some(full) => {
                    defined.push((full.clone(), Value::Object(out)));
                    Value::String(full)
                }
                None => Value::Object(out),
            }
        }
        other => other.clone(),
    }
}

/// A reference's full name: as the schema parser resolves it (in the namespace, then as written).
fn reference(name: &str, namespace: &str, defined: &[(String, Value)]) -> String {
    let full = full_name(name, namespace);
    if defined.iter().any(|(n, _)| *n == full) || !defined.iter().any(|(n, _)| n == name) {
        full
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTOCOL: &str = r#"{"protocol": "Mail", "namespace": "org.example",
      "types": [
        {"type": "enum", "name": "Kind", "symbols": ["A", "B"]},
        {"type": "record", "name": "Message", "fields": [
            {"name": "to", "type": "string"},
            {"name": "kind", "type": "Kind"},
            {"name": "reply", "type": ["null", "Message"], "default": null},
            {"name": "part", "type": {"type": "record", "name": "Part", "namespace": "other",
                "fields": [{"name": "k", "type": "org.example.Kind"}]}}]},
        {"type": "record", "name": "Envelope", "fields": [{"name": "m", "type": "Message"},
            {"name": "p", "type": "other.Part"}]}],
      "messages": {"send": {"request": [{"name": "message", "type": "Message"}], "response": "null"}}}"#;

    #[test]
    fn a_type_of_a_protocol_stands_alone() {
        let protocol = Protocol::parse_str(PROTOCOL).unwrap();
        assert_eq!(protocol.name, "org.example.Mail");
        assert_eq!(
            protocol.type_names().collect::<Vec<_>>(),
            [
                "org.example.Kind",
                "other.Part",
                "org.example.Message",
                "org.example.Envelope"
            ]
        );
        let envelope = protocol.schema_json("Envelope").unwrap();
        let schema = Schema::parse_str(&envelope).unwrap_or_else(|e| panic!("{e}: {envelope}"));
        let canonical = crate::parsing_canonical_form(&schema);
        assert_eq!(
            canonical,
            concat!(
                r#"{"name":"org.example.Envelope","type":"record","fields":[{"name":"m","type":"#,
                r#"{"name":"org.example.Message","type":"record","fields":[{"name":"to","type":"string"},"#,
                r#"{"name":"kind","type":{"name":"org.example.Kind","type":"enum","symbols":["A","B"]}},"#,
                r#"{"name":"reply","type":["null","org.example.Message"]},"#,
                r#"{"name":"part","type":{"name":"other.Part","type":"record","fields":[{"name":"k","type":"org.example.Kind"}]}}]}},"#,
                r#"{"name":"p","type":"other.Part"}]}"#
            )
        );
        // A field's default stays.
        assert!(envelope.contains("\"default\":null"));
        assert!(protocol.schema_json("Nothing").is_none());
    }

    #[test]
    fn bad_protocols_are_refused_with_their_path() {
        let e = Protocol::parse_str(r#"{"protocol":"P","types":[{"type":"record","name":"R","fields":[{"name":"x","type":"Missing"}]}]}"#).unwrap_err();
        assert!(e.path.starts_with("types[0]"), "{e}");
        assert!(Protocol::parse_str(r#"{"types":[]}"#).is_err());
    }
}
