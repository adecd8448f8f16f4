use crate::{Tag, Vr};

/// A value length as stored: a number of bytes, or PS3.5 7.1.2's undefined length (FFFFFFFFH).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Length {
    Defined(u32),
    Undefined,
}

impl Length {
    pub const UNDEFINED_RAW: u32 = 0xFFFF_FFFF;

    pub const fn from_raw(raw: u32) -> Length {
        if raw == Self::UNDEFINED_RAW {
            Length::Undefined
        } else {
            Length::Defined(raw)
        }
    }
    pub const fn raw(self) -> u32 {
        match self {
            Length::Defined(n) => n,
            Length::Undefined => Self::UNDEFINED_RAW,
        }
    }
}

/// The header of a primitive (non-sequence) data element. `len` is the value length as stored.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Header {
    pub tag: Tag,
    /// The VR as written (explicit VR) or as resolved from the dictionary (implicit VR; UN when unknown).
    pub vr: Vr,
    pub len: u32,
}

/// One step of a data set, in file order: PS3.5's grammar as a flat stream.
///
/// ```text
/// data set  := (Element Value+ | sequence | pixels)* Eof
/// sequence  := SequenceStart (ItemStart data-set-body ItemEnd)* SequenceEnd
/// pixels    := PixelSequenceStart (ItemStart Value+ ItemEnd)* SequenceEnd
/// ```
/// Every `Element` and every pixel fragment `ItemStart` is followed by at least one `Value`; the last one
/// has `last: true` (a zero-length value is a single empty `Value`). Value bytes are in the byte order of
/// the source transfer syntax. Tokens borrow from the reader (see `DicomReader::read_token`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Token<'a> {
    Element(Header),
    Value {
        bytes: &'a [u8],
        last: bool,
    },
    /// `vr` is SQ, or UN for a CP-246 sequence (UN of undefined length, contents Implicit VR LE).
    SequenceStart {
        tag: Tag,
        vr: Vr,
        len: Length,
    },
    /// Encapsulated pixel data (PS3.5 A.4): the first item is the Basic Offset Table, then fragments.
    PixelSequenceStart {
        tag: Tag,
        vr: Vr,
    },
    ItemStart {
        len: Length,
    },
    ItemEnd,
    SequenceEnd,
    Eof,
}

/// Which [`Token`] a token is, without its data: for compact records of tokens.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TokenKind {
    Element,
    Value,
    SequenceStart,
    PixelSequenceStart,
    ItemStart,
    ItemEnd,
    SequenceEnd,
    Eof,
}

impl Token<'_> {
    pub fn kind(&self) -> TokenKind {
        match self {
            Token::Element(_) => TokenKind::Element,
            Token::Value { .. } => TokenKind::Value,
            Token::SequenceStart { .. } => TokenKind::SequenceStart,
            Token::PixelSequenceStart { .. } => TokenKind::PixelSequenceStart,
            Token::ItemStart { .. } => TokenKind::ItemStart,
            Token::ItemEnd => TokenKind::ItemEnd,
            Token::SequenceEnd => TokenKind::SequenceEnd,
            Token::Eof => TokenKind::Eof,
        }
    }

    /// Every token but `Value` owns its data: this re-types it as `'static`, so it can outlive the next
    /// `read_token` call. `None` for a `Value`, whose bytes are borrowed.
    pub fn to_static(self) -> Option<Token<'static>> {
        Some(match self {
            Token::Element(h) => Token::Element(h),
            Token::SequenceStart { tag, vr, len } => Token::SequenceStart { tag, vr, len },
            Token::PixelSequenceStart { tag, vr } => Token::PixelSequenceStart { tag, vr },
            Token::ItemStart { len } => Token::ItemStart { len },
            Token::ItemEnd => Token::ItemEnd,
            Token::SequenceEnd => Token::SequenceEnd,
            Token::Eof => Token::Eof,
            Token::Value { .. } => return None,
        })
    }
}
