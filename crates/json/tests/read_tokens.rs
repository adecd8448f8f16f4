use dcmflow_core::Token;
use dcmflow_json::read::{JsonReader, ReadOptions};

fn tokens(json: &str) -> Result<Vec<String>, String> {
    let mut r = JsonReader::from_slice(json.as_bytes(), ReadOptions::default());
    let mut out = Vec::new();
    loop {
        let t = r.read_token().map_err(|e| e.to_string())?;
        out.push(format!("{t:?}"));
        if t == Token::Eof {
            return Ok(out);
        }
    }
}

#[test]
fn debug_two_items() {
    let t = tokens(
        r#"{"00700087": {"vr": "SQ", "Value": [{"00700081": {"vr": "LO", "Value": ["x"]}}, {"00700081": {"vr": "LO", "Value": ["y"]}}]}}"#,
    );
    println!("{t:#?}");
}
