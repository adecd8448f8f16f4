//! Avro data without a container (bare data of a schema, or single-object encoding) pushed in chunks →
//! JSON: each chunk converts the data it completes, a long datum's JSON written as its bytes come.

use std::io::Write;

use dcmflow_avro::{DatumReader, PushedInput, Schema};
use dcmflow_engine::json::format::{Compact, Pretty};

use crate::avro_to_json::{write_data, AvroToJson};
use crate::avro_written::Written;
use crate::{Error, Report};

impl AvroToJson {
    /// A conversion of data without a container fed pushed chunks, as
    /// [`AvroToJson::convert_data`] reads them: the same output and errors at any chunking.
    ///
    /// ```
    /// use dcmflow::avro::Schema;
    /// use dcmflow::{AvroToJson, AvroToJsonOptions};
    /// let schemas = [Schema::parse_str(r#""string""#).unwrap()];
    /// let mut conversion = AvroToJson::new(AvroToJsonOptions::default()).push_data(&schemas, Vec::new())?;
    /// for piece in [&b"\x0ahel"[..], b"lo\x02", b"!"] {
    ///     conversion.push(bytes::Bytes::copy_from_slice(piece))?;
    /// }
    /// let (json, report) = conversion.finish()?;
    /// assert_eq!(json, b"\"hello\"\n\"!\"\n");
    /// assert_eq!(report.documents, 2);
    /// # Ok::<(), dcmflow::Error>(())
    /// ```
    pub fn push_data<'s, W: Write>(
        &self,
        schemas: &'s [Schema],
        output: W,
    ) -> Result<PushAvroDataToJson<'s, W>, Error> {
        if schemas.is_empty() {
            return Err(crate::avro_to_json::no_schema());
        }
        Ok(PushAvroDataToJson {
            reader: DatumReader::new(
                PushedInput::default(),
                schemas,
                self.options.encoding,
                self.options.max_block_size,
            ),
            output: Written::start(&self.options, output)?,
            compact: self.inner_format(Compact),
            pretty: self.inner_format(Pretty::default()),
            indented: self.options.pretty,
            array: self.options.array,
            json: Vec::new(),
        })
    }
}

/// Avro data without a container → JSON from pushed chunks; made by [`AvroToJson::push_data`].
pub struct PushAvroDataToJson<'s, W: Write> {
    reader: DatumReader<'s, PushedInput>,
    output: Written<W>,
    compact: Compact,
    pretty: Pretty,
    indented: bool,
    array: bool,
    json: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for PushAvroDataToJson<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushAvroDataToJson")
            .field("reader", &self.reader)
            .finish()
    }
}

impl<W: Write> PushAvroDataToJson<'_, W> {
    /// Converts the data `chunk` completes; their JSON goes to the output.
    pub fn push(&mut self, chunk: bytes::Bytes) -> Result<(), Error> {
        self.reader.input_mut().push(&chunk);
        self.convert()
    }

    /// No more input: converts the rest (data cut short are an error here), and returns the output and
    /// the report.
    pub fn finish(mut self) -> Result<(W, Report), Error> {
        self.reader.input_mut().end();
        self.convert()?;
        self.output.into_output()
    }

    fn convert(&mut self) -> Result<(), Error> {
        let (json, output, array) = (&mut self.json, &mut self.output, self.array);
        if self.indented {
            write_data(&mut self.reader, &mut self.pretty, json, output, array)
        } else {
            write_data(&mut self.reader, &mut self.compact, json, output, array)
        }
    }
}
