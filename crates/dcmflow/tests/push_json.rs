//! DICOM JSON → DICOM from pushed chunks (`PushJsonToDicom`) writes the bytes, warnings and errors of the
//! `io::Read` conversion into a stream over the same input, at every chunking (1, 2, 3, 7, 64, 4096
//! bytes and random cuts): our own JSON of the synthetic corpus under several options, every peer's
//! JSON in ../shared/json, long InlineBinary (measured and spooled) and malformed JSON.

mod common;

use bytes::Bytes;
use dcmflow::core::TransferSyntax;
use dcmflow::{Input, JsonToDicom, Output, Report, Threads, ToDicomOptions, ToJsonOptions};
use dcmflow_testkit::{corpus_files, even_cuts, random_cuts, shared_dir};

/// The DICOM, the warnings and the error of one conversion.
#[derive(Debug, PartialEq)]
struct Outcome {
    dicom: Vec<u8>,
    warnings: Vec<String>,
    error: Option<String>,
}

fn outcome(dicom: Vec<u8>, result: Result<Report, dcmflow::Error>) -> Outcome {
    let (dicom, warnings, error) = match result {
        Ok(report) => (
            dicom,
            report.warnings.iter().map(|w| format!("{w:?}")).collect(),
            None,
        ),
        // What a failed conversion wrote is not compared: it is discarded.
        Err(e) => (Vec::new(), Vec::new(), Some(format!("{e:?}"))),
    };
    Outcome {
        dicom,
        warnings,
        error,
    }
}

fn pulled(json: &[u8], options: &ToDicomOptions) -> Outcome {
    let mut dicom = Vec::new();
    let mut options = options.clone();
    options.threads = Threads::One;
    let result = JsonToDicom::new(options).convert(Input::reader(json), Output::stream(&mut dicom));
    outcome(dicom, result)
}

/// Pushes `json` in pieces ending at `cuts`, taking the output as it comes.
fn pushed(json: &[u8], cuts: &[usize], options: &ToDicomOptions) -> Outcome {
    let all = Bytes::copy_from_slice(json);
    let mut conversion = JsonToDicom::new(options.clone()).push(Vec::new());
    let mut dicom = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&json.len())) {
        if cut <= at {
            continue;
        }
        if let Err(e) = conversion.push(all.slice(at..cut)) {
            return outcome(dicom, Err(e));
        }
        dicom.append(conversion.output());
        at = cut;
    }
    match conversion.finish() {
        Ok((rest, report)) => {
            dicom.extend(rest);
            outcome(dicom, Ok(report))
        }
        Err(e) => outcome(dicom, Err(e)),
    }
}

fn assert_push_equivalent(name: &str, json: &[u8], sizes: &[usize], options: &ToDicomOptions) {
    let expected = pulled(json, options);
    let mut cuttings: Vec<(String, Vec<usize>)> = sizes
        .iter()
        .map(|&s| (format!("chunks of {s}"), even_cuts(json.len(), s)))
        .collect();
    cuttings.push((
        "random cuts".into(),
        random_cuts(json.len(), json.len() as u64, 500),
    ));
    for (how, cuts) in cuttings {
        let got = pushed(json, &cuts, options);
        if got != expected {
            let at = got
                .dicom
                .iter()
                .zip(&expected.dicom)
                .position(|(a, b)| a != b);
            panic!(
                "{name} ({how}): DICOM {} vs {} bytes, first difference at {at:?}; warnings {:?} vs \
                 {:?}; error {:?} vs {:?}",
                got.dicom.len(),
                expected.dicom.len(),
                got.warnings,
                expected.warnings,
                got.error,
                expected.error
            );
        }
    }
}

/// Option sets the pushed conversion must honour as the pulled one does.
fn option_sets() -> Vec<(&'static str, ToDicomOptions)> {
    let mut sets = vec![("default", ToDicomOptions::default())];
    let mut o = ToDicomOptions::default();
    o.transfer_syntax = Some(TransferSyntax::IMPLICIT_VR_LE);
    o.lengths = dcmflow::dicom::LengthMode::Undefined;
    sets.push(("implicit, undefined lengths", o));
    let mut o = ToDicomOptions::default();
    o.transfer_syntax = Some(TransferSyntax::from_uid("1.2.840.10008.1.2.2").unwrap());
    o.part10 = false;
    sets.push(("big endian, bare", o));
    let mut o = ToDicomOptions::default();
    o.transfer_syntax = Some(TransferSyntax::from_uid("1.2.840.10008.1.2.1.99").unwrap());
    sets.push(("deflated", o));
    let mut o = ToDicomOptions::default();
    o.reader.charset_utf8 = true;
    o.reader.lenient = true;
    sets.push(("utf-8, lenient", o));
    sets
}

#[test]
fn our_json_of_the_synthetic_corpus_converts_identically_pushed() {
    let mut n = 0;
    for dir in ["synthetic", "charset", "regressions"] {
        for path in corpus_files(dir) {
            let data = std::fs::read(&path).unwrap();
            let Ok((json, _)) = common::dcm2json(&data, &ToJsonOptions::default()) else {
                continue;
            };
            for (set, options) in option_sets() {
                let name = format!("{} [{set}]", path.display());
                let sizes: &[usize] = if set == "default" {
                    &[1, 2, 3, 7, 64, 4096]
                } else {
                    &[1, 7, 4096]
                };
                assert_push_equivalent(&name, &json, sizes, &options);
            }
            n += 1;
        }
    }
    assert!(n >= 20, "only {n} files");
}

#[test]
fn every_peers_json_converts_identically_pushed() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: ../shared/json not found; pushed conversions of peer JSON not run");
        return;
    };
    let mut files = Vec::new();
    common::files_under(&shared.join("json"), &mut files);
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    assert!(files.len() > 100, "only {} peer files", files.len());
    let mut lenient = ToDicomOptions::default();
    lenient.reader.lenient = true;
    for (i, path) in files.iter().enumerate() {
        let json = std::fs::read(path).unwrap();
        // Every file at 4 KiB chunks and random cuts; every seventh also byte by byte.
        let sizes: &[usize] = if i % 7 == 0 && json.len() <= 256 * 1024 {
            &[1, 4096]
        } else {
            &[4096]
        };
        let name = path.display().to_string();
        assert_push_equivalent(&name, &json, sizes, &ToDicomOptions::default());
        assert_push_equivalent(&name, &json, &[4096], &lenient);
    }
}

/// Long InlineBinary: measured within `hold_binary`, spooled beyond it (and with an escaped `/`), at the
/// top level, in an item and as encapsulated Pixel Data, with elements before and after.
#[test]
fn long_inline_binary_converts_identically_pushed() {
    let pixels: Vec<u8> = (0..300_001u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut text = Vec::new();
    dcmflow_simd::append_encoded(&pixels, &mut text);
    let text = String::from_utf8(text).unwrap();
    let escaped = text.replacen('/', "\\/", 3);
    let json = format!(
        r#"{{"00080060":{{"vr":"CS","Value":["MR"]}},"00091010":{{"vr":"OB","InlineBinary":"{text}"}},"00091012":{{"vr":"OB","InlineBinary":"{escaped}"}},"00400275":{{"vr":"SQ","Value":[{{"00091011":{{"vr":"OB","InlineBinary":"{text}"}},"00100010":{{"vr":"PN","Value":[{{"Alphabetic":"Doe"}}]}}}}]}},"7FE00010":{{"vr":"OW","InlineBinary":"{text}"}}}}"#
    );
    for hold in [4 << 20, 64 * 1024] {
        let mut options = ToDicomOptions::default();
        options.reader.hold_binary = hold;
        options.reader.chunk_size = 50_000;
        assert_push_equivalent(
            &format!("hold {hold}"),
            json.as_bytes(),
            &[7, 4096],
            &options,
        );
    }
}

/// Encapsulated Pixel Data written back from our JSON of an encapsulated file, under its syntax.
#[test]
fn encapsulated_pixel_data_converts_identically_pushed() {
    for name in ["encapsulated_bot.dcm", "encapsulated_no_bot.dcm"] {
        let path = dcmflow_testkit::corpus_dir("synthetic").join(name);
        let data = std::fs::read(&path).unwrap();
        let (json, _) = common::dcm2json(&data, &ToJsonOptions::default()).unwrap();
        for chunk_size in [3, 16, 1 << 20] {
            let mut options = ToDicomOptions::default();
            options.reader.chunk_size = chunk_size;
            options.reader.hold_binary = 16;
            assert_push_equivalent(name, &json, &[1, 2, 7, 64], &options);
        }
    }
}

/// Malformed JSON fails the same way pushed, at the same line, column and path.
#[test]
fn bad_json_fails_identically_pushed() {
    let cases: &[&[u8]] = &[
        br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe"}]},"00100020":{"vr":"LO","Value":["ID",]}}"#,
        br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe"}]}"#,
        br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe"}]}} x"#,
        br#"{"00100010":{"vr":"XX"}}"#,
        br#"{"00091010":{"vr":"OB","InlineBinary":"AAA"}}"#,
        br#"{"00091010":{"vr":"OB","InlineBinary":"AAAA"#,
        br#"{"00400275":{"vr":"SQ","Value":[{"00100020":{"vr":"LO","Value":["A"]},"00100020":{"vr":"LO","Value":["B"]}}]}}"#,
        br#"{"00100020":{"vr":"LO","Value":["A"]},"00080060":{"vr":"CS","Value":["MR"]},"00080060":{"vr":"CS"}}"#,
        br#"{"00091010":{"vr":"OB","InlineBinary":"AAAA","Value":[1]}}"#,
        br#"{"00281223":{"vr":"OW","vr": "UI","InlineBinary":"AAEAAf8A"}}"#,
        b"{\"00080090\":{\"vr\":\"\xFFN\"}}",
        br#"{"00200010":{"vr":"":"IS","Value":["1"]}}"#,
        b"",
        b"   ",
        b"[",
    ];
    for (i, json) in cases.iter().enumerate() {
        let expected = pulled(json, &ToDicomOptions::default());
        assert!(expected.error.is_some(), "case {i} should fail");
        assert_push_equivalent(
            &format!("case {i}"),
            json,
            &[1, 2, 3, 7],
            &ToDicomOptions::default(),
        );
    }
    // Bad base64 in a string spooled in pushed pieces, measured when pulled: one error, at the value's
    // start (where the reading stopped depends on how the text was read).
    let bad = format!(
        r#"{{"00080060":{{"vr":"CS","Value":["MR"]}},"00091010":{{"vr":"OB","InlineBinary":"{}*{}"}}}}"#,
        "A".repeat(300),
        "A".repeat(99)
    );
    let mut small_hold = ToDicomOptions::default();
    small_hold.reader.hold_binary = 16;
    // And a warning of the element before a spooled value (its key out of order) at the value's start.
    let unsorted = format!(
        r#"{{"00100020":{{"vr":"LO","Value":["A"]}},"00091010":{{"vr":"OB","InlineBinary":"{}"}}}}"#,
        "A".repeat(400)
    );
    assert_push_equivalent(
        "unsorted before spooled",
        unsorted.as_bytes(),
        &[1, 7, 64],
        &small_hold,
    );
    let expected = pulled(bad.as_bytes(), &small_hold);
    let error = expected.error.as_deref().expect("bad base64 fails");
    assert!(error.contains("column: Some(77)"), "{error}");
    assert_push_equivalent("bad base64", bad.as_bytes(), &[1, 7, 64], &small_hold);
}

/// `+Ug` gives new UIDs (random, so compared by shape): the pushed conversion replaces the same
/// elements, whatever the chunks.
#[test]
fn new_uids_are_made_pushed() {
    let json =
        br#"{"0020000D":{"vr":"UI","Value":["1.2.3"]},"0020000E":{"vr":"UI","Value":["1.2.3.4"]}}"#;
    let mut options = ToDicomOptions::default();
    options.new_uids = true;
    options.part10 = false;
    let expected = pulled(json, &options);
    for size in [1, 5, 64] {
        let got = pushed(json, &even_cuts(json.len(), size), &options);
        assert!(expected.dicom.starts_with(b"\x20\x00\x0D\x00UI"));
        assert!(
            got.dicom.starts_with(b"\x20\x00\x0D\x00UI"),
            "chunks of {size}"
        );
        assert!(
            got.dicom.windows(6).any(|w| w == b"\x20\x00\x0E\x00UI"),
            "chunks of {size}"
        );
        assert!(
            got.dicom.windows(5).any(|w| w == b"2.25."),
            "chunks of {size}"
        );
        assert!(
            !got.dicom.windows(5).any(|w| w == b"1.2.3"),
            "chunks of {size}"
        );
    }
}

/// A push conversion moves between threads (a server's task): it is `Send`.
#[test]
fn the_push_conversion_is_send() {
    fn send<T: Send>() {}
    send::<dcmflow::PushJsonToDicom<Vec<u8>>>();
    #[cfg(feature = "tokio")]
    send::<dcmflow::JsonToDicomDecoder>();
}

/// Layouts the compact fast paths do not take: whitespace, `"vr"` after the value (a sequence's too),
/// escapes, unsorted keys (and a duplicate among them), lenient spellings.
#[test]
fn every_layout_converts_identically_pushed() {
    let cases: &[&str] = &[
        "{\n  \"00080060\" : { \"vr\" : \"CS\" , \"Value\" : [ \"MR\" ] } ,\n  \"00100010\" : {\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"D\\u00f6e^J\\\"o\\/hn\"}]}\n}\n",
        r#"{"00400275":{"Value":[{"00100020":{"Value":["A"],"vr":"LO"}},{"00091010":{"InlineBinary":"AAECAw==","vr":"OB"}}],"vr":"SQ"},"00400276":{"Value":[{}],"vr":"SQ"}}"#,
        r#"{"00100020":{"vr":"LO","Value":["B"]},"00080060":{"vr":"CS","Value":["MR"]},"00080050":{"vr":"SH","Value":["X"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe"}]}}"#,
        r#"{"00100020":{"vr":"LO","Value":["B"]},"00080060":{"vr":"CS","Value":["MR"]},"00080050":{"vr":"SH","Value":["X"]},"00080060":{"vr":"CS","Value":["CT"]}}"#,
        r#"{"00400275":{"vr":"SQ","Value":[{"00100020":{"vr":"LO","Value":["B"]},"00080060":{"vr":"CS","Value":["MR"]}},{"00100020":{"vr":"LO","Value":["C"]},"00080050":{"vr":"SH","Value":["Y"]}}]}}"#,
        r#"{"00280010":{"vr":"US","Value":[512]},"00281050":{"vr":"DS","Value":[1.5e2,-0.25]},"00200013":{"vr":"IS","Value":[7]},"00181060":{"vr":"DS","Value":["12.5"]}}"#,
        r#"{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Müller"}]},"00400275":{"vr":"SQ","Value":[{"00080005":{"vr":"CS","Value":["ISO_IR 192"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"山田"}]}}]}}"#,
        r#"{"00100020":{"vr":"LO","Value":["A",]},"0010002a":{"vr":"LO","Value":["B"]},"00100030":{"VR":"DA","value":["20200101"]}}"#,
        r#"{"00020010":{"vr":"UI","Value":["1.2.840.10008.1.2"]},"00100020":{"vr":"LO","Value":["A"]}}"#,
    ];
    let mut lenient = ToDicomOptions::default();
    lenient.reader.lenient = true;
    for (i, json) in cases.iter().enumerate() {
        for options in [ToDicomOptions::default(), lenient.clone()] {
            assert_push_equivalent(
                &format!("case {i}"),
                json.as_bytes(),
                &[1, 2, 3, 7],
                &options,
            );
        }
    }
}

/// The tokio codec: JSON buffered in any amounts gives the DICOM of the io::Read conversion.
#[cfg(feature = "tokio")]
#[test]
fn the_tokio_decoder_gives_the_same_dicom() {
    use bytes::BytesMut;
    use dcmflow::JsonToDicomDecoder;
    use tokio_util::codec::Decoder;
    let mut n = 0;
    for path in corpus_files("synthetic") {
        let data = std::fs::read(&path).unwrap();
        let Ok((json, _)) = common::dcm2json(&data, &ToJsonOptions::default()) else {
            continue;
        };
        let expected = pulled(&json, &ToDicomOptions::default());
        let mut decoder = JsonToDicomDecoder::new(JsonToDicom::new(ToDicomOptions::default()));
        let mut src = BytesMut::new();
        let mut dicom = Vec::new();
        let mut at = 0;
        for cut in random_cuts(json.len(), 7, 300) {
            src.extend_from_slice(&json[at..cut]);
            at = cut;
            while let Some(piece) = decoder.decode(&mut src).unwrap() {
                dicom.extend_from_slice(&piece);
            }
        }
        src.extend_from_slice(&json[at..]);
        while let Some(piece) = decoder.decode_eof(&mut src).unwrap() {
            dicom.extend_from_slice(&piece);
        }
        assert_eq!(dicom, expected.dicom, "{}", path.display());
        assert!(decoder.report().is_some());
        n += 1;
    }
    assert!(n >= 20, "only {n} files");
}

/// A long InlineBinary spooled from pushed JSON is written out when its string ends: the tokio decoder
/// hands it over in frames of about 1 MiB, not in one piece (the first may also carry the up to 4 MiB the
/// writer holds while the file meta waits for the SOP UIDs), and the frames make the pulled DICOM.
#[cfg(feature = "tokio")]
#[test]
fn the_tokio_decoder_cuts_a_spooled_value_into_frames() {
    use bytes::BytesMut;
    use dcmflow::JsonToDicomDecoder;
    use tokio_util::codec::Decoder;
    let pixels: Vec<u8> = (0..16_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut text = Vec::new();
    dcmflow_simd::append_encoded(&pixels, &mut text);
    let json = format!(
        r#"{{"00080060":{{"vr":"CS","Value":["MR"]}},"7FE00010":{{"vr":"OB","InlineBinary":"{}"}}}}"#,
        String::from_utf8(text).unwrap()
    );
    let mut options = ToDicomOptions::default();
    options.reader.hold_binary = 64 * 1024;
    let expected = pulled(json.as_bytes(), &options);
    let mut decoder = JsonToDicomDecoder::new(JsonToDicom::new(options));
    let mut src = BytesMut::new();
    let mut frames = Vec::new();
    for piece in json.as_bytes().chunks(64 * 1024) {
        src.extend_from_slice(piece);
        while let Some(frame) = decoder.decode(&mut src).unwrap() {
            frames.push(frame);
        }
    }
    while let Some(frame) = decoder.decode_eof(&mut src).unwrap() {
        frames.push(frame);
    }
    let largest = frames.iter().map(|f| f.len()).max().unwrap();
    assert!(largest <= 6 << 20, "a frame of {largest} bytes");
    assert!(frames.len() >= 10, "{} frames", frames.len());
    assert_eq!(frames.concat(), expected.dicom);
}

/// A pushed reader asked to read binary values unmeasured (as for a seekable output) still measures or
/// spools them: its values come out whole and right at any chunking.
#[test]
fn a_pushed_reader_never_reads_a_value_unmeasured() {
    use dcmflow::core::Token;
    use dcmflow::json::read::{JsonReader, ReadErrorKind, ReadOptions};
    let bytes: Vec<u8> = (0..3000u32).map(|i| (i * 13) as u8).collect();
    let mut text = Vec::new();
    dcmflow_simd::append_encoded(&bytes, &mut text);
    let json = format!(
        r#"{{"00091010":{{"vr":"OB","InlineBinary":"{}"}}}}"#,
        String::from_utf8(text).unwrap()
    );
    for size in [1, 7, 500] {
        let options = ReadOptions {
            hold_binary: 64,
            ..ReadOptions::default()
        };
        let mut reader = JsonReader::pushed(options);
        reader.set_unmeasured_binary(true);
        let mut chunks = json.as_bytes().chunks(size);
        let mut value = Vec::new();
        loop {
            match reader.read_token() {
                Ok(Token::Eof) => break,
                Ok(Token::Element(h)) => assert_eq!(h.len, 3000, "chunks of {size}"),
                Ok(Token::Value { bytes, .. }) => value.extend_from_slice(bytes),
                Ok(other) => panic!("{other:?}"),
                Err(e) if e.kind == ReadErrorKind::NeedInput => match chunks.next() {
                    Some(c) => reader.push(bytes::Bytes::copy_from_slice(c)),
                    None => reader.end_input(),
                },
                Err(e) => panic!("chunks of {size}: {e}"),
            }
        }
        assert_eq!(value, bytes, "chunks of {size}");
    }
}

/// Found by the fuzz target `json_push`: the lexer's fast path for `, ` looked at the byte after them
/// without checking it had been read, and so took stale bytes of its buffer for the next member's start
/// (here before a lenient trailing comma, `"PRIMARY",   ]`): pushed and pulled reading then disagreed.
#[test]
fn a_separator_at_the_end_of_what_was_read_is_read_alike() {
    let json = br#"{
  "00080008": {
    "vr": "CS",
    "Value": [
      "DERIVED<",
      "PRIMARY",   ]
  },
  "00080022": {
    "vr": "DA",
    "Value": [
      ]
  },
  "0 080031": {
    "vr": "TM",
    "Value": [
      "122931"
    ]
  }
}"#;
    for (name, options) in option_sets() {
        assert_push_equivalent(name, json, &[1, 2, 3, 5, 7], &options);
    }
}
