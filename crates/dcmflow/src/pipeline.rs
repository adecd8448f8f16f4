//! Reading on one thread, writing on another. Readers lend their tokens (they borrow the reader's
//! buffer), so the producing thread copies them into batches (value bytes into one buffer per batch) and
//! the consuming thread replays each batch as the same tokens. Batches are bounded in size and in number
//! in flight, and go back to the producer for reuse: memory stays bounded, a few MiB whatever the input.
//!
//! DICOM → JSON reads on a spawned thread and writes on the caller's; JSON → DICOM reads on the caller's
//! (its reader is not `Send`) and writes on a spawned one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use dcmflow_core::{Encoding, Error, Header, Length, Tag, Token, TokenKind, TransferSyntax, Vr};

/// A batch is sent once its value bytes reach this (a value chunk can take it past, by one chunk)…
const BATCH_BYTES: usize = 256 << 10;
/// … or once it holds this many tokens.
const BATCH_TOKENS: usize = 16 << 10;
/// Batches waiting for the consumer; with one being filled and one being replayed, at most
/// `IN_FLIGHT + 2` exist.
const IN_FLIGHT: usize = 2;

/// One token as the writer needs it, packed into 24 bytes: a batch holds up to 16 Ki of them and the
/// other thread reads them all, so their size is memory traffic between the cores (a `Token` with its
/// place and encoding took 64 bytes, and the JSON writer's thread spent a sixth of its time on it).
///
/// `repr(C)` in this order measured 3–4% less CPU for a metadata-heavy dcm2json than the default layout,
/// which puts `tag` and `len` side by side (measured; the cause is not established).
#[derive(Clone, Copy)]
#[repr(C)]
struct Record {
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

/// Spare buffers the producer keeps for [`Producer::spare`]; more come back, the rest are dropped.
const MAX_SPARES: usize = 4;

#[derive(Default)]
struct Batch {
    records: Vec<Record>,
    bytes: Vec<u8>,
    /// Value buffers handed over whole; they come back with the batch for reuse.
    owned: Vec<Vec<u8>>,
    /// The input's transfer syntax as known when the batch was sent.
    transfer_syntax: Option<TransferSyntax>,
    /// The reader failed after the records of this batch.
    error: Option<Error>,
}

/// One token replayed on the consuming thread.
pub(crate) struct Replayed<'b> {
    pub token: Token<'b>,
    pub offset: u64,
    pub encoding: Encoding,
    pub transfer_syntax: Option<TransferSyntax>,
    /// A `Value` holding the rendering of the element's whole value (see [`Producer::push_rendered`]).
    pub rendered: bool,
}

/// The two ends: tokens go in at the producer and come out, in order, at the consumer.
pub(crate) fn channel() -> (Producer, Consumer) {
    let (to_consumer, batches) = sync_channel::<Batch>(IN_FLIGHT);
    let (recycle, recycled) = sync_channel::<Batch>(IN_FLIGHT + 2);
    let queued = Arc::new(AtomicUsize::new(0));
    (
        Producer {
            batch: Batch::default(),
            to_consumer,
            recycled,
            transfer_syntax: None,
            spares: Vec::new(),
            queued: Arc::clone(&queued),
        },
        Consumer {
            batches,
            recycle,
            queued,
        },
    )
}

/// The consumer stopped taking tokens (it failed, or it is gone).
#[derive(Debug)]
pub(crate) struct Stopped;

pub(crate) struct Producer {
    batch: Batch,
    to_consumer: SyncSender<Batch>,
    recycled: Receiver<Batch>,
    transfer_syntax: Option<TransferSyntax>,
    spares: Vec<Vec<u8>>,
    /// Batches sent and not yet taken by the consumer.
    queued: Arc<AtomicUsize>,
}

impl Producer {
    /// Whether the consumer is the slower side: every batch it may queue is waiting. The producer can
    /// then take on work of the consumer's (as `push_rendered`) at no cost to the pace of the whole.
    pub fn consumer_lags(&self) -> bool {
        self.queued.load(Ordering::Relaxed) >= IN_FLIGHT
    }

    /// Queues the value of the current element as its rendering for the consumer (JSON text from
    /// `dcmflow_json::ValueRenderer`), to be replayed with [`Replayed::rendered`] set.
    pub fn push_rendered(&mut self, rendered: &[u8], offset: u64) -> Result<(), Stopped> {
        let token = Token::Value {
            bytes: rendered,
            last: true,
        };
        let mut record = Record::new(&token, offset, Encoding::EXPLICIT_LE);
        record.flags |= RENDERED;
        self.queue(record, rendered)
    }

    /// Sets the transfer syntax reported with the tokens from now on.
    pub fn set_transfer_syntax(&mut self, ts: Option<TransferSyntax>) {
        self.transfer_syntax = ts;
    }

    /// Queues a token; a full batch is sent (waiting while `IN_FLIGHT` batches are queued).
    pub fn push(
        &mut self,
        token: &Token<'_>,
        offset: u64,
        encoding: Encoding,
    ) -> Result<(), Stopped> {
        self.push_inlined(token, offset, encoding)
    }

    /// [`Self::push`], always inlined: where the token was just built in registers (the JSON reader's
    /// loop), it is then not stored and reloaded in other widths, a store-forwarding stall per token.
    /// (In the DICOM reader's loop, inlining measured slower: that side keeps the plain call.)
    #[inline(always)]
    pub fn push_inlined(
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

    /// Adds `record`, and the value bytes it counts, to the batch; sends a full batch.
    #[inline(always)]
    fn queue(&mut self, record: Record, bytes: &[u8]) -> Result<(), Stopped> {
        let batch = &mut self.batch;
        batch.bytes.extend_from_slice(bytes);
        batch.records.push(record);
        if batch.bytes.len() >= BATCH_BYTES || batch.records.len() >= BATCH_TOKENS {
            self.send()?;
        }
        Ok(())
    }

    /// Queues a token recorded with [`Unplaced::of`], at its place.
    pub fn push_placed(
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

    /// Queues a value chunk handed over as a buffer (see `JsonReader::take_value`); the batch is sent at
    /// once, so such buffers in flight stay as few as the batches.
    pub fn push_owned(
        &mut self,
        value: Vec<u8>,
        last: bool,
        offset: u64,
        encoding: Encoding,
    ) -> Result<(), Stopped> {
        let batch = &mut self.batch;
        batch.owned.push(value);
        let mut record = Record::new(&Token::Value { bytes: &[], last }, offset, encoding);
        record.flags |= OWNED;
        batch.records.push(record);
        self.send()
    }

    /// A buffer to hand to `JsonReader::take_value` (one that came back, or a new one).
    pub fn spare(&mut self) -> Vec<u8> {
        self.spares.pop().unwrap_or_default()
    }

    /// A spare that was not used.
    pub fn give_back(&mut self, spare: Vec<u8>) {
        if self.spares.len() < MAX_SPARES {
            self.spares.push(spare);
        }
    }

    fn send(&mut self) -> Result<(), Stopped> {
        let mut next = self.recycled.try_recv().unwrap_or_default();
        for buffer in next.owned.drain(..) {
            self.give_back(buffer);
        }
        let mut batch = std::mem::replace(&mut self.batch, next);
        batch.transfer_syntax = self.transfer_syntax;
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.to_consumer.send(batch).map_err(|_| Stopped)
    }

    /// Sends what is queued, then `error` (a read error the consumer reports after the tokens before it).
    /// Dropping the producer without `finish` ends the tokens where they are.
    pub fn finish(mut self, error: Option<Error>) {
        self.batch.error = error;
        // A consumer that stopped does not need the rest.
        let _ = self.send();
    }
}

pub(crate) struct Consumer {
    batches: Receiver<Batch>,
    recycle: SyncSender<Batch>,
    queued: Arc<AtomicUsize>,
}

impl Consumer {
    /// Hands every token to `write`, in order, until the producer is done or `write` fails. A read error
    /// sent with [`Producer::finish`] comes back through `on_read_error`.
    pub fn replay<E>(
        self,
        mut write: impl FnMut(Replayed<'_>) -> Result<(), E>,
        on_read_error: impl Fn(Error) -> E,
    ) -> Result<(), E> {
        // The loop ends when the producer is dropped; returning early drops the receiver, which makes
        // the producer's next send fail, so it stops too.
        for mut batch in &self.batches {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            // Values follow each other in `bytes` (and in `owned`) in the order of their records.
            let (mut at, mut owned) = (0, 0);
            for record in &batch.records {
                let value: &[u8] = if record.kind != TokenKind::Value {
                    &[]
                } else if record.flags & OWNED != 0 {
                    owned += 1;
                    &batch.owned[owned - 1]
                } else {
                    at += record.len as usize;
                    &batch.bytes[at - record.len as usize..at]
                };
                write(Replayed {
                    token: record.token(value),
                    offset: record.offset,
                    encoding: record.encoding(),
                    transfer_syntax: batch.transfer_syntax,
                    rendered: record.flags & RENDERED != 0,
                })?;
            }
            if let Some(e) = batch.error.take() {
                return Err(on_read_error(e));
            }
            batch.records.clear();
            batch.bytes.clear();
            // `owned` goes back as it is: the producer reuses those buffers.
            // A producer that has finished takes nothing back: the batch is dropped.
            let _ = self.recycle.try_send(batch);
        }
        Ok(())
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
        for batch in 0..IN_FLIGHT {
            producer.push(&element, 0, Encoding::EXPLICIT_LE).unwrap();
            producer.push_rendered(b"2.5", 8).unwrap();
            // Fill the rest of the batch so that it is sent.
            for _ in 2..BATCH_TOKENS {
                producer
                    .push(&Token::ItemEnd, 0, Encoding::EXPLICIT_LE)
                    .unwrap();
            }
            assert_eq!(producer.consumer_lags(), batch + 1 == IN_FLIGHT);
        }
        let replaying = std::thread::spawn(move || {
            let mut rendered = Vec::new();
            consumer
                .replay(
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
        assert_eq!(rendered, vec![expected; IN_FLIGHT]);
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
                    .replay(
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
