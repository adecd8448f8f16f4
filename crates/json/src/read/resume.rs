//! Pushed input ([`JsonReader::pushed`]): a step that runs out of pushed bytes is undone and tried again
//! once more has been pushed.
//!
//! At the start of every step the reader notes what a step can change — the state scalars, the innermost
//! level's scalars, how many keys are open, the path — and the lexer marks its position (it keeps the
//! bytes from there on). What a step changes rarely is recorded as undo when it happens: the keys of a
//! level it closes, a key added to a set of unsorted keys, a character set it replaces. When the lexer reports `NeedInput`, everything goes
//! back to that note, so the step reads the same bytes again and emits the same token.
//!
//! What is not noted never runs out: a binary value is decoded from text the lexer measured in its buffer
//! (pushed input is never measured ahead of the buffer: a string that does not fit is spooled), from a
//! spool or from a bulk data reader, none of which asks for pushed bytes. A step that reads such a value
//! reads nothing after it from the lexer (`Next::FinishElement` takes the rest of the element object),
//! and a spool piece is read from the lexer before it changes the spool.
//!
//! A retry scans its step's bytes again, so a step that ran out is retried only once the bytes ahead
//! have doubled (or the input has ended): over a long token, the scans add up to a few times its length
//! whatever the chunk size.

use std::sync::Arc;

use dcmflow_core::Tag;
use dcmflow_dicom::TextEncoder;

use super::error::{ReadError, ReadErrorKind};
use super::{JsonReader, Level, Next, PathStep};

/// What the current step may change, as it was when the step began.
#[derive(Debug, Default)]
pub(super) struct Resume {
    next: Option<Next>,
    pixel_pos: usize,
    pixel_exhausted: bool,
    pixel_check: bool,
    predecoded: bool,
    deferred: Option<Tag>,
    vr_after_value: bool,
    open_object: bool,
    item_first: bool,
    array_index: usize,
    in_array: bool,
    levels_open: usize,
    /// The innermost level's scalars (its set of unsorted keys is undone through `unsorted_*`, its
    /// encoder through `replaced_encoder`).
    top: Option<LevelMark>,
    /// The innermost level's encoder, when the step replaced it (a Specific Character Set).
    pub replaced_encoder: Option<Arc<TextEncoder>>,
    /// A key the step added to the innermost level's set of unsorted keys, or the set it created.
    pub unsorted_added: Option<Tag>,
    pub unsorted_created: bool,
    keys_len: usize,
    /// Where the keys of a level the step closed started, and (in `closed_keys`) the keys.
    closed_at: Option<usize>,
    closed_keys: Vec<Tag>,
    path: Vec<PathStep>,
    sequence_vr_after: Vec<bool>,
    notes_len: usize,
    /// Whether a binary value was open: no step that opens or ends one runs out after it (checked).
    had_binary: bool,
    /// A retry waits until this many bytes are ahead (or the input has ended).
    wait_for: u64,
}

impl JsonReader<'_> {
    /// Notes where the step beginning now can come back to.
    pub(super) fn checkpoint(&mut self) {
        self.lex.mark();
        let Some(r) = self.resume.as_deref_mut() else {
            return;
        };
        r.next = Some(self.next);
        r.pixel_pos = self.pixel_pos;
        r.pixel_exhausted = self.pixel_exhausted;
        r.pixel_check = self.pixel_check;
        r.predecoded = self.predecoded;
        r.deferred = self.deferred;
        r.vr_after_value = self.vr_after_value;
        r.open_object = self.open_object;
        r.item_first = self.item_first;
        r.array_index = self.array_index;
        r.in_array = self.in_array;
        r.levels_open = self.levels.open;
        r.top = self.levels.last().map(LevelMark::of);
        r.replaced_encoder = None;
        r.unsorted_added = None;
        r.unsorted_created = false;
        r.keys_len = self.keys.len();
        r.closed_at = None;
        r.path.clear();
        r.path.extend_from_slice(&self.path);
        r.sequence_vr_after.clear();
        r.sequence_vr_after
            .extend_from_slice(&self.sequence_vr_after);
        r.notes_len = self.notes.len();
        r.had_binary = self.binary.is_some();
    }

    /// Undoes the step that ran out of pushed input.
    pub(super) fn rewind(&mut self) {
        self.lex.rewind();
        let Some(r) = self.resume.as_deref_mut() else {
            return;
        };
        let ahead = self.lex.pushed_ahead();
        r.wait_for = ahead.saturating_mul(2).max(ahead + 1);
        if let Some(next) = r.next {
            self.next = next;
        }
        self.pixel_pos = r.pixel_pos;
        self.pixel_exhausted = r.pixel_exhausted;
        self.pixel_check = r.pixel_check;
        self.predecoded = r.predecoded;
        self.deferred = r.deferred;
        self.vr_after_value = r.vr_after_value;
        self.open_object = r.open_object;
        self.item_first = r.item_first;
        self.array_index = r.array_index;
        self.in_array = r.in_array;
        self.levels.open = r.levels_open;
        if let Some(top) = r.top.as_ref() {
            let live = &mut self.levels.all[r.levels_open - 1];
            let mut unsorted = live.unsorted.take();
            if r.unsorted_created {
                unsorted = None;
            } else if let (Some(set), Some(tag)) = (unsorted.as_mut(), r.unsorted_added) {
                set.remove(&tag);
            }
            top.restore(live);
            live.unsorted = unsorted;
            if let Some(encoder) = r.replaced_encoder.take() {
                live.encoder = encoder;
            }
        }
        if let Some(at) = r.closed_at.take() {
            self.keys.truncate(at);
            self.keys.extend_from_slice(&r.closed_keys);
        }
        self.keys.truncate(r.keys_len);
        self.path.clear();
        self.path.extend_from_slice(&r.path);
        self.sequence_vr_after.clear();
        self.sequence_vr_after
            .extend_from_slice(&r.sequence_vr_after);
        self.notes.truncate(r.notes_len);
        debug_assert_eq!(
            r.had_binary,
            self.binary.is_some(),
            "no step that opens or ends a binary value runs out of pushed input after it"
        );
    }

    /// Whether a step that ran out is still waiting for more bytes than are pushed (see the module docs).
    pub(super) fn waits_for_input(&mut self) -> bool {
        let Some(r) = self.resume.as_deref_mut() else {
            return false;
        };
        if r.wait_for == 0 {
            return false;
        }
        if self.lex.input_ended() || self.lex.pushed_ahead() >= r.wait_for {
            r.wait_for = 0;
            return false;
        }
        true
    }

    /// The error that asks for more pushed input, at the position the step will start from again.
    pub(super) fn need_input(&mut self) -> ReadError {
        let (line, column) = self.lex.line_column();
        ReadError {
            kind: ReadErrorKind::NeedInput,
            message: "more input is needed: push it, then read on".into(),
            line,
            column,
            offset: self.lex.offset(),
            path: String::new(),
        }
    }

    /// A level closes: with pushed input, its keys are kept until the step is done.
    pub(super) fn keep_closed_keys(&mut self, keys_start: usize) {
        if let Some(r) = self.resume.as_deref_mut() {
            r.closed_at = Some(keys_start);
            r.closed_keys.clear();
            r.closed_keys.extend_from_slice(&self.keys[keys_start..]);
        }
    }
}

/// A level's scalars (its encoders are shared, and change only through `replaced_encoder`).
#[derive(Debug, Clone, Copy)]
struct LevelMark {
    last_tag: Option<Tag>,
    first: bool,
    saw_charset: bool,
    keys_start: usize,
    charset_text_seen: bool,
}

impl LevelMark {
    fn of(level: &Level) -> LevelMark {
        LevelMark {
            last_tag: level.last_tag,
            first: level.first,
            saw_charset: level.saw_charset,
            keys_start: level.keys_start,
            charset_text_seen: level.charset_text_seen,
        }
    }

    fn restore(&self, level: &mut Level) {
        level.last_tag = self.last_tag;
        level.first = self.first;
        level.saw_charset = self.saw_charset;
        level.keys_start = self.keys_start;
        level.charset_text_seen = self.charset_text_seen;
    }
}
