//! Where a result file goes. A regular file (or a new one) is written atomically: into a temporary file
//! beside it, renamed into place only on success, so a failure never leaves a partial file or clobbers the
//! old one. A device or a pipe (`/dev/null`, a FIFO) is written directly: renaming onto it would replace
//! the device node with a regular file, and there is nothing in it to lose.
//!
//! Nothing the user had is lost: a replaced file keeps its permissions, a read-only file is refused, and
//! an output that names an input (through any path or link) is refused before anything is read.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

pub enum Output {
    Atomic {
        temp: tempfile::NamedTempFile,
        path: PathBuf,
    },
    Direct(File),
}

impl Output {
    pub fn create(path: &Path) -> io::Result<Output> {
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() && !meta.is_dir() => OpenOptions::new()
                .write(true)
                .open(path)
                .map(Output::Direct),
            _ => {
                // A symlink to a regular file: replace the file it names, not the link.
                let path = match std::fs::symlink_metadata(path) {
                    Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path)?,
                    _ => path.to_path_buf(),
                };
                let mode = match std::fs::metadata(&path) {
                    Ok(meta) if meta.permissions().readonly() => {
                        return Err(io::Error::new(
                            io::ErrorKind::PermissionDenied,
                            "the file is read-only; not replaced",
                        ))
                    }
                    Ok(meta) => Some(meta.permissions()),
                    Err(_) => None,
                };
                let temp = temp_beside(&path, mode)?;
                Ok(Output::Atomic { temp, path })
            }
        }
    }

    pub fn file(&self) -> &File {
        match self {
            Output::Atomic { temp, .. } => temp.as_file(),
            Output::Direct(file) => file,
        }
    }

    /// Positions can be written again (lengths patched in afterwards): a regular (temporary) file, or a
    /// device that accepts seeks (`/dev/null`); not a pipe.
    pub fn is_seekable(&self) -> bool {
        match self {
            Output::Atomic { .. } => true,
            Output::Direct(file) => {
                use std::io::Seek;
                let mut handle = file;
                handle.stream_position().is_ok()
            }
        }
    }

    /// The output is complete: move it into place.
    pub fn commit(self) -> io::Result<()> {
        match self {
            Output::Atomic { temp, path } => temp.persist(&path).map(|_| ()).map_err(|e| e.error),
            Output::Direct(_) => Ok(()),
        }
    }
}

/// Why writing an output file failed: the conversion, or the file itself.
pub enum Failure<E> {
    Convert(E),
    Output(io::Error),
}

/// Runs `write` into a temporary file beside `output` (through a 1 MiB buffer; `seekable` says whether
/// it may seek) and renames it into place only on success, so a failed conversion never leaves a partial
/// file or clobbers an existing one.
pub fn write_atomically<R, E>(
    output: &Path,
    write: impl FnOnce(&mut io::BufWriter<&File>, bool) -> Result<R, E>,
) -> Result<R, Failure<E>> {
    use std::io::Write;
    let out = Output::create(output).map_err(Failure::Output)?;
    let seekable = out.is_seekable();
    let mut sink = io::BufWriter::with_capacity(1 << 20, out.file());
    let result = write(&mut sink, seekable).map_err(Failure::Convert)?;
    sink.flush().map_err(Failure::Output)?;
    drop(sink);
    out.commit().map_err(Failure::Output)?;
    Ok(result)
}

/// Runs `write` into standard output through a 1 MiB buffer, flushed at the end.
pub fn write_stdout<R, E>(
    write: impl FnOnce(&mut io::BufWriter<io::Stdout>) -> Result<R, E>,
) -> Result<R, Failure<E>> {
    use std::io::Write;
    let mut sink = io::BufWriter::with_capacity(1 << 20, io::stdout());
    let result = write(&mut sink).map_err(Failure::Convert)?;
    sink.flush().map_err(Failure::Output)?;
    Ok(result)
}

/// A temporary file in the directory of `output`, to be renamed onto it once complete: with the
/// permissions of the file it replaces, else 0666 minus the umask like any file the user's tools create
/// (tempfile's default is 0600). Errors do not name the temporary file: the user never chose it.
pub fn temp_beside(
    output: &Path,
    keep: Option<std::fs::Permissions>,
) -> io::Result<tempfile::NamedTempFile> {
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".dcmflow-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(
            keep.clone()
                .unwrap_or_else(|| std::fs::Permissions::from_mode(0o666)),
        );
    }
    #[cfg(not(unix))]
    let _ = keep;
    let temp = builder.tempfile_in(dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot create a file in {}: {}", dir.display(), e.kind()),
        )
    })?;
    // The mode given at creation is reduced by the umask; the replaced file's is restored exactly.
    #[cfg(unix)]
    if let Some(permissions) = keep {
        temp.as_file().set_permissions(permissions)?;
    }
    Ok(temp)
}

/// Whether `a` and `b` name the same existing file (through any path, hard or symbolic link).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(x), Ok(y)) => {
            use std::os::unix::fs::MetadataExt;
            x.dev() == y.dev() && x.ino() == y.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => {
            std::fs::canonicalize(a).ok().is_some()
                && std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok()
        }
        _ => false,
    }
}

/// Refuses an output that is one of the inputs: it would be replaced by its own conversion.
pub fn refuse_input_as_output<'p>(
    output: &Path,
    inputs: impl IntoIterator<Item = &'p Path>,
) -> Result<(), String> {
    for input in inputs {
        if input != Path::new("-") && same_file(input, output) {
            return Err(format!(
                "the output {} is the input {}: not overwritten (write to another file)",
                output.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

/// What an existing file holds, as far as replacing it by a conversion's output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// Its first non-blank byte opens JSON (`{`, `[`).
    Json,
    /// A PS3.10 file (`DICM` after the preamble).
    Dicom,
    /// Anything else (a bare data set, text, an unreadable file).
    Other,
}

impl Content {
    pub fn describe(self) -> &'static str {
        match self {
            Content::Json => "a JSON file",
            Content::Dicom => "a DICOM file",
            Content::Other => "a file that is neither JSON nor PS3.10 DICOM",
        }
    }
}

/// What the file at `path` holds: `None` where there is nothing to lose (no file, an empty one, a device).
pub fn existing_content(path: &Path) -> Option<Content> {
    use std::io::Read;
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() == 0 {
        return None;
    }
    let mut head = Vec::with_capacity(132);
    let read = File::open(path).and_then(|file| file.take(132).read_to_end(&mut head));
    if read.is_err() {
        return Some(Content::Other);
    }
    let head = &head[..];
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    Some(match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') | None => Content::Json,
        _ if head.len() == 132 && &head[128..132] == b"DICM" => Content::Dicom,
        _ => Content::Other,
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_written_directly_and_stays_a_device() {
        use std::io::Write;
        use std::os::unix::fs::FileTypeExt;
        let out = Output::create(Path::new("/dev/null")).unwrap();
        assert!(matches!(out, Output::Direct(_)));
        out.file().write_all(b"x").unwrap();
        out.commit().unwrap();
        assert!(std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_read_only_one_is_refused() {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("patient.json");
        std::fs::write(&path, b"{}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let out = Output::create(&path).unwrap();
        out.file().write_all(b"{\"new\":1}").unwrap();
        out.commit().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let refused = Output::create(&path).err().expect("read-only refused");
        assert_eq!(refused.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"new\":1}");
    }

    #[test]
    fn json_content_is_told_from_dicom_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        assert_eq!(
            existing_content(&file("a.json", b" \n[{}]")),
            Some(Content::Json)
        );
        assert_eq!(existing_content(&file("empty", b"")), None);
        assert_eq!(existing_content(&dir.path().join("missing")), None);
        let mut dicom = vec![0u8; 128];
        dicom.extend_from_slice(b"DICM");
        assert_eq!(
            existing_content(&file("b.dcm", &dicom)),
            Some(Content::Dicom)
        );
        assert_eq!(
            existing_content(&file("notes.txt", b"hello")),
            Some(Content::Other)
        );
        let a = file("x", b"1");
        assert!(same_file(&a, &dir.path().join(".").join("x")));
        assert!(refuse_input_as_output(&a, [a.as_path()]).is_err());
    }

    #[test]
    fn a_regular_file_is_replaced_only_on_commit() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.dcm");
        std::fs::write(&path, b"old").unwrap();
        let out = Output::create(&path).unwrap();
        out.file().write_all(b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        out.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        // Dropped without commit: the old content stays, no temporary file is left.
        let out = Output::create(&path).unwrap();
        out.file().write_all(b"partial").unwrap();
        drop(out);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
