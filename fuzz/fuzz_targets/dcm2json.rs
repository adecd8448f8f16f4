//! Any bytes through dcm2json must give valid JSON (checked by serde_json, an independent parser) or a
//! clean error; never a panic. The first byte picks compact or pretty output and the IS/DS policy, so
//! both formatters and all number paths are exercised; with its bit 4 set the two-thread conversion runs
//! too and must give the same JSON and warnings or the same error, with bit 5 the reading thread
//! rendering every value it can (`ValueRendering::Reader`), else the balanced default, and with bit 6
//! both with bulk data references. Outputs are capped at 4 MiB: past that (indented output of deeply
//! nested empty values grows a few hundred times the input) the input is not judged, since the target,
//! not the converter, would hold the memory.
#![no_main]
use dcmflow::core::Vr;
use dcmflow::dicom::ReaderOptions;
use dcmflow::json::{BulkHandler, BulkSelection, JsonOptions, NumberPolicy, SourceReference};
use dcmflow::{DicomToJson, Input, Output, Report, Threads, ToJsonOptions, ValueRendering};

/// DICOM → JSON of `input` into `out` on `threads`, with an optional bulk handler.
fn convert(
    input: Input<'_>,
    out: &mut Capped,
    options: &ToJsonOptions,
    threads: Threads,
    bulk: Option<&mut dyn BulkHandler>,
) -> Result<Report, dcmflow::Error> {
    let mut options = options.clone();
    options.threads = threads;
    let mut conversion = DicomToJson::new(options);
    if let Some(handler) = bulk {
        conversion = conversion.bulk_handler(handler);
    }
    conversion.convert(input, Output::stream(out))
}
use libfuzzer_sys::fuzz_target;

/// An output that refuses to grow past [`CAP`] bytes (the conversion then fails with a write error).
#[derive(Default)]
struct Capped {
    bytes: Vec<u8>,
    full: bool,
}

const CAP: usize = 4 << 20;

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > CAP {
            self.full = true;
            return Err(std::io::ErrorKind::OutOfMemory.into());
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let mut options = ToJsonOptions::default();
    options.pretty = mode & 1 == 1;
    options.json = JsonOptions {
        numbers: match (mode >> 1) % 3 {
            0 => NumberPolicy::Auto,
            1 => NumberPolicy::String,
            _ => NumberPolicy::Number,
        },
        convert_un: mode & 8 == 8,
        ..JsonOptions::default()
    };
    // Each sequence level is 3 JSON levels (object, array, object); serde_json stops at 128.
    options.reader = ReaderOptions {
        max_depth: 40,
        ..ReaderOptions::default()
    };
    options.value_rendering = if mode & 32 == 32 {
        ValueRendering::Reader
    } else {
        ValueRendering::Balanced
    };
    let mut out = Capped::default();
    let result = convert(Input::from(input), &mut out, &options, Threads::One, None);
    if out.full {
        return;
    }
    if mode & 16 == 16 {
        // Both read through `io::Read`, so the errors (with their offsets) are comparable. With bit 6,
        // both with bulk data references (DS and FD too, down to 8 bytes).
        let handler = || SourceReference {
            selection: BulkSelection {
                thresholds: vec![
                    (Vr::OB, 64),
                    (Vr::OW, 64),
                    (Vr::UN, 64),
                    (Vr::DS, 8),
                    (Vr::FD, 8),
                ],
                paths: Vec::new(),
            },
            source_uri: "file:///x.dcm".into(),
        };
        let (mut one, mut two) = (handler(), handler());
        let bulk = mode & 64 == 64;
        let mut streamed = Capped::default();
        let first = convert(
            Input::reader(input),
            &mut streamed,
            &options,
            Threads::One,
            bulk.then_some(&mut one as &mut dyn BulkHandler),
        );
        let mut pipelined = Capped::default();
        let second = convert(
            Input::reader(input),
            &mut pipelined,
            &options,
            Threads::Two,
            bulk.then_some(&mut two as &mut dyn BulkHandler),
        );
        if streamed.full || pipelined.full {
            return;
        }
        match (&first, &second) {
            (Ok(a), Ok(b)) => {
                assert!(
                    streamed.bytes == pipelined.bytes,
                    "two threads wrote other JSON"
                );
                assert_eq!(a.warnings, b.warnings);
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            (a, b) => panic!("one thread {a:?}, two threads {b:?}"),
        }
    }
    if result.is_ok() {
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&out.bytes) {
            panic!(
                "invalid JSON ({e}): {}",
                String::from_utf8_lossy(&out.bytes)
            );
        }
    }
});
