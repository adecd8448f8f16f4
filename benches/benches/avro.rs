//! Avro → JSON on synthetic container files (made here with the binary encoding written out): records
//! like GA4GH's Variant (strings, a long, a union of null and string, an array of doubles, a map of
//! strings), and records of one large `bytes` value; Avro's JSON encoding and GA4GH's, on one thread and
//! on two. Each bench checks once what it converted.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dcmflow::avro::Encoding;
use dcmflow::{AvroToJson, AvroToJsonOptions, Threads};

fn long(v: i64, out: &mut Vec<u8>) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push(z as u8 | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn bytes(b: &[u8], out: &mut Vec<u8>) {
    long(b.len() as i64, out);
    out.extend_from_slice(b);
}

/// A container file of `schema` whose blocks hold `per_block` data each, `datum(i)` encoding the i-th.
fn container(
    schema: &str,
    blocks: usize,
    per_block: usize,
    mut datum: impl FnMut(usize, &mut Vec<u8>),
) -> Vec<u8> {
    let mut file = b"Obj\x01".to_vec();
    long(1, &mut file);
    bytes(b"avro.schema", &mut file);
    bytes(schema.as_bytes(), &mut file);
    long(0, &mut file);
    let sync = [0x5Au8; 16];
    file.extend_from_slice(&sync);
    let mut n = 0;
    for _ in 0..blocks {
        let mut data = Vec::new();
        for _ in 0..per_block {
            datum(n, &mut data);
            n += 1;
        }
        long(per_block as i64, &mut file);
        bytes(&data, &mut file);
        file.extend_from_slice(&sync);
    }
    file
}

const VARIANT: &str = r#"{"type":"record","name":"Variant","namespace":"org.ga4gh","fields":[
  {"name":"id","type":"string"},{"name":"referenceName","type":"string"},{"name":"start","type":"long"},
  {"name":"name","type":["null","string"]},{"name":"likelihoods","type":{"type":"array","items":"double"}},
  {"name":"info","type":{"type":"map","values":"string"}}]}"#;

fn variants() -> Vec<u8> {
    container(VARIANT, 200, 500, |i, d| {
        bytes(format!("vs-1:chr1:{}", 10_000 + i).as_bytes(), d);
        bytes(b"chr1", d);
        long(10_000 + i as i64, d);
        if i % 3 == 0 {
            long(0, d);
        } else {
            long(1, d);
            bytes(format!("rs{}", 150_000 + i).as_bytes(), d);
        }
        long(3, d);
        for k in 0..3 {
            d.extend_from_slice(&(-(i as f64 + k as f64) / 7.0).to_le_bytes());
        }
        long(0, d);
        long(2, d);
        bytes(b"AF", d);
        bytes(b"0.0907", d);
        bytes(b"DP", d);
        bytes(b"415", d);
        long(0, d);
    })
}

fn large_bytes() -> Vec<u8> {
    let value: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    container(
        r#"{"type":"record","name":"Blob","fields":[{"name":"data","type":"bytes"}]}"#,
        32,
        1,
        |_, d| bytes(&value, d),
    )
}

fn convert(avro: &[u8], encoding: Encoding, threads: Threads) -> (Vec<u8>, u64) {
    let mut options = AvroToJsonOptions::default();
    options.encoding = encoding;
    options.threads = threads;
    let mut out = Vec::with_capacity(avro.len() * 4);
    let report = AvroToJson::new(options).convert(avro, &mut out).unwrap();
    (out, report.documents)
}

fn avro(c: &mut Criterion) {
    let mut group = c.benchmark_group("avro2json");
    group.sample_size(10);
    for (name, avro, data) in [
        ("variants", variants(), 100_000),
        ("bytes_1MiB", large_bytes(), 32),
    ] {
        let (json, converted) = convert(&avro, Encoding::Avro, Threads::One);
        assert_eq!(converted, data, "{name}");
        assert_eq!(
            json.iter().filter(|&&b| b == b'\n').count() as u64,
            data,
            "{name}"
        );
        assert!(
            convert(&avro, Encoding::Avro, Threads::Two).0 == json,
            "{name}"
        );
        group.throughput(Throughput::Bytes(avro.len() as u64));
        for (label, encoding, threads) in [
            ("avro_one_thread", Encoding::Avro, Threads::One),
            ("ga4gh_one_thread", Encoding::Ga4gh, Threads::One),
            ("avro_two_threads", Encoding::Avro, Threads::Two),
        ] {
            group.bench_function(format!("{name}_{label}"), |b| {
                b.iter(|| convert(black_box(&avro), encoding, threads).1)
            });
        }
    }
    group.finish();
}

criterion_group!(benches, avro);
criterion_main!(benches);
