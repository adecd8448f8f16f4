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
