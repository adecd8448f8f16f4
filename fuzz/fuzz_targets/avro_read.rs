//! Any bytes as an Avro object container file (first byte: encoding, layout, block size limit, push
//! piece size, streaming bound): JSON that serde_json parses, or a clean error; one thread, two threads
//! and the bytes pushed in pieces give the same bytes and the same error, with blocks held and with
//! blocks streamed; and streamed blocks give the JSON of held ones.
#![no_main]
use dcmflow::avro::Encoding;
use dcmflow::{AvroToJson, AvroToJsonOptions, Threads};
use libfuzzer_sys::fuzz_target;

fn convert(data: &[u8], options: &AvroToJsonOptions) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    AvroToJson::new(options.clone())
        .convert(data, &mut out)
        .map(|_| out)
        .map_err(|e| e.to_string())
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else {
        return;
    };
    let mut options = AvroToJsonOptions::default();
    options.encoding = if mode & 1 == 0 { Encoding::Avro } else { Encoding::Ga4gh };
    options.array = true;
    options.pretty = mode & 2 != 0;
    options.max_block_size = if mode & 4 != 0 { 4096 } else { 1 << 20 };
    options.threads = Threads::One;
    options.stream_blocks_above = usize::MAX;
    let one = convert(data, &options);
    if let Ok(json) = &one {
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(json) {
            // serde_json stops at 128 levels; every other failure is ours.
            assert!(e.to_string().contains("recursion limit"), "invalid JSON: {e}");
        }
    }
    let piece = 1 + usize::from(mode >> 3) * 97;
    options.stream_blocks_above = usize::MAX;
    same_every_way(data, &options, piece, &one, "held");
    // Blocks streamed: those over 0, 40 or 1000 bytes.
    options.stream_blocks_above = [0, 40, 1000][usize::from(mode >> 3) % 3];
    let streamed = convert(data, &options);
    if one.is_ok() {
        assert_eq!(streamed, one, "streamed above {}", options.stream_blocks_above);
    }
    same_every_way(data, &options, piece, &streamed, "streamed");
});

/// Pushed in pieces of `piece` bytes and on two threads, `data` converts to `one`.
fn same_every_way(
    data: &[u8],
    options: &AvroToJsonOptions,
    piece: usize,
    one: &Result<Vec<u8>, String>,
    what: &str,
) {
    let mut options = options.clone();
    options.threads = Threads::One;
    let mut conversion = AvroToJson::new(options.clone()).push(Vec::new());
    let pushed = data
        .chunks(piece)
        .try_for_each(|chunk| conversion.push(bytes::Bytes::copy_from_slice(chunk)))
        .and_then(|()| conversion.finish())
        .map(|(json, _)| json)
        .map_err(|e| e.to_string());
    assert_eq!(&pushed, one, "{what}, pushed in pieces of {piece}");
    options.threads = Threads::Two;
    assert_eq!(&convert(data, &options), one, "{what}, two threads");
}
