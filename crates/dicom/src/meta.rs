//! PS3.10 7.1 file meta information: kept verbatim when it already describes the output, otherwise
//! rebuilt (transfer syntax, implementation identity, group length; SOP Class/Instance from the data set
//! when the input had none).

use std::collections::BTreeMap;

use dcmflow_core::{ErrorKind, Tag, TransferSyntax, Vr};

/// dcmflow's Implementation Class UID (PS3.7 D.3.3.2): a UUID-derived UID (PS3.5 B.2, root 2.25).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.43073364145622057352445264627428491270";
/// PS3.7 D.3.3.2.2: at most 16 characters.
pub const IMPLEMENTATION_VERSION_NAME: &str = "DCMFLOW_010";

/// The meta group is small; anything beyond this is not file meta.
const MAX_META_BYTES: usize = 1 << 20;

/// Meta elements as they came in, in order.
#[derive(Debug, Default)]
pub(crate) struct MetaBuilder {
    elements: Vec<(Tag, Vr, Vec<u8>)>,
    total: usize,
}

impl MetaBuilder {
    pub fn begin(&mut self, tag: Tag, vr: Vr, _declared_len: u32) {
        // The value grows as bytes arrive: never allocate from a length field.
        self.elements.push((tag, vr, Vec::new()));
    }

    pub fn push(&mut self, bytes: &[u8]) -> Result<(), ErrorKind> {
        self.total += bytes.len();
        if self.total > MAX_META_BYTES {
            return Err(ErrorKind::BadFileMeta);
        }
        if let Some((_, _, value)) = self.elements.last_mut() {
            value.extend_from_slice(bytes);
        }
        Ok(())
    }

    /// The last occurrence wins, as in the reader (files with two meta groups exist: fo-dicom GH1376).
    fn get(&self, tag: Tag) -> Option<&[u8]> {
        self.elements
            .iter()
            .rev()
            .find(|(t, _, _)| *t == tag)
            .map(|(_, _, v)| v.as_slice())
    }

    pub fn has_sop_identity(&self) -> bool {
        self.get(Tag(0x0002_0002)).is_some() && self.get(Tag(0x0002_0003)).is_some()
    }

    /// Appends the encoded meta group (Explicit VR LE) to `out`.
    /// `verbatim`: a meta that already names the output's transfer syntax is kept byte for byte.
    pub fn encode(
        &self,
        ts: &TransferSyntax,
        capture: &MetaCapture,
        verbatim: bool,
        out: &mut Vec<u8>,
    ) {
        let same_syntax = self
            .get(Tag::TRANSFER_SYNTAX_UID)
            .is_some_and(|v| trim_uid(v) == ts.uid.as_bytes());
        if same_syntax && verbatim {
            // Already describes the output: byte for byte as it came.
            for (tag, vr, value) in &self.elements {
                put_element(out, *tag, *vr, value);
            }
            return;
        }
        let mut group: BTreeMap<Tag, (Vr, Vec<u8>)> = self
            .elements
            .iter()
            .filter(|(t, _, _)| !t.is_group_length())
            .map(|(t, v, b)| (*t, (*v, b.clone())))
            .collect();
        group
            .entry(Tag(0x0002_0001))
            .or_insert((Vr::OB, vec![0, 1]));
        if let Some(class) = &capture.sop_class {
            group
                .entry(Tag(0x0002_0002))
                .or_insert((Vr::UI, class.clone()));
        }
        if let Some(instance) = &capture.sop_instance {
            group
                .entry(Tag(0x0002_0003))
                .or_insert((Vr::UI, instance.clone()));
        }
        group.insert(Tag::TRANSFER_SYNTAX_UID, (Vr::UI, padded_uid(ts.uid)));
        // PS3.7 D.3.3.2: the implementation that wrote this file is dcmflow.
        group.insert(
            Tag(0x0002_0012),
            (Vr::UI, padded_uid(IMPLEMENTATION_CLASS_UID)),
        );
        let mut version = IMPLEMENTATION_VERSION_NAME.as_bytes().to_vec();
        if version.len() % 2 == 1 {
            version.push(b' ');
        }
        group.insert(Tag(0x0002_0013), (Vr::SH, version));
        let mut body = Vec::new();
        for (tag, (vr, value)) in &group {
            put_element(&mut body, *tag, *vr, value);
        }
        put_element(
            out,
            Tag::FILE_META_GROUP_LENGTH,
            Vr::UL,
            &(body.len() as u32).to_le_bytes(),
        );
        out.extend_from_slice(&body);
    }
}

/// The top-level SOP Class and Instance UIDs of the data set, for a meta generated from scratch.
#[derive(Debug, Default)]
pub(crate) struct MetaCapture {
    sop_class: Option<Vec<u8>>,
    sop_instance: Option<Vec<u8>>,
    current: Option<Tag>,
    past: bool,
    /// Elements may arrive in any order: only the end of the data set means the UIDs are past.
    unordered: bool,
}

impl MetaCapture {
    pub fn set_unordered(&mut self, unordered: bool) {
        self.unordered = unordered;
    }

    pub fn begin(&mut self, tag: Tag) {
        self.current = None;
        if tag == Tag::SOP_CLASS_UID {
            self.sop_class = Some(Vec::new());
            self.current = Some(tag);
        } else if tag == Tag::SOP_INSTANCE_UID {
            self.sop_instance = Some(Vec::new());
            self.current = Some(tag);
        } else if tag > Tag::SOP_INSTANCE_UID && !self.unordered {
            self.past = true;
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let slot = match self.current {
            Some(Tag::SOP_CLASS_UID) => self.sop_class.as_mut(),
            Some(Tag::SOP_INSTANCE_UID) => self.sop_instance.as_mut(),
            _ => None,
        };
        if let Some(v) = slot {
            // PS3.5 6.2: a UI is at most 64 bytes.
            let room = 64usize.saturating_sub(v.len());
            v.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    pub fn finish(&mut self) {
        self.past = true;
    }

    pub fn done(&self) -> bool {
        self.past
            || (self.sop_class.is_some() && self.sop_instance.is_some() && self.current.is_none())
    }
}

fn trim_uid(v: &[u8]) -> &[u8] {
    let end = v
        .iter()
        .rposition(|&b| b != 0 && b != b' ')
        .map_or(0, |i| i + 1);
    &v[..end]
}

/// PS3.5 6.2 UI: padded to even length with a trailing NUL.
fn padded_uid(uid: &str) -> Vec<u8> {
    let mut v = uid.as_bytes().to_vec();
    if v.len() % 2 == 1 {
        v.push(0);
    }
    v
}

fn put_element(out: &mut Vec<u8>, tag: Tag, vr: Vr, value: &[u8]) {
    out.extend_from_slice(&tag.group().to_le_bytes());
    out.extend_from_slice(&tag.element().to_le_bytes());
    out.extend_from_slice(&vr.bytes());
    if vr.has_long_length() {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(value);
}
