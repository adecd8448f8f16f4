//! Any bytes as an Avro object container file (first byte: encoding, layout, block size limit, push
//! piece size): JSON that serde_json parses, or a clean error; one thread, two threads and the bytes
//! pushed in pieces give the same bytes and the same error.
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
    let one = convert(data, &options);
    if let Ok(json) = &one {
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(json) {
            // serde_json stops at 128 levels; every other failure is ours.
            assert!(e.to_string().contains("recursion limit"), "invalid JSON: {e}");
        }
    }
    let piece = 1 + usize::from(mode >> 3) * 97;
    let mut conversion = AvroToJson::new(options.clone()).push(Vec::new());
    let pushed = data
        .chunks(piece)
        .try_for_each(|chunk| conversion.push(bytes::Bytes::copy_from_slice(chunk)))
        .and_then(|()| conversion.finish())
        .map(|(json, _)| json)
        .map_err(|e| e.to_string());
    assert_eq!(pushed, one, "pushed in pieces of {piece}");
    options.threads = Threads::Two;
    assert_eq!(convert(data, &options), one, "two threads");
});
