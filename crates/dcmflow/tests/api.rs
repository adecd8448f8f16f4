//! The facade's one API: every input kind and output kind gives the same bytes, the report counts what
//! was written, errors carry their category, position and the I/O error itself.

mod common;

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use dcmflow::{
    Category, DicomToJson, Input, JsonToDicom, Output, Threads, ToDicomOptions, ToJsonOptions,
    Transcode, TranscodeOptions, WarningCode,
};

fn fixture() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../corpus/synthetic/every_vr_explicit.dcm"
    );
    std::fs::read(path).unwrap()
}

/// A reader that fails after `room` bytes with its own error.
struct FailingInput<'a> {
    data: &'a [u8],
    room: usize,
}

impl Read for FailingInput<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::other("network gone"));
        }
        let n = buf.len().min(self.room).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.room -= n;
        Ok(n)
    }
}

#[test]
fn every_input_and_output_kind_gives_the_same_bytes_and_counts_them() {
    let dicom = fixture();
    let file = {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&dicom).unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        f
    };
    for threads in [Threads::One, Threads::Two] {
        let mut options = ToJsonOptions::default();
        options.threads = threads;
        let mut conversion = DicomToJson::new(options);
        let mut from_slice = Vec::new();
        let report = conversion.convert(&dicom, &mut from_slice).unwrap();
        assert_eq!(report.written, from_slice.len() as u64);
        let mut from_reader = Vec::new();
        conversion
            .convert(Input::reader(&dicom[..]), &mut from_reader)
            .unwrap();
        let mut from_file = Vec::new();
        (&file).seek(SeekFrom::Start(0)).unwrap();
        conversion.convert(&file, &mut from_file).unwrap();
        assert_eq!(from_slice, from_reader, "{threads:?}");
        assert_eq!(from_slice, from_file, "{threads:?}");

        // Back, into a stream, a seekable output that already holds bytes, and a Vec.
        let mut options = ToDicomOptions::default();
        options.threads = threads;
        let mut back = JsonToDicom::new(options);
        let mut stream = Vec::new();
        let report = back
            .convert(&from_slice, Output::stream(&mut stream))
            .unwrap();
        assert_eq!(report.written, stream.len() as u64);
        let mut seekable = Cursor::new(b"before".to_vec());
        seekable.seek(SeekFrom::End(0)).unwrap();
        let report = back
            .convert(&from_slice, Output::seekable(&mut seekable))
            .unwrap();
        assert_eq!(&seekable.get_ref()[6..], &stream[..], "{threads:?}");
        assert_eq!(report.written, stream.len() as u64);
        let mut vec = b"x".to_vec();
        let report = back.convert(&from_slice, &mut vec).unwrap();
        assert_eq!(&vec[1..], &stream[..]);
        assert_eq!(report.written, stream.len() as u64);
    }
    let mut transcoded = Vec::new();
    let report = Transcode::new(TranscodeOptions::default())
        .convert(&dicom, &mut transcoded)
        .unwrap();
    assert_eq!(report.written, transcoded.len() as u64);
    assert_eq!(transcoded, dicom, "same syntax: byte-identical");
}

#[test]
fn an_input_failure_keeps_its_io_error_and_offset() {
    let dicom = fixture();
    for threads in [Threads::One, Threads::Two] {
        let mut options = ToJsonOptions::default();
        options.threads = threads;
        let input = FailingInput {
            data: &dicom,
            room: 300,
        };
        let e = DicomToJson::new(options)
            .convert(Input::reader(input), &mut Vec::new())
            .unwrap_err();
        assert_eq!(e.classify(), Category::InputIo, "{e}");
        assert_eq!(e.io_kind(), Some(std::io::ErrorKind::Other));
        let source = std::error::Error::source(&e).expect("the io::Error");
        assert_eq!(source.to_string(), "network gone");
        assert!(e.position().offset.is_some_and(|o| o <= 300), "{e:?}");
    }
    let json = br#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe"}]}}"#;
    let input = FailingInput {
        data: json,
        room: 10,
    };
    let e = JsonToDicom::new(ToDicomOptions::default())
        .convert(Input::reader(input), &mut Vec::new())
        .unwrap_err();
    assert_eq!(e.classify(), Category::InputIo, "{e}");
    assert_eq!(
        std::error::Error::source(&e).unwrap().to_string(),
        "network gone"
    );
}

#[test]
fn errors_say_what_and_where() {
    let bad = b"{\n  \"00100010\": {\"vr\": \"XX\"}\n}";
    let e = dcmflow::json_to_dicom(bad).unwrap_err();
    assert_eq!(e.classify(), Category::InvalidInput);
    assert_eq!(
        (e.position().line, e.position().column),
        (Some(2), Some(26))
    );
    assert_eq!(e.position().path, "00100010");
    assert!(
        e.to_string().starts_with("line 2, column 26 (00100010): "),
        "{e}"
    );
    // A number refused under NumberPolicy::Number: a value problem, with the element.
    let ds = b"\x18\x00\x50\x00DS\x04\x00abc ";
    let mut options = ToJsonOptions::default();
    options.json.numbers = dcmflow::json::NumberPolicy::Number;
    let e = DicomToJson::new(options)
        .convert(&ds[..], &mut Vec::new())
        .unwrap_err();
    assert_eq!(e.classify(), Category::InvalidValue, "{e}");
    assert_eq!(e.position().path, "00180050");
    // An unknown transfer syntax in the JSON's meta cannot be written.
    let json = br#"{"00020010":{"vr":"UI","Value":["1.2.3.4.5"]}}"#;
    let e = dcmflow::json_to_dicom(json).unwrap_err();
    assert_eq!(e.classify(), Category::Unsupported, "{e}");
    assert!(e.message().contains("option `transfer_syntax`"), "{e}");
}

#[test]
fn warnings_carry_a_code_of_their_side() {
    // An odd-length OB: the DICOM reader warns; a trailing comma accepted as lenient: the JSON reader.
    let odd = b"\x09\x00\x10\x10OB\x00\x00\x03\x00\x00\x00\x01\x02\x03";
    let (_, report) = common::dcm2json(odd, &ToJsonOptions::default()).unwrap();
    assert!(
        report.warnings.iter().any(|w| matches!(
            w.code(),
            WarningCode::DicomInput(dcmflow::core::WarningKind::OddLength(_))
        )),
        "{:?}",
        report.warnings
    );
    let mut options = ToDicomOptions::default();
    options.reader.lenient = true;
    let (_, report) =
        common::json2dcm(br#"{"00080060":{"vr":"CS","Value":["MR",]}}"#, &options).unwrap();
    let warning = &report.warnings[0];
    assert_eq!(
        warning.code(),
        WarningCode::JsonInput(dcmflow::json::read::ReadWarningKind::LenientSyntax)
    );
    assert_eq!(warning.position().line, Some(1));
}

#[test]
fn a_file_output_is_seekable_when_it_is_a_regular_file() {
    let json = dcmflow::dicom_to_json(&fixture()).unwrap();
    let mut file = tempfile::tempfile().unwrap();
    let report = JsonToDicom::new(ToDicomOptions::default())
        .convert(&json, &mut file)
        .unwrap();
    let mut written = Vec::new();
    file.seek(SeekFrom::Start(0)).unwrap();
    file.read_to_end(&mut written).unwrap();
    assert_eq!(report.written, written.len() as u64);
    assert_eq!(written, dcmflow::json_to_dicom(&json).unwrap());
    assert!(format!("{:?}", Output::from(&mut file)).contains("seekable"));
}
