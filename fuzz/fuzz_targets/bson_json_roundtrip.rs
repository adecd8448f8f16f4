//! Any bytes as BSON, and back through canonical Extended JSON: what the BSON reader takes comes back
//! as its canonical BSON byte for byte, unless it holds what Extended JSON cannot carry (bson-corpus.md
//! `lossy`: NaN payloads, non-canonical Decimal128) or `$`-prefixed keys below the top level (which
//! Extended JSON cannot tell from a type wrapper: extended-json.md, "Restrictions and limitations").
#![no_main]
use dcmflow_bson::decimal128::Decimal128;
use dcmflow_bson::{
    BsonReader, BsonWriter, Container, ExtJsonOptions, ExtJsonReader, Mode, ReaderOptions, Scalar,
    Token, WriterOptions,
};
use dcmflow_fuzz::{documents, extended_json};
use libfuzzer_sys::fuzz_target;

/// The canonical BSON of `bson` (the writer's), and whether canonical Extended JSON carries it exactly.
fn canonical(bson: &[u8], stream: bool) -> Option<(Vec<u8>, bool)> {
    let mut options = ReaderOptions::default();
    options.stream = stream;
    let mut reader = BsonReader::from_slice(bson, options);
    let mut writer = BsonWriter::new(Vec::new(), WriterOptions::default());
    let (mut exact, mut depth) = (true, 0usize);
    loop {
        let token = reader.read_token().ok()?;
        match token {
            Token::DocumentStart(Container::Top) => depth = 1,
            Token::DocumentStart(_) => depth += 1,
            Token::DocumentEnd => depth -= 1,
            Token::Element { key, .. } if depth > 1 && key.starts_with('$') => exact = false,
            Token::Scalar(Scalar::Double(v)) if v.is_nan() && v.to_bits() != f64::NAN.to_bits() => {
                exact = false
            }
            Token::Scalar(Scalar::Decimal128(b)) if Decimal128::from_bytes(b).to_bytes() != b => {
                exact = false
            }
            _ => {}
        }
        writer.write_token(&token).ok()?;
        if token == Token::End {
            return Some((writer.finish().ok()?, exact));
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, bson)) = input.split_first() else {
        return;
    };
    let stream = mode & 1 == 0;
    let Some((canonical_bson, exact)) = canonical(bson, stream) else {
        return;
    };
    let json = extended_json(bson, stream, Mode::Canonical).expect("read once already");
    let (docs, error) = documents(
        &mut ExtJsonReader::from_slice(&json, ExtJsonOptions::default()),
        |_| false,
    );
    if exact {
        assert_eq!(error, None, "{}", String::from_utf8_lossy(&json));
        assert_eq!(docs.concat(), canonical_bson, "{}", String::from_utf8_lossy(&json));
    }
    if error.is_none() {
        // Whatever was lost, it is lost once: the JSON of what came back is the JSON it came from.
        let again = extended_json(&docs.concat(), true, Mode::Canonical).expect("our own BSON");
        assert_eq!(
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(&json)
        );
    }
});
