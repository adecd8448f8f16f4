//! Bulk data (PS3.18 F.2.6): which values leave the JSON as a BulkDataURI, and where their bytes go.
//!
//! The writer asks a [`BulkHandler`] once per eligible element, before any of its bytes are written. The
//! two built-in handlers are [`SourceReference`] (dcm4che's `file:…?offset=N&length=M` into the source file;
//! nothing is copied) and [`SideFiles`] (the bytes, little-endian, streamed into one file per value).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use dcmflow_core::{Tag, Vr};

/// PS3.18 F.2.2 / R14: the VRs that may carry a BulkDataURI.
pub fn is_bulk_eligible(vr: Vr) -> bool {
    matches!(
        vr,
        Vr::DS
            | Vr::FL
            | Vr::FD
            | Vr::IS
            | Vr::LT
            | Vr::OB
            | Vr::OD
            | Vr::OF
            | Vr::OL
            | Vr::OV
            | Vr::OW
            | Vr::SL
            | Vr::SS
            | Vr::ST
            | Vr::SV
            | Vr::UC
            | Vr::UL
            | Vr::UN
            | Vr::US
            | Vr::UT
            | Vr::UV
    )
}

/// One step of the path to an element: the enclosing sequence and the 1-based item number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathStep {
    /// The sequence's tag.
    pub sequence: Tag,
    /// The item's number in it, from 1.
    pub item: u32,
}

/// An element that may go out as bulk data.
#[derive(Debug)]
pub struct BulkElement<'a> {
    /// The sequences and items around the element, outermost first (empty at top level).
    pub path: &'a [PathStep],
    /// The element's tag.
    pub tag: Tag,
    /// The element's VR.
    pub vr: Vr,
    /// Byte offset of the value in the source (for encapsulated pixel data: of its first item).
    pub offset: u64,
    /// Value length; `None` for encapsulated pixel data, whose length is known only at its end.
    pub length: Option<u64>,
    /// True when the bytes at `offset` in the source file are this value's bulk data as they stand
    /// (little-endian, not deflated), so a reference into the source file is valid.
    pub in_place: bool,
}

/// What to do with one element.
pub enum BulkDecision {
    /// Write it inline (Value or InlineBinary).
    Inline,
    /// Write this BulkDataURI and skip the bytes.
    Uri(String),
    /// Write this BulkDataURI and stream the bytes (little-endian) into `sink`.
    Stream {
        /// The BulkDataURI written in the JSON.
        uri: String,
        /// Where the value's bytes go.
        sink: Box<dyn Write + Send>,
    },
    /// Write the BulkDataURI once the value has ended, from its total length (encapsulated pixel data
    /// referenced in place); the closure gets the length.
    UriAfter(Box<dyn FnOnce(u64) -> String + Send>),
}

impl std::fmt::Debug for BulkDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BulkDecision::Inline => f.write_str("Inline"),
            BulkDecision::Uri(u) => write!(f, "Uri({u})"),
            BulkDecision::Stream { uri, .. } => write!(f, "Stream({uri})"),
            BulkDecision::UriAfter(_) => f.write_str("UriAfter"),
        }
    }
}

/// Decides, per element, between inline and a BulkDataURI. `Send`, so that a conversion holding one can
/// move between threads (a server's task, the two-thread pipeline).
pub trait BulkHandler: Send {
    /// What to do with `element`; an error stops the conversion ([`crate::JsonError::Bulk`]).
    fn decide(&mut self, element: &BulkElement<'_>) -> io::Result<BulkDecision>;
}

impl<F> BulkHandler for F
where
    F: FnMut(&BulkElement<'_>) -> io::Result<BulkDecision> + Send,
{
    fn decide(&mut self, element: &BulkElement<'_>) -> io::Result<BulkDecision> {
        self(element)
    }
}

/// Which elements are bulk: by length per VR (dcm4che `--blk-vr`), and by tag path (dcm4che `--blk`).
#[derive(Clone, Debug)]
pub struct BulkSelection {
    /// Elements of these VRs at or above the length go out as bulk data.
    pub thresholds: Vec<(Vr, u64)>,
    /// Elements at these paths (sequence tags then the element tag) are always bulk data.
    pub paths: Vec<Vec<Tag>>,
}

/// The binary VRs; DCMTK and dcm4che treat these as bulk data candidates by default.
pub const BINARY_VRS: [Vr; 7] = [Vr::OB, Vr::OD, Vr::OF, Vr::OL, Vr::OV, Vr::OW, Vr::UN];

impl BulkSelection {
    /// The binary VRs at `threshold` bytes or more (default 1024).
    pub fn binary(threshold: u64) -> BulkSelection {
        BulkSelection {
            thresholds: BINARY_VRS.iter().map(|&vr| (vr, threshold)).collect(),
            paths: Vec::new(),
        }
    }

    /// Whether `element` is selected. Encapsulated pixel data (length unknown) always is.
    pub fn selects(&self, element: &BulkElement<'_>) -> bool {
        if !is_bulk_eligible(element.vr) {
            return false;
        }
        let on_path = self.paths.iter().any(|p| {
            p.len() == element.path.len() + 1
                && p.last() == Some(&element.tag)
                && p.iter().zip(element.path).all(|(t, s)| *t == s.sequence)
        });
        if on_path {
            return true;
        }
        let Some(length) = element.length else {
            return self.thresholds.iter().any(|(vr, _)| *vr == element.vr);
        };
        self.thresholds
            .iter()
            .any(|&(vr, min)| vr == element.vr && length >= min && length > 0)
    }
}

/// `--bulk-ref`: BulkDataURIs pointing into the source file; nothing is copied. Where the source bytes are
/// not valid bulk data as they stand (big-endian words, deflated data sets), the element stays inline.
#[derive(Debug)]
pub struct SourceReference {
    /// Which elements become references.
    pub selection: BulkSelection,
    /// The source file as a URI, e.g. `file:///data/ct.dcm`.
    pub source_uri: String,
}

impl BulkHandler for SourceReference {
    fn decide(&mut self, element: &BulkElement<'_>) -> io::Result<BulkDecision> {
        if !self.selection.selects(element) || !element.in_place {
            return Ok(BulkDecision::Inline);
        }
        let base = format!("{}?offset={}&length=", self.source_uri, element.offset);
        Ok(match element.length {
            Some(length) => BulkDecision::Uri(format!("{base}{length}")),
            None => BulkDecision::UriAfter(Box::new(move |length| format!("{base}{length}"))),
        })
    }
}

/// `--bulk-dir`: each bulk value into its own file in `dir`, named after its position and tag; the URI is
/// `uri_prefix` + file name.
#[derive(Debug)]
pub struct SideFiles {
    /// Which elements go to side files.
    pub selection: BulkSelection,
    /// The directory the files are written in.
    pub dir: PathBuf,
    /// What the BulkDataURI puts before the file name.
    pub uri_prefix: String,
    /// Every file written so far (the caller removes them if the conversion fails).
    pub written: Vec<PathBuf>,
}

impl SideFiles {
    /// Side files of the elements `selection` picks, in `dir`, referenced as `uri_prefix` + name.
    pub fn new(selection: BulkSelection, dir: &Path, uri_prefix: String) -> SideFiles {
        SideFiles {
            selection,
            dir: dir.to_path_buf(),
            uri_prefix,
            written: Vec::new(),
        }
    }
}

impl BulkHandler for SideFiles {
    fn decide(&mut self, element: &BulkElement<'_>) -> io::Result<BulkDecision> {
        if !self.selection.selects(element) {
            return Ok(BulkDecision::Inline);
        }
        let mut place = String::new();
        for step in element.path {
            place.push_str(&format!("_{:08X}.{}", step.sequence.0, step.item));
        }
        place.push_str(&format!("_{:08X}.bin", element.tag.0));
        // A name that exists is never reused: another conversion (of this run or an earlier one) may
        // refer to it. The number goes up until a new file can be created.
        let mut number = self.written.len() + 1;
        let (name, file) = loop {
            let name = format!("{number:05}{place}");
            match File::options()
                .write(true)
                .create_new(true)
                .open(self.dir.join(&name))
            {
                Ok(file) => break (name, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => number += 1,
                Err(e) => return Err(e),
            }
        };
        self.written.push(self.dir.join(&name));
        Ok(BulkDecision::Stream {
            uri: format!("{}{}", self.uri_prefix, name),
            sink: Box::new(BufWriter::with_capacity(256 * 1024, file)),
        })
    }
}

/// A `file:` URI for an absolute path (RFC 8089), with the characters URIs reserve percent-encoded.
pub fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for &b in path.to_string_lossy().as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'.' | b'_' | b'~' => {
                uri.push(b as char)
            }
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(vr: Vr, length: Option<u64>, path: &[PathStep]) -> BulkElement<'_> {
        BulkElement {
            path,
            tag: Tag(0x7FE0_0010),
            vr,
            offset: 100,
            length,
            in_place: true,
        }
    }

    #[test]
    fn selection_by_threshold_vr_and_path() {
        let mut sel = BulkSelection::binary(1024);
        assert!(sel.selects(&element(Vr::OB, Some(1024), &[])));
        assert!(!sel.selects(&element(Vr::OB, Some(1023), &[])));
        assert!(!sel.selects(&element(Vr::LT, Some(5000), &[])));
        assert!(sel.selects(&element(Vr::OB, None, &[])));
        let path = [PathStep {
            sequence: Tag(0x0088_0200),
            item: 1,
        }];
        sel.paths.push(vec![Tag(0x0088_0200), Tag(0x7FE0_0010)]);
        assert!(sel.selects(&element(Vr::OW, Some(2), &path)));
        assert!(!sel.selects(&element(Vr::OW, Some(2), &[])));
    }

    #[test]
    fn source_reference_uri_and_fallback() {
        let mut handler = SourceReference {
            selection: BulkSelection::binary(1),
            source_uri: file_uri(Path::new("/data/my ct.dcm")),
        };
        match handler.decide(&element(Vr::OW, Some(8), &[])).unwrap() {
            BulkDecision::Uri(u) => assert_eq!(u, "file:///data/my%20ct.dcm?offset=100&length=8"),
            other => panic!("{other:?}"),
        }
        let mut be = element(Vr::OW, Some(8), &[]);
        be.in_place = false;
        assert!(matches!(handler.decide(&be).unwrap(), BulkDecision::Inline));
    }
}
