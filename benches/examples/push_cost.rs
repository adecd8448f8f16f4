//! One conversion of a generated input, pulled from an `io::Read` or pushed in chunks, for counting its
//! instructions (`valgrind --tool=callgrind`), which do not depend on the machine's load:
//!
//! ```sh
//! cargo build --release -p dcmflow-benches --example push_cost
//! valgrind --tool=callgrind target/release/examples/push_cost json read
//! valgrind --tool=callgrind target/release/examples/push_cost json 65536
//! ```
//!
//! The first argument is the direction's input (`dicom`: DICOM → JSON, `json`: JSON → DICOM, both of
//! the metadata-heavy generated data set); the second `read`, a chunk size to push, or `none` (the
//! input is made and not converted: the count to subtract).
//!
//! `push_cost json-file FILE CHUNK` pushes a JSON file read in `CHUNK`-byte pieces, the DICOM written to
//! `/dev/null`: the peak memory of a pushed conversion (`/usr/bin/time -v`), which holds neither.

use bytes::Bytes;
use dcmflow::{DicomToJson, Input, JsonToDicom, Output};
use dcmflow_benches::{dicom_to_json, metadata_heavy, to_dicom_options, to_json_options};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(direction), Some(how)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: push_cost dicom|json read|CHUNK_SIZE|none");
        std::process::exit(2);
    };
    if direction == "json-file" {
        let size: usize = args
            .get(3)
            .and_then(|s| s.parse().ok())
            .expect("a chunk size");
        push_file(how, size);
        return;
    }
    let dicom = metadata_heavy(20_000);
    let input = match direction.as_str() {
        "dicom" => dicom,
        "json" => {
            let mut json = Vec::new();
            dicom_to_json(&dicom[..], &mut json);
            json
        }
        other => panic!("unknown direction {other}"),
    };
    let mut out = Vec::new();
    match (direction.as_str(), how.as_str()) {
        (_, "none") => {}
        ("dicom", "read") => {
            DicomToJson::new(to_json_options())
                .convert(Input::reader(&input[..]), Output::stream(&mut out))
                .unwrap();
        }
        ("json", "read") => {
            JsonToDicom::new(to_dicom_options())
                .convert(Input::reader(&input[..]), Output::stream(&mut out))
                .unwrap();
        }
        (_, size) => {
            let size: usize = size.parse().expect("a chunk size");
            let all = Bytes::from(input);
            let chunks = (0..all.len())
                .step_by(size)
                .map(|at| all.slice(at..(at + size).min(all.len())));
            out = if direction == "dicom" {
                let mut conversion = DicomToJson::new(to_json_options()).push(Vec::new());
                chunks.for_each(|c| conversion.push(c).unwrap());
                conversion.finish().unwrap().0
            } else {
                let mut conversion = JsonToDicom::new(to_dicom_options()).push(Vec::new());
                chunks.for_each(|c| conversion.push(c).unwrap());
                conversion.finish().unwrap().0
            };
        }
    }
    println!("{} bytes out", out.len());
}

/// Pushes the JSON file at `path` in `size`-byte pieces, the DICOM written to `/dev/null` as it comes
/// (a `Vec` output would hold what one call writes: all of a spooled value, in the call that ends it).
fn push_file(path: &str, size: usize) {
    use std::io::Read;
    let mut file = std::fs::File::open(path).expect("the JSON file");
    let sink = std::fs::File::create("/dev/null").expect("/dev/null");
    let mut conversion = JsonToDicom::new(to_dicom_options()).push(sink);
    loop {
        let mut chunk = vec![0u8; size];
        let n = file.read(&mut chunk).expect("read");
        if n == 0 {
            break;
        }
        chunk.truncate(n);
        conversion.push(chunk).unwrap();
    }
    let (_, report) = conversion.finish().unwrap();
    println!("{} bytes of DICOM", report.written);
}
