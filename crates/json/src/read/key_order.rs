//! R1 (PS3.18 F.2.1.1): keys ascending. Out-of-order keys are passed on in their JSON order with a warning
//! (`DicomWriter`'s `sort_elements` puts the elements in order); duplicates are errors wherever they are;
//! and what sorting cannot repair — file meta after the data set, (0008,0005) after the text it governs —
//! is an error.

use std::collections::BTreeSet;

use dcmflow_core::Tag;

use super::error::{Problem, ReadWarningKind};
use super::{tag_key, JsonReader};

impl JsonReader<'_> {
    /// R1: keys are ascending (PS3.18 F.2.1.1). Unsorted keys are passed on in their JSON order with a
    /// warning (once per level); `DicomWriter` with `sort_elements` puts them in order. Duplicates are
    /// errors, in order or not.
    #[inline]
    pub(super) fn check_order(&mut self, tag: Tag) -> Result<(), Problem> {
        // The common case, inlined: sorted so far and this key above the last one. (Nothing to check
        // after it: `check_order_dependent` objects only to keys below a later one.)
        let level = self.levels.last_mut().expect("inside a data set");
        if level.unsorted.is_none() && level.last_tag.is_none_or(|prev| prev < tag) {
            level.last_tag = Some(tag);
            self.keys.push(tag);
            return Ok(());
        }
        self.check_order_general(tag)
    }

    #[inline(never)]
    fn check_order_general(&mut self, tag: Tag) -> Result<(), Problem> {
        let duplicate = || Problem::model(format!("duplicate key \"{}\"", tag_key(tag)));
        let level = self.levels.last_mut().expect("inside a data set");
        if let Some(seen) = level.unsorted.as_mut() {
            if !seen.insert(tag) {
                return Err(duplicate());
            }
            level.last_tag = level.last_tag.max(Some(tag));
            if let Some(r) = self.resume.as_deref_mut() {
                r.unsorted_added = Some(tag);
            }
        } else {
            match level.last_tag {
                Some(prev) if prev == tag => return Err(duplicate()),
                Some(prev) if prev > tag => {
                    let mut seen: BTreeSet<Tag> =
                        self.keys[level.keys_start..].iter().copied().collect();
                    if !seen.insert(tag) {
                        return Err(duplicate());
                    }
                    level.unsorted = Some(seen);
                    if let Some(r) = self.resume.as_deref_mut() {
                        r.unsorted_created = true;
                    }
                    self.notes.push((
                        ReadWarningKind::UnsortedKeys,
                        format!(
                        "key \"{}\" after \"{}\": keys of this data set are not ascending (PS3.18 \
                         F.2.1.1); written in tag order",
                        tag_key(tag),
                        tag_key(prev)
                    ),
                    ));
                }
                _ => {
                    level.last_tag = Some(tag);
                    self.keys.push(tag);
                }
            }
        }
        self.check_order_dependent(tag)
    }

    /// What unsorted keys cannot fix: the file meta decides the transfer syntax before the data set is
    /// written, and (0008,0005) decides how the text before it was encoded.
    fn check_order_dependent(&mut self, tag: Tag) -> Result<(), Problem> {
        let top = self.levels.len() == 1;
        let level = self.levels.last().expect("inside a data set");
        let later_keys = level.last_tag.is_some_and(|last| last > tag);
        if top
            && tag.group() == 0x0002
            && later_keys
            && level.last_tag.is_some_and(|t| t.group() != 0x0002)
        {
            return Err(Problem::model(format!(
                "file meta key \"{}\" after data set keys: group 0002 must come first (PS3.18 F.2.1.1)",
                tag_key(tag)
            )));
        }
        if tag == Tag::SPECIFIC_CHARACTER_SET && later_keys && level.charset_text_seen {
            return Err(Problem::model(
                "\"00080005\" (Specific Character Set) after text elements it applies to: their \
                 encoding was already decided; sort the keys (PS3.18 F.2.1.1)",
            ));
        }
        Ok(())
    }
}
