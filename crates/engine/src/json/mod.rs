//! JSON text: escaping, layout and the number grammar, shared by every JSON model dcmflow writes or reads.

pub mod escape;
pub mod format;
pub mod lexer;
pub mod number;
