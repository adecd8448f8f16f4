//! Why Avro data could not be read: the byte offset and the field path of the problem.

/// An error reading Avro data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvroError {
    /// The byte offset in the input (in a compressed block: of the block's start, and `in_block` gives
    /// the offset inside its decompressed data).
    pub offset: u64,
    /// Offset inside a block's decompressed data, when the problem is there.
    pub in_block: Option<u64>,
    /// The fields, array indices and map keys from the datum down to the problem (`calls[3].genotype`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl AvroError {
    pub(crate) fn new(offset: u64, message: impl Into<String>) -> AvroError {
        AvroError {
            offset,
            in_block: None,
            path: String::new(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for AvroError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at byte {}", self.offset)?;
        if let Some(inner) = self.in_block {
            write!(f, " (byte {inner} of the block's data)")?;
        }
        if !self.path.is_empty() {
            write!(f, " ({})", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for AvroError {}
