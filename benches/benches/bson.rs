//! BSON ⇄ Extended JSON on synthetic collections (made with the crate's own `BsonWriter`): flat documents
//! of mixed scalars (like BSONBench's flat document), deep nesting, non-ASCII text, and 1 MiB binary
//! values; the BSON reader alone beside the whole conversion; and the same collections' relaxed and
//! canonical Extended JSON back into BSON. Each bench checks once what it converted.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dcmflow::bson::{
    BsonReader, BsonWriter, Container, ElementType, Mode, ReaderOptions, Scalar, Token,
    WriterOptions,
};
use dcmflow::{BsonToJson, BsonToJsonOptions, JsonToBson, JsonToBsonOptions};

/// A stream of documents built from tokens.
fn collection(
    documents: usize,
    mut document: impl FnMut(usize, &mut Vec<Token<'static>>),
) -> Vec<u8> {
    let mut writer = BsonWriter::new(Vec::new(), WriterOptions::default());
    let mut tokens = Vec::new();
    for i in 0..documents {
        tokens.clear();
        tokens.push(Token::DocumentStart(Container::Top));
        document(i, &mut tokens);
        tokens.push(Token::DocumentEnd);
        for token in &tokens {
            writer.write_token(token).unwrap();
        }
    }
    writer.finish().unwrap()
}

fn element(tokens: &mut Vec<Token<'static>>, ty: ElementType, key: &'static str) {
    tokens.push(Token::Element { ty, key });
}

const KEYS: [&str; 8] = [
    "name", "count", "ratio", "when", "flag", "id", "comment", "total",
];

fn flat() -> Vec<u8> {
    collection(20_000, |i, t| {
        for round in 0..6 {
            let n = (i * 7 + round) as i32;
            element(t, ElementType::String, KEYS[0]);
            t.push(Token::Text {
                bytes: b"an ordinary ASCII string",
                last: true,
            });
            element(t, ElementType::Int32, KEYS[1]);
            t.push(Token::Scalar(Scalar::Int32(n)));
            element(t, ElementType::Double, KEYS[2]);
            t.push(Token::Scalar(Scalar::Double(f64::from(n) / 7.0)));
            element(t, ElementType::DateTime, KEYS[3]);
            t.push(Token::Scalar(Scalar::DateTime(
                1_700_000_000_000 + i64::from(n),
            )));
            element(t, ElementType::Boolean, KEYS[4]);
            t.push(Token::Scalar(Scalar::Boolean(n % 2 == 0)));
            element(t, ElementType::Int64, KEYS[5]);
            t.push(Token::Scalar(Scalar::Int64(i64::from(n) << 33)));
            element(t, ElementType::Null, KEYS[6]);
            t.push(Token::Scalar(Scalar::Null));
        }
    })
}

fn deep() -> Vec<u8> {
    collection(2_000, |_, t| {
        for _ in 0..60 {
            element(t, ElementType::Document, "level");
            t.push(Token::DocumentStart(Container::Document));
            element(t, ElementType::Int32, "n");
            t.push(Token::Scalar(Scalar::Int32(1)));
        }
        for _ in 0..60 {
            t.push(Token::DocumentEnd);
        }
    })
}

fn text() -> Vec<u8> {
    const TEXT: &str = "Grüße aus Zürich — 東京 «quoted» \"escaped\"\tand a line\n";
    collection(20_000, |_, t| {
        for key in KEYS {
            element(t, ElementType::String, key);
            t.push(Token::Text {
                bytes: TEXT.as_bytes(),
                last: true,
            });
        }
    })
}

fn binary() -> Vec<u8> {
    static DATA: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let data = DATA.get_or_init(|| {
        (0..1u32 << 20)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect()
    });
    collection(64, |_, t| {
        element(t, ElementType::Binary, "data");
        t.push(Token::BinaryStart {
            subtype: 0,
            len: data.len() as u32,
        });
        t.push(Token::Bytes {
            bytes: data,
            last: true,
        });
    })
}

fn convert(bson: &[u8], mode: Mode) -> (Vec<u8>, u64) {
    let mut options = BsonToJsonOptions::default();
    options.mode = mode;
    let mut out = Vec::with_capacity(bson.len() * 2);
    let report = BsonToJson::new(options).convert(bson, &mut out).unwrap();
    (out, report.documents)
}

fn read_only(bson: &[u8]) -> usize {
    let mut options = ReaderOptions::default();
    options.stream = true;
    let mut reader = BsonReader::from_slice(bson, options);
    let mut tokens = 0;
    while reader.read_token().unwrap() != Token::End {
        tokens += 1;
    }
    tokens
}

fn bson(c: &mut Criterion) {
    let mut group = c.benchmark_group("bson2json");
    group.sample_size(10);
    for (name, bson, documents) in [
        ("flat", flat(), 20_000),
        ("deep", deep(), 2_000),
        ("text", text(), 20_000),
        ("binary_1MiB", binary(), 64),
    ] {
        // What is measured converts every document, and the JSON is one line per document.
        let (json, converted) = convert(&bson, Mode::Relaxed);
        assert_eq!(converted, documents, "{name}");
        assert_eq!(
            json.iter().filter(|&&b| b == b'\n').count() as u64,
            documents,
            "{name}"
        );
        group.throughput(Throughput::Bytes(bson.len() as u64));
        group.bench_function(format!("{name}_read"), |b| {
            b.iter(|| read_only(black_box(&bson)))
        });
        for (label, mode) in [("relaxed", Mode::Relaxed), ("canonical", Mode::Canonical)] {
            group.bench_function(format!("{name}_{label}"), |b| {
                b.iter(|| convert(black_box(&bson), mode).1)
            });
        }
    }
    group.finish();
}

fn to_bson(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    JsonToBson::new(JsonToBsonOptions::default())
        .convert(json, &mut out)
        .unwrap();
    out
}

fn json(c: &mut Criterion) {
    let mut group = c.benchmark_group("json2bson");
    group.sample_size(10);
    for (name, bson) in [
        ("flat", flat()),
        ("deep", deep()),
        ("text", text()),
        ("binary_1MiB", binary()),
    ] {
        for (label, mode) in [("relaxed", Mode::Relaxed), ("canonical", Mode::Canonical)] {
            let (json, documents) = convert(&bson, mode);
            // What is measured gives the collection back: byte for byte from canonical JSON, the same
            // number of documents from relaxed (where an int64 that fits in 32 bits comes back int32).
            let back = to_bson(&json);
            if mode == Mode::Canonical {
                assert!(back == bson, "{name} {label}");
            }
            let mut reader = BsonReader::from_slice(&back, {
                let mut options = ReaderOptions::default();
                options.stream = true;
                options
            });
            let mut tops = 0;
            loop {
                match reader.read_token().unwrap() {
                    Token::DocumentStart(Container::Top) => tops += 1,
                    Token::End => break,
                    _ => {}
                }
            }
            assert_eq!(tops, documents, "{name} {label}");
            group.throughput(Throughput::Bytes(json.len() as u64));
            group.bench_function(format!("{name}_{label}"), |b| {
                b.iter(|| to_bson(black_box(&json)).len())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bson, json);
criterion_main!(benches);
