//! Pushed JSON must read like the io::Read reader on any input, however it is cut: the same tokens, the
//! same value bytes and warnings, or the same error (with its line, column, offset and path). The first
//! byte chooses the cuts. Before an error the tokens may differ: a long InlineBinary is measured in the
//! buffer or spooled depending on how much input was there, and a spooled value's bad base64 is found
//! before its element goes out (the error itself is placed at the value's start either way).
#![no_main]
use dcmflow::json::read::{JsonReader, ReadErrorKind, ReadOptions};
use dcmflow_core::Token;
use dcmflow_fuzz::Cuts;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq)]
struct Summary {
    tokens: Vec<String>,
    values: Vec<u8>,
    warnings: Vec<String>,
    error: Option<String>,
}

fn summary(
    reader: &mut JsonReader<'_>,
    limit: usize,
    mut more: impl FnMut(&mut JsonReader<'_>) -> bool,
) -> Summary {
    let (mut tokens, mut values, mut error) = (Vec::new(), Vec::new(), None);
    let mut steps = 0;
    while steps < limit {
        match reader.read_token() {
            Ok(Token::Eof) => break,
            // Binary values come in pieces whose size depends on how the text was read (measured in
            // the buffer, or spooled): their bytes are compared, not their pieces.
            Ok(Token::Value { bytes, .. }) => {
                values.extend_from_slice(bytes);
                continue;
            }
            Ok(t) => tokens.push(format!("{t:?}")),
            Err(e) if e.kind == ReadErrorKind::NeedInput => {
                assert!(more(reader), "asked for input after the end");
                continue;
            }
            Err(e) => {
                error = Some(format!("{e:?}"));
                break;
            }
        }
        steps += 1;
    }
    let warnings = reader
        .warnings()
        .0
        .iter()
        .map(|w| format!("{w:?}"))
        .collect();
    Summary {
        tokens,
        values,
        warnings,
        error,
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else {
        return;
    };
    let limit = data.len() * 2 + 64;
    let options = ReadOptions {
        chunk_size: 7,
        hold_binary: 64,
        lenient: mode & 0x80 != 0,
        ..ReadOptions::default()
    };
    let expected = summary(
        &mut JsonReader::from_reader(data, options.clone()),
        limit,
        |_| false,
    );
    // Cuts every `step` bytes, the step growing by `mode`'s bits 4-6.
    let step = 1 + usize::from(mode & 0x0F);
    let grow = usize::from((mode >> 4) & 0x07);
    let mut pieces = Cuts::new(data, step, grow);
    let mut reader = JsonReader::pushed(options);
    let mut ended = false;
    let got = summary(&mut reader, limit, |r| match pieces.next() {
        Some(piece) => {
            r.push(bytes::Bytes::copy_from_slice(piece));
            true
        }
        None if !ended => {
            r.end_input();
            ended = true;
            true
        }
        None => false,
    });
    if expected.error.is_some() {
        assert_eq!(got.error, expected.error);
    } else {
        assert_eq!(got, expected);
    }
});
