//! Encapsulated Pixel Data from InlineBinary or bulk bytes (docs/design.md, Decisions): when the output transfer syntax
//! encapsulates, the decoded value is the item stream of PS3.5 A.4 (Basic Offset Table item, then one item
//! per fragment), handed out again as `ItemStart` / fragment `Value`s / `ItemEnd` / `SequenceEnd`.

use dcmflow_core::{Length, Tag};

use super::error::{Problem, ReadWarningKind};
use super::{Emitted, JsonReader, Next, PixelState, Step, StepKind};

impl JsonReader<'_> {
    /// Makes at least `want` decoded bytes available from `pixel_pos` (fewer only at the end).
    pub(super) fn pixel_bytes(&mut self, want: usize) -> Result<usize, Problem> {
        while self.value.len() - self.pixel_pos < want && !self.pixel_exhausted {
            let Some(bin) = self.binary.as_mut() else {
                self.pixel_exhausted = true;
                break;
            };
            let mut chunk = std::mem::take(&mut self.pn_scratch);
            bin.next_chunk(&mut self.lex, &mut chunk, self.options.chunk_size)?;
            if bin.is_done() {
                self.pixel_exhausted = true;
            }
            self.value.drain(..self.pixel_pos);
            self.pixel_pos = 0;
            self.value.extend_from_slice(&chunk);
            self.pn_scratch = chunk;
        }
        Ok(self.value.len() - self.pixel_pos)
    }

    pub(super) fn pixels(&mut self, state: PixelState) -> Result<Emitted, Problem> {
        match state {
            PixelState::Header => {
                let have = self.pixel_bytes(8)?;
                if have == 0 {
                    // The value ends after its last item: the form dcm2json writes (docs/design.md,
                    // Decisions: the item stream without its delimiter, as pydicom gives the value).
                    return Ok(self.enter_trailer());
                }
                if have < 8 {
                    let padding = self.value[self.pixel_pos..].iter().all(|&b| b == 0);
                    if !padding {
                        return Err(Problem::value(
                            "encapsulated Pixel Data ends inside an item header",
                        ));
                    }
                    self.notes.push((
                        ReadWarningKind::PixelData,
                        "encapsulated Pixel Data ends in zero bytes after its last item".into(),
                    ));
                    return Ok(self.enter_trailer());
                }
                let h = &self.value[self.pixel_pos..self.pixel_pos + 8];
                let tag = Tag((u32::from(u16::from_le_bytes([h[0], h[1]])) << 16)
                    | u32::from(u16::from_le_bytes([h[2], h[3]])));
                let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
                self.pixel_pos += 8;
                match tag {
                    Tag::ITEM if len != Length::UNDEFINED_RAW => {
                        self.next = Next::Pixels(PixelState::Fragment {
                            remaining: u64::from(len),
                        });
                        Ok(self.emit(Step::item_start(len)))
                    }
                    Tag::SEQUENCE_DELIMITATION => Ok(self.enter_trailer()),
                    _ => Err(Problem::value(
                        "Pixel Data is not an encapsulated item stream (PS3.5 A.4), but the output \
                         transfer syntax is encapsulated",
                    )),
                }
            }
            PixelState::Fragment { remaining } => {
                let have = self.pixel_bytes(1)?;
                if have == 0 && remaining > 0 {
                    return Err(Problem::value(
                        "encapsulated Pixel Data ends inside a fragment",
                    ));
                }
                let n = remaining.min(have as u64) as usize;
                let start = self.pixel_pos;
                self.pixel_pos += n;
                let left = remaining - n as u64;
                self.next = Next::Pixels(if left == 0 {
                    PixelState::FragmentEnd
                } else {
                    PixelState::Fragment { remaining: left }
                });
                self.value_range = start..start + n;
                Ok(self.emit(Step::value(StepKind::PixelValue, left == 0)))
            }
            PixelState::FragmentEnd => {
                self.next = Next::Pixels(PixelState::Header);
                Ok(self.emit(Step::ITEM_END))
            }
            PixelState::Trailer => self.end_pixels(),
        }
    }

    /// The item stream has ended: the rest of the value is looked at as a step of its own (with pushed
    /// input, a step that decodes more than once keeps the bytes it started with).
    fn enter_trailer(&mut self) -> Emitted {
        self.next = Next::Pixels(PixelState::Trailer);
        self.emit(Step::NOTHING)
    }

    /// After the sequence delimiter: whatever is left of the value must be padding.
    fn end_pixels(&mut self) -> Result<Emitted, Problem> {
        loop {
            if self.value[self.pixel_pos..].iter().any(|&b| b != 0) {
                return Err(Problem::value(
                    "bytes after the sequence delimiter of encapsulated Pixel Data",
                ));
            }
            self.pixel_pos = self.value.len();
            if self.pixel_exhausted {
                break;
            }
            self.pixel_bytes(1)?;
        }
        self.binary = None;
        self.value.clear();
        self.pixel_pos = 0;
        // The rest of the element object is read with the next token: a value from a reader is never
        // read twice when pushed input runs out there.
        self.next = Next::FinishElement;
        Ok(self.emit(Step::SEQUENCE_END))
    }
}
