//! Parser and re-encoding throughput. Each bench checks once what it computed, so a broken fast path
//! cannot look fast.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dcmflow::{Output, Transcode, TranscodeOptions};

fn convert(data: &[u8], out: &mut Vec<u8>, options: &TranscodeOptions) -> dcmflow::Report {
    Transcode::new(options.clone())
        .convert(data, Output::stream(out))
        .unwrap()
}

fn convert_to_vec(data: &[u8], out: &mut Vec<u8>, options: &TranscodeOptions) -> dcmflow::Report {
    Transcode::new(options.clone()).convert(data, out).unwrap()
}
use dcmflow_benches::{metadata_heavy, pixel_heavy};
use dcmflow_core::{Token, TransferSyntax};
use dcmflow_dicom::{DicomReader, ReaderOptions};

/// Reads to Eof; returns (tokens, value bytes seen).
fn drain(mut reader: DicomReader<'_>) -> (u64, u64) {
    let (mut tokens, mut bytes) = (0u64, 0u64);
    loop {
        match reader.read_token().expect("bench input parses") {
            Token::Eof => return (tokens, bytes),
            Token::Value { bytes: b, .. } => bytes += b.len() as u64,
            _ => {}
        }
        tokens += 1;
    }
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("metadata_heavy_20000_items", metadata_heavy(20_000)),
        ("pixel_heavy_256MiB", pixel_heavy(256 << 20)),
    ]
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    for (name, data) in inputs() {
        let options = || ReaderOptions {
            transfer_syntax: Some(TransferSyntax::EXPLICIT_VR_LE),
            ..ReaderOptions::default()
        };
        let (tokens, _) = drain(DicomReader::from_slice(&data, options()));
        assert!(drain(DicomReader::from_reader(&data[..], options())).0 >= tokens);
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_with_input(BenchmarkId::new("slice", name), &data, |b, d| {
            b.iter(|| drain(DicomReader::from_slice(black_box(d), options())))
        });
        group.bench_with_input(BenchmarkId::new("io_read", name), &data, |b, d| {
            b.iter(|| drain(DicomReader::from_reader(black_box(&d[..]), options())))
        });
    }
    group.finish();
}

fn swap(c: &mut Criterion) {
    let mut group = c.benchmark_group("swap_vs_memcpy");
    let src: Vec<u8> = (0..(64usize << 20)).map(|i| i as u8).collect();
    let mut dst = vec![0u8; src.len()];
    dcmflow_simd::swap_into(&src, &mut dst, 2);
    assert_eq!((dst[0], dst[1]), (src[1], src[0]));
    group.throughput(Throughput::Bytes(src.len() as u64));
    group.sample_size(20);
    group.bench_function("memcpy_64MiB", |b| {
        b.iter(|| dst.copy_from_slice(black_box(&src)))
    });
    for unit in [2, 4, 8] {
        group.bench_function(BenchmarkId::new("swap_64MiB", unit), |b| {
            b.iter(|| dcmflow_simd::swap_into(black_box(&src), &mut dst, unit))
        });
    }
    group.finish();
}

fn convert_big_ow(c: &mut Criterion) {
    let mut group = c.benchmark_group("convert");
    group.sample_size(10);
    let data = pixel_heavy(128 << 20);
    let options = {
        let mut o = TranscodeOptions::default();
        o.transfer_syntax = Some(TransferSyntax::EXPLICIT_VR_BE);
        o.part10 = false;
        o.reader = ReaderOptions {
            transfer_syntax: Some(TransferSyntax::EXPLICIT_VR_LE),
            ..ReaderOptions::default()
        };
        o
    };
    let mut out = Vec::with_capacity(data.len() + 1024);
    convert(&data, &mut out, &options);
    assert_eq!(out.len(), data.len());
    assert_eq!(
        (out[out.len() - 2], out[out.len() - 1]),
        (data[data.len() - 1], data[data.len() - 2])
    );
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("le_to_be_ow_128MiB", |b| {
        b.iter(|| {
            out.clear();
            convert(black_box(&data), &mut out, &options);
        })
    });
    let mut in_memory = Vec::with_capacity(data.len() + 1024);
    convert_to_vec(&data, &mut in_memory, &options);
    assert_eq!(in_memory, out);
    group.bench_function("le_to_be_ow_128MiB_to_vec", |b| {
        b.iter(|| {
            in_memory.clear();
            convert_to_vec(black_box(&data), &mut in_memory, &options);
        })
    });
    group.bench_function("memcpy_128MiB_reference", |b| {
        b.iter(|| {
            out.clear();
            out.extend_from_slice(black_box(&data));
        })
    });
    group.finish();
}

criterion_group!(benches, parse, swap, convert_big_ow);
criterion_main!(benches);
