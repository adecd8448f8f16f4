//! DICOM → DICOM JSON throughput, against a streaming roofline timed in the same run: read the value in
//! chunks, base64 each chunk into a reused buffer, write it out (the least any inline converter must do).
//! Each bench checks once what it produced, so a broken fast path cannot look fast.

use std::hint::black_box;
use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dcmflow::json::bulk::{BulkSelection, SourceReference};
use dcmflow::DicomToJson;
use dcmflow_benches::{dicom_to_json, metadata_heavy, pixel_heavy, to_json_options, Sink};

fn to_json(c: &mut Criterion) {
    let mut group = c.benchmark_group("to_json");
    group.sample_size(10);

    let meta = metadata_heavy(20_000);
    let mut check = Sink::default();
    dicom_to_json(&meta, &mut check);
    assert!(check.head.starts_with(b"{\"") && check.written > meta.len() as u64);
    group.throughput(Throughput::Bytes(meta.len() as u64));
    group.bench_function("metadata_heavy_20000_items", |b| {
        b.iter(|| {
            let mut sink = Sink::default();
            dicom_to_json(black_box(&meta), &mut sink);
            sink.written
        })
    });

    let pixels = pixel_heavy(256 << 20);
    let mut check = Sink::default();
    dicom_to_json(&pixels, &mut check);
    assert!(check.written >= (256u64 << 20) * 4 / 3);
    group.throughput(Throughput::Bytes(pixels.len() as u64));
    group.bench_function("pixel_heavy_256MiB_inline", |b| {
        b.iter(|| {
            let mut sink = Sink::default();
            dicom_to_json(black_box(&pixels), &mut sink);
            sink.written
        })
    });
    group.bench_function("pixel_heavy_256MiB_bulk_ref", |b| {
        b.iter(|| {
            let mut handler = SourceReference {
                selection: BulkSelection::binary(1024),
                source_uri: "file:///bench.dcm".into(),
            };
            let mut sink = Sink::default();
            DicomToJson::new(to_json_options())
                .bulk_handler(&mut handler)
                .convert(black_box(&pixels), dcmflow::Output::stream(&mut sink))
                .unwrap();
            assert!(sink.written < 4096);
            sink.written
        })
    });
    // The roofline: base64 of the same bytes in 256 KiB chunks into a reused buffer, written out.
    group.bench_function("roofline_base64_256MiB", |b| {
        let mut buf = Vec::with_capacity(512 << 10);
        b.iter(|| {
            let mut sink = Sink::default();
            for chunk in black_box(&pixels).chunks(255 << 10) {
                buf.clear();
                dcmflow_simd::append_encoded(chunk, &mut buf);
                sink.write_all(&buf).unwrap();
            }
            sink.written
        })
    });
    group.finish();
}

criterion_group!(benches, to_json);
criterion_main!(benches);
