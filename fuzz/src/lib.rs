//! What the fuzz targets share.

/// The pieces a push target hands over: `data` cut every `step` bytes, the step growing by `grow` after
/// each piece (a fuzz input's first byte chooses both).
pub struct Cuts<'a> {
    data: &'a [u8],
    step: usize,
    grow: usize,
}

impl<'a> Cuts<'a> {
    /// Pieces of `data`, the first `step` bytes long (at least 1).
    pub fn new(data: &'a [u8], step: usize, grow: usize) -> Self {
        Cuts {
            data,
            step: step.max(1),
            grow,
        }
    }
}

impl<'a> Iterator for Cuts<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.data.is_empty() {
            return None;
        }
        let (piece, rest) = self.data.split_at(self.step.min(self.data.len()));
        self.data = rest;
        self.step += self.grow;
        Some(piece)
    }
}

/// The slow pipe the targets read from (the tests' own).
pub use dcmflow_testkit::Trickle;

/// BSON → Extended JSON in `mode`, one document per line; `None` when the BSON is refused.
pub fn extended_json(bson: &[u8], stream: bool, mode: dcmflow_bson::Mode) -> Option<Vec<u8>> {
    use dcmflow_bson::{BsonReader, ExtJsonWriter, Layout, ReaderOptions, Token};
    let mut options = ReaderOptions::default();
    options.stream = stream;
    let mut reader = BsonReader::from_slice(bson, options);
    let mut writer = ExtJsonWriter::new(
        Vec::new(),
        dcmflow_engine::json::format::Compact,
        mode,
        Layout::Lines,
    );
    loop {
        let token = reader.read_token().ok()?;
        writer
            .write_token(&token)
            .expect("the writer takes the reader's tokens");
        if token == Token::End {
            return Some(writer.finish().expect("in memory"));
        }
    }
}

/// Every document an Extended JSON reader gives, and how it stopped: `(kind, offset)` of an error.
pub fn documents(
    reader: &mut dcmflow_bson::ExtJsonReader<'_>,
    mut more: impl FnMut(&mut dcmflow_bson::ExtJsonReader<'_>) -> bool,
) -> (Vec<Vec<u8>>, Option<(dcmflow_bson::ErrorKind, u64)>) {
    let mut docs = Vec::new();
    loop {
        match reader.next_document() {
            Ok(Some(doc)) => docs.push(doc.to_vec()),
            Ok(None) => return (docs, None),
            Err(e) if e.kind() == dcmflow_bson::ErrorKind::NeedInput => {
                assert!(more(reader), "asked for input after the end");
            }
            Err(e) => return (docs, Some((e.kind(), e.offset()))),
        }
    }
}
