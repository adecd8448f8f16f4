//! Avro object container files → JSON (Avro's JSON encoding or GA4GH's), one datum per line or one
//! array.

use std::io::{BufReader, Read, Write};

use dcmflow_avro::binary::Cursor;
use dcmflow_avro::streamed::{count_beyond_bytes, datum_error};
use dcmflow_avro::{
    AvroError, ContainerReader, Encoding, JsonDecoder, Layout, NextBlock, PushContainer, Step,
    StreamedBlock,
};
use dcmflow_engine::json::format::{Compact, Formatter, Pretty};
use dcmflow_engine::Position;

use crate::avro_written::{reading_error, Written};
use crate::io::{Input, Source};
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
    /// The largest block held whole, compressed or decompressed (64 MiB by default); also the longest
    /// map key of a streamed block.
    pub max_block_size: usize,
    /// Blocks larger than this (compressed) are not held but decoded as their bytes arrive, in bounded
    /// memory whatever their size — one value of 100 MB included (1 MiB by default). Snappy blocks
    /// decode only whole and are held (up to `max_block_size`).
    pub stream_blocks_above: usize,
    /// One thread, or blocks decoded on two while this one reads and writes (`Auto`: two for inputs of
    /// 1 MiB or more on a machine with two cores).
    pub threads: crate::Threads,
}

impl Default for AvroToJsonOptions {
    fn default() -> Self {
        AvroToJsonOptions {
            encoding: Encoding::Avro,
            array: false,
            pretty: false,
            max_block_size: dcmflow_avro::container::DEFAULT_MAX_BLOCK_SIZE,
            stream_blocks_above: 1 << 20,
            threads: crate::Threads::Auto,
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
    pub(crate) options: AvroToJsonOptions,
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
        let size = input.size();
        let out = output.into().into_write();
        // The container is read in small pieces (headers, varints) and blocks: buffered.
        let read = buffered(input);
        let reader =
            ContainerReader::new(read, self.options.max_block_size).map_err(reading_error)?;
        let two = self.options.threads.two(size);
        match (self.options.pretty, two) {
            (false, false) => self.one_thread(reader, out, Compact),
            (true, false) => self.one_thread(reader, out, Pretty::default()),
            (false, true) => self.two_threads(reader, out, Compact),
            (true, true) => self.two_threads(reader, out, Pretty::default()),
        }
    }

    /// Converts data without a container: bare data of `schemas[0]` one after another, or
    /// single-object encoding (`C3 01` and a fingerprint before each datum, which picks its schema
    /// from `schemas`), decided by the input's first two bytes. Data are decoded as the input is
    /// read: a datum of any length is never held whole (a map key is, at most `max_block_size`).
    ///
    /// ```
    /// use dcmflow::avro::Schema;
    /// use dcmflow::{AvroToJson, AvroToJsonOptions};
    /// let schemas = [Schema::parse_str(r#"["null", "long"]"#).unwrap()];
    /// let mut json = Vec::new();
    /// let report = AvroToJson::new(AvroToJsonOptions::default())
    ///     .convert_data(&schemas, &b"\x02\x54\x00"[..], &mut json)?;
    /// assert_eq!(json, b"{\"long\":42}\nnull\n");
    /// assert_eq!(report.documents, 2);
    /// # Ok::<(), dcmflow::Error>(())
    /// ```
    pub fn convert_data<'i, 'o>(
        &self,
        schemas: &[dcmflow_avro::Schema],
        input: impl Into<Input<'i>>,
        output: impl Into<crate::Output<'o>>,
    ) -> Result<Report, Error> {
        let out = output.into().into_write();
        // The datum reader reads into its own window: no buffer in between.
        let read: Box<dyn Read + Send + '_> = match input.into().source {
            Source::Slice(bytes) => Box::new(bytes),
            Source::File(file) => Box::new(file),
            Source::Reader(reader) => Box::new(reader),
        };
        if schemas.is_empty() {
            return Err(no_schema());
        }
        let mut reader = dcmflow_avro::DatumReader::new(
            read,
            schemas,
            self.options.encoding,
            self.options.max_block_size,
        );
        let mut output = Written::start(&self.options, out)?;
        let mut json = Vec::with_capacity(1 << 16);
        let (json, output_ref, array) = (&mut json, &mut output, self.options.array);
        if self.options.pretty {
            let format = &mut self.inner_format(Pretty::default());
            write_data(&mut reader, format, json, output_ref, array)?;
        } else {
            let format = &mut self.inner_format(Compact);
            write_data(&mut reader, format, json, output_ref, array)?;
        }
        output.finish()
    }

    /// A formatter for the data inside the output (one level in when they are an array's elements).
    pub(crate) fn inner_format<F: Formatter>(&self, mut format: F) -> F {
        if self.options.array {
            format.begin_array(&mut Vec::new());
        }
        format
    }

    fn one_thread<F: Formatter>(
        &self,
        mut reader: ContainerReader<impl Read>,
        out: &mut (dyn Write + Send),
        format: F,
    ) -> Result<Report, Error> {
        let schema = reader.header().schema.clone();
        let mut decoder = JsonDecoder::new(&schema, self.options.encoding);
        let mut format = self.inner_format(format);
        let mut output = Written::start(&self.options, out)?;
        let mut json = Vec::with_capacity(1 << 16);
        let stream_above = self.options.stream_blocks_above;
        while let Some(next) = reader
            .next_block_streaming(stream_above)
            .map_err(reading_error)?
        {
            let block = match next {
                NextBlock::Whole(block) => block,
                NextBlock::Streamed(block) => {
                    let array = self.options.array;
                    stream_block(
                        &mut reader,
                        block,
                        &mut decoder,
                        &mut format,
                        &mut output,
                        array,
                    )?;
                    continue;
                }
            };
            let job = Job {
                count: block.count,
                offset: block.offset,
                first: output.data,
            };
            decode_block(
                &mut decoder,
                &self.options,
                &mut format,
                block.data,
                &job,
                &mut json,
            )?;
            output.block(&json, job.count)?;
            json.clear();
        }
        output.finish()
    }

    /// Blocks are independent: two threads decode them in turn while this one reads them and writes
    /// their JSON in order. Memory holds at most a few blocks and their JSON.
    fn two_threads<F: Formatter + Clone + Send>(
        &self,
        mut reader: ContainerReader<impl Read>,
        out: &mut (dyn Write + Send),
        format: F,
    ) -> Result<Report, Error> {
        use std::sync::mpsc::sync_channel;
        let schema = reader.header().schema.clone();
        let format = self.inner_format(format);
        let mut output = Written::start(&self.options, out)?;
        std::thread::scope(|scope| {
            let mut jobs = Vec::new();
            let mut results = Vec::new();
            for _ in 0..2 {
                let (job_tx, job_rx) = sync_channel::<(Vec<u8>, Job)>(1);
                let (result_tx, result_rx) = sync_channel::<Result<Vec<u8>, Error>>(1);
                let (schema, options, mut format) = (&schema, &self.options, format.clone());
                scope.spawn(move || {
                    let mut decoder = JsonDecoder::new(schema, options.encoding);
                    for (data, job) in job_rx {
                        let mut json = Vec::with_capacity(data.len() * 4);
                        let result = decode_block(
                            &mut decoder,
                            options,
                            &mut format,
                            &data,
                            &job,
                            &mut json,
                        )
                        .map(|()| json);
                        if result_tx.send(result).is_err() {
                            break;
                        }
                    }
                });
                jobs.push(job_tx);
                results.push(result_rx);
            }
            // Blocks go to the workers in turn, so their JSON comes back in order by taking turns too.
            let mut in_flight = std::collections::VecDeque::new();
            let (mut sent, mut read_error, mut queued_data) = (0usize, None, output.data);
            let (mut streamed, mut main_decoder, mut main_format) = (None, None, format.clone());
            loop {
                while in_flight.len() < 4 && read_error.is_none() && streamed.is_none() {
                    match reader.next_block_streaming(self.options.stream_blocks_above) {
                        Ok(Some(NextBlock::Streamed(block))) => streamed = Some(block),
                        Ok(Some(NextBlock::Whole(block))) => {
                            let job = Job {
                                count: block.count,
                                offset: block.offset,
                                first: queued_data,
                            };
                            queued_data += block.count;
                            let worker = sent % 2;
                            sent += 1;
                            if jobs[worker].send((block.data.to_vec(), job)).is_err() {
                                break;
                            }
                            in_flight.push_back((worker, job.count));
                        }
                        Ok(None) => break,
                        Err(e) => read_error = Some(reading_error(e)),
                    }
                }
                let Some((worker, count)) = in_flight.pop_front() else {
                    // The blocks before a streamed one are written: it is decoded here, in order.
                    if let Some(block) = streamed.take() {
                        let decoder = main_decoder.get_or_insert_with(|| {
                            JsonDecoder::new(&schema, self.options.encoding)
                        });
                        let array = self.options.array;
                        stream_block(
                            &mut reader,
                            block,
                            decoder,
                            &mut main_format,
                            &mut output,
                            array,
                        )?;
                        queued_data = output.data;
                        continue;
                    }
                    break;
                };
                let json = results[worker].recv().map_err(|_| {
                    Error::new(
                        Category::Internal,
                        "a decoding thread stopped",
                        Position::default(),
                    )
                })??;
                output.block(&json, count)?;
            }
            drop(jobs);
            match read_error {
                Some(e) => Err(e),
                None => Ok(()),
            }
        })?;
        output.finish()
    }
}

impl AvroToJson {
    /// A conversion fed pushed chunks (`bytes::Bytes` from a network stack) instead of reading: each
    /// [`PushAvroToJson::push`] converts the blocks its bytes complete, with the same output and errors
    /// as [`AvroToJson::convert`] on one thread, at any chunking. Memory holds at most one block beyond
    /// what was converted.
    ///
    /// ```
    /// use dcmflow::{AvroToJson, AvroToJsonOptions};
    /// let mut file = b"Obj\x01\x02\x16avro.schema\x0a\"int\"\x00".to_vec();
    /// file.extend_from_slice(&[7; 16]);
    /// file.extend_from_slice(&[0x04, 0x04, 42, 43]);
    /// file.extend_from_slice(&[7; 16]);
    /// let mut conversion = AvroToJson::new(AvroToJsonOptions::default()).push(Vec::new());
    /// for piece in file.chunks(5) {
    ///     conversion.push(bytes::Bytes::copy_from_slice(piece))?;
    /// }
    /// let (json, report) = conversion.finish()?;
    /// assert_eq!(json, b"21\n-22\n");
    /// assert_eq!(report.documents, 2);
    /// # Ok::<(), dcmflow::Error>(())
    /// ```
    pub fn push<W: Write>(&self, output: W) -> PushAvroToJson<W> {
        PushAvroToJson {
            options: self.options.clone(),
            container: PushContainer::new(self.options.max_block_size),
            output: None,
            out: Some(output),
            compact: self.inner_format(Compact),
            pretty: self.inner_format(Pretty::default()),
            json: Vec::new(),
            schema: None,
            streamed: None,
        }
    }
}

/// Avro → JSON from pushed chunks; made by [`AvroToJson::push`].
pub struct PushAvroToJson<W: Write> {
    options: AvroToJsonOptions,
    container: PushContainer,
    /// The output once started (the array's bracket written); `out` until then.
    output: Option<Written<W>>,
    out: Option<W>,
    compact: Compact,
    pretty: Pretty,
    json: Vec<u8>,
    /// The writer's schema, once the header has come (a streamed block's decoding outlives a push).
    schema: Option<dcmflow_avro::Schema>,
    /// The block being streamed, if any.
    streamed: Option<StreamedBlock>,
}

impl<W: Write> std::fmt::Debug for PushAvroToJson<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushAvroToJson")
            .field("container", &self.container)
            .finish()
    }
}

impl<W: Write> PushAvroToJson<W> {
    /// Converts the blocks `chunk` completes; their JSON goes to the output.
    pub fn push(&mut self, chunk: bytes::Bytes) -> Result<(), Error> {
        self.container.push(&chunk);
        self.convert()
    }

    /// No more input: converts the rest (a file cut short is an error here), and returns the output and
    /// the report.
    pub fn finish(mut self) -> Result<(W, Report), Error> {
        self.container.end_input();
        self.convert()?;
        self.started()?;
        self.output.take().expect("started above").into_output()
    }

    fn started(&mut self) -> Result<&mut Written<W>, Error> {
        if self.output.is_none() {
            let out = self.out.take().expect("the output until it is started");
            self.output = Some(Written::start(&self.options, out)?);
        }
        Ok(self.output.as_mut().expect("set above"))
    }

    fn convert(&mut self) -> Result<(), Error> {
        loop {
            if self.streamed.is_some() {
                if !self.stream()? {
                    return Ok(());
                }
                continue;
            }
            let stream_above = self.options.stream_blocks_above;
            let Some(next) = self
                .container
                .next_block_streaming(stream_above)
                .map_err(reading_error)?
            else {
                return Ok(());
            };
            let block = match next {
                NextBlock::Whole(block) => block,
                NextBlock::Streamed(block) => {
                    self.streamed = Some(block);
                    continue;
                }
            };
            let (count, offset) = (block.count, block.offset);
            let data = block.data.to_vec();
            let schema = &self
                .container
                .reader()
                .expect("a block comes after the header")
                .header()
                .schema;
            let mut decoder = JsonDecoder::new(schema, self.options.encoding);
            let first = self.output.as_ref().map_or(0, |o| o.data);
            let job = Job {
                count,
                offset,
                first,
            };
            self.json.clear();
            if self.options.pretty {
                decode_block(
                    &mut decoder,
                    &self.options,
                    &mut self.pretty,
                    &data,
                    &job,
                    &mut self.json,
                )?;
            } else {
                decode_block(
                    &mut decoder,
                    &self.options,
                    &mut self.compact,
                    &data,
                    &job,
                    &mut self.json,
                )?;
            }
            let json = std::mem::take(&mut self.json);
            let written = self.started().and_then(|output| output.block(&json, count));
            self.json = json;
            written?;
        }
    }

    /// Goes on with the streamed block as far as the pushed bytes go: true once it is written whole.
    fn stream(&mut self) -> Result<bool, Error> {
        self.started()?;
        if self.schema.is_none() {
            let header = self
                .container
                .reader()
                .expect("a block comes after the header");
            self.schema = Some(header.header().schema.clone());
        }
        let schema = self.schema.as_ref().expect("set above");
        let mut decoder = JsonDecoder::new(schema, self.options.encoding);
        let block = self.streamed.as_mut().expect("a block being streamed");
        let output = self.output.as_mut().expect("started above");
        let container = &mut self.container;
        let next_raw = |raw: &mut Vec<u8>| container.streamed_raw(raw, RAW_PIECE);
        let array = self.options.array;
        let done = if self.options.pretty {
            drive_streamed(
                block,
                next_raw,
                &mut decoder,
                &mut self.pretty,
                output,
                array,
            )?
        } else {
            drive_streamed(
                block,
                next_raw,
                &mut decoder,
                &mut self.compact,
                output,
                array,
            )?
        };
        if done {
            self.streamed = None;
        }
        Ok(done)
    }
}

/// The input as a buffered reader (a slice as it is).
fn buffered(input: Input<'_>) -> Box<dyn Read + Send + '_> {
    match input.source {
        Source::Slice(bytes) => Box::new(bytes),
        Source::File(file) => Box::new(BufReader::with_capacity(1 << 16, file)),
        Source::Reader(reader) => Box::new(BufReader::with_capacity(1 << 16, reader)),
    }
}

/// A block to decode: how many data it holds, where it starts, how many data came before it.
#[derive(Clone, Copy, Debug)]
struct Job {
    count: u64,
    offset: u64,
    first: u64,
}

/// Decodes the `job.count` data of one block's bytes into `json`.
fn decode_block<F: Formatter>(
    decoder: &mut JsonDecoder<'_>,
    options: &AvroToJsonOptions,
    format: &mut F,
    data: &[u8],
    job: &Job,
    json: &mut Vec<u8>,
) -> Result<(), Error> {
    let layout = Layout {
        array: options.array,
        first: job.first,
    };
    if count_beyond_bytes(job.count, data.len() as u64) {
        return Err(reading_error(AvroError {
            offset: job.offset,
            in_block: Some(0),
            path: String::new(),
            message: format!(
                "a block count ({}) beyond what the block's {} bytes can hold",
                job.count,
                data.len()
            ),
        }));
    }
    let mut cursor = Cursor::new(data);
    for index in 0..job.count {
        layout.before(index, format, json);
        decoder.decode(&mut cursor, format, json).map_err(|fault| {
            reading_error(datum_error(
                job.offset,
                cursor.position() as u64,
                &layout,
                index,
                fault,
            ))
        })?;
        layout.after(json);
    }
    if cursor.remaining() != 0 {
        return Err(reading_error(AvroError {
            offset: job.offset,
            in_block: Some(cursor.position() as u64),
            path: String::new(),
            message: format!(
                "{} bytes left in a block after its {} data (its count or data is wrong)",
                cursor.remaining(),
                job.count
            ),
        }));
    }
    Ok(())
}

/// Decodes a block too large to hold as its bytes are read: its JSON is written a piece at a time.
fn stream_block<F: Formatter>(
    reader: &mut ContainerReader<impl Read>,
    mut block: StreamedBlock,
    decoder: &mut JsonDecoder<'_>,
    format: &mut F,
    output: &mut Written<impl Write>,
    array: bool,
) -> Result<(), Error> {
    let next_raw = |raw: &mut Vec<u8>| reader.streamed_raw(raw, RAW_PIECE).map(Some);
    let done = drive_streamed(&mut block, next_raw, decoder, format, output, array)?;
    debug_assert!(done, "read input never waits");
    Ok(())
}

/// Feeds a streamed block the compressed bytes `next_raw` gives (`Some(false)` at their end, `None`
/// while input is awaited), writing its JSON as it goes: true once the block is written whole.
fn drive_streamed<F: Formatter>(
    block: &mut StreamedBlock,
    mut next_raw: impl FnMut(&mut Vec<u8>) -> Result<Option<bool>, AvroError>,
    decoder: &mut JsonDecoder<'_>,
    format: &mut F,
    output: &mut Written<impl Write>,
    array: bool,
) -> Result<bool, Error> {
    let layout = Layout {
        array,
        first: output.data,
    };
    let (mut raw, mut json) = (Vec::with_capacity(RAW_PIECE), Vec::new());
    loop {
        match next_raw(&mut raw).map_err(reading_error)? {
            None => return Ok(false),
            Some(false) => break,
            Some(true) => {
                let mut rest = &raw[..];
                while !rest.is_empty() {
                    let used = block
                        .feed(rest, decoder, format, &mut json, &layout)
                        .map_err(reading_error)?;
                    rest = &rest[used..];
                    output.write(&json)?;
                    json.clear();
                }
            }
        }
    }
    while !block
        .finish(decoder, format, &mut json, &layout)
        .map_err(reading_error)?
    {
        output.write(&json)?;
        json.clear();
    }
    output.block(&json, block.count)?;
    Ok(true)
}

/// Compressed bytes of a streamed block read at a time.
const RAW_PIECE: usize = 1 << 16;

/// Writes the data the reader's input holds (all of it, or — pushed — as far as it has come).
pub(crate) fn write_data<F: Formatter>(
    reader: &mut dcmflow_avro::DatumReader<'_, impl Read>,
    format: &mut F,
    json: &mut Vec<u8>,
    output: &mut Written<impl Write>,
    array: bool,
) -> Result<(), Error> {
    loop {
        match reader
            .next_json(format, json, array)
            .map_err(reading_error)?
        {
            Step::Done => output.block(json, 1)?,
            // A long datum's JSON is written as it comes.
            Step::Part => output.write(json)?,
            Step::End | Step::Pending => return Ok(()),
        }
        json.clear();
    }
}

/// Data without a container were given no schema.
pub(crate) fn no_schema() -> Error {
    Error::new(
        Category::InvalidInput,
        "data without a container need their schema",
        Position::default(),
    )
}
