use crate::{Tag, Vr};

/// A value length as stored: a number of bytes, or PS3.5 7.1.2's undefined length (FFFFFFFFH).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Length {
    /// A length in bytes.
    Defined(u32),
    /// Undefined length (FFFFFFFFH): the content ends at a delimitation item.
    Undefined,
}

impl Length {
    /// The length field's value for an undefined length.
    pub const UNDEFINED_RAW: u32 = 0xFFFF_FFFF;

    /// The length a length field holds.
    pub const fn from_raw(raw: u32) -> Length {
        if raw == Self::UNDEFINED_RAW {
            Length::Undefined
        } else {
            Length::Defined(raw)
        }
    }
    /// The length field's value.
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
    /// The element's tag.
    pub tag: Tag,
    /// The VR as written (explicit VR) or as resolved from the dictionary (implicit VR; UN when unknown).
    pub vr: Vr,
    /// The value length as stored.
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
    /// A primitive element's header; its value follows as one or more `Value`s.
    Element(Header),
    /// A value, whole or in chunks, in the source's byte order.
    Value {
        /// The bytes of this chunk.
        bytes: &'a [u8],
        /// The value's last chunk.
        last: bool,
    },
    /// `vr` is SQ, or UN for a CP-246 sequence (UN of undefined length, contents Implicit VR LE).
    SequenceStart {
        /// The element's tag.
        tag: Tag,
        /// The VR (SQ, or UN for a CP-246 sequence, OB/OW for pixel data).
        vr: Vr,
        /// The length as stored.
        len: Length,
    },
    /// Encapsulated pixel data (PS3.5 A.4): the first item is the Basic Offset Table, then fragments.
    PixelSequenceStart {
        /// The element's tag.
        tag: Tag,
        /// The VR (SQ, or UN for a CP-246 sequence, OB/OW for pixel data).
        vr: Vr,
    },
    /// An item (of a sequence) or a fragment (of encapsulated pixel data) starts.
    ItemStart {
        /// The length as stored.
        len: Length,
    },
    /// The item ends.
    ItemEnd,
    /// The sequence ends.
    SequenceEnd,
    /// The data set ends.
    Eof,
}

/// Which [`Token`] a token is, without its data: for compact records of tokens.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TokenKind {
    /// See [`Token::Element`].
    Element,
    /// See [`Token::Value`].
    Value,
    /// See [`Token::SequenceStart`].
    SequenceStart,
    /// See [`Token::PixelSequenceStart`].
    PixelSequenceStart,
    /// See [`Token::ItemStart`].
    ItemStart,
    /// The item ends.
    ItemEnd,
    /// The sequence ends.
    SequenceEnd,
    /// The data set ends.
    Eof,
}

impl Token<'_> {
    /// The token's kind, without its data.
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
