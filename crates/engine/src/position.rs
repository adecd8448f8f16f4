//! Where in an input or output a diagnostic points: a byte offset, a line and column for text, and the
//! path of the element inside the document. Every codec reports its errors and warnings with one.

use std::fmt;

/// A place in an input (or an output, for a writer's error). Each part is known or not depending on
/// the format and the side: a binary reader knows a byte offset and a path, a JSON reader also a line
/// and column.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Position {
    /// 0-based byte offset.
    pub offset: Option<u64>,
    /// 1-based line of a text input.
    pub line: Option<u64>,
    /// 1-based column, in bytes, of a text input.
    pub column: Option<u64>,
    /// The path of the element inside the document in the codec's notation (DICOM:
    /// `00081140[1].00081155`); empty when there is none.
    pub path: String,
}

impl Position {
    /// A position known by its byte offset only.
    pub fn at_offset(offset: u64) -> Position {
        Position {
            offset: Some(offset),
            ..Position::default()
        }
    }

    /// A position in a text: line and column (1-based), byte offset when known, and a path.
    pub fn in_text(
        line: u64,
        column: u64,
        offset: Option<u64>,
        path: impl Into<String>,
    ) -> Position {
        Position {
            offset,
            line: Some(line),
            column: Some(column),
            path: path.into(),
        }
    }

    /// The same position with `path` as its element path.
    pub fn with_path(mut self, path: impl Into<String>) -> Position {
        self.path = path.into();
        self
    }

    /// Whether nothing is known.
    pub fn is_unknown(&self) -> bool {
        self.offset.is_none() && self.line.is_none() && self.path.is_empty()
    }
}

/// `line 3, column 7 (00081140[1].00081155)`, or `byte offset 1234 (…)`: the line and column when
/// known (a reader of text thinks in lines), else the byte offset.
impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        match (self.line, self.column, self.offset) {
            (Some(line), Some(column), _) => {
                write!(f, "line {line}, column {column}")?;
                wrote = true;
            }
            (_, _, Some(offset)) => {
                write!(f, "byte offset {offset}")?;
                wrote = true;
            }
            _ => {}
        }
        if !self.path.is_empty() {
            if wrote {
                f.write_str(" ")?;
            }
            write!(f, "({})", self.path)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_line_and_column_before_offset_and_the_path_after() {
        let text = Position::in_text(3, 7, Some(40), "00081140[1].00081155");
        assert_eq!(text.to_string(), "line 3, column 7 (00081140[1].00081155)");
        assert_eq!(Position::at_offset(1234).to_string(), "byte offset 1234");
        let path_only = Position::default().with_path("00100010");
        assert_eq!(path_only.to_string(), "(00100010)");
        assert!(Position::default().is_unknown());
        assert!(!path_only.is_unknown());
    }
}
