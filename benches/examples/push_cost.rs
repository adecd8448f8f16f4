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

use bytes::Bytes;
use dcmflow::{DicomToJson, Input, JsonToDicom, Output};
use dcmflow_benches::{dicom_to_json, metadata_heavy, to_dicom_options, to_json_options};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(direction), Some(how)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: push_cost dicom|json read|CHUNK_SIZE|none");
        std::process::exit(2);
    };
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
