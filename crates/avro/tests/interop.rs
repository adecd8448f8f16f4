//! Apache Avro's interop files (`../shared/avro/data`): every `weather*.avro` (null, deflate, snappy,
//! zstandard, sorted) gives `weather.json` line for line in Avro's JSON encoding.

use dcmflow_avro::{datum_to_json, ContainerReader, Encoding};
use dcmflow_engine::json::format::Compact;

fn to_json_lines(path: &std::path::Path) -> Result<Vec<String>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut reader =
        ContainerReader::new(std::io::BufReader::new(file), 64 << 20).map_err(|e| e.to_string())?;
    let schema = reader.header().schema.clone();
    let mut lines = Vec::new();
    while let Some(block) = reader.next_block().map_err(|e| e.to_string())? {
        let mut cursor = dcmflow_avro::binary::Cursor::new(block.data);
        for _ in 0..block.count {
            let mut out = Vec::new();
            datum_to_json(&schema, &mut cursor, Encoding::Avro, &mut Compact, &mut out)
                .map_err(|e| format!("{} at {}", e.message, e.path))?;
            lines.push(String::from_utf8(out).map_err(|e| e.to_string())?);
        }
        assert_eq!(cursor.remaining(), 0, "bytes left in a block");
    }
    Ok(lines)
}

#[test]
fn weather_files_give_weather_json() {
    let Some(dir) = dcmflow_testkit::shared_dir().map(|d| d.join("avro/data")) else {
        eprintln!("SKIPPED: ../shared is absent");
        return;
    };
    let Ok(expected) = std::fs::read_to_string(dir.join("weather.json")) else {
        eprintln!("SKIPPED: ../shared/avro/data/weather.json is absent");
        return;
    };
    let expected: Vec<&str> = expected.lines().collect();
    for name in [
        "weather.avro",
        "weather-deflate.avro",
        "weather-snappy.avro",
        "weather-zstd.avro",
    ] {
        let lines = to_json_lines(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(lines, expected, "{name}");
    }
    // The sorted file holds the same records in another order.
    let mut sorted = to_json_lines(&dir.join("weather-sorted.avro")).unwrap();
    let mut all: Vec<String> = expected.iter().map(|l| l.to_string()).collect();
    sorted.sort();
    all.sort();
    assert_eq!(sorted, all);
}

fn json_of_data(
    data: &[u8],
    schemas: &[dcmflow_avro::Schema],
    step: usize,
) -> Result<Vec<String>, String> {
    let mut reader = dcmflow_avro::DatumReader::new(
        dcmflow_testkit::Trickle { data, step },
        schemas,
        Encoding::Avro,
        1 << 20,
    );
    let mut lines = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader
            .next_json(&mut Compact, &mut out, false)
            .map_err(|e| e.to_string())?
        {
            dcmflow_avro::Step::Done => {
                let line = String::from_utf8(std::mem::take(&mut out)).unwrap();
                lines.push(line.trim_end_matches('\n').to_string());
            }
            dcmflow_avro::Step::Part => {}
            dcmflow_avro::Step::End | dcmflow_avro::Step::Pending => break,
        }
    }
    Ok(lines)
}

/// Data without a container: the weather records as bare data (the blocks' bytes one after another),
/// read at any read size; Apache's single-object message (`messageV1`), found by its fingerprint.
#[test]
fn bare_data_and_single_object_encoding() {
    let Some(dir) = dcmflow_testkit::shared_dir().map(|d| d.join("avro/data")) else {
        eprintln!("SKIPPED: ../shared is absent");
        return;
    };
    let Ok(expected) = std::fs::read_to_string(dir.join("weather.json")) else {
        eprintln!("SKIPPED: ../shared/avro/data is absent");
        return;
    };
    let file = std::fs::File::open(dir.join("weather.avro")).unwrap();
    let mut reader = ContainerReader::new(std::io::BufReader::new(file), 1 << 20).unwrap();
    let schema = reader.header().schema.clone();
    let mut bare = Vec::new();
    while let Some(block) = reader.next_block().unwrap() {
        bare.extend_from_slice(block.data);
    }
    let schemas = [schema];
    for step in [1, 3, 64, 1 << 16] {
        let lines = json_of_data(&bare, &schemas, step).unwrap();
        assert_eq!(
            lines,
            expected.lines().collect::<Vec<_>>(),
            "reads of {step}"
        );
    }
    // Cut inside the last datum: an error, not a shorter list.
    let cut = json_of_data(&bare[..bare.len() - 2], &schemas, 7).unwrap_err();
    assert!(cut.contains("ends inside a datum"), "{cut}");

    let message = std::fs::read(dir.join("messageV1/test_message.bin")).unwrap();
    let schema = std::fs::read_to_string(dir.join("messageV1/test_schema.avsc")).unwrap();
    let schemas = [
        dcmflow_avro::Schema::parse_str(r#""string""#).unwrap(),
        dcmflow_avro::Schema::parse_str(&schema).unwrap(),
    ];
    assert_eq!(
        json_of_data(&message, &schemas, 5).unwrap(),
        [r#"{"id":42,"name":"Bill","tags":["dog_lover","cat_hater"]}"#]
    );
    let unknown = json_of_data(&message, &schemas[..1], 5).unwrap_err();
    assert!(unknown.contains("none of the schemas given"), "{unknown}");
}
