//! DICOM → JSON from pushed chunks (`PushDicomToJson`) writes the bytes, warnings and errors of the
//! `io::Read` conversion over the same input, at every chunking (1, 2, 3, 7, 64, 4096 bytes and random
//! cuts), compact and indented, over the synthetic and the real corpus.

use bytes::Bytes;
use dcmflow::{DicomToJson, Input, Report, Threads, ToJsonOptions};
use dcmflow_testkit::{corpus_files, dicom_files_under, even_cuts, random_cuts, shared_dir};

/// The JSON, the warnings and the error of one conversion.
#[derive(Debug, PartialEq)]
struct Outcome {
    json: Vec<u8>,
    warnings: Vec<String>,
    error: Option<String>,
}

fn outcome(json: Vec<u8>, result: Result<Report, dcmflow::Error>) -> Outcome {
    let (warnings, error) = match result {
        Ok(report) => (
            report.warnings.iter().map(|w| format!("{w:?}")).collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(format!("{e:?}"))),
    };
    Outcome {
        json,
        warnings,
        error,
    }
}

fn pulled(data: &[u8], options: &ToJsonOptions) -> Outcome {
    let mut json = Vec::new();
    let mut options = options.clone();
    options.threads = Threads::One;
    let result = DicomToJson::new(options).convert(Input::reader(data), &mut json);
    outcome(json, result)
}

/// Pushes `data` in pieces ending at `cuts`, taking the output as it comes.
fn pushed(data: &[u8], cuts: &[usize], options: &ToJsonOptions) -> Outcome {
    let all = Bytes::copy_from_slice(data);
    let mut conversion = DicomToJson::new(options.clone()).push(Vec::new());
    let mut json = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
        if cut <= at {
            continue;
        }
        if let Err(e) = conversion.push(all.slice(at..cut)) {
            json.append(conversion.output());
            return outcome(json, Err(e));
        }
        json.append(conversion.output());
        at = cut;
    }
    match conversion.finish() {
        Ok((rest, report)) => {
            json.extend(rest);
            outcome(json, Ok(report))
        }
        Err(e) => outcome(json, Err(e)),
    }
}

fn assert_push_equivalent(name: &str, data: &[u8], sizes: &[usize]) {
    for pretty in [false, true] {
        let options = {
            let mut o = ToJsonOptions::default();
            o.pretty = pretty;
            o
        };
        let expected = pulled(data, &options);
        let mut cuttings: Vec<(String, Vec<usize>)> = sizes
            .iter()
            .map(|&s| (format!("chunks of {s}"), even_cuts(data.len(), s)))
            .collect();
        cuttings.push((
            "random cuts".into(),
            random_cuts(data.len(), data.len() as u64, 500),
        ));
        for (how, cuts) in cuttings {
            let got = pushed(data, &cuts, &options);
            if got != expected {
                let at = got
                    .json
                    .iter()
                    .zip(&expected.json)
                    .position(|(a, b)| a != b);
                panic!(
                    "{name} ({how}, pretty {pretty}): {:?} vs {:?} JSON {} vs {} bytes, first difference at \
                     {at:?}; warnings equal: {}; error {:?} vs {:?}",
                    got.warnings,
                    expected.warnings,
                    got.json.len(),
                    expected.json.len(),
                    got.warnings == expected.warnings,
                    got.error,
                    expected.error
                );
            }
        }
    }
}

#[test]
fn synthetic_and_regression_files_convert_identically_pushed() {
    let mut n = 0;
    for dir in ["synthetic", "charset", "regressions"] {
        for path in corpus_files(dir) {
            let data = std::fs::read(&path).unwrap();
            assert_push_equivalent(&path.display().to_string(), &data, &[1, 2, 3, 7, 64, 4096]);
            n += 1;
        }
    }
    assert!(n >= 20, "only {n} files");
}

#[test]
fn shared_corpus_converts_identically_pushed() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: ../shared/corpus not found; push conversions of real files not run");
        return;
    };
    for path in dicom_files_under(&shared.join("corpus")) {
        let data = std::fs::read(&path).unwrap();
        let sizes: &[usize] = if data.len() <= 64 * 1024 {
            &[1, 7, 4096]
        } else {
            &[4096]
        };
        assert_push_equivalent(&path.display().to_string(), &data, sizes);
    }
}

/// With a bulk data handler (values above 8 bytes referenced into the source file), pushed chunks give
/// the JSON of the io::Read conversion with the same handler: the offsets in the URIs included.
#[test]
fn a_bulk_handler_sees_the_same_elements_pushed() {
    use dcmflow::json::bulk::{BulkSelection, SourceReference};
    let handler = || SourceReference {
        selection: BulkSelection::binary(8),
        source_uri: "file:///x.dcm".into(),
    };
    let mut referenced = 0;
    for dir in ["synthetic", "regressions"] {
        for path in corpus_files(dir) {
            let data = std::fs::read(&path).unwrap();
            let mut options = ToJsonOptions::default();
            options.threads = Threads::One;
            let mut pulled_handler = handler();
            let mut expected = Vec::new();
            let pulled = DicomToJson::new(options.clone())
                .bulk_handler(&mut pulled_handler)
                .convert(Input::reader(&data[..]), &mut expected)
                .map_err(|e| e.to_string());
            for size in [1, 7, 4096] {
                let mut pushed_handler = handler();
                let mut conversion = DicomToJson::new(options.clone())
                    .bulk_handler(&mut pushed_handler)
                    .push(Vec::new());
                let mut result = Ok(());
                for chunk in data.chunks(size) {
                    result = conversion.push(Bytes::copy_from_slice(chunk));
                    if result.is_err() {
                        break;
                    }
                }
                let got = result
                    .and_then(|()| conversion.finish().map(|(json, _)| json))
                    .map_err(|e| e.to_string());
                match (&pulled, &got) {
                    (Ok(_), Ok(json)) => assert!(
                        *json == expected,
                        "{} (chunks of {size}): pushed JSON differs",
                        path.display()
                    ),
                    (Err(a), Err(b)) => assert_eq!(a, b, "{}", path.display()),
                    (a, b) => panic!("{}: pulled {a:?}, pushed {b:?}", path.display()),
                }
            }
            referenced += usize::from(String::from_utf8_lossy(&expected).contains("BulkDataURI"));
        }
    }
    assert!(referenced >= 5, "only {referenced} files had bulk data");
}

/// The tokio codec: bytes buffered in any amounts give the JSON of the io::Read conversion.
#[cfg(feature = "tokio")]
#[test]
fn the_tokio_decoder_gives_the_same_json() {
    use bytes::BytesMut;
    use dcmflow::DicomToJsonDecoder;
    use tokio_util::codec::Decoder;
    for path in corpus_files("synthetic") {
        let data = std::fs::read(&path).unwrap();
        let options = ToJsonOptions::default();
        let expected = pulled(&data, &options);
        let mut decoder = DicomToJsonDecoder::new(&options);
        let mut src = BytesMut::new();
        let mut json = Vec::new();
        let mut at = 0;
        for cut in random_cuts(data.len(), 7, 300) {
            src.extend_from_slice(&data[at..cut]);
            at = cut;
            while let Some(piece) = decoder.decode(&mut src).unwrap() {
                json.extend_from_slice(&piece);
            }
        }
        while let Some(piece) = decoder.decode_eof(&mut src).unwrap() {
            json.extend_from_slice(&piece);
        }
        assert_eq!(json, expected.json, "{}", path.display());
        assert!(decoder.report().is_some());
    }
}

/// A push conversion moves between threads (a server's task): it is `Send`, and so are the readers.
#[test]
fn push_conversions_are_send() {
    fn send<T: Send>() {}
    send::<dcmflow::PushDicomToJson<'static, Vec<u8>>>();
    send::<dcmflow::DataSets<'static>>();
    send::<dcmflow::JsonToDicom>();
    send::<dcmflow::dicom::DicomReader<'static>>();
    send::<dcmflow::json::read::JsonReader<'static>>();
    #[cfg(feature = "tokio")]
    send::<dcmflow::DicomToJsonDecoder>();
}
