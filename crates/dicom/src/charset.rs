//! Specific Character Set (0008,0005) → UTF-8 (PS3.3 C.12.1.1.2, PS3.5 6.1).
//!
//! encoding_rs supplies every table; what is ours is reading the defined terms and the ISO 2022 code
//! extension switching (escape sequences designating G0/G1 sets, reset to the initial sets at delimiters),
//! which no general-purpose crate does the DICOM way.
//!
//! Fallbacks (each reported in [`DecodeReport`], never silent):
//! - bytes above 0x7F in a data set that declares no character set (the default repertoire is ASCII) are
//!   decoded as ISO 8859-1, as pydicom does;
//! - bytes that are not valid in the declared set become U+FFFD;
//! - an unknown defined term is read as the default repertoire (with the ISO 8859-1 fallback above).

use encoding_rs::Encoding;

/// How the bytes of a text value map to Unicode. Cheap to copy: it is kept per data set level.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum CharacterSet {
    /// No (0008,0005), or ISO_IR 6: ASCII (ISO 8859-1 fallback for stray 8-bit bytes).
    #[default]
    Default,
    /// ISO_IR 100: ISO 8859-1, byte = code point.
    Latin1,
    /// One single- or multi-byte encoding without code extensions (ISO_IR 1xx, ISO_IR 13, ISO_IR 192,
    /// GB18030, GBK).
    Whole(&'static Encoding),
    /// ISO 2022 code extensions: the sets active at the start of every value and after each delimiter.
    Iso2022 {
        /// The set in G0 (bytes 0x21–0x7E) at the start of a value.
        g0: Set,
        /// The set in G1 (bytes 0xA1–0xFE) at the start of a value, if any.
        g1: Option<Set>,
    },
}

/// A code element that an ISO 2022 escape sequence can designate (PS3.3 Tables C.12-3 and C.12-4).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Set {
    /// ISO-IR 6, ASCII (G0).
    Ascii,
    /// ISO-IR 14, JIS X 0201 Romaji (G0). Read as ASCII, as pydicom and DCMTK do.
    JisRomaji,
    /// ISO-IR 13, JIS X 0201 Katakana (G1).
    JisKatakana,
    /// The upper half of an ISO 8859 set (G1): ISO-IR 100, 101, 109, 110, 126, 127, 138, 144, 148, 166, 203.
    Upper(&'static Encoding),
    /// ISO-IR 100 (G1): the upper half of ISO 8859-1.
    Latin1Upper,
    /// ISO-IR 87, JIS X 0208 (G0, two bytes).
    Jis0208,
    /// ISO-IR 159, JIS X 0212 (G0, two bytes).
    Jis0212,
    /// ISO-IR 149, KS X 1001 (G1, two bytes).
    Ksx1001,
    /// ISO-IR 58, GB 2312 (G1, two bytes).
    Gb2312,
}

/// What decoding had to do beyond a plain table lookup.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct DecodeReport {
    /// Some bytes were invalid in the declared set and became U+FFFD.
    pub replaced: bool,
    /// 8-bit bytes where only ASCII is declared; decoded as ISO 8859-1.
    pub undeclared: bool,
}

impl DecodeReport {
    fn merge(&mut self, other: DecodeReport) {
        self.replaced |= other.replaced;
        self.undeclared |= other.undeclared;
    }
}

/// The result of reading a (0008,0005) value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ParsedCharacterSet {
    /// The character set the value declares, as far as this reader knows its terms.
    pub charset: CharacterSet,
    /// The first term this reader does not know (read as the default repertoire instead).
    pub unknown_term: bool,
}

enum Term {
    Whole(CharacterSet),
    /// An ISO 2022 term: its G0 and G1 sets as the initial state when it is value 1.
    Extension {
        g0: Set,
        g1: Option<Set>,
    },
}

fn term(name: &str) -> Option<Term> {
    use encoding_rs::*;
    let single = |e: &'static Encoding| Term::Whole(CharacterSet::Whole(e));
    let upper = |e: &'static Encoding| Term::Extension {
        g0: Set::Ascii,
        g1: Some(Set::Upper(e)),
    };
    // PS3.3 Table C.12-2 (no extensions), C.12-3 (single-byte with extensions), C.12-4 (multi-byte with
    // extensions), C.12-5 (multi-byte without extensions). ISO 8859-9 and TIS 620 are read with their
    // WHATWG supersets (windows-1254, windows-874), which differ only in bytes DICOM leaves unused.
    Some(match name {
        "" | "ISO_IR 6" => Term::Whole(CharacterSet::Default),
        "ISO_IR 100" => Term::Whole(CharacterSet::Latin1),
        "ISO_IR 101" => single(ISO_8859_2),
        "ISO_IR 109" => single(ISO_8859_3),
        "ISO_IR 110" => single(ISO_8859_4),
        "ISO_IR 144" => single(ISO_8859_5),
        "ISO_IR 127" => single(ISO_8859_6),
        "ISO_IR 126" => single(ISO_8859_7),
        "ISO_IR 138" => single(ISO_8859_8),
        "ISO_IR 148" => single(WINDOWS_1254),
        "ISO_IR 203" => single(ISO_8859_15),
        "ISO_IR 166" => single(WINDOWS_874),
        "ISO_IR 13" => single(SHIFT_JIS),
        "ISO_IR 192" => single(UTF_8),
        "GB18030" => single(GB18030),
        "GBK" => single(GBK),
        "ISO 2022 IR 6" => Term::Extension {
            g0: Set::Ascii,
            g1: None,
        },
        "ISO 2022 IR 100" => Term::Extension {
            g0: Set::Ascii,
            g1: Some(Set::Latin1Upper),
        },
        "ISO 2022 IR 101" => upper(ISO_8859_2),
        "ISO 2022 IR 109" => upper(ISO_8859_3),
        "ISO 2022 IR 110" => upper(ISO_8859_4),
        "ISO 2022 IR 144" => upper(ISO_8859_5),
        "ISO 2022 IR 127" => upper(ISO_8859_6),
        "ISO 2022 IR 126" => upper(ISO_8859_7),
        "ISO 2022 IR 138" => upper(ISO_8859_8),
        "ISO 2022 IR 148" => upper(WINDOWS_1254),
        "ISO 2022 IR 203" => upper(ISO_8859_15),
        "ISO 2022 IR 166" => upper(WINDOWS_874),
        "ISO 2022 IR 13" => Term::Extension {
            g0: Set::JisRomaji,
            g1: Some(Set::JisKatakana),
        },
        // Multi-byte sets are designated by escape sequences in the values; as value 1 they leave the
        // initial state ASCII.
        "ISO 2022 IR 87" | "ISO 2022 IR 159" | "ISO 2022 IR 149" | "ISO 2022 IR 58" => {
            Term::Extension {
                g0: Set::Ascii,
                g1: None,
            }
        }
        _ => return None,
    })
}

impl CharacterSet {
    /// Reads a (0008,0005) value as stored (padding included).
    pub fn parse(value: &[u8]) -> ParsedCharacterSet {
        let text = String::from_utf8_lossy(value);
        let terms: Vec<&str> = text
            .split('\\')
            .map(|t| t.trim_matches([' ', '\0']))
            .collect();
        let mut unknown_term = false;
        let mut first = None;
        for (i, name) in terms.iter().enumerate() {
            match term(name) {
                Some(t) if i == 0 => first = Some(t),
                Some(_) => {}
                None => {
                    unknown_term = true;
                    if i == 0 {
                        first = Some(Term::Whole(CharacterSet::Default));
                    }
                }
            }
        }
        let code_extensions = terms.len() > 1 || terms.iter().any(|t| t.starts_with("ISO 2022"));
        let charset = match first {
            None => CharacterSet::Default,
            Some(Term::Extension { g0, g1 }) => CharacterSet::Iso2022 { g0, g1 },
            Some(Term::Whole(cs)) if code_extensions => match cs {
                // PS3.3 C.12.1.1.2: with code extensions, value 1 names the initial G0/G1 sets even when
                // it is written without "ISO 2022" (a common mistake): honour the upper half it names.
                CharacterSet::Latin1 => CharacterSet::Iso2022 {
                    g0: Set::Ascii,
                    g1: Some(Set::Latin1Upper),
                },
                CharacterSet::Whole(e) if e.is_single_byte() && e != encoding_rs::SHIFT_JIS => {
                    CharacterSet::Iso2022 {
                        g0: Set::Ascii,
                        g1: Some(Set::Upper(e)),
                    }
                }
                CharacterSet::Whole(e) if e == encoding_rs::SHIFT_JIS => CharacterSet::Iso2022 {
                    g0: Set::JisRomaji,
                    g1: Some(Set::JisKatakana),
                },
                _ => CharacterSet::Iso2022 {
                    g0: Set::Ascii,
                    g1: None,
                },
            },
            Some(Term::Whole(cs)) => cs,
        };
        ParsedCharacterSet {
            charset,
            unknown_term,
        }
    }

    /// True when every value is decoded as UTF-8 already (no work, no change).
    pub fn is_utf8(self) -> bool {
        matches!(self, CharacterSet::Whole(e) if e == encoding_rs::UTF_8)
    }

    /// Whether a value can be decoded in pieces cut anywhere but inside a UTF-8 sequence, with the same
    /// result as decoding it whole: single-byte sets and UTF-8 (not ISO 2022, which has state, nor the
    /// multi-byte sets).
    pub fn decodes_piecewise(self) -> bool {
        match self {
            CharacterSet::Default | CharacterSet::Latin1 => true,
            CharacterSet::Whole(e) => e.is_single_byte() || e == encoding_rs::UTF_8,
            CharacterSet::Iso2022 { .. } => false,
        }
    }

    /// True when `bytes` decode to themselves (ASCII, and no ISO 2022 escape sequence): the caller may use
    /// them as UTF-8 directly, without a copy.
    pub fn is_identity(self, bytes: &[u8]) -> bool {
        bytes.is_ascii() && !(matches!(self, CharacterSet::Iso2022 { .. }) && bytes.contains(&ESC))
    }

    /// `bytes` as the text they decode to when that is themselves (see [`CharacterSet::is_identity`];
    /// under ISO_IR 192 also any valid UTF-8): one validation pass, no copy.
    pub fn as_identity(self, bytes: &[u8]) -> Option<&str> {
        // ASCII first (the common case, and a cheaper check than UTF-8 validation for short values).
        if let Some(text) = dcmflow_simd::ascii_str(bytes) {
            let escapes = matches!(self, CharacterSet::Iso2022 { .. }) && bytes.contains(&ESC);
            return (!escapes).then_some(text);
        }
        if self.is_utf8() {
            return std::str::from_utf8(bytes).ok();
        }
        None
    }

    /// Decodes `bytes` and appends the text to `out`. `resets` are the delimiters after which ISO 2022
    /// switches back to the initial sets (PS3.5 6.1.2.5.3: `\` between values, `^` and `=` in PN); CR, LF,
    /// FF and TAB always reset.
    pub fn decode(self, bytes: &[u8], resets: &[u8], out: &mut String) -> DecodeReport {
        if self.is_identity(bytes) {
            // Every set DICOM allows is ASCII-compatible in its initial state (ISO-IR 14 Romaji is read
            // as ASCII), so pure-ASCII values without escape sequences, by far the most common, need no
            // table.
            out.push_str(std::str::from_utf8(bytes).unwrap_or_default());
            return DecodeReport::default();
        }
        match self {
            CharacterSet::Default => {
                out.push_str(&encoding_rs::mem::decode_latin1(bytes));
                DecodeReport {
                    replaced: false,
                    undeclared: true,
                }
            }
            CharacterSet::Latin1 => {
                out.push_str(&encoding_rs::mem::decode_latin1(bytes));
                DecodeReport::default()
            }
            CharacterSet::Whole(encoding) => decode_with(encoding, bytes, out),
            CharacterSet::Iso2022 { g0, g1 } => Iso2022 {
                initial: (g0, g1),
                g0,
                g1,
                scratch: Vec::new(),
            }
            .decode(bytes, resets, out),
        }
    }
}

fn decode_with(encoding: &'static Encoding, bytes: &[u8], out: &mut String) -> DecodeReport {
    let (text, replaced) = encoding.decode_without_bom_handling(bytes);
    out.push_str(&text);
    DecodeReport {
        replaced,
        undeclared: false,
    }
}

const ESC: u8 = 0x1B;
/// Control characters after which the initial sets are active again (PS3.5 6.1.2.5.3).
const CONTROL_RESETS: [u8; 4] = [b'\r', b'\n', 0x0C, b'\t'];

struct Iso2022 {
    initial: (Set, Option<Set>),
    g0: Set,
    g1: Option<Set>,
    scratch: Vec<u8>,
}

impl Iso2022 {
    fn decode(&mut self, bytes: &[u8], resets: &[u8], out: &mut String) -> DecodeReport {
        let mut report = DecodeReport::default();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == ESC {
                match designation(&bytes[i + 1..]) {
                    Some((consumed, Designation::G0(set))) => {
                        self.g0 = set;
                        i += 1 + consumed;
                    }
                    Some((consumed, Designation::G1(set))) => {
                        self.g1 = Some(set);
                        i += 1 + consumed;
                    }
                    None => {
                        out.push(char::REPLACEMENT_CHARACTER);
                        report.replaced = true;
                        i += 1;
                    }
                }
                continue;
            }
            if b >= 0x80 {
                let end = run_end(bytes, i, |b| b >= 0x80);
                report.merge(self.decode_g1(&bytes[i..end], out));
                i = end;
                continue;
            }
            match self.g0 {
                Set::Jis0208 | Set::Jis0212 if (0x21..=0x7E).contains(&b) => {
                    let end = run_end(bytes, i, |b| (0x21..=0x7E).contains(&b));
                    report.merge(self.decode_jis(&bytes[i..end], out));
                    i = end;
                }
                _ => {
                    // A single-byte G0 set (or a control character inside a two-byte one).
                    if CONTROL_RESETS.contains(&b) || (resets.contains(&b) && self.g0_single()) {
                        (self.g0, self.g1) = self.initial;
                    }
                    out.push(b as char);
                    i += 1;
                }
            }
        }
        report
    }

    fn g0_single(&self) -> bool {
        matches!(self.g0, Set::Ascii | Set::JisRomaji)
    }

    /// Bytes 0x21–0x7E under JIS X 0208/0212: pairs, re-encoded as EUC-JP for encoding_rs's table.
    fn decode_jis(&mut self, run: &[u8], out: &mut String) -> DecodeReport {
        self.scratch.clear();
        for pair in run.chunks(2) {
            if self.g0 == Set::Jis0212 {
                self.scratch.push(0x8F);
            }
            self.scratch.extend(pair.iter().map(|b| b | 0x80));
        }
        let mut report = decode_with(encoding_rs::EUC_JP, &self.scratch, out);
        report.replaced |= run.len() % 2 == 1;
        report
    }

    /// Bytes 0x80–0xFF: the G1 set (GR), if one is designated.
    fn decode_g1(&mut self, run: &[u8], out: &mut String) -> DecodeReport {
        match self.g1 {
            Some(Set::Latin1Upper) => {
                out.push_str(&encoding_rs::mem::decode_latin1(run));
                DecodeReport::default()
            }
            Some(Set::Upper(encoding)) => decode_with(encoding, run, out),
            Some(Set::JisKatakana) => {
                let mut report = DecodeReport::default();
                for &b in run {
                    // JIS X 0201 Katakana 0xA1–0xDF is U+FF61–U+FF9F (halfwidth forms), in order.
                    match b {
                        0xA1..=0xDF => {
                            out.push(char::from_u32(0xFF61 + (b - 0xA1) as u32).unwrap())
                        }
                        _ => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            report.replaced = true;
                        }
                    }
                }
                report
            }
            Some(Set::Ksx1001) => decode_with(encoding_rs::EUC_KR, run, out),
            Some(Set::Gb2312) => decode_with(encoding_rs::GBK, run, out),
            _ => {
                out.extend(std::iter::repeat_n(char::REPLACEMENT_CHARACTER, run.len()));
                DecodeReport {
                    replaced: true,
                    undeclared: false,
                }
            }
        }
    }
}

fn run_end(bytes: &[u8], start: usize, belongs: impl Fn(u8) -> bool) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| !belongs(b))
        .map_or(bytes.len(), |n| start + n)
}

enum Designation {
    G0(Set),
    G1(Set),
}

/// The escape sequence after an ESC byte: how many bytes it takes and what it designates.
fn designation(rest: &[u8]) -> Option<(usize, Designation)> {
    use encoding_rs::*;
    use Designation::{G0, G1};
    let upper = |e| G1(Set::Upper(e));
    let (len, d) = match rest {
        [b'(', b'B', ..] => (2, G0(Set::Ascii)),
        [b'(', b'J', ..] => (2, G0(Set::JisRomaji)),
        [b')', b'I', ..] => (2, G1(Set::JisKatakana)),
        [b'$', b'B', ..] | [b'$', b'@', ..] => (2, G0(Set::Jis0208)),
        [b'$', b'(', b'D', ..] => (3, G0(Set::Jis0212)),
        [b'$', b')', b'C', ..] => (3, G1(Set::Ksx1001)),
        [b'$', b')', b'A', ..] => (3, G1(Set::Gb2312)),
        [b'-', final_byte, ..] => (
            2,
            match final_byte {
                b'A' => G1(Set::Latin1Upper),
                b'B' => upper(ISO_8859_2),
                b'C' => upper(ISO_8859_3),
                b'D' => upper(ISO_8859_4),
                b'L' => upper(ISO_8859_5),
                b'G' => upper(ISO_8859_6),
                b'F' => upper(ISO_8859_7),
                b'H' => upper(ISO_8859_8),
                b'M' => upper(WINDOWS_1254),
                b'T' => upper(WINDOWS_874),
                b'b' => upper(ISO_8859_15),
                _ => return None,
            },
        ),
        _ => return None,
    };
    Some((len, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(charset: &str, bytes: &[u8]) -> (String, DecodeReport) {
        let cs = CharacterSet::parse(charset.as_bytes());
        assert!(!cs.unknown_term, "{charset}");
        let mut out = String::new();
        let report = cs.charset.decode(bytes, b"\\^=", &mut out);
        (out, report)
    }

    /// Text that is its own decoding, and only that, comes back borrowed.
    #[test]
    fn identity_text() {
        let set = |term: &str| CharacterSet::parse(term.as_bytes()).charset;
        let (default, latin1, utf8) = (CharacterSet::Default, set("ISO_IR 100"), set("ISO_IR 192"));
        let iso2022 = set("\\ISO 2022 IR 87");
        assert_eq!(
            default.as_identity(b"ORIGINAL\\PRIMARY"),
            Some("ORIGINAL\\PRIMARY")
        );
        assert_eq!(latin1.as_identity(b"Zurich"), Some("Zurich"));
        assert_eq!(latin1.as_identity(b"Z\xFCrich"), None);
        assert_eq!(default.as_identity("Zürich".as_bytes()), None);
        assert_eq!(utf8.as_identity("Zürich".as_bytes()), Some("Zürich"));
        assert_eq!(utf8.as_identity(b"Z\xFCrich"), None);
        assert_eq!(utf8.as_identity(b"\x1B$B"), Some("\u{1b}$B"));
        assert_eq!(iso2022.as_identity(b"Yamada"), Some("Yamada"));
        assert_eq!(iso2022.as_identity(b"\x1B$B;3ED\x1B(B"), None);
        assert_eq!(default.as_identity(b""), Some(""));
    }

    #[test]
    fn single_byte_sets() {
        assert_eq!(decode("ISO_IR 100", b"Buc^J\xe9r\xf4me").0, "Buc^Jérôme");
        assert_eq!(decode("ISO_IR 144", b"\xbb\xee\xdA").0, "Люк");
        assert_eq!(decode("ISO_IR 126", b"\xc4\xe9\xef").0, "Διο");
        assert_eq!(
            decode("ISO_IR 192", "Wang^XiaoDong=王".as_bytes()).0,
            "Wang^XiaoDong=王"
        );
    }

    #[test]
    fn undeclared_eight_bit_falls_back_to_latin1_with_a_report() {
        let (text, report) = decode("", b"J\xe9r");
        assert_eq!(text, "Jér");
        assert!(report.undeclared);
    }

    #[test]
    fn invalid_utf8_is_replaced_and_reported() {
        let (text, report) = decode("ISO_IR 192", b"a\xffb");
        assert_eq!(text, "a\u{FFFD}b");
        assert!(report.replaced);
    }

    #[test]
    fn iso2022_japanese_switches_and_resets() {
        // PS3.5 H.3.1 style: Yamada^Tarou=山田^太郎 (ESC $ B ... ESC ( B around the kanji).
        let bytes = b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B";
        assert_eq!(
            decode("\\ISO 2022 IR 87", bytes).0,
            "Yamada^Tarou=山田^太郎"
        );
        // Half-width katakana through G1 (ISO 2022 IR 13 as value 1).
        assert_eq!(
            decode("ISO 2022 IR 13\\ISO 2022 IR 87", b"\xd4\xcf\xc0\xde").0,
            "ﾔﾏﾀﾞ"
        );
    }

    #[test]
    fn iso2022_korean_uses_g1() {
        // Hong^Gildong=洪^吉洞 (KS X 1001 via ESC $ ) C, bytes in GR).
        let bytes = b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7";
        assert_eq!(decode("\\ISO 2022 IR 149", bytes).0, "Hong^Gildong=洪^吉洞");
    }

    #[test]
    fn unknown_escape_and_unknown_term_are_reported() {
        let (text, report) = decode("\\ISO 2022 IR 87", b"a\x1b%Zb");
        assert_eq!(text, "a\u{FFFD}%Zb");
        assert!(report.replaced);
        assert!(CharacterSet::parse(b"ISO_IR 999").unknown_term);
    }
}
