//! Where a result file goes. A regular file (or a new one) is written atomically: into a temporary file
//! beside it, renamed into place only on success, so a failure never leaves a partial file or clobbers the
//! old one. A device or a pipe (`/dev/null`, a FIFO) is written directly: renaming onto it would replace
//! the device node with a regular file, and there is nothing in it to lose.

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
                let temp = temp_beside(&path)?;
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

/// A temporary file in the directory of `output`, to be renamed onto it once complete. Created with mode
/// 0666 minus the umask, like any file the user's tools create (tempfile's default is 0600).
pub fn temp_beside(output: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".dcmflow-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
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
