//! Avro → JSON on synthetic container files (made here with the binary encoding written out): records
//! like GA4GH's Variant (strings, a long, a union of null and string, an array of doubles, a map of
//! strings), and records of one large `bytes` value; Avro's JSON encoding and GA4GH's, on one thread and
//! on two; and back, JSON → Avro on the same records. Each bench checks once what it converted. The
//! `latin1_roofline` benches run the ISO-8859-1 kernels alone over the same bytes as the `bytes_1MiB`
//! conversions: the bound a bytes-heavy conversion is measured against; `avro2json_deflate` converts the
//! variants written with the deflate codec against reading and inflating their blocks alone.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dcmflow::avro::Encoding;
use dcmflow::{AvroFraming, AvroToJson, AvroToJsonOptions, JsonToAvro, JsonToAvroOptions, Threads};

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
    let value = large_value();
    container(
        r#"{"type":"record","name":"Blob","fields":[{"name":"data","type":"bytes"}]}"#,
        32,
        1,
        |_, d| bytes(&value, d),
    )
}

fn convert(avro: &[u8], encoding: Encoding, threads: Threads) -> (Vec<u8>, u64) {
    convert_with(
        avro,
        encoding,
        threads,
        AvroToJsonOptions::default().stream_blocks_above,
    )
}

/// [`convert`], blocks over `stream_above` bytes streamed rather than held.
fn convert_with(
    avro: &[u8],
    encoding: Encoding,
    threads: Threads,
    stream_above: usize,
) -> (Vec<u8>, u64) {
    let mut options = AvroToJsonOptions::default();
    options.encoding = encoding;
    options.threads = threads;
    options.stream_blocks_above = stream_above;
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
        // Every block held (the bytes_1MiB blocks pass the default bound and are streamed).
        group.bench_function(format!("{name}_avro_one_thread_held"), |b| {
            b.iter(|| convert_with(black_box(&avro), Encoding::Avro, Threads::One, usize::MAX).1)
        });
    }
    group.finish();
}

fn large_value() -> Vec<u8> {
    (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// The ISO-8859-1 kernels alone over the 32 values of `bytes_1MiB`.
fn latin1_roofline(c: &mut Criterion) {
    let value = large_value();
    let mut group = c.benchmark_group("latin1_roofline");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(32 * value.len() as u64));
    let mut json = Vec::with_capacity(value.len() * 3);
    group.bench_function("bytes_to_json_32MiB", |b| {
        b.iter(|| {
            for _ in 0..32 {
                json.clear();
                dcmflow_simd::append_latin1_as_json(black_box(&value), &mut json);
            }
            json.len()
        })
    });
    let mut text = Vec::new();
    dcmflow_simd::append_latin1_as_json(&value, &mut text);
    let mut back = Vec::with_capacity(value.len());
    group.bench_function("json_to_bytes_32MiB", |b| {
        b.iter(|| {
            for _ in 0..32 {
                back.clear();
                // Only the UTF-8 → ISO-8859-1 step: `text` holds escapes too, counted as bytes here.
                let _ = dcmflow_simd::append_utf8_as_latin1(black_box(&text), &mut back);
            }
            back.len()
        })
    });
    group.finish();
}

fn json_to_avro(c: &mut Criterion) {
    let mut group = c.benchmark_group("json2avro");
    group.sample_size(10);
    let blob = r#"{"type":"record","name":"Blob","fields":[{"name":"data","type":"bytes"}]}"#;
    for (name, schema, avro) in [
        ("variants", VARIANT, variants()),
        ("bytes_1MiB", blob, large_bytes()),
    ] {
        let (json, data) = convert(&avro, Encoding::Avro, Threads::One);
        let mut options = JsonToAvroOptions::default();
        options.framing = AvroFraming::Bare;
        let conversion = JsonToAvro::new(schema, options).unwrap();
        let mut bare = Vec::new();
        assert_eq!(
            conversion.convert(&json[..], &mut bare).unwrap().documents,
            data
        );
        group.throughput(Throughput::Bytes(json.len() as u64));
        group.bench_function(format!("{name}_bare"), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(bare.len());
                conversion.convert(black_box(&json[..]), &mut out).unwrap();
                out.len()
            })
        });
    }
    group.finish();
}

/// The variants as a deflate container file (Java's block size, deflate level 6): converted, on one
/// thread and two, against inflating its blocks alone.
fn deflate_input(c: &mut Criterion) {
    let (json, data) = convert(&variants(), Encoding::Avro, Threads::One);
    let mut options = JsonToAvroOptions::default();
    options.container.codec = dcmflow::avro::Codec::Deflate;
    options.container.sync = Some([7; 16]);
    let mut file = Vec::new();
    JsonToAvro::new(VARIANT, options)
        .unwrap()
        .convert(&json[..], &mut file)
        .unwrap();
    assert!(convert(&file, Encoding::Avro, Threads::Two).0 == json);
    let mut group = c.benchmark_group("avro2json_deflate");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(file.len() as u64));
    group.bench_function("variants_inflate_alone", |b| {
        b.iter(|| {
            let mut reader =
                dcmflow::avro::ContainerReader::new(black_box(&file[..]), 64 << 20).unwrap();
            let mut count = 0;
            while let Some(block) = reader.next_block().unwrap() {
                count += block.count;
            }
            assert_eq!(count, data);
            count
        })
    });
    for (label, threads) in [("one_thread", Threads::One), ("two_threads", Threads::Two)] {
        group.bench_function(format!("variants_{label}"), |b| {
            b.iter(|| convert(black_box(&file), Encoding::Avro, threads).1)
        });
    }
    group.finish();
}

criterion_group!(benches, avro, latin1_roofline, json_to_avro, deflate_input);
criterion_main!(benches);
