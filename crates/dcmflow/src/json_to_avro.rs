//! JSON (Avro's JSON encoding or GA4GH's) → Avro: an object container file, bare data, or
//! single-object encoding.

use std::io::{BufWriter, Write};

use dcmflow_avro::container_writer::{minify_json, ContainerWriter, WriterOptions};
use dcmflow_avro::{
    fingerprint64, Encoding, JsonDatumOptions, JsonDatumReader, JsonInputError, JsonInputErrorKind,
    Schema,
};
use dcmflow_engine::Position;

use crate::io::{Input, Source};
use crate::{Category, Error, Report};

/// How the data are framed in the output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AvroFraming {
    /// An object container file: the header with the schema, then blocks (the default).
    #[default]
    Container,
    /// The data's binary encoding one after another, nothing else (the schema is the reader's business).
    Bare,
    /// Single-object encoding: `C3 01`, the schema's CRC-64-AVRO fingerprint, then the datum — for each.
    SingleObject,
}

/// How JSON becomes Avro.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct JsonToAvroOptions {
    /// Avro's JSON encoding (union values wrapped in their type's name; the default) or GA4GH's (bare).
    pub encoding: Encoding,
    /// The data are the elements of one top-level JSON array (else JSON values one after another).
    pub array: bool,
    /// Container file, bare data or single-object encoding.
    pub framing: AvroFraming,
    /// Container files: the codec, its level, the sync marker (random unless given) and block size.
    pub container: WriterOptions,
    /// The largest datum, in bytes, and the longest string held whole (64 MiB).
    pub max_datum_size: usize,
    /// Deepest nesting of arrays, maps, records and union values (1000).
    pub max_depth: usize,
}

impl Default for JsonToAvroOptions {
    fn default() -> Self {
        let reader = JsonDatumOptions::default();
        JsonToAvroOptions {
            encoding: Encoding::Avro,
            array: false,
            framing: AvroFraming::Container,
            container: WriterOptions::default(),
            max_datum_size: reader.max_datum_size,
            max_depth: reader.max_depth,
        }
    }
}

/// JSON → Avro data of one schema, datum by datum: memory holds one block of data (or one datum).
///
/// ```
/// use dcmflow::avro::Codec;
/// use dcmflow::{AvroFraming, JsonToAvro, JsonToAvroOptions};
/// let schema = r#"{"type": "record", "name": "P", "fields": [
///     {"name": "x", "type": "int"}, {"name": "tag", "type": ["null", "string"], "default": null}]}"#;
/// let json = br#"{"x": 1, "tag": {"string": "a"}}
/// {"tag": null, "x": -1}
/// {"x": 2}"#;
/// let mut options = JsonToAvroOptions::default();
/// options.framing = AvroFraming::Bare;
/// let mut avro = Vec::new();
/// let report = JsonToAvro::new(schema, options)?.convert(&json[..], &mut avro)?;
/// assert_eq!(report.documents, 3);
/// assert_eq!(avro, b"\x02\x02\x02a\x01\x00\x04\x00");
///
/// // A container file, deflated, read back.
/// let mut options = JsonToAvroOptions::default();
/// options.container.codec = Codec::Deflate;
/// let mut file = Vec::new();
/// JsonToAvro::new(schema, options)?.convert(&json[..], &mut file)?;
/// let mut back = Vec::new();
/// dcmflow::AvroToJson::default().convert(&file[..], &mut back)?;
/// assert_eq!(back, b"{\"x\":1,\"tag\":{\"string\":\"a\"}}\n{\"x\":-1,\"tag\":null}\n{\"x\":2,\"tag\":null}\n");
/// # Ok::<(), dcmflow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct JsonToAvro {
    schema: Schema,
    /// The schema's JSON without whitespace, as a container's header holds it.
    schema_json: String,
    options: JsonToAvroOptions,
}

impl JsonToAvro {
    /// A conversion into data of the schema `schema_json` (an .avsc's text). Fails when the schema is
    /// not valid, a field's default included.
    pub fn new(schema_json: &str, options: JsonToAvroOptions) -> Result<JsonToAvro, Error> {
        let schema = Schema::parse_str(schema_json).map_err(|e| schema_error(&e))?;
        // The defaults are checked now, not at the first datum that needs one.
        dcmflow_avro::JsonEncoder::new(&schema, options.encoding).map_err(|e| schema_error(&e))?;
        Ok(JsonToAvro {
            schema,
            schema_json: minify_json(schema_json),
            options,
        })
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Converts every JSON value of `input` into `output`.
    pub fn convert<'i, 'o>(
        &self,
        input: impl Into<Input<'i>>,
        output: impl Into<crate::Output<'o>>,
    ) -> Result<Report, Error> {
        let options = self.datum_options();
        let reader = match input.into().source {
            Source::Slice(bytes) => JsonDatumReader::from_slice(bytes, &self.schema, options),
            Source::File(file) => JsonDatumReader::from_reader(file, &self.schema, options),
            Source::Reader(reader) => JsonDatumReader::from_reader(reader, &self.schema, options),
        }
        .map_err(|e| schema_error(&e))?;
        let out = output.into().into_write();
        let out = Counted {
            out: std::io::BufWriter::with_capacity(1 << 16, out),
            written: 0,
        };
        match self.options.framing {
            AvroFraming::Container => self.container(reader, out),
            AvroFraming::Bare => self.datums(reader, out, None),
            AvroFraming::SingleObject => self.datums(reader, out, Some(self.single_object_head())),
        }
    }

    /// A conversion fed pushed chunks (`bytes::Bytes` from a network stack) instead of reading: each
    /// [`PushJsonToAvro::push`] writes the data its bytes complete, with the same output and errors as
    /// [`JsonToAvro::convert`] at any chunking. A datum's JSON stays buffered until it is complete.
    ///
    /// ```
    /// use dcmflow::{AvroFraming, JsonToAvro, JsonToAvroOptions};
    /// let mut options = JsonToAvroOptions::default();
    /// options.framing = AvroFraming::Bare;
    /// let conversion = JsonToAvro::new(r#"["null", "long"]"#, options)?;
    /// let mut push = conversion.push(Vec::new());
    /// for piece in [&b"{\"lo"[..], b"ng\": 4", b"2}\nnu", b"ll"] {
    ///     push.push(bytes::Bytes::copy_from_slice(piece))?;
    /// }
    /// let (avro, report) = push.finish()?;
    /// assert_eq!(avro, b"\x02\x54\x00");
    /// assert_eq!(report.documents, 2);
    /// # Ok::<(), dcmflow::Error>(())
    /// ```
    pub fn push<W: Write>(&self, output: W) -> PushJsonToAvro<'_, W> {
        let reader = JsonDatumReader::pushed(&self.schema, self.datum_options())
            .expect("the schema's defaults were checked when the conversion was made");
        let out = Counted {
            out: std::io::BufWriter::with_capacity(1 << 16, output),
            written: 0,
        };
        let sink = match self.options.framing {
            AvroFraming::Container => Sink::Unstarted(out),
            AvroFraming::Bare => Sink::Datums(out, None),
            AvroFraming::SingleObject => Sink::Datums(out, Some(self.single_object_head())),
        };
        PushJsonToAvro {
            conversion: self,
            reader,
            sink: Some(sink),
            datum: Vec::new(),
        }
    }

    fn datum_options(&self) -> JsonDatumOptions {
        JsonDatumOptions {
            encoding: self.options.encoding,
            array: self.options.array,
            max_buffer: self.options.max_datum_size,
            max_datum_size: self.options.max_datum_size,
            max_depth: self.options.max_depth,
        }
    }

    /// specification.md, Single-object encoding: C3 01, then the schema's fingerprint, little endian.
    fn single_object_head(&self) -> [u8; 10] {
        let canonical = dcmflow_avro::parsing_canonical_form(&self.schema);
        let mut head = [0u8; 10];
        head[..2].copy_from_slice(&[0xC3, 0x01]);
        head[2..].copy_from_slice(&fingerprint64(canonical.as_bytes()).to_le_bytes());
        head
    }

    fn container(
        &self,
        mut reader: JsonDatumReader<'_, '_>,
        out: Counted<impl Write>,
    ) -> Result<Report, Error> {
        let mut writer = ContainerWriter::new(out, &self.schema_json, &self.options.container)
            .map_err(writing_error)?;
        while reader.next_datum(writer.buffer()).map_err(json_error)? {
            writer.datum_done().map_err(writing_error)?;
        }
        let mut out = writer.finish().map_err(writing_error)?;
        finish(&mut out, reader.datums())
    }

    fn datums(
        &self,
        mut reader: JsonDatumReader<'_, '_>,
        mut out: Counted<impl Write>,
        head: Option<[u8; 10]>,
    ) -> Result<Report, Error> {
        let mut datum = Vec::with_capacity(1 << 12);
        loop {
            datum.clear();
            if let Some(head) = head {
                datum.extend_from_slice(&head);
            }
            if !reader.next_datum(&mut datum).map_err(json_error)? {
                break;
            }
            out.write_all(&datum).map_err(writing_error)?;
        }
        finish(&mut out, reader.datums())
    }
}

/// JSON → Avro from pushed chunks; made by [`JsonToAvro::push`] (and borrowing it).
pub struct PushJsonToAvro<'c, W: Write> {
    conversion: &'c JsonToAvro,
    reader: JsonDatumReader<'c, 'static>,
    sink: Option<Sink<W>>,
    datum: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for PushJsonToAvro<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushJsonToAvro")
            .field("datums", &self.reader.datums())
            .finish()
    }
}

/// Where pushed data go: a container file (its header written at the first push, or at the finish
/// when nothing was pushed), or data one after another (each after a head: single-object encoding).
enum Sink<W: Write> {
    Unstarted(Counted<BufWriter<W>>),
    Container(ContainerWriter<Counted<BufWriter<W>>>),
    Datums(Counted<BufWriter<W>>, Option<[u8; 10]>),
}

impl<W: Write> PushJsonToAvro<'_, W> {
    /// Converts the data `chunk` completes.
    pub fn push(&mut self, chunk: bytes::Bytes) -> Result<(), Error> {
        self.reader.push(chunk);
        self.convert()
    }

    /// No more input: converts the rest (JSON cut short is an error here), and returns the output and
    /// the report.
    pub fn finish(mut self) -> Result<(W, Report), Error> {
        self.reader.end_input();
        self.convert()?;
        self.start_container()?;
        let mut out = match self.sink.take().expect("a sink until finished") {
            Sink::Container(writer) => writer.finish().map_err(writing_error)?,
            Sink::Datums(out, _) | Sink::Unstarted(out) => out,
        };
        let report = finish(&mut out, self.reader.datums())?;
        let inner = out
            .out
            .into_inner()
            .map_err(|e| writing_error(e.into_error()))?;
        Ok((inner, report))
    }

    fn start_container(&mut self) -> Result<(), Error> {
        if let Some(Sink::Unstarted(_)) = &self.sink {
            let Some(Sink::Unstarted(out)) = self.sink.take() else {
                unreachable!("matched above")
            };
            let writer = ContainerWriter::new(
                out,
                &self.conversion.schema_json,
                &self.conversion.options.container,
            )
            .map_err(writing_error)?;
            self.sink = Some(Sink::Container(writer));
        }
        Ok(())
    }

    fn convert(&mut self) -> Result<(), Error> {
        loop {
            self.start_container()?;
            let sink = self.sink.as_mut().expect("a sink until finished");
            let (buffer, head) = match sink {
                Sink::Container(writer) => (writer.buffer(), None),
                Sink::Datums(_, head) => {
                    self.datum.clear();
                    (&mut self.datum, *head)
                }
                Sink::Unstarted(_) => unreachable!("started above"),
            };
            if let Some(head) = head {
                buffer.extend_from_slice(&head);
            }
            let before = buffer.len();
            match self.reader.next_datum(buffer) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) if e.kind == JsonInputErrorKind::NeedInput => {
                    buffer.truncate(before - head.map_or(0, |h| h.len()));
                    return Ok(());
                }
                Err(e) => return Err(json_error(e)),
            }
            match self.sink.as_mut().expect("a sink until finished") {
                Sink::Container(writer) => writer.datum_done().map_err(writing_error)?,
                Sink::Datums(out, _) => out.write_all(&self.datum).map_err(writing_error)?,
                Sink::Unstarted(_) => unreachable!("started above"),
            }
        }
    }
}

/// The output, counting what is written.
struct Counted<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn finish(out: &mut Counted<impl Write>, datums: u64) -> Result<Report, Error> {
    out.flush().map_err(writing_error)?;
    Ok(Report {
        written: out.written,
        documents: datums,
        ..Report::default()
    })
}

fn schema_error(e: &dcmflow_avro::SchemaError) -> Error {
    Error::new(
        Category::InvalidInput,
        format!("the schema: {e}"),
        Position::default().with_path(e.path.clone()),
    )
}

fn json_error(e: JsonInputError) -> Error {
    let category = match e.kind {
        JsonInputErrorKind::Syntax | JsonInputErrorKind::NeedInput => Category::InvalidInput,
        JsonInputErrorKind::Schema => Category::InvalidValue,
        JsonInputErrorKind::Limit => Category::Limit,
        JsonInputErrorKind::Io => Category::InputIo,
    };
    Error::new(
        category,
        format!("reading JSON, datum {}: {}", e.datum + 1, e.message),
        Position::in_text(e.line, e.column, Some(e.offset), e.path),
    )
}

fn writing_error(e: std::io::Error) -> Error {
    Error::new(
        Category::OutputIo,
        format!("writing Avro: {e}"),
        Position::default(),
    )
    .with_source(Some(e))
}
