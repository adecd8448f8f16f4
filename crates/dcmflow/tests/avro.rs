//! Avro → JSON through the library: one thread and two give the same bytes in every layout, over
//! Apache's interop files and a file of many blocks; errors are the same too.

use dcmflow::avro::Encoding;
use dcmflow::{AvroToJsonOptions, Threads};

mod common;
use common::avro::{convert, pushed};

/// A container file of `blocks` blocks of `per_block` longs each (the long is the datum's number).
fn many_blocks(blocks: u64, per_block: u64) -> Vec<u8> {
    let mut file = b"Obj\x01\x02\x16avro.schema\x0c\"long\"\x00".to_vec();
    file.extend_from_slice(&[3; 16]);
    let mut n = 0i64;
    for _ in 0..blocks {
        let mut data = Vec::new();
        for _ in 0..per_block {
            let mut z = ((n << 1) ^ (n >> 63)) as u64;
            while z >= 0x80 {
                data.push(z as u8 | 0x80);
                z >>= 7;
            }
            data.push(z as u8);
            n += 1;
        }
        for v in [per_block, data.len() as u64] {
            let mut z = v * 2;
            while z >= 0x80 {
                file.push(z as u8 | 0x80);
                z >>= 7;
            }
            file.push(z as u8);
        }
        file.extend_from_slice(&data);
        file.extend_from_slice(&[3; 16]);
    }
    file
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut all = vec![("many blocks".to_string(), many_blocks(40, 1000))];
    // The same, cut inside its 30th block: the error comes after 29 blocks of output either way.
    let whole = all[0].1.clone();
    all.push((
        "cut short".to_string(),
        whole[..whole.len() * 3 / 4].to_vec(),
    ));
    match dcmflow_testkit::shared_dir().map(|d| d.join("avro/data")) {
        Some(dir) if dir.is_dir() => {
            for name in [
                "weather.avro",
                "weather-deflate.avro",
                "weather-snappy.avro",
                "weather-zstd.avro",
            ] {
                all.push((name.to_string(), std::fs::read(dir.join(name)).unwrap()));
            }
            all.push((
                "withUnion".to_string(),
                std::fs::read(dir.join("schemas/withUnion/data.avro")).unwrap(),
            ));
        }
        _ => eprintln!("SKIPPED: the interop files (../shared/avro is absent)"),
    }
    all
}

#[test]
fn two_threads_write_what_one_writes() {
    for (name, data) in inputs() {
        for (array, pretty, encoding) in [
            (false, false, Encoding::Avro),
            (true, false, Encoding::Avro),
            (true, true, Encoding::Ga4gh),
            (false, true, Encoding::Avro),
        ] {
            let mut options = AvroToJsonOptions::default();
            options.array = array;
            options.pretty = pretty;
            options.encoding = encoding;
            options.threads = Threads::One;
            let one = convert(&data, &options);
            options.threads = Threads::Two;
            assert_eq!(
                convert(&data, &options),
                one,
                "{name} array {array} pretty {pretty}"
            );
            if let Ok((json, _)) = &one {
                if array {
                    serde_json::from_slice::<serde_json::Value>(json)
                        .unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
                }
            }
        }
    }
    let (json, data) = convert(&many_blocks(40, 1000), &AvroToJsonOptions::default()).unwrap();
    assert_eq!(data, 40_000);
    assert!(json.ends_with(b"39998\n39999\n"));
}

/// Pushed input, cut anywhere, gives what reading the whole file gives: the same JSON, or the same
/// error (with its offsets). Also for files that are not Avro, corrupt or cut short.
#[test]
fn pushed_input_converts_as_read_input() {
    let mut all = inputs();
    let mut bad_sync = many_blocks(3, 10);
    let n = bad_sync.len();
    bad_sync[n - 1] ^= 1;
    all.push(("bad sync".into(), bad_sync));
    all.push(("not avro".into(), b"PK\x03\x04 not an avro file".to_vec()));
    all.push(("empty".into(), Vec::new()));
    let mut huge = many_blocks(1, 1);
    huge.truncate(4 + 1 + 1 + 11 + 1 + 6 + 1 + 16);
    huge.extend_from_slice(&[0x02, 0xfe, 0xff, 0xff, 0xff, 0x0f]);
    all.push(("a block larger than allowed".into(), huge));
    for (name, data) in all {
        for (array, pretty) in [(false, false), (true, true)] {
            let mut options = AvroToJsonOptions::default();
            options.array = array;
            options.pretty = pretty;
            options.threads = Threads::One;
            let read = convert(&data, &options);
            let mut layouts: Vec<Vec<usize>> = vec![
                Vec::new(),
                dcmflow_testkit::even_cuts(data.len(), 7),
                dcmflow_testkit::random_cuts(data.len(), 5, 3000),
            ];
            if data.len() < 2000 {
                layouts.push(dcmflow_testkit::even_cuts(data.len(), 1));
            }
            for cuts in layouts {
                assert_eq!(
                    pushed(&data, &options, &cuts),
                    read,
                    "{name} array {array}, {} cuts",
                    cuts.len()
                );
            }
        }
    }
}

/// Found by the fuzz target `avro_read`: a header longer than `max_block_size` (one long metadata
/// value) was released early when pushed, and the error came at another offset than when read whole.
/// The header is bounded as a whole now, and pushed and read input stop at the same byte.
#[test]
fn a_header_longer_than_the_block_limit_is_refused_alike_pushed_and_read() {
    // Five entries: the schema, three values of 3 000 bytes, and a key the file ends inside.
    let mut file = b"Obj\x01\x0a\x16avro.schema\x0a\"int\"".to_vec();
    for key in [b'a', b'b', b'c'] {
        file.extend_from_slice(&[0x02, key, 0xF0, 0x2E]);
        file.extend_from_slice(&[b'x'; 3000]);
    }
    file.extend_from_slice(b"\x10ab");
    let mut options = AvroToJsonOptions::default();
    options.max_block_size = 4096;
    options.threads = Threads::One;
    let read = convert(&file, &options);
    let message = read.clone().unwrap_err();
    assert!(message.contains("longer than 4096 bytes"), "{message}");
    for step in [1456, 7, 4097] {
        let cuts = dcmflow_testkit::even_cuts(file.len(), step);
        assert_eq!(pushed(&file, &options, &cuts), read, "pieces of {step}");
    }
    options.max_block_size = 1 << 20;
    assert!(convert(&file, &options)
        .unwrap_err()
        .contains("ends inside a metadata key"));
}
