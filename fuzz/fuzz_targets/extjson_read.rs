//! Any bytes as Extended JSON (legacy forms on or off, chosen by the first byte): BSON documents or a
//! clean error, the same from a slice, a stream read a few bytes at a time and pushed pieces; every
//! document is valid BSON, and its canonical Extended JSON reads back to the same bytes.
#![no_main]
use bytes::Bytes;
use dcmflow_bson::{BsonReader, ExtJsonOptions, ExtJsonReader, Mode, ReaderOptions, Token};
use dcmflow_fuzz::{documents, extended_json, Cuts, Trickle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else {
        return;
    };
    let mut options = ExtJsonOptions::default();
    options.legacy = mode & 1 == 1;
    options.max_depth = 64;
    options.max_document_size = 1 << 20;

    let expected = documents(&mut ExtJsonReader::from_slice(data, options.clone()), |_| {
        false
    });
    let read = 1 + (mode as usize >> 4);
    let mut stream = ExtJsonReader::from_reader(Trickle { data, step: read }, options.clone());
    assert_eq!(documents(&mut stream, |_| false), expected, "stream");
    let mut pieces = Cuts::new(data, 1 + (mode as usize >> 1 & 7), mode as usize >> 5);
    let mut pushed = ExtJsonReader::pushed(options);
    let mut ended = false;
    let got = documents(&mut pushed, |r| match pieces.next() {
        Some(piece) => {
            r.push(Bytes::copy_from_slice(piece));
            true
        }
        None if ended => false,
        None => {
            r.end_input();
            ended = true;
            true
        }
    });
    assert_eq!(got, expected, "pushed");

    for doc in &expected.0 {
        // Valid BSON: one document the BSON reader takes whole.
        let mut reader = BsonReader::from_slice(doc, ReaderOptions::default());
        while let Ok(token) = reader.read_token() {
            if token == Token::End {
                break;
            }
        }
        let json = extended_json(doc, false, Mode::Canonical)
            .unwrap_or_else(|| panic!("the BSON written is refused: {doc:02X?}"));
        // Canonical Extended JSON holds every type: it reads back to the same bytes.
        let back = documents(
            &mut ExtJsonReader::from_slice(&json, ExtJsonOptions::default()),
            |_| false,
        );
        assert_eq!(
            back,
            (vec![doc.clone()], None),
            "{}",
            String::from_utf8_lossy(&json)
        );
    }
});
