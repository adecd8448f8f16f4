//! DICOM → DICOM JSON and back from pushed chunks against the same conversions from an `io::Read`, in
//! the same run: what push input costs. Chunks of 64 KiB (a network stack's size) and of 1 400 bytes
//! (one TCP segment each). Each bench checks once that it wrote the pull conversion's output.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dcmflow::{DicomToJson, Input, JsonToDicom, Output};
use dcmflow_benches::{
    dicom_to_json, metadata_heavy, pixel_heavy, to_dicom_options, to_json_options,
};

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

fn pushed_json(chunks: &[Bytes]) -> Vec<u8> {
    let mut conversion = JsonToDicom::new(to_dicom_options()).push(Vec::new());
    for chunk in chunks {
        conversion.push(chunk.clone()).unwrap();
    }
    conversion.finish().unwrap().0
}

fn pulled_json(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    JsonToDicom::new(to_dicom_options())
        .convert(Input::reader(json), Output::stream(&mut out))
        .unwrap();
    out
}

fn chunks_of(all: &Bytes, size: usize) -> Vec<Bytes> {
    (0..all.len())
        .step_by(size)
        .map(|at| all.slice(at..(at + size).min(all.len())))
        .collect()
}

fn push_json(c: &mut Criterion) {
    let mut group = c.benchmark_group("push_json");
    group.sample_size(10);
    for (name, dicom) in [
        ("metadata_heavy", metadata_heavy(20_000)),
        ("pixel_heavy_64MiB", pixel_heavy(64 << 20)),
    ] {
        let mut json = Vec::new();
        dicom_to_json(&dicom[..], &mut json);
        let all = Bytes::from(json.clone());
        let expected = pulled_json(&json);
        group.throughput(Throughput::Bytes(json.len() as u64));
        group.bench_function(format!("{name}_read"), |b| {
            b.iter(|| pulled_json(black_box(&json)).len())
        });
        for size in [64 << 10, 1400] {
            let chunks = chunks_of(&all, size);
            assert!(
                pushed_json(&chunks) == expected,
                "{name}: pushed DICOM differs"
            );
            group.bench_function(format!("{name}_pushed_{size}"), |b| {
                b.iter(|| pushed_json(black_box(&chunks)).len())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, push, push_json);
criterion_main!(benches);
