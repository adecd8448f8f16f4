//! BulkDataURI → bytes: the resolver callback, and the `file:` resolver the CLI uses.
//!
//! PS3.18 F.2.6 leaves the URI's meaning to the origin server; for files, dcm4che's form
//! `file:PATH?offset=N&length=M` (which dcm2json `--bulk-ref` writes) selects a byte range. Only files under
//! directories the user allowed are read: a JSON document must not be able to read `/etc/shadow` into a
//! DICOM file (PS3.18 and OWASP's path traversal advice). `..`, symlinks and absolute paths are resolved
//! first (`canonicalize`) and must stay inside an allowed directory.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use dcmflow_core::{Tag, Vr};

/// One BulkDataURI to resolve.
#[derive(Clone, Copy, Debug)]
pub struct BulkRequest<'r> {
    /// The BulkDataURI as written in the JSON.
    pub uri: &'r str,
    /// The element's tag.
    pub tag: Tag,
    /// The element's VR.
    pub vr: Vr,
    /// The element path, e.g. `00081140[1].00081155`.
    pub path: &'r str,
}

/// What a resolver returns: the bytes (little endian, PS3.18 F.2.7) and how many there are.
pub struct BulkSource<'a> {
    /// The value's bytes.
    pub reader: Box<dyn Read + Send + 'a>,
    /// How many bytes `reader` gives (the element's length is written before its bytes).
    pub length: u64,
}

impl std::fmt::Debug for BulkSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkSource")
            .field("length", &self.length)
            .finish()
    }
}

/// Resolves BulkDataURIs (like pydicom's `bulk_data_uri_handler`). `Ok(None)`: write the element empty.
pub trait BulkResolver: Send {
    /// The bytes `request` stands for, `Ok(None)` to write the element empty, or why not.
    fn resolve(&mut self, request: &BulkRequest<'_>)
        -> Result<Option<BulkSource<'static>>, String>;
}

/// A resolver lent to a reader (a conversion keeps its resolver across the inputs it reads).
impl<R: BulkResolver + ?Sized> BulkResolver for &mut R {
    fn resolve(
        &mut self,
        request: &BulkRequest<'_>,
    ) -> Result<Option<BulkSource<'static>>, String> {
        (**self).resolve(request)
    }
}

impl<R: BulkResolver + ?Sized> BulkResolver for Box<R> {
    fn resolve(
        &mut self,
        request: &BulkRequest<'_>,
    ) -> Result<Option<BulkSource<'static>>, String> {
        (**self).resolve(request)
    }
}

/// `file:` URIs under allowed directories; `ignore` writes every element empty instead (DCMTK `-Bu`).
#[derive(Clone, Debug, Default)]
pub struct FileResolver {
    /// Canonical allowed directories.
    roots: Vec<PathBuf>,
    /// Where relative paths start (the JSON file's directory; the working directory for stdin).
    base: PathBuf,
}

impl FileResolver {
    /// A resolver that allows no directory yet; relative paths start at `base`.
    pub fn new(base: &Path) -> FileResolver {
        FileResolver {
            roots: Vec::new(),
            base: base.to_path_buf(),
        }
    }

    /// Allows reading files under `dir`.
    pub fn allow(&mut self, dir: &Path) -> std::io::Result<()> {
        self.roots.push(dir.canonicalize()?);
        Ok(())
    }
}

/// `file:` URI → (path, offset, length). Accepts `file:///abs`, `file:/abs`, `file:rel` and
/// `file://localhost/abs`, with percent-encoding.
fn parse_file_uri(uri: &str) -> Result<(String, u64, Option<u64>), String> {
    let rest = uri
        .strip_prefix("file:")
        .ok_or_else(|| format!("'{uri}': only file: URIs are read (refused)"))?;
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let path = if let Some(authority_path) = path.strip_prefix("//") {
        let slash = authority_path.find('/').unwrap_or(authority_path.len());
        let host = &authority_path[..slash];
        if !host.is_empty() && host != "localhost" {
            return Err(format!("'{uri}': a file: URI on host '{host}' is refused"));
        }
        &authority_path[slash..]
    } else {
        path
    };
    let path = percent_decode(path).ok_or_else(|| format!("'{uri}': bad percent-encoding"))?;
    let (mut offset, mut length) = (0, None);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let n: u64 = v
            .parse()
            .map_err(|_| format!("'{uri}': '{pair}' is not a number"))?;
        match k {
            "offset" => offset = n,
            "length" => length = Some(n),
            _ => return Err(format!("'{uri}': unknown parameter '{k}'")),
        }
    }
    Ok((path, offset, length))
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl BulkResolver for FileResolver {
    fn resolve(
        &mut self,
        request: &BulkRequest<'_>,
    ) -> Result<Option<BulkSource<'static>>, String> {
        let (path, offset, length) = parse_file_uri(request.uri)?;
        let joined = self.base.join(&path);
        let real = joined
            .canonicalize()
            .map_err(|e| format!("'{}': {e}", joined.display()))?;
        if !self.roots.iter().any(|root| real.starts_with(root)) {
            return Err(format!(
                "'{}' is outside the allowed directories (refused)",
                real.display()
            ));
        }
        let mut file = File::open(&real).map_err(|e| format!("'{}': {e}", real.display()))?;
        let size = file
            .metadata()
            .map_err(|e| format!("'{}': {e}", real.display()))?
            .len();
        let length = length.unwrap_or(size.saturating_sub(offset));
        if offset.checked_add(length).is_none_or(|end| end > size) {
            return Err(format!(
                "'{}': offset {offset} + length {length} is beyond its {size} bytes",
                real.display()
            ));
        }
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| format!("'{}': {e}", real.display()))?;
        Ok(Some(BulkSource {
            reader: Box::new(std::io::BufReader::with_capacity(1 << 20, file).take(length)),
            length,
        }))
    }
}

/// Writes every element with a BulkDataURI empty (DCMTK json2dcm `-Bu`).
#[derive(Clone, Copy, Debug, Default)]
pub struct IgnoreBulk;

impl BulkResolver for IgnoreBulk {
    fn resolve(&mut self, _: &BulkRequest<'_>) -> Result<Option<BulkSource<'static>>, String> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_parse_in_every_common_form() {
        assert_eq!(
            parse_file_uri("file:///tmp/a%20b.dcm?offset=10&length=4").unwrap(),
            ("/tmp/a b.dcm".into(), 10, Some(4))
        );
        assert_eq!(
            parse_file_uri("file:rel/x").unwrap(),
            ("rel/x".into(), 0, None)
        );
        assert_eq!(
            parse_file_uri("file://localhost/x").unwrap(),
            ("/x".into(), 0, None)
        );
        assert!(parse_file_uri("http://example.com/x").is_err());
        assert!(parse_file_uri("file://evil/x").is_err());
        assert!(parse_file_uri("file:x?offset=-1").is_err());
    }

    #[test]
    fn only_allowed_directories_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let inside = dir.path().join("in");
        std::fs::create_dir(&inside).unwrap();
        std::fs::write(inside.join("data.bin"), b"0123456789").unwrap();
        std::fs::write(dir.path().join("secret"), b"s").unwrap();
        let mut r = FileResolver::new(&inside);
        r.allow(&inside).unwrap();
        let req = |uri| BulkRequest {
            uri,
            tag: Tag(0x7FE0_0010),
            vr: Vr::OB,
            path: "7FE00010",
        };
        let mut got = r
            .resolve(&req("file:data.bin?offset=2&length=3"))
            .unwrap()
            .unwrap();
        let mut bytes = Vec::new();
        got.reader.read_to_end(&mut bytes).unwrap();
        assert_eq!((bytes.as_slice(), got.length), (&b"234"[..], 3));
        assert!(r
            .resolve(&req("file:../secret"))
            .unwrap_err()
            .contains("outside"));
        assert!(r.resolve(&req("file:data.bin?offset=8&length=3")).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret"), inside.join("link")).unwrap();
            assert!(r
                .resolve(&req("file:link"))
                .unwrap_err()
                .contains("outside"));
        }
    }
}
