//! Avro → JSON through the library, read whole or pushed in pieces: the JSON and the data count, or
//! the error's text.

use dcmflow::{AvroToJson, AvroToJsonOptions};

pub fn convert(data: &[u8], options: &AvroToJsonOptions) -> Result<(Vec<u8>, u64), String> {
    let mut out = Vec::new();
    let report = AvroToJson::new(options.clone())
        .convert(data, &mut out)
        .map_err(|e| e.to_string())?;
    Ok((out, report.documents))
}

/// `data` pushed in pieces cut at `cuts`.
pub fn pushed(
    data: &[u8],
    options: &AvroToJsonOptions,
    cuts: &[usize],
) -> Result<(Vec<u8>, u64), String> {
    let mut conversion = AvroToJson::new(options.clone()).push(Vec::new());
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
        conversion
            .push(bytes::Bytes::copy_from_slice(&data[from..cut]))
            .map_err(|e| e.to_string())?;
        from = cut;
    }
    let (json, report) = conversion.finish().map_err(|e| e.to_string())?;
    Ok((json, report.documents))
}
