//! DICOM tokens across the engine's two-thread pipeline (`dcmflow_engine::pipeline`): each token is
//! packed into a 24-byte [`Record`] on the reading thread and replayed as the same token on the writing
//! thread.
//!
//! DICOM → JSON reads on a spawned thread and writes on the caller's; JSON → DICOM reads on the caller's
//! and writes on a spawned one.

use dcmflow_core::{Encoding, Error, Header, Length, Tag, Token, TokenKind, TransferSyntax, Vr};
use dcmflow_engine::pipeline::{self, Packed, ValueBytes};

pub(crate) use dcmflow_engine::pipeline::Stopped;

/// One token as the writer needs it, packed into 24 bytes: a batch holds up to 16 Ki of them and the
/// other thread reads them all, so their size is memory traffic between the cores (a `Token` with its
/// place and encoding took 64 bytes, and the JSON writer's thread spent a sixth of its time on it).
///
/// `repr(C)` in this order measured 3–4% less CPU for a metadata-heavy dcm2json than the default layout,
/// which puts `tag` and `len` side by side (measured; the cause is not established).
#[derive(Clone, Copy)]
#[repr(C)]
pub(crate) struct Record {
    /// Where the token was: the reader's `token_offset`, or for a value where its bytes start.
    offset: u64,
    /// `Element`, `SequenceStart`, `PixelSequenceStart`: the tag.
    tag: u32,
    kind: TokenKind,
    /// The VR, as its index in `Vr::ALL`.
    vr: u8,
    /// `LAST`, `OWNED`, `EXPLICIT_VR`, `BIG_ENDIAN`, `RENDERED`.
    flags: u8,
    /// `Element`: the value length; `SequenceStart`, `ItemStart`: the length as stored (FFFFFFFFH
    /// undefined); `Value`: how many bytes it takes in `Batch::bytes` (0 when handed over whole).
    len: u32,
}

/// `Record::flags`: the value's last chunk…
const LAST: u8 = 1;
/// … a value handed over whole, the next of `Batch::owned`…
const OWNED: u8 = 2;
/// … and the `Encoding` it was read in.
const EXPLICIT_VR: u8 = 4;
const BIG_ENDIAN: u8 = 8;
/// A value whose bytes are its JSON rendering (`dcmflow_json::ValueRenderer`), not its DICOM bytes.
const RENDERED: u8 = 16;

impl Record {
    /// The record of `token`; a `Value`'s bytes go elsewhere (only its length is kept).
    #[inline(always)]
    fn new(token: &Token<'_>, offset: u64, encoding: Encoding) -> Record {
        let mut record = Record {
            offset,
            tag: 0,
            len: 0,
            kind: TokenKind::Eof,
            vr: 0,
            flags: if encoding.explicit_vr { EXPLICIT_VR } else { 0 }
                | if encoding.big_endian { BIG_ENDIAN } else { 0 },
        };
        let (tag, vr, len) = match *token {
            Token::Element(h) => (h.tag, h.vr, h.len),
            Token::Value { bytes, last } => {
                record.flags |= if last { LAST } else { 0 };
                // A chunk is part of one value, and DICOM value lengths are 32-bit (PS3.5 7.1.1;
                // the JSON reader refuses longer text values): it fits.
                let len = u32::try_from(bytes.len()).expect("a value chunk is below 4 GiB");
                (Tag(0), Vr::UN, len)
            }
            Token::SequenceStart { tag, vr, len } => (tag, vr, len.raw()),
            Token::PixelSequenceStart { tag, vr } => (tag, vr, 0),
            Token::ItemStart { len } => (Tag(0), Vr::UN, len.raw()),
            Token::ItemEnd | Token::SequenceEnd | Token::Eof => (Tag(0), Vr::UN, 0),
        };
        record.kind = token.kind();
        record.tag = tag.0;
        record.vr = vr as u8;
        record.len = len;
        record
    }

    fn set_encoding(&mut self, encoding: Encoding) {
        self.flags &= !(EXPLICIT_VR | BIG_ENDIAN);
        self.flags |= if encoding.explicit_vr { EXPLICIT_VR } else { 0 }
            | if encoding.big_endian { BIG_ENDIAN } else { 0 };
    }

    fn encoding(&self) -> Encoding {
        Encoding {
            explicit_vr: self.flags & EXPLICIT_VR != 0,
            big_endian: self.flags & BIG_ENDIAN != 0,
        }
    }

    /// The token again; a `Value` borrows `value`.
    #[inline(always)]
    fn token<'b>(&self, value: &'b [u8]) -> Token<'b> {
        let tag = Tag(self.tag);
        let vr = Vr::ALL[usize::from(self.vr)];
        match self.kind {
            TokenKind::Element => Token::Element(Header {
                tag,
                vr,
                len: self.len,
            }),
            TokenKind::Value => Token::Value {
                bytes: value,
                last: self.flags & LAST != 0,
            },
            TokenKind::SequenceStart => Token::SequenceStart {
                tag,
                vr,
                len: Length::from_raw(self.len),
            },
            TokenKind::PixelSequenceStart => Token::PixelSequenceStart { tag, vr },
            TokenKind::ItemStart => Token::ItemStart {
                len: Length::from_raw(self.len),
            },
            TokenKind::ItemEnd => Token::ItemEnd,
            TokenKind::SequenceEnd => Token::SequenceEnd,
            TokenKind::Eof => Token::Eof,
        }
    }
}

/// A token other than `Value`, recorded before its place is known: a reader tells where its token was
/// only once the token's borrow of it has ended. Taking the fields here, each at its own width, replaces
/// copying the whole token out of the reader's return slot (`Token::to_static`), whose wide reload of
/// narrower stores stalled store forwarding on every token (a sixth of the DICOM reading thread).
#[derive(Clone, Copy)]
pub(crate) struct Unplaced(Record);

impl Unplaced {
    /// `None` for a `Value` (its bytes are borrowed: see [`Producer::push`]).
    #[inline(always)]
    pub fn of(token: &Token<'_>) -> Option<Unplaced> {
        (token.kind() != TokenKind::Value)
            .then(|| Unplaced(Record::new(token, 0, Encoding::EXPLICIT_LE)))
    }

    pub fn is_eof(&self) -> bool {
        self.0.kind == TokenKind::Eof
    }
}

/// The producing end, carrying the input's transfer syntax with each batch and a read error at the end.
pub(crate) type Producer = pipeline::Producer<Record, Option<TransferSyntax>, Error>;
/// The consuming end.
pub(crate) type Consumer = pipeline::Consumer<Record, Option<TransferSyntax>, Error>;

impl Packed for Record {
    #[inline(always)]
    fn value_bytes(&self) -> ValueBytes {
        if self.kind != TokenKind::Value {
            ValueBytes::None
        } else if self.flags & OWNED != 0 {
            ValueBytes::Owned
        } else {
            ValueBytes::Inline(self.len as usize)
        }
    }
}

/// One token replayed on the consuming thread.
pub(crate) struct Replayed<'b> {
    pub token: Token<'b>,
    pub offset: u64,
    pub encoding: Encoding,
    pub transfer_syntax: Option<TransferSyntax>,
    /// A `Value` holding the rendering of the element's whole value (see [`Tokens::push_rendered`]).
    pub rendered: bool,
}

/// The two ends: tokens go in at the producer and come out, in order, at the consumer.
pub(crate) fn channel() -> (Producer, Consumer) {
    pipeline::channel()
}

/// DICOM tokens into the producer.
pub(crate) trait Tokens {
    /// Queues the value of the current element as its rendering for the consumer (JSON text from
    /// `dcmflow_json::ValueRenderer`), to be replayed with [`Replayed::rendered`] set.
    fn push_rendered(&mut self, rendered: &[u8], offset: u64) -> Result<(), Stopped>;
    /// Sets the transfer syntax reported with the tokens from now on.
    fn set_transfer_syntax(&mut self, ts: Option<TransferSyntax>);
    /// Queues a token; a full batch is sent (waiting while the consumer has batches queued).
    fn push(&mut self, token: &Token<'_>, offset: u64, encoding: Encoding) -> Result<(), Stopped>;
    /// [`Tokens::push`], always inlined: where the token was just built in registers (the JSON
    /// reader's loop), it is then not stored and reloaded in other widths, a store-forwarding stall per
    /// token. (In the DICOM reader's loop the plain call is faster.)
    fn push_inlined(
        &mut self,
        token: &Token<'_>,
        offset: u64,
        encoding: Encoding,
    ) -> Result<(), Stopped>;
    /// Queues a token recorded with [`Unplaced::of`], at its place.
    fn push_placed(
        &mut self,
        token: Unplaced,
        offset: u64,
        encoding: Encoding,
    ) -> Result<(), Stopped>;
    /// Queues a value chunk handed over as a buffer (see `JsonReader::take_value`).
    fn push_owned(
        &mut self,
        value: Vec<u8>,
        last: bool,
        offset: u64,
        encoding: Encoding,
    ) -> Result<(), Stopped>;
}

impl Tokens for Producer {
    fn push_rendered(&mut self, rendered: &[u8], offset: u64) -> Result<(), Stopped> {
        let token = Token::Value {
            bytes: rendered,
            last: true,
        };
        let mut record = Record::new(&token, offset, Encoding::EXPLICIT_LE);
        record.flags |= RENDERED;
        self.queue(record, rendered)
    }

    fn set_transfer_syntax(&mut self, ts: Option<TransferSyntax>) {
        self.set_meta(ts);
    }

    fn push(&mut self, token: &Token<'_>, offset: u64, encoding: Encoding) -> Result<(), Stopped> {
        self.push_inlined(token, offset, encoding)
    }

    #[inline(always)]
    fn push_inlined(
        &mut self,
        token: &Token<'_>,
        offset: u64,
        encoding: Encoding,
    ) -> Result<(), Stopped> {
        let bytes = match *token {
            Token::Value { bytes, .. } => bytes,
            _ => &[],
        };
        self.queue(Record::new(token, offset, encoding), bytes)
    }

    fn push_placed(
        &mut self,
        token: Unplaced,
        offset: u64,
        encoding: Encoding,
    ) -> Result<(), Stopped> {
        let mut record = token.0;
        record.offset = offset;
        record.set_encoding(encoding);
        self.queue(record, &[])
    }

    fn push_owned(
        &mut self,
        value: Vec<u8>,
        last: bool,
        offset: u64,
        encoding: Encoding,
    ) -> Result<(), Stopped> {
        let mut record = Record::new(&Token::Value { bytes: &[], last }, offset, encoding);
        record.flags |= OWNED;
        self.queue_owned(record, value)
    }
}

/// DICOM tokens out of the consumer.
pub(crate) trait Replay {
    /// Hands every token to `write`, in order, until the producer is done or `write` fails. A read
    /// error sent with `Producer::finish` comes back through `on_read_error`.
    fn replay_tokens<X>(
        self,
        write: impl FnMut(Replayed<'_>) -> Result<(), X>,
        on_read_error: impl Fn(Error) -> X,
    ) -> Result<(), X>;
}

impl Replay for Consumer {
    #[inline(always)]
    fn replay_tokens<X>(
        self,
        mut write: impl FnMut(Replayed<'_>) -> Result<(), X>,
        on_read_error: impl Fn(Error) -> X,
    ) -> Result<(), X> {
        self.replay(
            |record: &Record, value: &[u8], transfer_syntax| {
                write(Replayed {
                    token: record.token(value),
                    offset: record.offset,
                    encoding: record.encoding(),
                    transfer_syntax,
                    rendered: record.flags & RENDERED != 0,
                })
            },
            on_read_error,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of token, with the values a record packs at their extremes, comes back as it went in.
    #[test]
    fn records_give_back_every_token() {
        let value = [1u8, 2, 3];
        let tokens = [
            Token::Element(Header {
                tag: Tag(0xFFFF_FFFF),
                vr: Vr::UV,
                len: 0xFFFF_FFFE,
            }),
            Token::Value {
                bytes: &value,
                last: true,
            },
            Token::Value {
                bytes: &value,
                last: false,
            },
            Token::SequenceStart {
                tag: Tag(0x0008_1140),
                vr: Vr::UN,
                len: Length::Undefined,
            },
            Token::SequenceStart {
                tag: Tag(0x0008_1140),
                vr: Vr::SQ,
                len: Length::Defined(12),
            },
            Token::PixelSequenceStart {
                tag: Tag::PIXEL_DATA,
                vr: Vr::OB,
            },
            Token::ItemStart {
                len: Length::Defined(0),
            },
            Token::ItemStart {
                len: Length::Undefined,
            },
            Token::ItemEnd,
            Token::SequenceEnd,
            Token::Eof,
        ];
        let encodings = [
            Encoding::IMPLICIT_LE,
            Encoding::EXPLICIT_LE,
            Encoding {
                explicit_vr: true,
                big_endian: true,
            },
        ];
        for token in &tokens {
            for &encoding in &encodings {
                let record = Record::new(token, u64::MAX - 1, encoding);
                assert_eq!(record.token(&value), *token);
                assert_eq!(record.encoding(), encoding);
                assert_eq!(record.offset, u64::MAX - 1);
            }
        }
        for &vr in Vr::ALL {
            let token = Token::Element(Header {
                tag: Tag(0x0010_0010),
                vr,
                len: 2,
            });
            assert_eq!(
                Record::new(&token, 0, Encoding::EXPLICIT_LE).token(&[]),
                token
            );
        }
        assert_eq!(std::mem::size_of::<Record>(), 24);
    }

    /// A rendered value comes back marked as such, and the producer sees the consumer lag once every
    /// batch it may queue is waiting.
    #[test]
    fn rendered_values_and_lag() {
        let (mut producer, consumer) = channel();
        let element = Token::Element(Header {
            tag: Tag(0x0018_0050),
            vr: Vr::DS,
            len: 4,
        });
        assert!(!producer.consumer_lags());
        for batch in 0..pipeline::IN_FLIGHT {
            producer.push(&element, 0, Encoding::EXPLICIT_LE).unwrap();
            producer.push_rendered(b"2.5", 8).unwrap();
            // Fill the rest of the batch so that it is sent.
            for _ in 2..pipeline::BATCH_RECORDS {
                producer
                    .push(&Token::ItemEnd, 0, Encoding::EXPLICIT_LE)
                    .unwrap();
            }
            assert_eq!(producer.consumer_lags(), batch + 1 == pipeline::IN_FLIGHT);
        }
        let replaying = std::thread::spawn(move || {
            let mut rendered = Vec::new();
            consumer
                .replay_tokens(
                    |r| {
                        if let Token::Value { bytes, last } = r.token {
                            rendered.push((bytes.to_vec(), last, r.rendered, r.offset));
                        }
                        Ok::<(), ()>(())
                    },
                    |_| (),
                )
                .unwrap();
            rendered
        });
        // The queue is full: this send waits for the consumer.
        producer.finish(None);
        let rendered = replaying.join().unwrap();
        let expected = (b"2.5".to_vec(), true, true, 8);
        assert_eq!(rendered, vec![expected; pipeline::IN_FLIGHT]);
    }

    /// What comes out of the pipeline equals what went in: tokens, value bytes, offsets and encodings,
    /// in order, across batches.
    #[test]
    fn replay_gives_back_the_tokens_pushed() {
        let be = Encoding {
            explicit_vr: true,
            big_endian: true,
        };
        let mut pushed: Vec<(Token<'static>, u64, Encoding)> = Vec::new();
        // Enough tokens for several batches (16 Ki records each).
        for i in 0..40_000u32 {
            let encoding = if i % 3 == 0 {
                be
            } else {
                Encoding::IMPLICIT_LE
            };
            let offset = u64::from(i) * 10;
            let token = match i % 5 {
                0 => Token::Element(Header {
                    tag: Tag(i),
                    vr: Vr::ALL[i as usize % Vr::ALL.len()],
                    len: i,
                }),
                1 => Token::Value {
                    bytes: [b"", &b"ABCDEFGH"[..], b"xy"][i as usize % 3],
                    last: i % 2 == 0,
                },
                2 => Token::SequenceStart {
                    tag: Tag(i),
                    vr: Vr::SQ,
                    len: Length::from_raw(i),
                },
                3 => Token::ItemStart {
                    len: Length::Undefined,
                },
                _ => Token::ItemEnd,
            };
            pushed.push((token, offset, encoding));
        }
        let (mut producer, consumer) = channel();
        let replayed = std::thread::scope(|scope| {
            let replaying = scope.spawn(move || {
                let mut replayed = Vec::new();
                consumer
                    .replay_tokens(
                        |r| {
                            let token = match r.token {
                                Token::Value { bytes, last } => {
                                    (Some((bytes.to_vec(), last)), None)
                                }
                                other => (None, other.to_static()),
                            };
                            replayed.push((token, r.offset, r.encoding));
                            Ok::<(), ()>(())
                        },
                        |_| (),
                    )
                    .unwrap();
                replayed
            });
            for (token, offset, encoding) in &pushed {
                producer.push(token, *offset, *encoding).unwrap();
            }
            producer.finish(None);
            replaying.join().unwrap()
        });
        assert_eq!(replayed.len(), pushed.len());
        for (i, ((token, offset, encoding), (got, got_offset, got_encoding))) in
            pushed.iter().zip(&replayed).enumerate()
        {
            match token {
                Token::Value { bytes, last } => {
                    assert_eq!(got.0, Some((bytes.to_vec(), *last)), "token {i}")
                }
                other => assert_eq!(got.1, Some(*other), "token {i}"),
            }
            assert_eq!((offset, encoding), (got_offset, got_encoding), "token {i}");
        }
    }
}
