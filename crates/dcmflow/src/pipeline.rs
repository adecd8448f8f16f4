//! Reading on one thread, writing on another. The reader's tokens borrow its buffer, so the reader thread
//! copies them into batches (value bytes into one buffer per batch) and the writing thread replays each
//! batch as the same tokens. Batches are bounded in size and in number in flight, and return to the reader
//! thread for reuse: memory stays bounded, a few MiB whatever the input.

use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use dcmflow_core::{Encoding, Error, Token, TransferSyntax, Warning};
use dcmflow_dicom::DicomReader;

/// A batch is sent once its value bytes reach this (a value chunk can take it past, by one chunk)…
const BATCH_BYTES: usize = 256 << 10;
/// … or once it holds this many tokens.
const BATCH_TOKENS: usize = 16384;
/// Batches waiting for the writing thread; with one being filled and one being written, at most
/// `IN_FLIGHT + 2` exist.
const IN_FLIGHT: usize = 2;

/// One token as the writer needs it: the token (a `Value` carries its bytes as `value`), where it was,
/// and the encoding it was read in.
struct Record {
    token: Token<'static>,
    value: Range<usize>,
    last: bool,
    offset: u64,
    encoding: Encoding,
}

#[derive(Default)]
struct Batch {
    records: Vec<Record>,
    bytes: Vec<u8>,
    /// The input's transfer syntax as known when the batch was sent.
    transfer_syntax: Option<TransferSyntax>,
    /// The reader failed after the records of this batch.
    error: Option<Error>,
}

/// What the reader leaves behind for the report.
pub(crate) struct ReaderEnd {
    pub transfer_syntax: Option<TransferSyntax>,
    pub warnings: Vec<Warning>,
    pub warnings_dropped: u64,
}

/// One token replayed on the writing thread.
pub(crate) struct Replayed<'b> {
    pub token: Token<'b>,
    pub offset: u64,
    pub encoding: Encoding,
    pub transfer_syntax: Option<TransferSyntax>,
}

/// Runs `make_reader` on a new thread and hands every token to `write`, in order, on this one. `write`
/// returning an error stops the reader. Returns the reader's end state, or the first error (a read error
/// as `on_read_error` maps it).
pub(crate) fn run<'r, E>(
    make_reader: impl FnOnce() -> DicomReader<'r> + Send,
    mut write: impl FnMut(Replayed<'_>) -> Result<(), E>,
    on_read_error: impl Fn(Error) -> E,
) -> Result<ReaderEnd, E> {
    let (to_writer, from_reader) = sync_channel::<Batch>(IN_FLIGHT);
    let (to_reader, recycled) = sync_channel::<Batch>(IN_FLIGHT + 2);
    std::thread::scope(|scope| {
        let reading = scope.spawn(move || read_batches(make_reader(), to_writer, recycled));
        let written = replay(&from_reader, &to_reader, &mut write, &on_read_error);
        // Dropping the receiver makes a reader still sending stop (its send fails).
        drop(from_reader);
        let end = reading.join().expect("the reader thread does not panic");
        written.map(|()| end)
    })
}

fn replay<E>(
    batches: &Receiver<Batch>,
    recycle: &SyncSender<Batch>,
    write: &mut impl FnMut(Replayed<'_>) -> Result<(), E>,
    on_read_error: &impl Fn(Error) -> E,
) -> Result<(), E> {
    // The reader thread ends by dropping its sender: the loop ends after the last batch.
    for mut batch in batches {
        for record in &batch.records {
            let token = match record.token {
                Token::Value { .. } => Token::Value {
                    bytes: &batch.bytes[record.value.clone()],
                    last: record.last,
                },
                other => other,
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
        // The reader may have finished: a batch nobody takes back is simply dropped.
        let _ = recycle.try_send(batch);
    }
    Ok(())
}

fn read_batches(
    mut reader: DicomReader<'_>,
    to_writer: SyncSender<Batch>,
    recycled: Receiver<Batch>,
) -> ReaderEnd {
    let mut batch = Batch::default();
    loop {
        // A value chunk starts where the reader stands; other tokens report their own offset.
        let position = reader.position();
        let mut done = false;
        match reader.read_token() {
            Ok(Token::Value { bytes, last }) => {
                let start = batch.bytes.len();
                batch.bytes.extend_from_slice(bytes);
                batch.records.push(Record {
                    token: Token::Value { bytes: &[], last },
                    value: start..batch.bytes.len(),
                    last,
                    offset: position,
                    encoding: Encoding::EXPLICIT_LE,
                });
            }
            Ok(other) => {
                // Not a Value (matched above), so it converts.
                let token = other.to_static().unwrap_or(Token::Eof);
                done = token == Token::Eof;
                batch.records.push(Record {
                    token,
                    value: 0..0,
                    last: false,
                    offset: reader.token_offset(),
                    encoding: reader.encoding(),
                });
            }
            Err(e) => {
                batch.error = Some(e);
                done = true;
            }
        }
        if done {
            batch.transfer_syntax = reader.transfer_syntax();
            // The writing thread may have stopped already; then nobody needs the batch.
            let _ = to_writer.send(batch);
            break;
        }
        if batch.bytes.len() >= BATCH_BYTES || batch.records.len() >= BATCH_TOKENS {
            batch.transfer_syntax = reader.transfer_syntax();
            let next = recycled.try_recv().unwrap_or_default();
            if to_writer.send(std::mem::replace(&mut batch, next)).is_err() {
                break; // the writing thread stopped
            }
        }
    }
    ReaderEnd {
        transfer_syntax: reader.transfer_syntax(),
        warnings: reader.take_warnings(),
        warnings_dropped: reader.warnings_dropped(),
    }
}
