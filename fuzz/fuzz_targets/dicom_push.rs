//! Push input must read like the io::Read reader on any input, however it is cut: the same tokens with
//! the same offsets, the same values, warnings and outcome. The first byte chooses the cuts.
#![no_main]
use dcmflow_core::{ErrorKind, Token};
use dcmflow_dicom::{DicomReader, ReaderOptions};
use dcmflow_fuzz::Cuts;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq)]
struct Summary {
    tokens: Vec<(String, u64)>,
    values: Vec<u8>,
    warnings: Vec<String>,
    error: Option<(ErrorKind, u64)>,
}

fn summary(
    reader: &mut DicomReader<'_>,
    limit: usize,
    mut more: impl FnMut(&mut DicomReader<'_>) -> bool,
) -> Summary {
    let (mut tokens, mut values, mut error) = (Vec::new(), Vec::new(), None);
    let mut steps = 0;
    while steps < limit {
        match reader.read_token() {
            Ok(Token::Eof) => break,
            // Value pieces each take at least one byte, so they need no limit; push input cuts them at
            // its chunk boundaries, so they are not counted.
            Ok(Token::Value { bytes, .. }) => {
                values.extend_from_slice(bytes);
                continue;
            }
            Ok(t) => {
                let t = format!("{t:?}");
                tokens.push((t, reader.token_offset()));
            }
            Err(e) if e.kind == ErrorKind::NeedInput => {
                assert!(more(reader), "asked for input after the end");
                continue;
            }
            Err(e) => {
                error = Some((e.kind, e.offset));
                break;
            }
        }
        steps += 1;
    }
    let warnings = reader
        .warnings()
        .iter()
        .map(|w| format!("{:?}@{}", w.kind, w.offset))
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
    let options = ReaderOptions {
        chunk_size: 5,
        ..ReaderOptions::default()
    };
    let expected = summary(
        &mut DicomReader::from_reader(data, options.clone()),
        limit,
        |_| false,
    );
    // Cuts every `step` bytes, the step growing by `mode`'s high bits.
    let step = 1 + usize::from(mode & 0x0F);
    let grow = usize::from(mode >> 4);
    let mut pieces = Cuts::new(data, step, grow);
    let mut reader = DicomReader::pushed(options);
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
    let inflate = |s: &Summary| s.error.map(|e| e.0) == Some(ErrorKind::Inflate);
    if inflate(&got) && inflate(&expected) {
        // A corrupt deflate stream: how much was inflated before the decoder saw the corruption (and so
        // where the error is, and what was read up to it) depends on the size of the decoder's calls,
        // which differ between the two inputs. Up to the shorter, the same.
        let n = got.values.len().min(expected.values.len());
        assert_eq!(got.values[..n], expected.values[..n]);
        let t = got.tokens.len().min(expected.tokens.len());
        assert_eq!(got.tokens[..t], expected.tokens[..t]);
        return;
    }
    assert_eq!(got, expected);
});
