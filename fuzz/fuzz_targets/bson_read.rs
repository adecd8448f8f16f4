//! Any bytes as a stream of BSON documents: Extended JSON (canonical, relaxed or legacy, chosen by the
//! first byte) that serde_json parses, or a clean error; and the same tokens, values and outcome from a
//! slice, from a stream read a few bytes at a time, and from pushed pieces.
#![no_main]
use bytes::Bytes;
use dcmflow_bson::{BsonReader, ErrorKind, ExtJsonWriter, Layout, Mode, ReaderOptions, Token};
use dcmflow_engine::json::format::Compact;
use dcmflow_fuzz::{Cuts, Trickle};
use libfuzzer_sys::fuzz_target;

/// Tokens (value pieces joined) and the outcome: `(kind, offset)` of an error.
fn outline(
    reader: &mut BsonReader<'_>,
    mut more: impl FnMut(&mut BsonReader<'_>) -> bool,
) -> (Vec<String>, Option<(ErrorKind, u64)>) {
    let mut out: Vec<String> = Vec::new();
    let mut joining = false;
    loop {
        match reader.read_token() {
            Ok(Token::End) => return (out, None),
            Ok(Token::Text { bytes, last }) | Ok(Token::Bytes { bytes, last }) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                if joining {
                    out.last_mut().expect("a piece before").push_str(&hex);
                } else {
                    out.push(hex);
                }
                joining = !last;
            }
            Ok(t) => out.push(format!("{t:?}")),
            Err(e) if e.kind() == ErrorKind::NeedInput => {
                assert!(more(reader), "asked for input after the end");
            }
            Err(e) => {
                if joining {
                    out.pop(); // a value cut short may have been handed out in part
                }
                return (out, Some((e.kind(), e.offset())));
            }
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else {
        return;
    };
    let mut options = ReaderOptions::default();
    options.stream = mode & 0x80 == 0;
    options.max_depth = 64;
    options.chunk_size = 1 + (mode as usize & 0x0F) * 7;

    // JSON that parses, or a clean error.
    let json_mode = match mode % 3 {
        0 => Mode::Canonical,
        1 => Mode::Relaxed,
        _ => Mode::Legacy,
    };
    let mut reader = BsonReader::from_slice(data, options.clone());
    let mut writer = ExtJsonWriter::new(Vec::new(), Compact, json_mode, Layout::Array);
    let written = loop {
        match reader.read_token() {
            Ok(token) => {
                writer
                    .write_token(&token)
                    .expect("the writer takes the reader's tokens");
                if token == Token::End {
                    break true;
                }
            }
            Err(_) => break false,
        }
    };
    if written {
        let json = writer.finish().expect("in memory");
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&json) {
            // serde_json stops at 128 levels; every other failure is ours.
            assert!(
                e.to_string().contains("recursion limit"),
                "invalid JSON: {e}: {}",
                String::from_utf8_lossy(&json)
            );
        }
    }

    // The same reading from every input kind.
    let expected = outline(&mut BsonReader::from_slice(data, options.clone()), |_| {
        false
    });
    let read = 1 + (mode as usize >> 4);
    let mut stream = BsonReader::from_reader(Trickle { data, step: read }, options.clone());
    assert_eq!(outline(&mut stream, |_| false), expected, "stream");
    let mut pieces = Cuts::new(data, 1 + (mode as usize & 7), mode as usize >> 5);
    let mut pushed = BsonReader::pushed(options);
    let mut ended = false;
    let got = outline(&mut pushed, |r| match pieces.next() {
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
});
