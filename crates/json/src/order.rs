//! Ascending keys for unsorted input (PS3.18 F.2.2, R1) without holding more than one data set level.
//!
//! Members are written in arrival order into the writer's staging buffer; each level remembers where its
//! members start. When a member arrives with a tag below the last one, the members above it are cut out
//! of the staging buffer into the level's `deferred` stack and re-inserted, in order, once the keys
//! catch up (or when the level closes). This is a merge of two sorted runs, so its cost is linear in the
//! bytes moved, and only out-of-order input pays it.
//!
//! ```text
//!  staging:  … ,"00080020":{…} ,"00100010":{…} ,"00200010":{…}      ← (0010,0020) arrives
//!  cut:      … ,"00080020":{…} ,"00100010":{…}    deferred: ["00200010"]
//!  write:    … ,"00080020":{…} ,"00100010":{…} ,"00100020":{…}
//!  next tag (0028,0010) > 0020,0010: the deferred member is re-emitted first.
//! ```
//!
//! Members already handed to the output (older than the staging window) cannot move: an element that
//! belongs before them is written where it arrives, with a warning.

use dcmflow_core::Tag;
use dcmflow_dicom::CharacterSet;

use crate::format::Formatter;

/// A member whose bytes are still in the staging buffer (absolute output offsets).
#[derive(Clone, Copy, Debug)]
struct Span {
    tag: Tag,
    separator_start: u64,
    body_start: u64,
}

#[derive(Debug)]
struct Deferred {
    tag: Tag,
    body: Vec<u8>,
}

/// One open JSON object: the data set, or one sequence item.
#[derive(Debug)]
pub struct Level {
    spans: Vec<Span>,
    /// Members written so far at this level (decides the comma before the next one).
    members: usize,
    /// The greatest tag written in place at this level.
    last_tag: Option<Tag>,
    /// The greatest tag among members already flushed to the output (they cannot move any more).
    flushed_max: Option<Tag>,
    /// Members cut out after an out-of-order arrival: greatest first, so the next one to re-emit is last.
    deferred: Vec<Deferred>,
    deferred_bytes: usize,
    /// A member was written out of order (it could not be moved): from then on `spans` are no longer
    /// sorted, so nothing more is moved at this level.
    unsorted: bool,
    /// The character set in force (0008,0005), inherited by items (PS3.5 6.1.2.5.1).
    pub charset: CharacterSet,
    /// Private creators of this level: (group, block, creator), for resolving private UN elements.
    pub creators: Vec<(u16, u8, String)>,
}

/// How a new member fits the level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// In order (possibly after moving later members aside).
    InOrder,
    /// Out of order, moved to its place.
    Restored,
    /// Out of order, and the members it belongs before were already flushed: written where it is.
    Unsorted,
    /// A member with this tag exists already: skip the element.
    Duplicate,
}

/// Deferred members are bounded so that pathological input cannot grow them without limit; past this the
/// writer stops restoring order (and warns).
const MAX_DEFERRED_BYTES: usize = 16 << 20;

impl Level {
    pub fn new(charset: CharacterSet) -> Level {
        Level {
            spans: Vec::new(),
            members: 0,
            last_tag: None,
            flushed_max: None,
            deferred: Vec::new(),
            deferred_bytes: 0,
            unsorted: false,
            charset,
            creators: Vec::new(),
        }
    }

    /// Empties the level for reuse (keeping its allocations).
    pub fn reset(&mut self, charset: CharacterSet) {
        self.spans.clear();
        self.members = 0;
        self.last_tag = None;
        self.flushed_max = None;
        self.deferred.clear();
        self.deferred_bytes = 0;
        self.unsorted = false;
        self.charset = charset;
        self.creators.clear();
    }

    /// Makes room for a member `tag` and writes its separator. `base` is the absolute offset of `buf[0]`.
    pub fn admit<F: Formatter>(
        &mut self,
        tag: Tag,
        buf: &mut Vec<u8>,
        base: u64,
        fmt: &mut F,
    ) -> Admission {
        if !self.deferred.is_empty() {
            self.emit_deferred_below(Some(tag), buf, base, fmt);
        }
        if self.last_tag.is_none_or(|last| tag > last) {
            // The common case, in order: no member can have this tag (of the deferred ones, all above
            // the last tag, only the next one might equal it).
            if self.deferred.last().is_some_and(|d| d.tag == tag) {
                return Admission::Duplicate;
            }
            self.open_member(tag, buf, base, fmt);
            return Admission::InOrder;
        }
        // Duplicates among members already flushed are caught only for the greatest of them.
        let duplicate = self.last_tag == Some(tag)
            || self.flushed_max == Some(tag)
            || self.deferred.last().is_some_and(|d| d.tag == tag)
            || if self.unsorted {
                self.spans.iter().any(|s| s.tag == tag)
            } else {
                self.spans.binary_search_by_key(&tag, |s| s.tag).is_ok()
            };
        if duplicate {
            return Admission::Duplicate;
        }
        let movable = !self.unsorted && self.flushed_max.is_none_or(|m| m < tag);
        let admission = if movable && self.cut_above(tag, buf, base) {
            Admission::Restored
        } else {
            self.unsorted = true;
            Admission::Unsorted
        };
        self.open_member(tag, buf, base, fmt);
        admission
    }

    fn open_member<F: Formatter>(&mut self, tag: Tag, buf: &mut Vec<u8>, base: u64, fmt: &mut F) {
        let separator_start = base + buf.len() as u64;
        fmt.begin_member(buf, self.members == 0);
        self.spans.push(Span {
            tag,
            separator_start,
            body_start: base + buf.len() as u64,
        });
        self.members += 1;
        if self.last_tag.is_none_or(|last| tag > last) {
            self.last_tag = Some(tag);
        }
    }

    /// Moves the members with tags above `tag` from the staging buffer to `deferred`.
    fn cut_above(&mut self, tag: Tag, buf: &mut Vec<u8>, base: u64) -> bool {
        let k = self.spans.partition_point(|s| s.tag < tag);
        let cut_bytes = (base + buf.len() as u64 - self.spans[k].separator_start) as usize;
        if self.deferred_bytes + cut_bytes > MAX_DEFERRED_BYTES {
            return false;
        }
        let end = buf.len();
        for j in (k..self.spans.len()).rev() {
            let body_start = (self.spans[j].body_start - base) as usize;
            let body_end = self
                .spans
                .get(j + 1)
                .map_or(end, |s| (s.separator_start - base) as usize);
            self.deferred.push(Deferred {
                tag: self.spans[j].tag,
                body: buf[body_start..body_end].to_vec(),
            });
        }
        self.deferred_bytes += cut_bytes;
        buf.truncate((self.spans[k].separator_start - base) as usize);
        self.members -= self.spans.len() - k;
        self.spans.truncate(k);
        self.last_tag = self.spans.last().map(|s| s.tag).max(self.flushed_max);
        true
    }

    /// Re-emits deferred members below `limit` (all of them for `None`), in ascending order.
    fn emit_deferred_below<F: Formatter>(
        &mut self,
        limit: Option<Tag>,
        buf: &mut Vec<u8>,
        base: u64,
        fmt: &mut F,
    ) {
        while let Some(next) = self.deferred.last() {
            if limit.is_some_and(|l| next.tag >= l) {
                break;
            }
            let member = self.deferred.pop().expect("checked above");
            self.deferred_bytes -= member.body.len();
            self.open_member(member.tag, buf, base, fmt);
            buf.extend_from_slice(&member.body);
        }
    }

    /// Before the level's closing brace: every deferred member goes out. Returns whether the level is empty.
    pub fn close<F: Formatter>(&mut self, buf: &mut Vec<u8>, base: u64, fmt: &mut F) -> bool {
        self.emit_deferred_below(None, buf, base, fmt);
        self.members == 0
    }

    /// The staging buffer was flushed up to absolute offset `flushed`: members starting before it are fixed.
    pub fn flushed_to(&mut self, flushed: u64) {
        let fixed = self.spans.partition_point(|s| s.separator_start < flushed);
        if fixed > 0 {
            let max = self.spans[..fixed].iter().map(|s| s.tag).max();
            self.flushed_max = self.flushed_max.max(max);
            self.spans.drain(..fixed);
        }
    }
}

/// The open levels, innermost last. Closed levels stay in place for reuse (an item per frame is
/// common; an allocation, or moving a `Level` in and out of a free list, per item is not).
#[derive(Debug)]
pub struct Levels {
    all: Vec<Level>,
    open: usize,
}

impl Levels {
    /// The data set level, open.
    pub fn new(charset: CharacterSet) -> Levels {
        Levels {
            all: vec![Level::new(charset)],
            open: 1,
        }
    }

    /// How many levels are open (0 once the data set level has closed).
    pub fn open(&self) -> usize {
        self.open
    }

    /// The innermost open level.
    pub fn current(&self) -> &Level {
        &self.all[self.open - 1]
    }

    pub fn current_mut(&mut self) -> &mut Level {
        &mut self.all[self.open - 1]
    }

    /// Opens an item level inheriting `charset`.
    pub fn push(&mut self, charset: CharacterSet) {
        if self.open == self.all.len() {
            self.all.push(Level::new(charset));
        } else {
            self.all[self.open].reset(charset);
        }
        self.open += 1;
    }

    /// Closes the innermost level and returns it (still holding its deferred members, to be closed).
    pub fn pop(&mut self) -> Option<&mut Level> {
        self.open = self.open.checked_sub(1)?;
        Some(&mut self.all[self.open])
    }

    pub fn open_levels_mut(&mut self) -> &mut [Level] {
        &mut self.all[..self.open]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Compact, Pretty};

    fn run<F: Formatter + Default>(
        tags: &[u32],
        flush_after: Option<usize>,
    ) -> (String, Vec<Admission>) {
        let mut fmt = F::default();
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let mut base = 0u64;
        let mut level = Level::new(CharacterSet::Default);
        let mut admissions = Vec::new();
        fmt.begin_object(&mut buf);
        for (i, &t) in tags.iter().enumerate() {
            let a = level.admit(Tag(t), &mut buf, base, &mut fmt);
            admissions.push(a);
            if a != Admission::Duplicate {
                buf.extend_from_slice(format!("\"{t:08X}\":{t}").as_bytes());
            }
            if flush_after == Some(i) {
                out.extend_from_slice(&buf);
                base += buf.len() as u64;
                buf.clear();
                level.flushed_to(base);
            }
        }
        let empty = level.close(&mut buf, base, &mut fmt);
        fmt.end_object(&mut buf, empty);
        out.extend_from_slice(&buf);
        (String::from_utf8(out).unwrap(), admissions)
    }

    #[test]
    fn sorted_input_is_written_as_it_comes() {
        let (json, adm) = run::<Compact>(&[1, 2, 3], None);
        assert_eq!(json, r#"{"00000001":1,"00000002":2,"00000003":3}"#);
        assert!(adm.iter().all(|a| *a == Admission::InOrder));
    }

    #[test]
    fn unsorted_input_is_restored_at_any_position() {
        for order in [
            vec![3, 1, 2],
            vec![2, 3, 1],
            vec![3, 2, 1],
            vec![1, 3, 2, 5, 4],
            vec![5, 4, 3, 2, 1],
        ] {
            let (json, _) = run::<Compact>(&order, None);
            let mut sorted = order.clone();
            sorted.sort();
            let want: Vec<String> = sorted.iter().map(|t| format!("\"{t:08X}\":{t}")).collect();
            assert_eq!(json, format!("{{{}}}", want.join(",")), "{order:?}");
        }
        let (pretty, _) = run::<Pretty>(&[2, 1], None);
        assert_eq!(pretty, "{\n  \"00000001\":1,\n  \"00000002\":2\n}");
    }

    #[test]
    fn duplicates_are_refused() {
        let (json, adm) = run::<Compact>(&[1, 2, 1, 2], None);
        assert_eq!(json, r#"{"00000001":1,"00000002":2}"#);
        assert_eq!(adm[2], Admission::Duplicate);
        assert_eq!(adm[3], Admission::Duplicate);
    }

    #[test]
    fn after_an_unsorted_member_nothing_more_is_moved() {
        // 3 cannot move before the flushed 7; 8 then arrives below 9. Restoring it would need sorted spans.
        let (json, adm) = run::<Compact>(&[7, 5, 9, 3, 8], Some(0));
        assert_eq!(adm[1], Admission::Unsorted, "{adm:?} {json}");
        assert_eq!(adm[4], Admission::Unsorted);
        let value: Vec<&str> = json.trim_matches(['{', '}']).split(',').collect();
        assert_eq!(value.len(), 5, "{json}");
        let (json, _) = run::<Compact>(&[9, 3, 8, 1], Some(0));
        assert_eq!(json.matches(':').count(), 4, "{json}");
        assert!(!json.contains("{,") && !json.contains(",,"), "{json}");
    }

    #[test]
    fn members_already_flushed_cannot_move() {
        let (json, adm) = run::<Compact>(&[2, 3, 1], Some(1));
        assert_eq!(adm[2], Admission::Unsorted);
        assert_eq!(json, r#"{"00000002":2,"00000003":3,"00000001":1}"#);
        // A member that fits after the flushed ones is still restored among the unflushed ones.
        let (json, adm) = run::<Compact>(&[1, 3, 4, 2], Some(0));
        assert_eq!(adm[3], Admission::Restored);
        assert_eq!(
            json,
            r#"{"00000001":1,"00000002":2,"00000003":3,"00000004":4}"#
        );
    }
}
