//! Members of one level (a JSON object, a data set or item, a record) put in ascending key order while
//! they are still in the writer's staging buffer, without holding more than that buffer.
//!
//! Members are encoded in arrival order at the end of the staging buffer; the level remembers where each
//! starts. When a member arrives with a key below the last one, the members above it are cut out of the
//! buffer into the level's `deferred` stack and re-appended, in order, once the keys catch up (or when
//! the level closes). This is a merge of two sorted runs: its cost is linear in the bytes moved, and only
//! out-of-order input pays it; sorted input pays one comparison per member.
//!
//! ```text
//!  staging:  … ,"A":{…} ,"C":{…} ,"E":{…}      ← "D" arrives
//!  cut:      … ,"A":{…} ,"C":{…}                deferred: ["E"]
//!  write:    … ,"A":{…} ,"C":{…} ,"D":{…}
//!  next key "F" > "E": the deferred member is re-appended first.
//! ```
//!
//! Members already handed to the output (flushed) cannot move: a member that belongs before one of them
//! is [`Placement::Unsortable`], and the codec decides (an error, or written where it arrived).
//! A separator between members (a JSON comma and indentation) is written by the codec's closure, so a
//! member moved elsewhere gets the separator of its new place.

/// A member whose bytes are still in the staging buffer (absolute output offsets).
#[derive(Clone, Copy, Debug)]
struct Span<K> {
    key: K,
    /// Where the member's separator starts (its body, when it has none).
    start: u64,
    /// The separator's length: the member's own bytes start after it.
    separator: u32,
}

impl<K> Span<K> {
    fn body(&self) -> u64 {
        self.start + u64::from(self.separator)
    }
}

/// How an arriving member fits its level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement<K> {
    /// In order (possibly after re-appending deferred members): its separator is written, its body goes
    /// next.
    InOrder,
    /// Out of order, and the members after it were moved aside: its separator is written, its body goes
    /// next.
    Restored,
    /// A member with this key is at this level already. Nothing was written.
    Duplicate,
    /// Out of order behind `K`, a member that cannot move any more (flushed to the output), or moving
    /// the members after it would defer more bytes than allowed. Nothing was written; the codec refuses
    /// the member or places it where it arrived with [`SortLevel::place_unsorted`].
    Unsortable(K),
}

/// One open level.
#[derive(Debug)]
pub struct SortLevel<K> {
    spans: Vec<Span<K>>,
    /// Members placed so far at this level (whether the next one is the first).
    members: usize,
    /// The greatest key placed at this level (in staging or flushed).
    last: Option<K>,
    /// The greatest key among members already flushed.
    flushed_max: Option<K>,
    /// Members cut out after an out-of-order arrival, greatest key first (the next to re-append is last).
    deferred: Vec<(K, Vec<u8>)>,
    deferred_bytes: usize,
    /// At most this many bytes are deferred; past that, an out-of-order member is unsortable.
    max_deferred: usize,
    /// A member was placed out of order: `spans` are no longer sorted, so nothing more moves here.
    unsorted: bool,
}

impl<K: Ord + Copy> SortLevel<K> {
    /// An empty level deferring at most `max_deferred` bytes.
    pub fn new(max_deferred: usize) -> SortLevel<K> {
        SortLevel {
            spans: Vec::new(),
            members: 0,
            last: None,
            flushed_max: None,
            deferred: Vec::new(),
            deferred_bytes: 0,
            max_deferred,
            unsorted: false,
        }
    }

    /// Empties the level for reuse, keeping its allocations.
    pub fn reset(&mut self) {
        self.spans.clear();
        self.members = 0;
        self.last = None;
        self.flushed_max = None;
        self.deferred.clear();
        self.deferred_bytes = 0;
        self.unsorted = false;
    }

    /// Members placed at this level so far.
    pub fn members(&self) -> usize {
        self.members
    }

    /// A member with `key` is about to be encoded at the end of `buf` (whose first byte is at absolute
    /// offset `base`): re-appends deferred members that belong before it, makes room for it, and writes
    /// its separator with `separator(buf, first)`.
    pub fn admit(
        &mut self,
        key: K,
        buf: &mut Vec<u8>,
        base: u64,
        separator: &mut impl FnMut(&mut Vec<u8>, bool),
    ) -> Placement<K> {
        if !self.deferred.is_empty() {
            self.append_deferred_below(Some(key), buf, base, separator);
        }
        if self.last.is_none_or(|last| key > last) {
            // The common case, in order: of the deferred members, all above the last key, only the
            // next one might equal it.
            if self.deferred.last().is_some_and(|d| d.0 == key) {
                return Placement::Duplicate;
            }
            self.open_member(key, buf, base, separator);
            self.last = Some(key);
            return Placement::InOrder;
        }
        // Duplicates among flushed members are caught only for the greatest of them.
        let duplicate = self.last == Some(key)
            || self.flushed_max == Some(key)
            || self.deferred.last().is_some_and(|d| d.0 == key)
            || if self.unsorted {
                self.spans.iter().any(|s| s.key == key)
            } else {
                self.spans.binary_search_by_key(&key, |s| s.key).is_ok()
            };
        if duplicate {
            return Placement::Duplicate;
        }
        if let Some(flushed) = self.flushed_max.filter(|&f| f > key) {
            return Placement::Unsortable(flushed);
        }
        if self.unsorted || !self.cut_above(key, buf, base) {
            return Placement::Unsortable(self.last.expect("a member above the key"));
        }
        self.open_member(key, buf, base, separator);
        self.last = self.last.max(Some(key));
        Placement::Restored
    }

    /// Places a member the codec accepts out of order where it arrived (after
    /// [`Placement::Unsortable`]): its separator is written, and nothing more moves at this level.
    pub fn place_unsorted(
        &mut self,
        key: K,
        buf: &mut Vec<u8>,
        base: u64,
        separator: &mut impl FnMut(&mut Vec<u8>, bool),
    ) {
        self.unsorted = true;
        self.open_member(key, buf, base, separator);
        self.last = self.last.max(Some(key));
    }

    /// Before the level ends: every deferred member goes out. Returns whether the level is empty.
    pub fn close(
        &mut self,
        buf: &mut Vec<u8>,
        base: u64,
        separator: &mut impl FnMut(&mut Vec<u8>, bool),
    ) -> bool {
        self.append_deferred_below(None, buf, base, separator);
        self.members == 0
    }

    /// The staging buffer was flushed up to absolute offset `flushed`: members starting before it are
    /// fixed.
    pub fn flushed_to(&mut self, flushed: u64) {
        let fixed = self.spans.partition_point(|s| s.start < flushed);
        if fixed > 0 {
            let max = self.spans[..fixed].iter().map(|s| s.key).max();
            self.flushed_max = self.flushed_max.max(max);
            self.spans.drain(..fixed);
        }
    }

    /// The bytes staged so far move `by` bytes later in the output (something is written before them,
    /// such as a header that could only be made at the end).
    pub fn shift(&mut self, by: u64) {
        for span in &mut self.spans {
            span.start += by;
        }
    }

    /// Writes the member's separator and records where it starts (the caller keeps `last`).
    #[inline]
    fn open_member(
        &mut self,
        key: K,
        buf: &mut Vec<u8>,
        base: u64,
        separator: &mut impl FnMut(&mut Vec<u8>, bool),
    ) {
        let at = buf.len();
        separator(buf, self.members == 0);
        self.spans.push(Span {
            key,
            start: base + at as u64,
            // A separator is a comma and some indentation.
            separator: (buf.len() - at) as u32,
        });
        self.members += 1;
    }

    /// Moves the members with keys above `key` from the staging buffer to `deferred`; false (nothing
    /// moved) when that would defer more than allowed.
    fn cut_above(&mut self, key: K, buf: &mut Vec<u8>, base: u64) -> bool {
        let k = self.spans.partition_point(|s| s.key < key);
        let Some(first) = self.spans.get(k) else {
            return false; // the members above it are flushed
        };
        let cut_bytes = (base + buf.len() as u64 - first.start) as usize;
        if self.deferred_bytes + cut_bytes > self.max_deferred {
            return false;
        }
        let end = buf.len();
        // Every member in staging is below every deferred one (deferred members below an arriving key
        // are re-appended before it), so pushing the cut ones greatest first keeps `deferred` ordered.
        for j in (k..self.spans.len()).rev() {
            let body = (self.spans[j].body() - base) as usize;
            let body_end = self
                .spans
                .get(j + 1)
                .map_or(end, |s| (s.start - base) as usize);
            self.deferred
                .push((self.spans[j].key, buf[body..body_end].to_vec()));
        }
        self.deferred_bytes += cut_bytes;
        buf.truncate((self.spans[k].start - base) as usize);
        self.members -= self.spans.len() - k;
        self.spans.truncate(k);
        self.last = self.spans.last().map(|s| s.key).max(self.flushed_max);
        true
    }

    /// Re-appends deferred members below `limit` (all of them for `None`), in ascending order.
    fn append_deferred_below(
        &mut self,
        limit: Option<K>,
        buf: &mut Vec<u8>,
        base: u64,
        separator: &mut impl FnMut(&mut Vec<u8>, bool),
    ) {
        while let Some(next) = self.deferred.last() {
            if limit.is_some_and(|l| next.0 >= l) {
                break;
            }
            let (key, body) = self.deferred.pop().expect("checked above");
            self.deferred_bytes -= body.len();
            self.open_member(key, buf, base, separator);
            // Deferred keys are above every placed one.
            self.last = Some(key);
            buf.extend_from_slice(&body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Members "k" separated by commas; flushed after the member at `flush_after`; unsortable members
    /// placed where they arrive. The output and each placement.
    fn run(keys: &[u8], flush_after: Option<usize>) -> (String, Vec<Placement<u8>>) {
        let mut comma = |buf: &mut Vec<u8>, first: bool| {
            if !first {
                buf.push(b',');
            }
        };
        let (mut buf, mut out, mut base) = (Vec::new(), Vec::new(), 0u64);
        let mut level = SortLevel::new(usize::MAX);
        let mut placements = Vec::new();
        for (i, &k) in keys.iter().enumerate() {
            let placement = level.admit(k, &mut buf, base, &mut comma);
            placements.push(placement);
            match placement {
                Placement::Duplicate => {}
                Placement::Unsortable(_) => {
                    level.place_unsorted(k, &mut buf, base, &mut comma);
                    buf.push(k);
                }
                _ => buf.push(k),
            }
            if flush_after == Some(i) {
                out.extend_from_slice(&buf);
                base += buf.len() as u64;
                buf.clear();
                level.flushed_to(base);
            }
        }
        level.close(&mut buf, base, &mut comma);
        out.extend_from_slice(&buf);
        (String::from_utf8(out).unwrap(), placements)
    }

    #[test]
    fn sorted_input_stays_as_it_is() {
        let (out, placements) = run(b"abc", None);
        assert_eq!(out, "a,b,c");
        assert!(placements.iter().all(|p| *p == Placement::InOrder));
    }

    #[test]
    fn any_permutation_comes_out_sorted() {
        let mut seen = 0;
        dcmflow_testkit::for_each_permutation(b"abcdef", |p| {
            let (out, _) = run(p, None);
            assert_eq!(out, "a,b,c,d,e,f", "{:?}", std::str::from_utf8(p));
            seen += 1;
        });
        assert_eq!(seen, 720);
    }

    #[test]
    fn duplicates_are_found_wherever_they_are() {
        for keys in [&b"aba"[..], b"bab", b"cabc", b"dcbad", b"aa"] {
            let (_, placements) = run(keys, None);
            assert_eq!(placements.last(), Some(&Placement::Duplicate), "{keys:?}");
        }
    }

    #[test]
    fn members_already_flushed_cannot_move() {
        let (out, placements) = run(b"bca", Some(1));
        assert_eq!(placements[2], Placement::Unsortable(b'c'));
        assert_eq!(out, "b,c,a");
        // A member that fits after the flushed ones is still restored among the unflushed ones.
        let (out, placements) = run(b"acdb", Some(0));
        assert_eq!(placements[3], Placement::Restored);
        assert_eq!(out, "a,b,c,d");
    }

    #[test]
    fn after_an_unsorted_member_nothing_more_moves() {
        let (out, placements) = run(b"gei", Some(0));
        assert_eq!(placements[1], Placement::Unsortable(b'g'));
        // 'h' arrives below 'i', but the level is unsorted now.
        let (out2, placements2) = run(b"geih", Some(0));
        assert_eq!(placements2[3], Placement::Unsortable(b'i'));
        assert_eq!(out, "g,e,i");
        assert_eq!(out2, "g,e,i,h");
    }

    #[test]
    fn a_deferral_past_the_bound_is_unsortable() {
        let mut nothing = |_: &mut Vec<u8>, _: bool| {};
        let mut level = SortLevel::new(4);
        let mut buf = Vec::new();
        for k in [5u8, 9] {
            level.admit(k, &mut buf, 0, &mut nothing);
            buf.extend_from_slice(&[k; 3]);
        }
        // Moving 9 aside defers 3 bytes: allowed.
        assert_eq!(
            level.admit(7, &mut buf, 0, &mut nothing),
            Placement::Restored
        );
        buf.extend_from_slice(&[7; 3]);
        // Moving 7 aside too would defer 6: refused.
        assert_eq!(
            level.admit(6, &mut buf, 0, &mut nothing),
            Placement::Unsortable(7)
        );
    }
}
