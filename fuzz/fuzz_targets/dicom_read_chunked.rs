//! The io::Read reader with tiny chunks must agree with the slice reader on any input: the same tokens
//! and values, or the same error at the same offset (a slice may fail one token earlier, knowing its
//! length; after a corrupt deflate stream, where the error is depends on the decoder's call sizes).
#![no_main]
use dcmflow_core::{ErrorKind, Token};
use dcmflow_dicom::{DicomReader, ReaderOptions};
use libfuzzer_sys::fuzz_target;

/// Value bytes compared at most: a deflated data set expands, so a small input can hold a huge value
/// (read in 3-byte chunks by one reader, whole by the other). Both stop at the same byte.
const VALUE_BUDGET: usize = 1 << 20;

/// Tokens, value bytes, the error (kind and offset) it ended with, and whether it stopped at the value
/// budget.
type Summary = (Vec<String>, Vec<u8>, Option<(ErrorKind, u64)>, bool);

fn summary(mut reader: DicomReader<'_>, limit: usize) -> Summary {
    let (mut tokens, mut values, mut error, mut budget) = (Vec::new(), Vec::new(), None, false);
    let mut steps = 0;
    while steps < limit {
        match reader.read_token() {
            Ok(Token::Eof) => break,
            // Value pieces each take at least one byte and are not counted: the two readers cut them
            // differently.
            Ok(Token::Value { bytes, .. }) => {
                values.extend_from_slice(bytes);
                if values.len() >= VALUE_BUDGET {
                    values.truncate(VALUE_BUDGET);
                    budget = true;
                    break;
                }
                continue;
            }
            Ok(t) => tokens.push(format!("{t:?}")),
            Err(e) => {
                error = Some((e.kind, e.offset));
                break;
            }
        }
        steps += 1;
    }
    (tokens, values, error, budget)
}

fuzz_target!(|data: &[u8]| {
    let limit = data.len() * 2 + 64;
    let (t1, v1, e1, b1) = summary(
        DicomReader::from_slice(data, ReaderOptions::default()),
        limit,
    );
    let options = ReaderOptions {
        chunk_size: 3,
        ..ReaderOptions::default()
    };
    let (t2, v2, e2, b2) = summary(DicomReader::from_reader(data, options), limit);
    if b1 || b2 {
        // One stopped at the value budget: what both read up to there is the same.
        let n = v1.len().min(v2.len());
        assert_eq!(v1[..n], v2[..n]);
        let t = t1.len().min(t2.len());
        assert_eq!(t1[..t], t2[..t]);
        return;
    }
    let inflate = |e: &Option<(ErrorKind, u64)>| e.is_some_and(|e| e.0 == ErrorKind::Inflate);
    if inflate(&e1) && inflate(&e2) {
        return;
    }
    assert_eq!(e1, e2);
    if e1.is_none() {
        assert_eq!(t1, t2);
        assert_eq!(v1, v2);
    }
});
