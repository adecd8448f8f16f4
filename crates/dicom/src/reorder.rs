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
//! pays one comparison per element. Members already flushed to the output cannot move: a member that
//! belongs before one of them is an error ([`ErrorKind::UnsortableElement`]), never silently misplaced.

use dcmflow_core::{ErrorKind, Tag};

/// One open data set level.
#[derive(Debug, Default)]
struct SortLevel {
    /// Members whose bytes are in staging: tag and start offset, ascending by tag.
    spans: Vec<(Tag, usize)>,
    /// The greatest tag placed at this level (in staging or flushed).
    last: Option<Tag>,
    /// The greatest tag of this level already flushed to the output.
    flushed_max: Option<Tag>,
    /// Members cut out of staging, greatest tag first (the next one to re-append is last).
    deferred: Vec<(Tag, Vec<u8>)>,
}

impl SortLevel {
    /// Empties the level for reuse, keeping its allocations.
    fn reset(&mut self) {
        self.spans.clear();
        self.last = None;
        self.flushed_max = None;
        self.deferred.clear();
    }
}

/// The per-level bookkeeping; the writer owns the staging buffer and passes it in.
#[derive(Debug, Default)]
pub(crate) struct Reorder {
    /// `levels[..open]` are the open levels, innermost last; closed ones stay for reuse (an item per frame
    /// is common, an allocation per item showed in profiles).
    levels: Vec<SortLevel>,
    open: usize,
}

impl Reorder {
    pub fn new() -> Reorder {
        Reorder {
            levels: vec![SortLevel::default()],
            open: 1,
        }
    }

    /// A sequence item opens a level.
    pub fn open_level(&mut self) {
        if self.open == self.levels.len() {
            self.levels.push(SortLevel::default());
        } else {
            self.levels[self.open].reset();
        }
        self.open += 1;
    }

    /// The level closes: its deferred members are appended to `staging` (their place is at its end).
    pub fn close_level(&mut self, staging: &mut Vec<u8>) {
        if self.open > 0 {
            self.open -= 1;
            let level = &mut self.levels[self.open];
            while let Some((_, bytes)) = level.deferred.pop() {
                staging.extend_from_slice(&bytes);
            }
        }
        if self.open == 0 {
            // The top level closed (end of the data set): a next data set starts a fresh one.
            self.levels[0].reset();
            self.open = 1;
        }
    }

    /// A member with `tag` is about to be encoded at the end of `staging` at the innermost level.
    /// Re-appends deferred members that belong before it, or cuts out the members that belong after it.
    pub fn before_member(&mut self, tag: Tag, staging: &mut Vec<u8>) -> Result<(), ErrorKind> {
        let level = &mut self.levels[self.open - 1]; // the top level is always open
        while let Some((deferred_tag, _)) = level.deferred.last() {
            if *deferred_tag > tag {
                break;
            }
            if *deferred_tag == tag {
                return Err(ErrorKind::DuplicateElement(tag));
            }
            let (deferred_tag, bytes) = level.deferred.pop().expect("just looked");
            level.spans.push((deferred_tag, staging.len()));
            staging.extend_from_slice(&bytes);
        }
        match level.last {
            Some(last) if last == tag => return Err(ErrorKind::DuplicateElement(tag)),
            Some(last) if last > tag => {
                if let Some(flushed) = level.flushed_max.filter(|&f| f >= tag) {
                    return Err(if flushed == tag {
                        ErrorKind::DuplicateElement(tag)
                    } else {
                        ErrorKind::UnsortableElement(tag, flushed)
                    });
                }
                let first_after = level.spans.partition_point(|&(t, _)| t < tag);
                if level.spans.get(first_after).is_some_and(|&(t, _)| t == tag) {
                    return Err(ErrorKind::DuplicateElement(tag));
                }
                cut_after(level, first_after, staging);
            }
            _ => {}
        }
        level.spans.push((tag, staging.len()));
        level.last = Some(tag);
        Ok(())
    }

    /// `staging` went to the output: nothing in it can move any more.
    pub fn flushed(&mut self) {
        for level in &mut self.levels[..self.open] {
            if let Some(&(t, _)) = level.spans.last() {
                level.flushed_max = level.flushed_max.max(Some(t));
            }
            level.spans.clear();
        }
    }
}

/// Moves the members `spans[from..]` (the tail of staging) into `deferred`, keeping it greatest first.
fn cut_after(level: &mut SortLevel, from: usize, staging: &mut Vec<u8>) {
    let Some(&(_, start)) = level.spans.get(from) else {
        return;
    };
    let tail = staging.split_off(start);
    let cut = level.spans.split_off(from);
    let mut ends: Vec<usize> = cut.iter().skip(1).map(|&(_, s)| s - start).collect();
    ends.push(tail.len());
    let mut begin = 0;
    for (&(tag, _), end) in cut.iter().zip(ends) {
        level.deferred.push((tag, tail[begin..end].to_vec()));
        begin = end;
    }
    // Both runs hold tags above the arriving one; one sort keeps re-appending in ascending order.
    level
        .deferred
        .sort_unstable_by_key(|d| std::cmp::Reverse(d.0));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes each tag as a 4-byte member "tag's low word" and returns the final staging.
    fn run(tags: &[u32], flush_after: Option<usize>) -> Result<Vec<u32>, ErrorKind> {
        let mut reorder = Reorder::new();
        let mut staging = Vec::new();
        let mut out = Vec::new();
        for (i, &t) in tags.iter().enumerate() {
            reorder.before_member(Tag(t), &mut staging)?;
            staging.extend_from_slice(&t.to_le_bytes());
            if flush_after == Some(i) {
                out.append(&mut staging);
                reorder.flushed();
            }
        }
        reorder.close_level(&mut staging);
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
        // All 720 permutations of six members (Heap's algorithm).
        let mut a = base;
        let mut c = [0usize; 6];
        let check = |p: &[u32]| assert_eq!(run(p, None).unwrap(), base.to_vec(), "{p:X?}");
        check(&a);
        let mut i = 0;
        while i < 6 {
            if c[i] < i {
                if i % 2 == 0 {
                    a.swap(0, i);
                } else {
                    a.swap(c[i], i);
                }
                check(&a);
                c[i] += 1;
                i = 0;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
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
        reorder.before_member(Tag(9), &mut staging).unwrap();
        staging.push(9);
        reorder.open_level();
        for t in [3u8, 1, 2] {
            reorder.before_member(Tag(t as u32), &mut staging).unwrap();
            staging.push(t);
        }
        reorder.close_level(&mut staging);
        reorder.before_member(Tag(4), &mut staging).unwrap();
        staging.push(4);
        reorder.close_level(&mut staging);
        assert_eq!(staging, vec![4, 9, 1, 2, 3]);
    }
}
