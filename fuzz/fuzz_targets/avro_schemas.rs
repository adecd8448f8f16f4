//! The schemas the Avro JSON targets encode into (the mode byte picks one): every type, a genomics
//! record with defaults and nullable unions, a weather reading, a union of every kind of branch.

#![allow(dead_code)]
use dcmflow::avro::Schema;

const ALL_TYPES: &str = include_str!("../schemas/all_types.avsc");

const VARIANT: &str = include_str!("../schemas/variant.avsc");

const WEATHER: &str = include_str!("../schemas/weather.avsc");

const WIDE_UNION: &str = include_str!("../schemas/wide_union.avsc");

/// The schemas' JSON.
pub const TEXTS: [&str; 4] = [ALL_TYPES, VARIANT, WEATHER, WIDE_UNION];

/// The schemas, parsed; index 1 (GA4GH's Variant) has no union a bare value could be read into two
/// ways, so GA4GH's encoding round-trips through it.
pub fn schemas() -> Vec<Schema> {
    TEXTS
        .iter()
        .map(|text| Schema::parse_str(text).expect("a valid schema"))
        .collect()
}

/// Reads `data` `step` bytes at a time.
pub struct Chunks<'a> {
    pub data: &'a [u8],
    pub step: usize,
}

impl std::io::Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}
