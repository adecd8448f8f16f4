//! The inputs of the DICOM-reading commands: directories expanded (`-r`), and an input that is not DICOM
//! (JSON, text, gzip, ZIP, nothing) told up front, before any output is written.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// How many leading bytes decide: the preamble and `DICM` (PS3.10 7.1).
pub const HEAD: usize = 132;

/// One input to convert.
#[derive(Debug)]
pub struct Input {
    pub path: PathBuf,
    /// Its path below the directory it was found in (`-r`), or its file name: names its own output.
    pub relative: PathBuf,
    /// Found by walking a directory, not named by the user: skipped (not failed) when it is not DICOM.
    pub found: bool,
}

/// The inputs named by `paths`: files as they are, directories (with `recursive`) as the files below
/// them in name order. A directory without `recursive`, or one that cannot be read, is an error for that
/// path alone.
pub fn expand(paths: &[PathBuf], recursive: bool) -> Vec<Result<Input, String>> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() != "-" && path.is_dir() {
            if recursive {
                walk(path, Path::new(""), &mut inputs);
            } else {
                inputs.push(Err(format!(
                    "{} is a directory (-r/--recursive converts the files below it)",
                    path.display()
                )));
            }
            continue;
        }
        let relative = path.file_name().map_or("stdin".into(), PathBuf::from);
        inputs.push(Ok(Input {
            path: path.clone(),
            relative,
            found: false,
        }));
    }
    inputs
}

fn walk(dir: &Path, relative: &Path, out: &mut Vec<Result<Input, String>>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            out.push(Err(format!("cannot read directory {}: {e}", dir.display())));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let rel = relative.join(entry.file_name());
        // Links to directories are not followed: a link cycle would never end.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, &rel, out);
        } else if path.is_file() {
            out.push(Ok(Input {
                path,
                relative: rel,
                found: true,
            }));
        }
    }
}

/// Reads the first [`HEAD`] bytes (fewer at the end of the input) and gives back a reader that yields
/// them again before the rest.
pub fn peek<'a>(
    mut source: Box<dyn Read + Send + 'a>,
) -> io::Result<(Vec<u8>, Box<dyn Read + Send + 'a>)> {
    let mut head = Vec::with_capacity(HEAD);
    (&mut source).take(HEAD as u64).read_to_end(&mut head)?;
    let again = io::Cursor::new(head.clone()).chain(source);
    Ok((head, Box::new(again)))
}

/// Whether the input starts as a PS3.10 file: `DICM` after the preamble, or at the start (no preamble).
pub fn has_dicm(head: &[u8]) -> bool {
    head.get(128..132) == Some(b"DICM") || head.starts_with(b"DICM")
}

/// What the input is when it is plainly not DICOM, for the message; `None` when it may be DICOM (a file
/// or a bare data set, whose first bytes are a binary tag).
pub fn not_dicom(head: &[u8]) -> Option<&'static str> {
    if head.is_empty() {
        return Some("it is empty");
    }
    if has_dicm(head) {
        return None;
    }
    if head.starts_with(&[0x1F, 0x8B]) {
        return Some("it is gzip-compressed (decompress it first: gunzip -c FILE | dcmflow … -)");
    }
    if head.starts_with(b"PK\x03\x04") {
        return Some("it is a ZIP archive");
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    // A bare data set starts with a tag's bytes, which hold NUL or other control bytes; text holds none.
    let is_text = text
        .iter()
        .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'));
    if !is_text {
        return None;
    }
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => Some("it is JSON text (dcmflow json2dcm reads DICOM JSON)"),
        _ => Some("it is text"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_gzip_and_empty_inputs_are_not_dicom_and_dicom_is() {
        assert!(not_dicom(b"").is_some());
        assert!(not_dicom(b"{\"00080060\":{}}").unwrap().contains("JSON"));
        assert!(not_dicom(b"\xEF\xBB\xBF [").unwrap().contains("JSON"));
        assert!(not_dicom(b"hello, world\n").unwrap().contains("text"));
        assert!(not_dicom(&[0x1F, 0x8B, 8, 0]).unwrap().contains("gzip"));
        let mut file = vec![0u8; 128];
        file.extend_from_slice(b"DICM");
        assert_eq!(not_dicom(&file), None);
        // A bare data set: (0008,0005) CS, Explicit VR LE.
        assert_eq!(not_dicom(b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100"), None);
    }

    #[test]
    fn peek_gives_the_bytes_back() {
        let data: Vec<u8> = (0..=255).collect();
        let (head, mut again) = peek(Box::new(&data[..])).unwrap();
        assert_eq!(head, &data[..HEAD]);
        let mut all = Vec::new();
        again.read_to_end(&mut all).unwrap();
        assert_eq!(all, data);
    }

    #[test]
    fn directories_need_recursive_and_are_walked_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
        for name in ["b/c/2", "a", "b/1"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let root = vec![dir.path().to_path_buf()];
        assert!(expand(&root, false)[0].is_err());
        let found: Vec<PathBuf> = expand(&root, true)
            .into_iter()
            .map(|i| i.unwrap().relative)
            .collect();
        assert_eq!(found, [PathBuf::from("a"), "b/1".into(), "b/c/2".into()]);
    }
}
