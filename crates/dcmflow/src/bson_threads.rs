//! BSON → Extended JSON on two threads: the documents of a stream are independent, so this thread cuts
//! the stream into batches of whole documents (by their length fields) and writes their JSON in order,
//! while two threads convert the batches in turn. The output and errors are those of one thread. Memory holds a few documents; a
//! document longer than MongoDB's 16 MiB (or whose length is not a document's) is not held: from there
//! on the stream is converted on this thread, as one thread would.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::mpsc::sync_channel;

use dcmflow_bson::{
    BsonReader, Compact, ExtJsonWriter, Formatter, Layout, Pretty, ReaderOptions, Token,
};
use dcmflow_engine::Position;

use crate::bson_to_json::{reading_error_at, writing_error, BsonToJsonOptions};
use crate::{Category, Error, Report};

/// The longest document handed to another thread (MongoDB's limit).
const LARGEST_HELD: u32 = 16 << 20;

/// Documents go to a thread in batches of about this many bytes: one document at a time costs more in
/// hand-overs than it saves.
const BATCH: usize = 256 << 10;

/// One document's bytes (or the bytes a stream ended with) and where it starts in the input.
struct Piece {
    bytes: Vec<u8>,
    offset: u64,
}

/// Converts the stream `read` into `out`.
pub(crate) fn convert(
    options: &BsonToJsonOptions,
    mut read: Box<dyn Read + Send + '_>,
    out: &mut (dyn Write + Send),
) -> Result<Report, Error> {
    let (mut written, mut documents) = (0u64, 0u64);
    let mut offset = 0u64;
    let rest = std::thread::scope(|scope| -> Result<Option<Vec<u8>>, Error> {
        let mut jobs = Vec::new();
        let mut results = Vec::new();
        for _ in 0..2 {
            let (job_tx, job_rx) = sync_channel::<Piece>(2);
            let (result_tx, result_rx) = sync_channel::<Result<(Vec<u8>, u64), Error>>(2);
            scope.spawn(move || {
                for piece in job_rx {
                    let json = if options.pretty {
                        document_json(&piece, options, Pretty::default())
                    } else {
                        document_json(&piece, options, Compact)
                    };
                    if result_tx.send(json).is_err() {
                        break;
                    }
                }
            });
            jobs.push(job_tx);
            results.push(result_rx);
        }
        let mut in_flight = VecDeque::new();
        let mut sent = 0usize;
        let mut rest = None;
        let mut ended = false;
        loop {
            while in_flight.len() < 4 && !ended && rest.is_none() {
                match next_batch(&mut read, offset) {
                    Ok((batch, next)) => {
                        if !batch.bytes.is_empty() {
                            offset += batch.bytes.len() as u64;
                            let worker = sent % 2;
                            sent += 1;
                            in_flight.push_back(worker);
                            if jobs[worker].send(batch).is_err() {
                                break;
                            }
                        }
                        match next {
                            Next::Piece(..) => {}
                            Next::End => ended = true,
                            Next::NotHeld(head) => rest = Some(head),
                        }
                    }
                    Err(e) => {
                        return Err(Error::new(
                            Category::InputIo,
                            format!("reading BSON: {e}"),
                            Position::at_offset(offset),
                        )
                        .with_source(Some(e)))
                    }
                }
            }
            // Documents went to the threads in turn: their JSON comes back in order by taking turns.
            let Some(worker) = in_flight.pop_front() else {
                break;
            };
            let (json, converted) = results[worker].recv().map_err(|_| {
                Error::new(
                    Category::Internal,
                    "a converting thread stopped",
                    Position::default(),
                )
            })??;
            out.write_all(&json).map_err(writing_error)?;
            written += json.len() as u64;
            documents += converted;
        }
        Ok(rest)
    })?;
    if let Some(head) = rest {
        // From a document too long to hold on: one thread, streaming, offsets counted from here.
        let mut reader_options = options.reader.clone();
        reader_options.stream = true;
        let reader =
            BsonReader::from_reader(std::io::Cursor::new(head).chain(read), reader_options);
        let report = if options.pretty {
            rest_on_this_thread(
                reader,
                ExtJsonWriter::new(&mut *out, Pretty::default(), options.mode, Layout::Lines),
                offset,
            )?
        } else {
            rest_on_this_thread(
                reader,
                ExtJsonWriter::new(&mut *out, Compact, options.mode, Layout::Lines),
                offset,
            )?
        };
        written += report.written;
        documents += report.documents;
    }
    out.flush().map_err(writing_error)?;
    Ok(Report {
        written,
        documents,
        ..Report::default()
    })
}

enum Next {
    /// A document (or, `true`, the bytes the input ended with: a cut document, which the reader then
    /// refuses as one thread's reader would).
    Piece(Piece, bool),
    /// The input ended between documents.
    End,
    /// A length this thread does not hold on to (over 16 MiB, or under a document's 5 bytes): the bytes
    /// read of it.
    NotHeld(Vec<u8>),
}

/// The next documents of the stream, whole, about [`BATCH`] bytes of them, and how the batch ended:
/// `Piece` when more may follow, else the end, a cut document (the batch's last bytes) or a length not
/// held on to.
fn next_batch(read: &mut dyn Read, offset: u64) -> std::io::Result<(Piece, Next)> {
    let mut batch = Piece {
        bytes: Vec::with_capacity(BATCH + (BATCH >> 2)),
        offset,
    };
    while batch.bytes.len() < BATCH {
        match next_piece(read, offset + batch.bytes.len() as u64)? {
            Next::Piece(piece, last) => {
                batch.bytes.extend_from_slice(&piece.bytes);
                if last {
                    return Ok((batch, Next::End));
                }
            }
            other => return Ok((batch, other)),
        }
    }
    let more = Next::Piece(
        Piece {
            bytes: Vec::new(),
            offset,
        },
        false,
    );
    Ok((batch, more))
}

/// The next document of the stream, read whole.
fn next_piece(read: &mut dyn Read, offset: u64) -> std::io::Result<Next> {
    let mut head = Vec::with_capacity(4);
    read.take(4).read_to_end(&mut head)?;
    if head.is_empty() {
        return Ok(Next::End);
    }
    if head.len() < 4 {
        return Ok(Next::Piece(
            Piece {
                bytes: head,
                offset,
            },
            true,
        ));
    }
    let len = i32::from_le_bytes(head[..4].try_into().expect("4 bytes"));
    let len = match u32::try_from(len) {
        Ok(len) if (5..=LARGEST_HELD).contains(&len) => len,
        _ => return Ok(Next::NotHeld(head)),
    };
    let mut bytes = head;
    read.take(u64::from(len) - 4).read_to_end(&mut bytes)?;
    let cut = bytes.len() < len as usize;
    Ok(Next::Piece(Piece { bytes, offset }, cut))
}

/// A batch of documents' Extended JSON, one line each, and how many documents (errors placed in the
/// whole input).
fn document_json<F: Formatter>(
    piece: &Piece,
    options: &BsonToJsonOptions,
    format: F,
) -> Result<(Vec<u8>, u64), Error> {
    let mut reader_options: ReaderOptions = options.reader.clone();
    reader_options.stream = true;
    let mut reader = BsonReader::from_slice(&piece.bytes, reader_options);
    let mut writer = ExtJsonWriter::new(
        Vec::with_capacity(piece.bytes.len() * 2),
        format,
        options.mode,
        Layout::Lines,
    );
    loop {
        let token = reader
            .read_token()
            .map_err(|e| reading_error_at(e, piece.offset))?;
        writer.write_token(&token).map_err(writing_error)?;
        if token == Token::End {
            break;
        }
    }
    let documents = writer.documents();
    Ok((writer.finish().map_err(writing_error)?, documents))
}

/// The rest of the stream on this thread, errors placed from `base` on.
fn rest_on_this_thread<W: Write, F: Formatter>(
    mut reader: BsonReader<'_>,
    mut writer: ExtJsonWriter<W, F>,
    base: u64,
) -> Result<Report, Error> {
    loop {
        let token = reader.read_token().map_err(|e| reading_error_at(e, base))?;
        writer.write_token(&token).map_err(writing_error)?;
        if token == Token::End {
            break;
        }
    }
    let (documents, written) = (writer.documents(), writer.written());
    writer.finish().map_err(writing_error)?;
    Ok(Report {
        written,
        documents,
        ..Report::default()
    })
}
