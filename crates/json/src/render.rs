//! Values rendered apart from the document's writer. A value of a number VR or of a default-repertoire
//! text VR renders the same wherever it stands: it depends on its bytes, its byte order and the options,
//! never on the character set in force, the nesting or the members around it. dcmflow's two-thread
//! dcm2json lets its reading thread render such values when the writing thread is the slower of the two,
//! and the writer lays the texts out with its own formatter ([`JsonWriter::write_rendered`]); the output
//! is the same either way.

use std::io;

use dcmflow_core::{Header, Tag, Vr};
use dcmflow_engine::json::format::Formatter as JsonFormatter;

use crate::bulk::is_bulk_eligible;
use crate::{Formatter, JsonOptions, JsonWriter};

/// Longer values are left to the writer: the rendered text travels between threads, and a short value is
/// where the per-element work (not the per-byte work) dominates.
const MAX_RENDERED_LEN: u32 = 1024;

/// Renders single values into the JSON texts of their values, one per line (`2.5\n"ORIGINAL"\nnull`), or
/// nothing when the element has no value (only padding): the writer of the document adds the `Value`
/// member, the separators and its layout.
pub struct ValueRenderer {
    /// A writer used only for its value rendering: what it renders is taken from its staging buffer.
    writer: JsonWriter<'static, io::Sink, ValueLines>,
    /// The document's writer has a bulk data handler: values it may send there are its own.
    with_bulk: bool,
}

/// The layout of [`ValueRenderer`]'s texts: values one per line, nothing around them. No value text holds
/// a line break (strings are escaped, RFC 8259 §7; numbers and `null` have none), so the writer of the
/// document can split them apart again.
#[derive(Clone, Copy, Debug)]
struct ValueLines;

impl JsonFormatter for ValueLines {
    fn begin_object(&mut self, _out: &mut Vec<u8>) {}
    fn end_object(&mut self, _out: &mut Vec<u8>, _empty: bool) {}
    fn begin_member(&mut self, _out: &mut Vec<u8>, _first: bool) {}
    fn name_separator(&mut self, _out: &mut Vec<u8>) {}
    fn begin_array(&mut self, _out: &mut Vec<u8>) {}
    fn end_array(&mut self, _out: &mut Vec<u8>, _empty: bool) {}
    fn begin_array_value(&mut self, out: &mut Vec<u8>, first: bool) {
        if !first {
            out.push(b'\n');
        }
    }
}

impl Formatter for ValueLines {
    fn value_array_head(&mut self, _out: &mut Vec<u8>) {}
}

impl std::fmt::Debug for ValueRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueRenderer").finish_non_exhaustive()
    }
}

impl ValueRenderer {
    /// `options` must be the document writer's; `with_bulk` whether it has a bulk data handler.
    pub fn new(options: JsonOptions, with_bulk: bool) -> Self {
        ValueRenderer {
            writer: JsonWriter::new(io::sink(), ValueLines, options),
            with_bulk,
        }
    }

    /// Whether the value of this element renders the same wherever it stands.
    pub fn takes(&self, header: Header) -> bool {
        let renders_alone = matches!(
            header.vr,
            // Binary numbers (PS3.18 F.2.3): their bytes and byte order only.
            Vr::US | Vr::SS | Vr::UL | Vr::SL | Vr::FL | Vr::FD | Vr::SV | Vr::UV | Vr::AT
            // PS3.5 6.1, Table 6.2-1: the default repertoire whatever (0008,0005) says.
            | Vr::AE | Vr::AS | Vr::CS | Vr::DA | Vr::DS | Vr::DT | Vr::IS | Vr::TM | Vr::UI
        );
        renders_alone
            && (1..=MAX_RENDERED_LEN).contains(&header.len)
            // With a bulk data handler, the VRs it decides on (PS3.18 F.2.6; DS FL FD IS among them)
            // may become a BulkDataURI: the writer's to decide.
            && !(self.with_bulk && is_bulk_eligible(header.vr))
            // (0008,0005) changes the writer's character set, a private creator its dictionary scope;
            // group lengths and the file meta group are the writer's to drop.
            && header.tag != Tag::SPECIFIC_CHARACTER_SET
            && !header.tag.is_private_creator()
            && !header.tag.is_group_length()
            && header.tag.group() != 0x0002
    }

    /// The rendering of the whole value `bytes` of `header` (one that [`Self::takes`]), or `None` when
    /// rendering it would warn or fail: the document's writer renders those itself, so that its warnings
    /// and errors come in order, with their offsets.
    pub fn render(&mut self, header: Header, bytes: &[u8], big_endian: bool) -> Option<&[u8]> {
        if !self.takes(header) || bytes.len() != header.len as usize {
            return None;
        }
        self.writer.render_alone(header, bytes, big_endian)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcmflow_core::{Encoding, Token};

    /// What a writer with `fmt` writes for one element, from its value's token or from its rendering.
    fn written<F: Formatter>(
        fmt: F,
        header: Header,
        value: Result<&[u8], &[u8]>,
        encoding: Encoding,
    ) -> String {
        let mut writer = JsonWriter::new(Vec::new(), fmt, JsonOptions::default());
        writer
            .write_token(&Token::Element(header), 0, encoding)
            .unwrap();
        match value {
            Ok(bytes) => writer
                .write_token(&Token::Value { bytes, last: true }, 8, encoding)
                .unwrap(),
            Err(rendered) => writer.write_rendered(rendered).unwrap(),
        }
        String::from_utf8(writer.finish().unwrap()).unwrap()
    }

    #[test]
    fn renders_what_the_writer_writes() {
        let be = Encoding {
            explicit_vr: true,
            big_endian: true,
        };
        let cases: &[(u32, Vr, &[u8], Encoding)] = &[
            (0x0018_0050, Vr::DS, b"2.2 ", Encoding::EXPLICIT_LE),
            (
                0x0020_0037,
                Vr::DS,
                b"1\\0.0\\-0.5\\\\1e3 ",
                Encoding::EXPLICIT_LE,
            ),
            (
                0x0008_0008,
                Vr::CS,
                b"ORIGINAL\\PRIMARY",
                Encoding::EXPLICIT_LE,
            ),
            (0x0008_0018, Vr::UI, b"1.2.3\0", Encoding::EXPLICIT_LE),
            (0x0008_0020, Vr::DA, b"  ", Encoding::EXPLICIT_LE),
            (
                0x0018_9082,
                Vr::FD,
                &87.5f64.to_le_bytes(),
                Encoding::EXPLICIT_LE,
            ),
            (0x0018_9082, Vr::FD, &0.1f64.to_be_bytes(), be),
            (
                0x0028_0010,
                Vr::US,
                &[0x02, 0x00, 0xFF, 0xFF],
                Encoding::EXPLICIT_LE,
            ),
            (0x0028_0010, Vr::SS, &[0xFF, 0xFE], be),
            (
                0x0020_9165,
                Vr::AT,
                &[0x20, 0x00, 0x56, 0x90],
                Encoding::EXPLICIT_LE,
            ),
        ];
        let mut renderer = ValueRenderer::new(JsonOptions::default(), false);
        for &(tag, vr, bytes, encoding) in cases {
            let header = Header {
                tag: Tag(tag),
                vr,
                len: bytes.len() as u32,
            };
            assert!(renderer.takes(header), "{vr}");
            let rendered = renderer
                .render(header, bytes, encoding.big_endian)
                .unwrap_or_else(|| panic!("{vr} {bytes:?}"))
                .to_vec();
            for pretty in [false, true] {
                let (from_token, from_rendering) = if pretty {
                    let fmt = crate::Pretty::default;
                    (
                        written(fmt(), header, Ok(bytes), encoding),
                        written(fmt(), header, Err(&rendered), encoding),
                    )
                } else {
                    (
                        written(crate::Compact, header, Ok(bytes), encoding),
                        written(crate::Compact, header, Err(&rendered), encoding),
                    )
                };
                assert_eq!(from_rendering, from_token, "{vr} {bytes:?} pretty {pretty}");
            }
        }
    }

    /// Elements in every state the writer can be in when a value comes: written, skipped (a duplicate, a
    /// group length), inside a skipped sequence (a duplicate sequence, group 0002). Rendered values give
    /// the JSON the plain tokens give.
    #[test]
    fn rendered_values_write_what_the_tokens_write() {
        let ds = |tag: u32| Header {
            tag: Tag(tag),
            vr: Vr::DS,
            len: 4,
        };
        let sequence = |tag: u32| Token::SequenceStart {
            tag: Tag(tag),
            vr: Vr::SQ,
            len: dcmflow_core::Length::Undefined,
        };
        let item = Token::ItemStart {
            len: dcmflow_core::Length::Undefined,
        };
        // (tag, whether to render) in order; sequences around some.
        let script: Vec<Option<Token<'static>>> = vec![
            Some(Token::Element(ds(0x0008_0000))), // group length: skipped
            None,
            Some(sequence(0x0008_1140)),
            Some(item),
            Some(Token::Element(ds(0x0018_0050))),
            None,
            Some(Token::ItemEnd),
            Some(Token::SequenceEnd),
            Some(sequence(0x0008_1140)), // a duplicate: skipped with what it holds
            Some(item),
            Some(Token::Element(ds(0x0018_0050))),
            None,
            Some(Token::ItemEnd),
            Some(Token::SequenceEnd),
            Some(Token::Element(ds(0x0018_0088))),
            None,
            Some(Token::Element(ds(0x0018_0088))), // a duplicate element: skipped
            None,
            Some(Token::Eof),
        ];
        fn run<F: Formatter>(fmt: F, script: &[Option<Token<'_>>], render: bool) -> String {
            let mut writer = JsonWriter::new(Vec::new(), fmt, JsonOptions::default());
            let mut renderer = ValueRenderer::new(JsonOptions::default(), false);
            let mut header = None;
            for step in script {
                match step {
                    Some(token) => {
                        if let Token::Element(h) = token {
                            header = Some(*h);
                        }
                        writer.write_token(token, 0, Encoding::EXPLICIT_LE).unwrap();
                    }
                    None => {
                        let h = header.take().unwrap();
                        let value = b"2.5 ";
                        // The renderer takes no group length: that one goes as a token.
                        if render && renderer.takes(h) {
                            let text = renderer.render(h, value, false).unwrap().to_vec();
                            writer.write_rendered(&text).unwrap();
                        } else {
                            let token = Token::Value {
                                bytes: value,
                                last: true,
                            };
                            writer
                                .write_token(&token, 0, Encoding::EXPLICIT_LE)
                                .unwrap();
                        }
                    }
                }
            }
            String::from_utf8(writer.finish().unwrap()).unwrap()
        }
        let pretty = || crate::Pretty::default();
        assert_eq!(run(pretty(), &script, true), run(pretty(), &script, false));
        let run = |render: bool| run(crate::Compact, &script, render);
        assert_eq!(run(true), run(false));
        assert_eq!(
            run(false),
            r#"{"00081140":{"vr":"SQ","Value":[{"00180050":{"vr":"DS","Value":[2.5]}}]},"00180088":{"vr":"DS","Value":[2.5]}}"#
        );
    }

    #[test]
    fn leaves_what_would_warn_or_depends_on_the_document() {
        let mut renderer = ValueRenderer::new(JsonOptions::default(), false);
        let header = |tag: u32, vr: Vr, len: usize| Header {
            tag: Tag(tag),
            vr,
            len: len as u32,
        };
        // Warnings: an invalid DS, a NaN, a partial number, text outside the default repertoire.
        for (h, bytes) in [
            (header(0x0018_0050, Vr::DS, 4), &b"2,5 "[..]),
            (header(0x0018_9082, Vr::FD, 8), &f64::NAN.to_le_bytes()[..]),
            (header(0x0028_0010, Vr::US, 3), &[1, 0, 2][..]),
            (header(0x0008_0060, Vr::CS, 2), &[0xC4, 0x20][..]),
        ] {
            assert!(renderer.render(h, bytes, false).is_none(), "{h:?}");
        }
        // After a refusal it renders again (no state left behind).
        let ds = header(0x0018_0050, Vr::DS, 4);
        assert_eq!(renderer.render(ds, b"2.5 ", false), Some(&b"2.5"[..]));
        // Text in the character set in force, the character set itself, creators, group lengths, the
        // file meta group, empty and long values, and values in pieces are the writer's.
        for h in [
            header(0x0010_0010, Vr::PN, 4),
            header(0x0008_0070, Vr::LO, 4),
            header(0x0008_0005, Vr::CS, 10),
            header(0x0009_0010, Vr::CS, 4),
            header(0x0008_0000, Vr::UL, 4),
            header(0x0002_0010, Vr::UI, 4),
            header(0x0018_0050, Vr::DS, 0),
            header(0x0018_0050, Vr::DS, 2048),
        ] {
            assert!(!renderer.takes(h), "{h:?}");
        }
        assert!(
            renderer.render(ds, b"2.", false).is_none(),
            "a piece of the value"
        );
    }
}
