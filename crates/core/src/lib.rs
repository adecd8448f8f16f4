//! The vocabulary every dcmflow crate speaks: [`Tag`], [`Vr`], [`Length`], [`Header`], the streaming
//! [`Token`], [`Error`] with its byte offset, [`TransferSyntax`], and the generated PS3.6 dictionary.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod dict;
mod error;
mod tag;
mod token;
mod ts;
mod vr;

pub use error::{Error, ErrorKind, Result, Warning, WarningKind};
pub use tag::Tag;
pub use token::{Header, Length, Token, TokenKind};
pub use ts::{Encoding, TransferSyntax};
pub use vr::Vr;
