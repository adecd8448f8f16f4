//! Blocks too large to hold are streamed: the JSON is the JSON of the block held whole, for every codec
//! that can stream (null, deflate, zstandard; snappy is held), on one thread and two, in every layout;
//! a file cut or corrupt inside a streamed block fails as it does held whole.

use dcmflow::avro::container_writer::{ContainerWriter, WriterOptions};
use dcmflow::avro::{Codec, JsonDatumOptions, JsonDatumReader, Schema};
use dcmflow::{AvroToJsonOptions, Threads};

mod common;
use common::avro::{convert, pushed};

const SCHEMA: &str = r#"{"type": "record", "name": "Blob", "fields": [
    {"name": "id", "type": "long"},
    {"name": "blob", "type": ["null", "bytes"]},
    {"name": "text", "type": "string"},
    {"name": "tags", "type": {"type": "map", "values": "string"}}
]}"#;

/// Small data around large ones (a 3 MB bytes value, 1 MB of text with characters of every width, a
/// map of 20 000 entries), each large datum a block of its own.
fn file(codec: Codec) -> Vec<u8> {
    let schema = Schema::parse_str(SCHEMA).unwrap();
    let blob: String = (0..3_000_000u32)
        .map(|i| char::from_u32(i * 31 % 256).unwrap())
        .collect();
    let text = "aé€😀\"\n".repeat(80_000);
    let tags: serde_json::Map<String, serde_json::Value> = (0..20_000)
        .map(|i| (format!("k{i}é"), serde_json::Value::from(format!("v{i}"))))
        .collect();
    let mut json = String::new();
    for id in 0..9 {
        let (blob, text, tags) = match id % 3 {
            1 => (
                serde_json::json!({ "bytes": blob }),
                "",
                serde_json::Map::new(),
            ),
            2 => (serde_json::Value::Null, text.as_str(), tags.clone()),
            _ => (
                serde_json::json!({ "bytes": "small" }),
                "é",
                serde_json::Map::new(),
            ),
        };
        json.push_str(
            &serde_json::json!({"id": id, "blob": blob, "text": text, "tags": tags}).to_string(),
        );
        json.push('\n');
    }
    let options = WriterOptions {
        codec,
        sync: Some([9; 16]),
        ..WriterOptions::default()
    };
    let mut writer = ContainerWriter::new(Vec::new(), SCHEMA, &options).unwrap();
    let mut reader =
        JsonDatumReader::from_slice(json.as_bytes(), &schema, JsonDatumOptions::default()).unwrap();
    while reader.next_datum(writer.buffer()).unwrap() {
        writer.datum_done().unwrap();
    }
    writer.finish().unwrap()
}

fn options(stream_above: usize, threads: Threads, array: bool, pretty: bool) -> AvroToJsonOptions {
    let mut options = AvroToJsonOptions::default();
    options.stream_blocks_above = stream_above;
    options.threads = threads;
    options.array = array;
    options.pretty = pretty;
    options
}

#[test]
fn streamed_blocks_give_the_json_of_held_blocks() {
    for codec in [Codec::Null, Codec::Deflate, Codec::Zstandard, Codec::Snappy] {
        let data = file(codec);
        for (array, pretty) in [(false, false), (true, true)] {
            let held = convert(&data, &options(usize::MAX, Threads::One, array, pretty)).unwrap();
            assert_eq!(held.1, 9);
            for threads in [Threads::One, Threads::Two] {
                // Blocks over 1 000 bytes streamed: the large ones, not the small ones around them.
                let streamed = convert(&data, &options(1000, threads, array, pretty)).unwrap();
                assert!(
                    streamed == held,
                    "{codec:?} {threads:?} array {array}: the streamed JSON differs"
                );
            }
        }
    }
}

#[test]
fn a_streamed_block_cut_or_corrupt_fails_as_a_held_one() {
    for codec in [Codec::Null, Codec::Deflate, Codec::Zstandard] {
        let data = file(codec);
        let mut cases = vec![("cut", data[..data.len() / 2].to_vec())];
        let mut bad_sync = data.clone();
        let n = bad_sync.len();
        bad_sync[n - 1] ^= 1;
        cases.push(("bad sync", bad_sync));
        for (what, bad) in cases {
            let held = convert(&bad, &options(usize::MAX, Threads::One, false, false));
            let streamed = convert(&bad, &options(1000, Threads::One, false, false));
            assert!(held.is_err(), "{codec:?} {what}");
            assert_eq!(streamed, held, "{codec:?} {what}");
        }
    }
}

/// A file of `codec` whose one block (2 MB, one datum) is not data of the codec: 0xFF starts a deflate
/// block of the reserved type, and is no Zstandard frame's magic.
fn damaged(codec: Codec) -> Vec<u8> {
    let options = WriterOptions {
        codec,
        sync: Some([9; 16]),
        ..WriterOptions::default()
    };
    let mut file = ContainerWriter::new(Vec::new(), SCHEMA, &options)
        .unwrap()
        .finish()
        .unwrap();
    dcmflow::avro::binary::write_long(&mut file, 1);
    dcmflow::avro::binary::write_bytes(&mut file, &vec![0xff; 2_000_000]);
    file.extend_from_slice(&[9; 16]);
    file
}

#[test]
fn a_streamed_block_of_damaged_compressed_data_is_refused() {
    for (codec, name) in [(Codec::Deflate, "deflate"), (Codec::Zstandard, "zstandard")] {
        let bad = damaged(codec);
        for stream_above in [usize::MAX, 1000] {
            let error = convert(&bad, &options(stream_above, Threads::Two, false, false))
                .expect_err("damaged data");
            assert!(
                error.contains(&format!("the block's {name} data")),
                "{name}: {error}"
            );
        }
    }
}

#[test]
fn a_block_larger_than_max_block_size_streams() {
    let data = file(Codec::Deflate);
    let mut small_limit = options(1 << 20, Threads::One, false, false);
    small_limit.max_block_size = 1 << 20;
    // Held whole, a 3 MB block is refused; streamed (the default), it converts.
    let mut held = small_limit.clone();
    held.stream_blocks_above = usize::MAX;
    let refused = convert(&data, &held).unwrap_err();
    assert!(refused.contains("max_block_size"), "{refused}");
    let (json, count) = convert(&data, &small_limit).unwrap();
    assert_eq!(count, 9);
    assert_eq!(
        json,
        convert(&data, &options(usize::MAX, Threads::One, false, false))
            .unwrap()
            .0
    );
}

/// Pushed in pieces of any size, streamed blocks give what reading gives: the JSON, or the error.
#[test]
fn pushed_streamed_blocks_convert_as_read_ones() {
    for codec in [Codec::Null, Codec::Deflate, Codec::Zstandard, Codec::Snappy] {
        let data = file(codec);
        let mut cases = vec![
            ("whole", data.clone()),
            ("cut", data[..data.len() / 2].to_vec()),
        ];
        let mut bad_sync = data.clone();
        let n = bad_sync.len();
        bad_sync[n - 1] ^= 1;
        cases.push(("bad sync", bad_sync));
        if codec != Codec::Null && codec != Codec::Snappy {
            cases.push(("damaged", damaged(codec)));
        }
        if codec == Codec::Null {
            // A byte of the long text that is not UTF-8: refused at the string's end, as held (found
            // by fuzz target avro_read: the offset was where the piece with the bad byte began).
            let mut bad_text = data.clone();
            let at = data.windows(4).rposition(|w| w == "😀".as_bytes()).unwrap() - 50_000;
            bad_text[at] = 0xff;
            cases.push(("bad UTF-8", bad_text));
        }
        for (what, bytes) in cases {
            let options = options(1000, Threads::One, true, false);
            let read = convert(&bytes, &options);
            if what != "damaged" {
                // (Damaged compressed data is refused by both, in the words of each decompressor.)
                let held = convert(
                    &bytes,
                    &self::options(usize::MAX, Threads::One, true, false),
                );
                assert_eq!(read, held, "{codec:?} {what}: streamed differs from held");
            }
            for cuts in [
                dcmflow_testkit::even_cuts(bytes.len(), 4099),
                dcmflow_testkit::random_cuts(bytes.len(), 11, 70_000),
            ] {
                assert!(
                    pushed(&bytes, &options, &cuts) == read,
                    "{codec:?} {what}, {} cuts: pushed differs from read",
                    cuts.len()
                );
            }
        }
    }
}

/// Bare data (the blocks' bytes one after another), the 3 MB value and the long text among them, read a
/// little at a time: the JSON of the container file, written as it comes.
#[test]
fn bare_data_with_long_values_convert_as_the_container_does() {
    let file = file(Codec::Null);
    let mut reader = dcmflow::avro::ContainerReader::new(&file[..], 64 << 20).unwrap();
    let schemas = [reader.header().schema.clone()];
    let mut bare = Vec::new();
    while let Some(block) = reader.next_block().unwrap() {
        bare.extend_from_slice(block.data);
    }
    let expected = convert(&file, &options(usize::MAX, Threads::One, false, false)).unwrap();
    for step in [7, 1 << 16] {
        let mut json = Vec::new();
        let report = dcmflow::AvroToJson::new(options(usize::MAX, Threads::One, false, false))
            .convert_data(
                &schemas,
                dcmflow::Input::reader(dcmflow_testkit::Trickle { data: &bare, step }),
                &mut json,
            )
            .unwrap();
        assert!(json == expected.0, "reads of {step}");
        assert_eq!(report.documents, 9);
    }
    // Cut inside the long value: an error naming where the datum began.
    let cut = dcmflow::AvroToJson::new(AvroToJsonOptions::default())
        .convert_data(&schemas, &bare[..1_000_000], &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(cut.contains("the input ends inside a datum"), "{cut}");
}

/// Bare and single-object data pushed in pieces of any size give what reading them gives: the JSON,
/// or the error.
#[test]
fn pushed_data_convert_as_read_data() {
    let file = file(Codec::Null);
    let mut reader = dcmflow::avro::ContainerReader::new(&file[..], 64 << 20).unwrap();
    let schema = reader.header().schema.clone();
    let mut bare = Vec::new();
    while let Some(block) = reader.next_block().unwrap() {
        bare.extend_from_slice(block.data);
    }
    // The same data as single-object encoding: C3 01, the fingerprint, each datum.
    let fingerprint =
        dcmflow::avro::fingerprint64(dcmflow::avro::parsing_canonical_form(&schema).as_bytes());
    let mut single = Vec::new();
    let mut cursor = dcmflow::avro::binary::Cursor::new(&bare);
    while cursor.remaining() > 0 {
        let start = cursor.position();
        dcmflow::avro::datum_to_json(
            &schema,
            &mut cursor,
            dcmflow::avro::Encoding::Avro,
            &mut dcmflow_engine::json::format::Compact,
            &mut Vec::new(),
        )
        .unwrap();
        single.extend_from_slice(&[0xC3, 0x01]);
        single.extend_from_slice(&fingerprint.to_le_bytes());
        single.extend_from_slice(&bare[start..cursor.position()]);
    }
    let schemas = [schema];
    let mut bad_utf8 = bare.clone();
    let at = bare.windows(4).rposition(|w| w == "😀".as_bytes()).unwrap() - 50_000;
    bad_utf8[at] = 0xff;
    let cases = [
        ("bare", bare.clone()),
        ("single-object", single.clone()),
        ("cut", bare[..1_000_000].to_vec()),
        (
            "single-object cut in a header",
            single[..single.len() - 1].to_vec(),
        ),
        ("bad UTF-8", bad_utf8),
        ("one byte", vec![0x02]),
        ("empty", Vec::new()),
    ];
    for (what, data) in cases {
        for (array, pretty) in [(false, false), (true, true)] {
            let options = options(usize::MAX, Threads::One, array, pretty);
            let conversion = dcmflow::AvroToJson::new(options.clone());
            let mut json = Vec::new();
            let read = conversion
                .convert_data(&schemas, &data[..], &mut json)
                .map(|r| (json, r.documents))
                .map_err(|e| e.to_string());
            for cuts in [
                dcmflow_testkit::even_cuts(data.len(), 1 + data.len() / 3),
                dcmflow_testkit::random_cuts(data.len(), 3, 40_000),
                dcmflow_testkit::even_cuts(data.len(), 5)
                    .into_iter()
                    .take(2000)
                    .collect(),
            ] {
                let mut pushed = conversion.push_data(&schemas, Vec::new()).unwrap();
                let mut from = 0;
                let mut result = Ok(());
                for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
                    result = pushed.push(bytes::Bytes::copy_from_slice(&data[from..cut]));
                    from = cut;
                    if result.is_err() {
                        break;
                    }
                }
                let got = result
                    .and_then(|()| pushed.finish())
                    .map(|(json, r)| (json, r.documents))
                    .map_err(|e| e.to_string());
                assert!(
                    got == read,
                    "{what}, array {array}, {} cuts: {:?} vs {:?}",
                    cuts.len(),
                    got.as_ref().map(|g| g.1),
                    read.as_ref().map(|r| r.1)
                );
            }
        }
    }
}

/// Found by fuzz target `avro_read`: in a streamed deflate block damaged after a bad datum, reading
/// named the damage and pushing in small pieces named the datum. Errors come in the order of the data
/// now: what decompressed before the damage is decoded first, so both name the datum.
#[test]
fn the_first_error_in_the_data_is_reported_whatever_the_pieces() {
    // 1 600 strings, the 1 501st not UTF-8, as deflate's stored blocks, then a block of the reserved
    // type (an error wherever the input is cut).
    let mut data = Vec::new();
    for i in 0..1600 {
        let text = if i == 1500 {
            vec![0xff; 20]
        } else {
            format!("datum {i} of the block, long enough to make many pieces").into_bytes()
        };
        dcmflow::avro::binary::write_bytes(&mut data, &text);
    }
    let mut deflated = Vec::new();
    for stored in data.chunks(60_000) {
        let len = stored.len() as u16;
        deflated.push(0x00);
        deflated.extend_from_slice(&len.to_le_bytes());
        deflated.extend_from_slice(&(!len).to_le_bytes());
        deflated.extend_from_slice(stored);
    }
    deflated.push(0x07);
    let writer_options = WriterOptions {
        codec: Codec::Deflate,
        sync: Some([9; 16]),
        ..WriterOptions::default()
    };
    let mut file = ContainerWriter::new(Vec::new(), r#""string""#, &writer_options)
        .unwrap()
        .finish()
        .unwrap();
    dcmflow::avro::binary::write_long(&mut file, 1600);
    dcmflow::avro::binary::write_bytes(&mut file, &deflated);
    file.extend_from_slice(&[9; 16]);
    let options = options(0, Threads::One, false, false);
    let read = convert(&file, &options).unwrap_err();
    assert!(
        read.contains("not UTF-8") && read.contains("datum 1501"),
        "{read}"
    );
    for piece in [7, 874, 5000] {
        let cuts = dcmflow_testkit::even_cuts(file.len(), piece);
        assert_eq!(
            pushed(&file, &options, &cuts),
            Err(read.clone()),
            "pieces of {piece}"
        );
    }
}
