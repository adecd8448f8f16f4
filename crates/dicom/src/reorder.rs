//! Ascending element order for tokens that arrive unsorted (DICOM JSON with unsorted keys), without
//! holding more than the writer's staging buffer.
//!
//! PS3.5 7.1: data elements of a data set (and of each item) are in ascending tag order. Elements are
//! position-independent inside their level: nothing in a DICOM data set points at byte offsets of its
//! siblings, and a sequence's computed length does not change when its content is permuted. So the writer
//! may move encoded members around while they are still in its staging buffer.
//!
//! Each open level (the data set, each sequence item) remembers where its members start in staging. When
//! a member arrives below the last one, the members above it are cut out of staging into the level's
//! `deferred` list and re-appended, in order, once the tags catch up or the level closes. Sorted input
//! pays one comparison per element (the engine's staged sorter, `dcmflow_engine::staged_sort`). Members
//! already flushed to the output cannot move: a member that belongs before one of them is an error
//! ([`ErrorKind::UnsortableElement`]), never silently misplaced.

use dcmflow_core::{ErrorKind, Tag};
use dcmflow_engine::staged_sort::{Placement, SortLevel};

/// DICOM members have no separator.
fn no_separator(_: &mut Vec<u8>, _: bool) {}

/// The per-level bookkeeping; the writer owns the staging buffer and passes it in, with `base`: how many
/// bytes left staging before (to the output or the spill file), so that `base + i` is the absolute
/// position of `staging[i]`.
#[derive(Debug)]
pub(crate) struct Reorder {
    /// `levels[..open]` are the open levels, innermost last; closed ones stay for reuse (an item per frame
    /// is common, an allocation per item showed in profiles).
    levels: Vec<SortLevel<Tag>>,
    open: usize,
}

impl Reorder {
    pub fn new() -> Reorder {
        Reorder {
            levels: vec![SortLevel::new(usize::MAX)],
            open: 1,
        }
    }

    /// A sequence item opens a level.
    pub fn open_level(&mut self) {
        if self.open == self.levels.len() {
            self.levels.push(SortLevel::new(usize::MAX));
        } else {
            self.levels[self.open].reset();
        }
        self.open += 1;
    }

    /// The level closes: its deferred members are appended to `staging` (their place is at its end).
    pub fn close_level(&mut self, staging: &mut Vec<u8>, base: u64) {
        if self.open > 0 {
            self.open -= 1;
            self.levels[self.open].close(staging, base, &mut no_separator);
        }
        if self.open == 0 {
            // The top level closed (end of the data set): a next data set starts a fresh one.
            self.levels[0].reset();
            self.open = 1;
        }
    }

    /// A member with `tag` is about to be encoded at the end of `staging` at the innermost level.
    /// Re-appends deferred members that belong before it, or cuts out the members that belong after it.
    #[inline]
    pub fn before_member(
        &mut self,
        tag: Tag,
        staging: &mut Vec<u8>,
        base: u64,
    ) -> Result<(), ErrorKind> {
        let level = &mut self.levels[self.open - 1]; // the top level is always open
        match level.admit(tag, staging, base, &mut no_separator) {
            Placement::InOrder | Placement::Restored => Ok(()),
            Placement::Duplicate => Err(ErrorKind::DuplicateElement(tag)),
            Placement::Unsortable(after) => Err(ErrorKind::UnsortableElement(tag, after)),
        }
    }

    /// The bytes staged so far move `by` bytes later in the output (the file meta written before them).
    pub fn shift(&mut self, by: u64) {
        for level in &mut self.levels[..self.open] {
            level.shift(by);
        }
    }

    /// Staging went to the output (or the spill file) up to absolute position `flushed`: nothing before
    /// it can move any more.
    pub fn flushed_to(&mut self, flushed: u64) {
        for level in &mut self.levels[..self.open] {
            level.flushed_to(flushed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes each tag as a 4-byte member "tag's low word" and returns the final staging.
    fn run(tags: &[u32], flush_after: Option<usize>) -> Result<Vec<u32>, ErrorKind> {
        let mut reorder = Reorder::new();
        let mut staging = Vec::new();
        let mut out = Vec::new();
        let base = |out: &Vec<u8>| out.len() as u64;
        for (i, &t) in tags.iter().enumerate() {
            reorder.before_member(Tag(t), &mut staging, base(&out))?;
            staging.extend_from_slice(&t.to_le_bytes());
            if flush_after == Some(i) {
                out.append(&mut staging);
                reorder.flushed_to(base(&out));
            }
        }
        reorder.close_level(&mut staging, base(&out));
        out.append(&mut staging);
        Ok(out
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect())
    }

    #[test]
    fn sorted_input_stays_as_it_is() {
        assert_eq!(run(&[1, 2, 5, 9], None).unwrap(), vec![1, 2, 5, 9]);
    }

    #[test]
    fn any_permutation_comes_out_sorted() {
        let base = [
            0x0008_0016u32,
            0x0008_0018,
            0x0010_0010,
            0x0010_0020,
            0x0020_000D,
            0x7FE0_0010,
        ];
        // All 720 permutations of six members.
        dcmflow_testkit::for_each_permutation(&base, |p| {
            assert_eq!(run(p, None).unwrap(), base.to_vec(), "{p:X?}")
        });
    }

    #[test]
    fn duplicates_are_errors_wherever_they_are() {
        for tags in [
            &[1u32, 1][..],
            &[1, 5, 3, 5],
            &[5, 3, 3],
            &[5, 3, 4, 5],
            &[2, 9, 1, 2],
        ] {
            assert!(
                matches!(run(tags, None), Err(ErrorKind::DuplicateElement(_))),
                "{tags:?}"
            );
        }
    }

    #[test]
    fn a_member_before_a_flushed_one_is_refused() {
        assert_eq!(
            run(&[1, 5, 7, 3], Some(1)),
            Err(ErrorKind::UnsortableElement(Tag(3), Tag(5)))
        );
        // After the flush, members above the flushed ones still sort.
        assert_eq!(run(&[1, 5, 9, 7, 6], Some(1)).unwrap(), vec![1, 5, 6, 7, 9]);
    }

    #[test]
    fn levels_sort_independently() {
        let mut reorder = Reorder::new();
        let mut staging = Vec::new();
        reorder.before_member(Tag(9), &mut staging, 0).unwrap();
        staging.push(9);
        reorder.open_level();
        for t in [3u8, 1, 2] {
            reorder
                .before_member(Tag(t as u32), &mut staging, 0)
                .unwrap();
            staging.push(t);
        }
        reorder.close_level(&mut staging, 0);
        reorder.before_member(Tag(4), &mut staging, 0).unwrap();
        staging.push(4);
        reorder.close_level(&mut staging, 0);
        assert_eq!(staging, vec![4, 9, 1, 2, 3]);
    }
}
