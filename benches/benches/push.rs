//! DICOM → DICOM JSON from pushed chunks against the same conversion from an `io::Read`, in the same
//! run: what push input costs. Chunks of 64 KiB (a network stack's size) and of 1 400 bytes (one TCP
//! segment each). Each bench checks once that it wrote the pull conversion's JSON.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dcmflow::{DicomToJson, Input};
use dcmflow_benches::{dicom_to_json, metadata_heavy, pixel_heavy, to_json_options};

fn pushed(chunks: &[Bytes]) -> Vec<u8> {
    let mut conversion = DicomToJson::new(to_json_options()).push(Vec::new());
    for chunk in chunks {
        conversion.push(chunk.clone()).unwrap();
    }
    conversion.finish().unwrap().0
}

fn push(c: &mut Criterion) {
    let mut group = c.benchmark_group("push");
    group.sample_size(10);
    let pixels = pixel_heavy(64 << 20);
    let all_pixels = Bytes::from(pixels.clone());
    let mut pulled_pixels = Vec::new();
    dicom_to_json(Input::reader(&pixels[..]), &mut pulled_pixels);
    let pixel_chunks: Vec<Bytes> = (0..pixels.len())
        .step_by(64 << 10)
        .map(|at| all_pixels.slice(at..(at + (64 << 10)).min(pixels.len())))
        .collect();
    assert_eq!(pushed(&pixel_chunks), pulled_pixels);
    group.throughput(Throughput::Bytes(pixels.len() as u64));
    group.bench_function("pixel_heavy_64MiB_read", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            dicom_to_json(Input::reader(black_box(&pixels[..])), &mut out);
            out.len()
        })
    });
    group.bench_function("pixel_heavy_64MiB_pushed_65536", |b| {
        b.iter(|| pushed(black_box(&pixel_chunks)).len())
    });

    let meta = metadata_heavy(20_000);
    let all = Bytes::from(meta.clone());
    let mut pulled = Vec::new();
    dicom_to_json(Input::reader(&meta[..]), &mut pulled);
    group.throughput(Throughput::Bytes(meta.len() as u64));
    group.bench_function("metadata_heavy_read", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            dicom_to_json(Input::reader(black_box(&meta[..])), &mut out);
            out.len()
        })
    });
    for size in [64 << 10, 1400] {
        let chunks: Vec<Bytes> = (0..meta.len())
            .step_by(size)
            .map(|at| all.slice(at..(at + size).min(meta.len())))
            .collect();
        assert_eq!(pushed(&chunks), pulled);
        group.bench_function(format!("metadata_heavy_pushed_{size}"), |b| {
            b.iter(|| pushed(black_box(&chunks)).len())
        });
    }
    group.finish();
}

criterion_group!(benches, push);
criterion_main!(benches);
