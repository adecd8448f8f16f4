//! Reading on one thread, writing on another. Readers lend their tokens (they borrow the reader's
//! buffer), so the producing thread copies them into batches (value bytes into one buffer per batch) and
//! the consuming thread replays each batch as the same tokens. Batches are bounded in size and in number
//! in flight, and go back to the producer for reuse: memory stays bounded, a few MiB whatever the input.
//!
//! DICOM → JSON reads on a spawned thread and writes on the caller's; JSON → DICOM reads on the caller's
//! (its reader is not `Send`) and writes on a spawned one.

use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use dcmflow_core::{Encoding, Error, Token, TransferSyntax};

/// A batch is sent once its value bytes reach this (a value chunk can take it past, by one chunk)…
const BATCH_BYTES: usize = 256 << 10;
/// … or once it holds this many tokens.
const BATCH_TOKENS: usize = 16 << 10;
/// Batches waiting for the consumer; with one being filled and one being replayed, at most
/// `IN_FLIGHT + 2` exist.
const IN_FLIGHT: usize = 2;

/// One token as the writer needs it: the token (a `Value` carries its bytes in `value`), where it was,
/// and the encoding it was read in.
struct Record {
    token: Token<'static>,
    value: ValueAt,
    offset: u64,
    encoding: Encoding,
}

/// Where a `Value` token's bytes are in its batch.
enum ValueAt {
    /// Copied into `Batch::bytes`.
    Bytes(Range<usize>),
    /// A buffer handed over whole (`Batch::owned`), not copied.
    Owned(usize),
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
}

/// The two ends: tokens go in at the producer and come out, in order, at the consumer.
pub(crate) fn channel() -> (Producer, Consumer) {
    let (to_consumer, batches) = sync_channel::<Batch>(IN_FLIGHT);
    let (recycle, recycled) = sync_channel::<Batch>(IN_FLIGHT + 2);
    (
        Producer {
            batch: Batch::default(),
            to_consumer,
            recycled,
            transfer_syntax: None,
            spares: Vec::new(),
        },
        Consumer { batches, recycle },
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
}

impl Producer {
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
        let batch = &mut self.batch;
        let (token, value) = match *token {
            Token::Value { bytes, last } => {
                let start = batch.bytes.len();
                batch.bytes.extend_from_slice(bytes);
                let at = ValueAt::Bytes(start..batch.bytes.len());
                (Token::Value { bytes: &[], last }, at)
            }
            // Not a Value (matched above), so it converts.
            other => (
                other.to_static().unwrap_or(Token::Eof),
                ValueAt::Bytes(0..0),
            ),
        };
        batch.records.push(Record {
            token,
            value,
            offset,
            encoding,
        });
        if batch.bytes.len() >= BATCH_BYTES || batch.records.len() >= BATCH_TOKENS {
            self.send()?;
        }
        Ok(())
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
        batch.records.push(Record {
            token: Token::Value { bytes: &[], last },
            value: ValueAt::Owned(batch.owned.len() - 1),
            offset,
            encoding,
        });
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
            for record in &batch.records {
                let token = match (record.token, &record.value) {
                    (Token::Value { last, .. }, ValueAt::Bytes(range)) => Token::Value {
                        bytes: &batch.bytes[range.clone()],
                        last,
                    },
                    (Token::Value { last, .. }, ValueAt::Owned(i)) => Token::Value {
                        bytes: &batch.owned[*i],
                        last,
                    },
                    (other, _) => other,
                };
                write(Replayed {
                    token,
                    offset: record.offset,
                    encoding: record.encoding,
                    transfer_syntax: batch.transfer_syntax,
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
