//! Avro object container files → JSON (Avro's JSON encoding or GA4GH's), one datum per line or one
//! array.

use std::io::{BufReader, Read, Write};

use dcmflow_avro::binary::Cursor;
use dcmflow_avro::{AvroError, ContainerReader, Encoding, JsonDecoder};
use dcmflow_engine::json::format::{Compact, Formatter, Pretty};
use dcmflow_engine::Position;

use crate::io::{Input, Sink, Source};
use crate::{Category, Error, Report};

/// How Avro becomes JSON.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AvroToJsonOptions {
    /// Avro's JSON encoding (union values wrapped in their type's name; the default) or GA4GH's (bare).
    pub encoding: Encoding,
    /// One JSON array of the data instead of one datum per line.
    pub array: bool,
    /// Indented output; compact by default.
    pub pretty: bool,
    /// The largest block read, compressed or decompressed (64 MiB by default).
    pub max_block_size: usize,
}

impl Default for AvroToJsonOptions {
    fn default() -> Self {
        AvroToJsonOptions {
            encoding: Encoding::Avro,
            array: false,
            pretty: false,
            max_block_size: dcmflow_avro::container::DEFAULT_MAX_BLOCK_SIZE,
        }
    }
}

/// Avro object container file → JSON, block by block: memory holds one block and its JSON.
///
/// ```
/// use dcmflow::{AvroToJson, AvroToJsonOptions};
/// // A container file of one `int`, 21: magic, metadata {avro.schema: "int"}, sync, one block.
/// let mut file = b"Obj\x01\x02\x16avro.schema\x0a\"int\"\x00".to_vec();
/// file.extend_from_slice(&[7; 16]);
/// file.extend_from_slice(&[0x02, 0x02, 42]);
/// file.extend_from_slice(&[7; 16]);
/// let mut json = Vec::new();
/// let report = AvroToJson::new(AvroToJsonOptions::default()).convert(&file[..], &mut json)?;
/// assert_eq!(json, b"21\n");
/// assert_eq!(report.documents, 1);
/// # Ok::<(), dcmflow::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct AvroToJson {
    options: AvroToJsonOptions,
}

impl AvroToJson {
    /// A conversion with these options.
    pub fn new(options: AvroToJsonOptions) -> AvroToJson {
        AvroToJson { options }
    }

    /// Converts every datum of the container file `input` into `output`.
    pub fn convert<'i, 'o>(
        &self,
        input: impl Into<Input<'i>>,
        output: impl Into<crate::Output<'o>>,
    ) -> Result<Report, Error> {
        let input = input.into();
        let output = output.into();
        let out: &mut (dyn Write + Send) = match output.sink {
            Sink::Stream(w) => w,
            Sink::Seekable(w) => w,
            Sink::Memory(v) => v,
        };
        let read: Box<dyn Read + Send + '_> = match input.source {
            Source::Slice(bytes) => Box::new(bytes),
            Source::File(file) => Box::new(BufReader::with_capacity(1 << 16, file)),
            Source::Reader(reader) => Box::new(BufReader::with_capacity(1 << 16, reader)),
        };
        if self.options.pretty {
            self.run(read, out, &mut Pretty::default())
        } else {
            self.run(read, out, &mut Compact)
        }
    }

    fn run<F: Formatter>(
        &self,
        read: impl Read,
        out: &mut (dyn Write + Send),
        format: &mut F,
    ) -> Result<Report, Error> {
        let options = &self.options;
        let mut reader =
            ContainerReader::new(read, options.max_block_size).map_err(reading_error)?;
        let schema = reader.header().schema.clone();
        let mut decoder = JsonDecoder::new(&schema, options.encoding);
        let mut json = Vec::with_capacity(1 << 16);
        let (mut data, mut written) = (0u64, 0u64);
        if options.array {
            format.begin_array(&mut json);
        }
        while let Some(block) = reader.next_block().map_err(reading_error)? {
            let mut cursor = Cursor::new(block.data);
            for index in 0..block.count {
                if options.array {
                    format.begin_array_value(&mut json, data == 0);
                }
                decoder
                    .decode(&mut cursor, format, &mut json)
                    .map_err(|fault| {
                        reading_error(AvroError {
                            offset: block.offset,
                            in_block: Some(cursor.position() as u64),
                            path: fault.path,
                            message: format!(
                                "datum {} of the file (the block's {}): {}",
                                data + 1,
                                index + 1,
                                fault.message
                            ),
                        })
                    })?;
                if !options.array {
                    json.push(b'\n');
                }
                data += 1;
            }
            if cursor.remaining() != 0 {
                return Err(reading_error(AvroError {
                    offset: block.offset,
                    in_block: Some(cursor.position() as u64),
                    path: String::new(),
                    message: format!(
                        "{} bytes left in a block after its {} data (its count or data is wrong)",
                        cursor.remaining(),
                        block.count
                    ),
                }));
            }
            out.write_all(&json).map_err(writing_error)?;
            written += json.len() as u64;
            json.clear();
        }
        if options.array {
            format.end_array(&mut json, data == 0);
            json.push(b'\n');
        }
        out.write_all(&json).map_err(writing_error)?;
        written += json.len() as u64;
        out.flush().map_err(writing_error)?;
        Ok(Report {
            written,
            documents: data,
            ..Report::default()
        })
    }
}

fn reading_error(e: AvroError) -> Error {
    let category = if e.message.starts_with("reading") {
        Category::InputIo
    } else {
        Category::InvalidInput
    };
    let message = match e.in_block {
        Some(inner) => format!(
            "reading Avro: in the block at byte {}, at byte {inner} of its data: {}",
            e.offset, e.message
        ),
        None => format!("reading Avro: {}", e.message),
    };
    Error::new(
        category,
        message,
        Position::at_offset(e.offset).with_path(e.path),
    )
}

fn writing_error(e: std::io::Error) -> Error {
    Error::new(
        Category::OutputIo,
        format!("writing JSON: {e}"),
        Position::default(),
    )
    .with_source(Some(e))
}
