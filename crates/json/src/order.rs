//! Ascending keys for unsorted input (PS3.18 F.2.2, R1) without holding more than one data set level:
//! each level's members go through the engine's staged sorter (`dcmflow_engine::staged_sort`), with the
//! formatter's separator between members.
//!
//! Members already handed to the output (older than the staging window) cannot move: an element that
//! belongs before them is written where it arrives, with a warning; from then on nothing more moves at
//! that level.

use dcmflow_core::Tag;
use dcmflow_dicom::CharacterSet;
use dcmflow_engine::staged_sort::{Placement, SortLevel};

use crate::format::Formatter;

/// One open JSON object: the data set, or one sequence item.
#[derive(Debug)]
pub struct Level {
    members: SortLevel<Tag>,
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

/// The member separator of `fmt` (a comma after the first member, and the indentation).
fn separator<F: Formatter>(fmt: &mut F) -> impl FnMut(&mut Vec<u8>, bool) + '_ {
    move |buf, first| fmt.begin_member(buf, first)
}

impl Level {
    pub fn new(charset: CharacterSet) -> Level {
        Level {
            members: SortLevel::new(MAX_DEFERRED_BYTES),
            charset,
            creators: Vec::new(),
        }
    }

    /// Empties the level for reuse (keeping its allocations).
    pub fn reset(&mut self, charset: CharacterSet) {
        self.members.reset();
        self.charset = charset;
        self.creators.clear();
    }

    /// Makes room for a member `tag` and writes its separator. `base` is the absolute offset of `buf[0]`.
    #[inline]
    pub fn admit<F: Formatter>(
        &mut self,
        tag: Tag,
        buf: &mut Vec<u8>,
        base: u64,
        fmt: &mut F,
    ) -> Admission {
        let mut separator = separator(fmt);
        match self.members.admit(tag, buf, base, &mut separator) {
            Placement::InOrder => Admission::InOrder,
            Placement::Restored => Admission::Restored,
            Placement::Duplicate => Admission::Duplicate,
            Placement::Unsortable(_) => {
                self.members.place_unsorted(tag, buf, base, &mut separator);
                Admission::Unsorted
            }
        }
    }

    /// Before the level's closing brace: every deferred member goes out. Returns whether the level is empty.
    pub fn close<F: Formatter>(&mut self, buf: &mut Vec<u8>, base: u64, fmt: &mut F) -> bool {
        self.members.close(buf, base, &mut separator(fmt))
    }

    /// The staging buffer was flushed up to absolute offset `flushed`: members starting before it are fixed.
    pub fn flushed_to(&mut self, flushed: u64) {
        self.members.flushed_to(flushed);
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
