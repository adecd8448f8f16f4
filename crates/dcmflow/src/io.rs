//! What a conversion reads from and writes to. The conversion picks its strategy from what they can do:
//! a slice is read in place, a file by position where that saves a pass, a seekable output takes
//! lengths patched in afterwards instead of values held back or read twice.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// The input of a conversion: bytes in memory, a file, or any `io::Read`.
///
/// Made with `From` (`&[u8]`, `&Vec<u8>`, `&bytes::Bytes`, `&File`) or [`Input::reader`]:
///
/// ```
/// use dcmflow::Input;
/// let in_memory = Input::from(&b"{}"[..]);
/// assert_eq!(in_memory.size(), Some(2));
/// let stream = Input::reader(std::io::stdin());
/// assert_eq!(stream.size(), None);
/// let body = Input::reader(&b"{}"[..]).with_size(Some(2));
/// assert_eq!(body.size(), Some(2));
/// ```
pub struct Input<'a> {
    pub(crate) source: Source<'a>,
    size: Option<u64>,
}

pub(crate) enum Source<'a> {
    /// Read in place: values are borrowed, never copied.
    Slice(&'a [u8]),
    /// Read in order; positioned reads where a codec reads ahead (a long value measured before it is
    /// decoded).
    File(&'a File),
    /// Read in order, in chunks.
    Reader(Box<dyn Read + Send + 'a>),
}

impl<'a> Input<'a> {
    /// Any `io::Read` (standard input, a socket, a decompressor), read in chunks.
    pub fn reader(reader: impl Read + Send + 'a) -> Input<'a> {
        Input {
            source: Source::Reader(Box::new(reader)),
            size: None,
        }
    }

    /// The input's size in bytes, when known (it decides [`crate::Threads::Auto`]).
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Tells the conversion the size of a reader's input (a file read through a progress bar, a body
    /// with a known length), so that [`crate::Threads::Auto`] can keep a small input on one thread.
    pub fn with_size(mut self, size: Option<u64>) -> Input<'a> {
        self.size = size.or(self.size);
        self
    }
}

impl<'a> From<&'a [u8]> for Input<'a> {
    fn from(bytes: &'a [u8]) -> Input<'a> {
        Input {
            source: Source::Slice(bytes),
            size: Some(bytes.len() as u64),
        }
    }
}

impl<'a> From<&'a Vec<u8>> for Input<'a> {
    fn from(bytes: &'a Vec<u8>) -> Input<'a> {
        Input::from(bytes.as_slice())
    }
}

impl<'a> From<&'a bytes::Bytes> for Input<'a> {
    fn from(bytes: &'a bytes::Bytes) -> Input<'a> {
        Input::from(&bytes[..])
    }
}

impl<'a> From<&'a File> for Input<'a> {
    fn from(file: &'a File) -> Input<'a> {
        let size = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        Input {
            source: Source::File(file),
            size,
        }
    }
}

/// Anything that can be written and sought: a file, a `Cursor`.
pub trait SeekWrite: Write + Seek {}

impl<T: Write + Seek> SeekWrite for T {}

/// The output of a conversion: a stream, a seekable file, or a `Vec` in memory.
///
/// Made with `From` (`&mut Vec<u8>`, `&mut File`: seekable when it is a regular file) or with
/// [`Output::stream`] / [`Output::seekable`]. Writes are gathered into large pieces by the conversion,
/// so an unbuffered writer is fine.
///
/// ```
/// use dcmflow::Output;
/// let mut stdout = std::io::stdout();
/// let _to_a_pipe = Output::stream(&mut stdout);
/// let mut cursor = std::io::Cursor::new(Vec::new());
/// let _patchable = Output::seekable(&mut cursor);
/// ```
pub struct Output<'a> {
    pub(crate) sink: Sink<'a>,
}

pub(crate) enum Sink<'a> {
    Stream(&'a mut (dyn Write + Send)),
    Seekable(&'a mut (dyn SeekWrite + Send)),
    Memory(&'a mut Vec<u8>),
}

impl<'a> Output<'a> {
    /// The output as a writer written in order (for formats that never seek back).
    pub(crate) fn into_write(self) -> &'a mut (dyn Write + Send) {
        match self.sink {
            Sink::Stream(w) => w,
            Sink::Seekable(w) => w,
            Sink::Memory(v) => v,
        }
    }

    /// A writer written in order only (standard output, a socket, a compressor).
    pub fn stream(writer: &'a mut (dyn Write + Send)) -> Output<'a> {
        Output {
            sink: Sink::Stream(writer),
        }
    }

    /// A writer that can also seek: lengths unknown when a header is written are patched in
    /// afterwards. The conversion starts writing at the current position and leaves the position at
    /// the end of what it wrote.
    pub fn seekable(writer: &'a mut (dyn SeekWrite + Send)) -> Output<'a> {
        Output {
            sink: Sink::Seekable(writer),
        }
    }
}

impl<'a> From<&'a mut Vec<u8>> for Output<'a> {
    fn from(vec: &'a mut Vec<u8>) -> Output<'a> {
        Output {
            sink: Sink::Memory(vec),
        }
    }
}

impl<'a> From<&'a mut File> for Output<'a> {
    /// Seekable when the file is a regular file; a pipe or a terminal is a stream.
    fn from(file: &'a mut File) -> Output<'a> {
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        if regular {
            Output::seekable(file)
        } else {
            Output::stream(file)
        }
    }
}

/// The last I/O error the input or the output returned, kept whole: the readers and writers keep only
/// its kind, and [`crate::Error`] hands the caller the error itself.
#[derive(Clone, Debug, Default)]
pub(crate) struct IoErrors(Arc<Mutex<Option<io::Error>>>);

impl IoErrors {
    fn keep(&self, e: io::Error) -> io::Error {
        let copy = io::Error::from(e.kind());
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
        copy
    }

    /// The error kept, if any.
    pub(crate) fn take(&self) -> Option<io::Error> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// A reader or writer whose I/O errors are kept in [`IoErrors`], counting the bytes that pass.
pub(crate) struct KeepErrors<T> {
    pub(crate) inner: T,
    pub(crate) errors: IoErrors,
    /// Bytes read or written.
    pub(crate) count: u64,
}

impl<T> KeepErrors<T> {
    pub(crate) fn new(inner: T, errors: &IoErrors) -> KeepErrors<T> {
        KeepErrors {
            inner,
            errors: errors.clone(),
            count: 0,
        }
    }
}

impl<S: Seek> KeepErrors<S> {
    /// Bytes written since `start`, the position the output was at before (lengths patched into a
    /// seekable output are written twice but count once).
    pub(crate) fn written_since(&mut self, start: Option<u64>) -> u64 {
        match (start, self.inner.stream_position()) {
            (Some(start), Ok(end)) => end.saturating_sub(start),
            _ => self.count,
        }
    }
}

impl<R: Read> Read for KeepErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.count += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(self.errors.keep(e)),
        }
    }
}

impl<W: Write> Write for KeepErrors<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.inner.write(buf) {
            Ok(n) => {
                self.count += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(self.errors.keep(e)),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf).map_err(|e| self.errors.keep(e))?;
        self.count += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| self.errors.keep(e))
    }
}

impl<S: Seek> Seek for KeepErrors<S> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos).map_err(|e| self.errors.keep(e))
    }
}

impl Sink<'_> {
    /// The output as a plain writer.
    pub(crate) fn as_write(&mut self) -> &mut (dyn Write + Send) {
        match self {
            Sink::Stream(w) => *w,
            Sink::Seekable(w) => *w,
            Sink::Memory(v) => *v,
        }
    }
}

impl std::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.source {
            Source::Slice(_) => "slice",
            Source::File(_) => "file",
            Source::Reader(_) => "reader",
        };
        f.debug_struct("Input")
            .field("kind", &kind)
            .field("size", &self.size)
            .finish()
    }
}

impl std::fmt::Debug for Output<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.sink {
            Sink::Stream(_) => "stream",
            Sink::Seekable(_) => "seekable",
            Sink::Memory(_) => "memory",
        };
        f.debug_struct("Output").field("kind", &kind).finish()
    }
}
