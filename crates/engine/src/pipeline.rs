//! Reading on one thread, writing on another. Readers lend their tokens (they borrow the reader's
//! buffer), so the producing thread packs them into batches — a codec's fixed-size record per token,
//! value bytes into one buffer per batch — and the consuming thread replays each batch as the same
//! tokens. Batches are bounded in size and in number in flight, and go back to the producer for reuse:
//! memory stays bounded, a few MiB whatever the input.
//!
//! The engine moves records and bytes; what a record means is the codec's ([`Packed`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// A batch is sent once its value bytes reach this (a value chunk can take it past, by one chunk)…
pub const BATCH_BYTES: usize = 256 << 10;
/// … or once it holds this many records.
pub const BATCH_RECORDS: usize = 16 << 10;
/// Batches waiting for the consumer; with one being filled and one being replayed, at most
/// `IN_FLIGHT + 2` exist.
pub const IN_FLIGHT: usize = 2;
/// Spare buffers the producer keeps for [`Producer::spare`]; more come back, the rest are dropped.
const MAX_SPARES: usize = 4;

/// Where a record's value bytes are in its batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueBytes {
    /// The record has no value bytes.
    None,
    /// The next this many bytes of the batch's byte buffer.
    Inline(usize),
    /// The next buffer handed over whole ([`Producer::queue_owned`]).
    Owned,
}

/// A codec's token packed for the trip between the threads: small and `Copy`, since a batch holds many
/// thousands and the consuming thread reads them all.
pub trait Packed: Copy + Send + 'static {
    /// Where this record's value bytes are.
    fn value_bytes(&self) -> ValueBytes;
}

struct Batch<R, M, E> {
    records: Vec<R>,
    bytes: Vec<u8>,
    /// Value buffers handed over whole; they come back with the batch for reuse.
    owned: Vec<Vec<u8>>,
    /// What the producer said about its input when the batch was sent (a DICOM transfer syntax).
    meta: M,
    /// The reader failed after the records of this batch.
    error: Option<E>,
}

impl<R, M: Default, E> Default for Batch<R, M, E> {
    fn default() -> Self {
        Batch {
            records: Vec::new(),
            bytes: Vec::new(),
            owned: Vec::new(),
            meta: M::default(),
            error: None,
        }
    }
}

/// The two ends: records go in at the producer and come out, in order, at the consumer.
pub fn channel<R: Packed, M: Copy + Default + Send, E: Send>(
) -> (Producer<R, M, E>, Consumer<R, M, E>) {
    let (to_consumer, batches) = sync_channel(IN_FLIGHT);
    let (recycle, recycled) = sync_channel(IN_FLIGHT + 2);
    let queued = Arc::new(AtomicUsize::new(0));
    (
        Producer {
            batch: Batch::default(),
            to_consumer,
            recycled,
            meta: M::default(),
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

/// The consumer stopped taking records (it failed, or it is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// The producing end.
pub struct Producer<R, M, E> {
    batch: Batch<R, M, E>,
    to_consumer: SyncSender<Batch<R, M, E>>,
    recycled: Receiver<Batch<R, M, E>>,
    meta: M,
    spares: Vec<Vec<u8>>,
    /// Batches sent and not yet taken by the consumer.
    queued: Arc<AtomicUsize>,
}

impl<R, M, E> std::fmt::Debug for Producer<R, M, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

impl<R: Packed, M: Copy + Default + Send, E: Send> Producer<R, M, E> {
    /// Whether the consumer is the slower side: every batch it may queue is waiting. The producer can
    /// then take on work of the consumer's at no cost to the pace of the whole.
    pub fn consumer_lags(&self) -> bool {
        self.queued.load(Ordering::Relaxed) >= IN_FLIGHT
    }

    /// Sets what is reported with the records from the next batch sent on.
    pub fn set_meta(&mut self, meta: M) {
        self.meta = meta;
    }

    /// Adds `record`, and the value bytes it counts (`ValueBytes::Inline(bytes.len())`), to the batch;
    /// sends a full batch (waiting while `IN_FLIGHT` batches are queued).
    #[inline(always)]
    pub fn queue(&mut self, record: R, bytes: &[u8]) -> Result<(), Stopped> {
        let batch = &mut self.batch;
        batch.bytes.extend_from_slice(bytes);
        batch.records.push(record);
        if batch.bytes.len() >= BATCH_BYTES || batch.records.len() >= BATCH_RECORDS {
            self.send()?;
        }
        Ok(())
    }

    /// Adds a record whose value is a buffer handed over whole (`ValueBytes::Owned`); the batch is sent
    /// at once, so such buffers in flight stay as few as the batches.
    pub fn queue_owned(&mut self, record: R, value: Vec<u8>) -> Result<(), Stopped> {
        self.batch.owned.push(value);
        self.batch.records.push(record);
        self.send()
    }

    /// A buffer to fill and hand over with [`Producer::queue_owned`] (one that came back, or a new one).
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
        batch.meta = self.meta;
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.to_consumer.send(batch).map_err(|_| Stopped)
    }

    /// Sends what is queued, then `error` (a read error the consumer reports after the records before
    /// it). Dropping the producer without `finish` ends the records where they are.
    pub fn finish(mut self, error: Option<E>) {
        self.batch.error = error;
        // A consumer that stopped does not need the rest.
        let _ = self.send();
    }
}

/// The consuming end.
pub struct Consumer<R, M, E> {
    batches: Receiver<Batch<R, M, E>>,
    recycle: SyncSender<Batch<R, M, E>>,
    queued: Arc<AtomicUsize>,
}

impl<R, M, E> std::fmt::Debug for Consumer<R, M, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer").finish_non_exhaustive()
    }
}

impl<R: Packed, M: Copy + Default + Send, E: Send> Consumer<R, M, E> {
    /// Hands every record with its value bytes and its batch's meta to `write`, in order, until the
    /// producer is done or `write` fails. A read error sent with [`Producer::finish`] comes back
    /// through `on_read_error`.
    #[inline(always)]
    pub fn replay<X>(
        self,
        mut write: impl FnMut(&R, &[u8], M) -> Result<(), X>,
        on_read_error: impl Fn(E) -> X,
    ) -> Result<(), X> {
        // The loop ends when the producer is dropped; returning early drops the receiver, which makes
        // the producer's next send fail, so it stops too.
        for mut batch in &self.batches {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            // Values follow each other in `bytes` (and in `owned`) in the order of their records.
            let (mut at, mut owned) = (0, 0);
            for record in &batch.records {
                let value: &[u8] = match record.value_bytes() {
                    ValueBytes::None => &[],
                    ValueBytes::Owned => {
                        owned += 1;
                        &batch.owned[owned - 1]
                    }
                    ValueBytes::Inline(n) => {
                        at += n;
                        &batch.bytes[at - n..at]
                    }
                };
                write(record, value, batch.meta)?;
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

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Rec {
        n: u32,
        value: ValueBytes,
    }

    impl Packed for Rec {
        fn value_bytes(&self) -> ValueBytes {
            self.value
        }
    }

    /// Records of all three value kinds, across many batches, come back in order with their bytes, and
    /// the error after them.
    #[test]
    fn replay_gives_back_records_values_and_the_error() {
        let (mut producer, consumer) = channel::<Rec, u8, &'static str>();
        let writer = std::thread::spawn(move || {
            let mut seen = Vec::new();
            let result = consumer.replay(
                |r: &Rec, bytes: &[u8], meta: u8| {
                    seen.push((r.n, bytes.to_vec(), meta));
                    Ok::<(), String>(())
                },
                |e| e.to_string(),
            );
            (seen, result)
        });
        let mut expected = Vec::new();
        for n in 0..40_000u32 {
            let meta = u8::from(n >= 20_000);
            producer.set_meta(meta);
            let bytes: Vec<u8> = (0..n % 7).map(|i| (n + i) as u8).collect();
            match n % 3 {
                0 => producer
                    .queue(
                        Rec {
                            n,
                            value: ValueBytes::None,
                        },
                        &[],
                    )
                    .unwrap(),
                1 => producer
                    .queue(
                        Rec {
                            n,
                            value: ValueBytes::Inline(bytes.len()),
                        },
                        &bytes,
                    )
                    .unwrap(),
                _ => {
                    let mut owned = producer.spare();
                    owned.clear();
                    owned.extend_from_slice(&bytes);
                    producer
                        .queue_owned(
                            Rec {
                                n,
                                value: ValueBytes::Owned,
                            },
                            owned,
                        )
                        .unwrap()
                }
            }
            let value = if n % 3 == 0 { Vec::new() } else { bytes };
            expected.push((n, value, meta));
        }
        producer.finish(Some("the reader failed"));
        let (seen, result) = writer.join().unwrap();
        assert_eq!(result, Err("the reader failed".to_string()));
        assert_eq!(seen.len(), expected.len());
        // The meta is the producer's when each batch was sent: compare records and values, and that
        // the meta only ever moves from 0 to 1.
        for ((n, v, _), (en, ev, _)) in seen.iter().zip(&expected) {
            assert_eq!((n, v), (en, ev));
        }
        assert!(seen.windows(2).all(|w| w[0].2 <= w[1].2));
    }

    #[test]
    fn a_consumer_that_stops_stops_the_producer() {
        let (mut producer, consumer) = channel::<Rec, (), ()>();
        let writer = std::thread::spawn(move || {
            consumer.replay(|_: &Rec, _: &[u8], _: ()| Err::<(), ()>(()), |_| ())
        });
        let mut stopped = false;
        for n in 0..200_000u32 {
            if producer
                .queue(
                    Rec {
                        n,
                        value: ValueBytes::None,
                    },
                    &[],
                )
                .is_err()
            {
                stopped = true;
                break;
            }
        }
        assert!(stopped, "the producer learns that the consumer stopped");
        assert_eq!(writer.join().unwrap(), Err(()));
    }
}
