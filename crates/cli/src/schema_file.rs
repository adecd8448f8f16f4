//! `--schema-file`: an Avro schema (.avsc), or a protocol (.avpr) with `--type` naming one of its types.

use std::path::Path;

use dcmflow::avro::protocol::SchemaFile;

/// The schema's JSON text from `path`: the file itself, or the type `type_name` of the protocol it
/// holds. Errors name the file and say what to give.
pub fn schema_text(path: &Path, type_name: Option<&str>) -> Result<String, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let protocol = match SchemaFile::parse(&text).map_err(|e| format!("{name}: {e}"))? {
        SchemaFile::Protocol(protocol) => protocol,
        SchemaFile::Schema(text) => {
            return match type_name {
                None => Ok(text),
                Some(_) => Err(format!(
                    "{name}: --type picks a type of a protocol (.avpr); this is a schema"
                )),
            }
        }
    };
    let names: Vec<&str> = protocol.type_names().collect();
    let Some(type_name) = type_name else {
        return Err(format!(
            "{name} is a protocol: give --type with one of its types ({})",
            names.join(", ")
        ));
    };
    protocol.schema_json(type_name).ok_or_else(|| {
        format!(
            "{name}: the protocol has no type '{type_name}' (or more than one of that simple name): {}",
            names.join(", ")
        )
    })
}
