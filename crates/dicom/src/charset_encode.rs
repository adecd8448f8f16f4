//! UTF-8 → the Specific Character Set a data set declares (PS3.3 C.12.1.1.2, PS3.5 6.1), for writing DICOM
//! from DICOM JSON (CP-2518: JSON text is Unicode; the DICOM bytes must be in the declared set).
//!
//! encoding_rs supplies the tables; the ISO 2022 code extension switching is ours: each character goes to
//! the first declared set that holds it, an escape sequence designates that set when it is not active, and
//! the initial sets are active again before every delimiter and at the end of the value (PS3.5 6.1.2.5.3).
//! A character no declared set holds is an error, never a silent replacement.
//!
//! Every encoder inverts the reader's decoding of the same (0008,0005) (`crate::charset`), fallbacks
//! included, so that DICOM → JSON → DICOM gives the source's bytes back: where the reader decoded bytes
//! outside the declared repertoire by a rule of its own, the encoder writes the same bytes again and says
//! so ([`Fallback`]), since the JSON text carries no trace of the rule.

use std::sync::OnceLock;

use encoding_rs::{EncoderResult, Encoding};

use crate::charset::Set;

/// Encodes text values into one declared character set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEncoder {
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// ASCII only (the VRs limited to the default repertoire).
    Ascii,
    /// No (0008,0005), ISO_IR 6, or a term neither side knows: ASCII, and other characters up to U+00FF
    /// as ISO 8859-1, the reader's fallback for 8-bit bytes in such data sets.
    Undeclared,
    Utf8,
    /// ISO_IR 100: ISO 8859-1, code point = byte (the reader's mapping, 0x80–0x9F included).
    Latin1,
    /// ISO_IR 13 without extensions: JIS X 0201 (ASCII-compatible Romaji and half-width Katakana); other
    /// characters as Shift_JIS two-byte codes, which the reader decodes (as pydicom does).
    JisX0201,
    /// A single-byte ISO 8859 set, or a multi-byte one without code extensions (GB18030, GBK).
    Whole(&'static Encoding),
    /// ISO 2022: the sets that may be designated, in the declared order; the first term's are initial.
    Iso2022 {
        initial: (Set, Option<Set>),
        sets: Vec<Set>,
    },
}

/// The (0008,0005) value names a term this encoder does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTerm(pub String);

/// A value written with characters outside the declared repertoire, in the bytes the reader decodes
/// back to them. Worth a warning: the output is not what the declared set allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// No character set declared (or an unknown term): other characters than ASCII as ISO 8859-1.
    Latin1Undeclared,
    /// ISO_IR 13: characters beyond JIS X 0201 as Shift_JIS two-byte codes.
    ShiftJis,
    /// A byte 0x80–0x9F that the declared ISO 8859 set leaves unused, for the character the reader's
    /// table (windows-1254, windows-874) gives it.
    UnusedByte,
    /// ISO 2022: a character no declared term holds, in a code element the reader decodes whenever its
    /// escape sequence appears (JIS X 0208/0212, KS X 1001, GB 2312), as a source with a misspelt or
    /// missing term has it.
    UndeclaredSet,
    /// U+FFFD, which stands for bytes the reader could not decode (their value was lost then, with a
    /// warning), in a set that has no such character: written as `?`.
    Replacement,
}

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fallback::Latin1Undeclared => {
                "no Specific Character Set covers it: written as ISO 8859-1, as 8-bit bytes without \
                 (0008,0005) are read (declare the set, or option `charset_utf8`, for conformant output)"
            }
            Fallback::ShiftJis => {
                "beyond ISO_IR 13 (JIS X 0201): written as Shift_JIS, as such bytes are read \
                 (ISO 2022 IR 13\\ISO 2022 IR 87 is the conformant declaration)"
            }
            Fallback::UnusedByte => {
                "not in the declared ISO 8859 set: written as the byte 0x80-0x9F that is read as it"
            }
            Fallback::UndeclaredSet => {
                "in no declared code element: written with the escape sequence of one that holds it, \
                 which the reader decodes (add its term to (0008,0005) for conformant output)"
            }
            Fallback::Replacement => {
                "holds U+FFFD (bytes that did not decode when the JSON was made), which the declared \
                 set lacks: written as '?'"
            }
        })
    }
}

const ESC: u8 = 0x1B;

impl TextEncoder {
    /// ISO_IR 192: UTF-8, every character representable.
    pub fn utf8() -> TextEncoder {
        TextEncoder { kind: Kind::Utf8 }
    }

    /// ASCII only: the VRs limited to the default repertoire (PS3.5 6.1.2.3).
    pub fn ascii() -> TextEncoder {
        TextEncoder { kind: Kind::Ascii }
    }

    /// A data set that declares no Specific Character Set: ASCII, other characters up to U+00FF as
    /// ISO 8859-1 with [`Fallback::Latin1Undeclared`] (the reader's fallback inverted).
    pub fn undeclared() -> TextEncoder {
        TextEncoder {
            kind: Kind::Undeclared,
        }
    }

    /// From the (0008,0005) value, as the reader takes it when a term is unknown: alone, the default
    /// repertoire (with the ISO 8859-1 fallback); among code extensions, the known terms (an unknown value
    /// 1 leaves ASCII initial). `Err` carries that encoder and the first unknown term.
    pub fn from_terms_or_undeclared(
        value: &str,
    ) -> Result<TextEncoder, (TextEncoder, UnknownTerm)> {
        match TextEncoder::parse_terms(value) {
            (encoder, None) => Ok(encoder),
            (encoder, Some(unknown)) => Err((encoder, unknown)),
        }
    }

    /// From the (0008,0005) value as text (`\`-separated terms, padding ignored).
    pub fn from_terms(value: &str) -> Result<TextEncoder, UnknownTerm> {
        match TextEncoder::parse_terms(value) {
            (encoder, None) => Ok(encoder),
            (_, Some(unknown)) => Err(unknown),
        }
    }

    fn parse_terms(value: &str) -> (TextEncoder, Option<UnknownTerm>) {
        let terms: Vec<&str> = value
            .split('\\')
            .map(|t| t.trim_matches([' ', '\0']))
            .collect();
        let extensions = terms.len() > 1 || terms.iter().any(|t| t.starts_with("ISO 2022"));
        if !extensions {
            use encoding_rs::*;
            let kind = match terms[0] {
                "" | "ISO_IR 6" => Kind::Undeclared,
                "ISO_IR 192" => Kind::Utf8,
                "ISO_IR 13" => Kind::JisX0201,
                "ISO_IR 100" => Kind::Latin1,
                "ISO_IR 101" => Kind::Whole(ISO_8859_2),
                "ISO_IR 109" => Kind::Whole(ISO_8859_3),
                "ISO_IR 110" => Kind::Whole(ISO_8859_4),
                "ISO_IR 144" => Kind::Whole(ISO_8859_5),
                "ISO_IR 127" => Kind::Whole(ISO_8859_6),
                "ISO_IR 126" => Kind::Whole(ISO_8859_7),
                "ISO_IR 138" => Kind::Whole(ISO_8859_8),
                "ISO_IR 148" => Kind::Whole(WINDOWS_1254),
                "ISO_IR 203" => Kind::Whole(ISO_8859_15),
                "ISO_IR 166" => Kind::Whole(WINDOWS_874),
                "GB18030" => Kind::Whole(GB18030),
                "GBK" => Kind::Whole(GBK),
                other => {
                    let kind = Kind::Undeclared;
                    return (TextEncoder { kind }, Some(UnknownTerm(other.to_string())));
                }
            };
            return (TextEncoder { kind }, None);
        }
        let mut sets = Vec::new();
        let mut initial = None;
        let mut unknown = None;
        for name in &terms {
            let Some((g0, g1)) = extension_sets(name) else {
                // As the reader does: the term is passed over; as value 1 it leaves ASCII initial.
                unknown.get_or_insert_with(|| UnknownTerm(name.to_string()));
                initial.get_or_insert((Set::Ascii, None));
                continue;
            };
            // PS3.3 C.12.1.1.2: value 1 names the initial sets; a multi-byte term as value 1 (or an empty
            // value 1) leaves ASCII initial.
            if initial.is_none() {
                initial = Some(match g0 {
                    Set::Jis0208 | Set::Jis0212 => (Set::Ascii, None),
                    _ => (g0, g1.filter(|s| !matches!(s, Set::Ksx1001 | Set::Gb2312))),
                });
            }
            sets.push(g0);
            sets.extend(g1);
        }
        let kind = Kind::Iso2022 {
            initial: initial.unwrap_or((Set::Ascii, None)),
            sets,
        };
        (TextEncoder { kind }, unknown)
    }

    /// Whether the text goes out as UTF-8 unchanged (ISO_IR 192).
    pub fn is_utf8(&self) -> bool {
        self.kind == Kind::Utf8
    }

    /// Appends `text` encoded to `out`. `resets` are the delimiters before which ISO 2022 returns to the
    /// initial sets (`\` between values; `^` and `=` in PN). `Ok(Some(_))`: written, with characters
    /// outside the declared repertoire (see [`Fallback`]). Err: the first character that has no faithful
    /// encoding (no declared set holds it, and no reading rule gives it).
    pub fn encode(
        &self,
        text: &str,
        resets: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<Fallback>, char> {
        let start = out.len();
        match self.encode_exactly(text, resets, out) {
            Err('\u{FFFD}') => {
                out.truncate(start);
                let text = text.replace('\u{FFFD}', "?");
                self.encode_exactly(&text, resets, out)
                    .map(|fallback| fallback.or(Some(Fallback::Replacement)))
            }
            other => other,
        }
    }

    fn encode_exactly(
        &self,
        text: &str,
        resets: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<Fallback>, char> {
        if text.is_ascii()
            && !matches!(
                self.kind,
                Kind::Iso2022 {
                    initial: (Set::JisRomaji, _),
                    ..
                }
            )
        {
            out.extend_from_slice(text.as_bytes());
            return Ok(None);
        }
        match &self.kind {
            Kind::Utf8 => {
                out.extend_from_slice(text.as_bytes());
                Ok(None)
            }
            Kind::Ascii => Err(text.chars().find(|c| !c.is_ascii()).unwrap_or('\u{FFFD}')),
            Kind::Undeclared => {
                encode_latin1(text, out)?;
                Ok(Some(Fallback::Latin1Undeclared))
            }
            Kind::Latin1 => encode_latin1(text, out).map(|()| None),
            Kind::JisX0201 => {
                let start = out.len();
                for c in text.chars() {
                    match jis_x0201(c) {
                        Some(b) => out.push(b),
                        None => {
                            // The reader decodes ISO_IR 13 as Shift_JIS: its encoder is the inverse.
                            out.truncate(start);
                            encode_whole(encoding_rs::SHIFT_JIS, text, out)?;
                            return Ok(Some(Fallback::ShiftJis));
                        }
                    }
                }
                Ok(None)
            }
            Kind::Whole(encoding) => encode_whole(encoding, text, out),
            Kind::Iso2022 { initial, sets } => Iso2022Encoder {
                initial: *initial,
                g0: initial.0,
                g1: initial.1,
                sets,
            }
            .encode(text, resets, out)
            .map(|undeclared| undeclared.then_some(Fallback::UndeclaredSet)),
        }
    }
}

/// ISO 8859-1: each character up to U+00FF is its byte.
fn encode_latin1(text: &str, out: &mut Vec<u8>) -> Result<(), char> {
    let start = out.len();
    for c in text.chars() {
        match u8::try_from(c as u32) {
            Ok(b) => out.push(b),
            Err(_) => {
                out.truncate(start);
                return Err(c);
            }
        }
    }
    Ok(())
}

/// PS3.3 Tables C.12-3 and C.12-4: the G0 and G1 sets a defined term designates.
fn extension_sets(name: &str) -> Option<(Set, Option<Set>)> {
    use encoding_rs::*;
    let upper = |e| Some((Set::Ascii, Some(Set::Upper(e))));
    let name = name.strip_prefix("ISO 2022 ").unwrap_or(name);
    let name = name.strip_prefix("ISO_").unwrap_or(name);
    match name {
        "" | "IR 6" => Some((Set::Ascii, None)),
        "IR 100" => Some((Set::Ascii, Some(Set::Latin1Upper))),
        "IR 101" => upper(ISO_8859_2),
        "IR 109" => upper(ISO_8859_3),
        "IR 110" => upper(ISO_8859_4),
        "IR 144" => upper(ISO_8859_5),
        "IR 127" => upper(ISO_8859_6),
        "IR 126" => upper(ISO_8859_7),
        "IR 138" => upper(ISO_8859_8),
        "IR 148" => upper(WINDOWS_1254),
        "IR 203" => upper(ISO_8859_15),
        "IR 166" => upper(WINDOWS_874),
        "IR 13" => Some((Set::JisRomaji, Some(Set::JisKatakana))),
        "IR 87" => Some((Set::Jis0208, None)),
        "IR 159" => Some((Set::Jis0212, None)),
        "IR 149" => Some((Set::Ascii, Some(Set::Ksx1001))),
        "IR 58" => Some((Set::Ascii, Some(Set::Gb2312))),
        _ => None,
    }
}

/// JIS X 0201: ASCII-compatible Romaji (0x5C and 0x7E aside) and half-width Katakana at 0xA1–0xDF.
fn jis_x0201(c: char) -> Option<u8> {
    match c as u32 {
        0..=0x7F => Some(c as u8),
        0xFF61..=0xFF9F => Some((c as u32 - 0xFF61 + 0xA1) as u8),
        _ => None,
    }
}

fn encode_whole(
    encoding: &'static Encoding,
    text: &str,
    out: &mut Vec<u8>,
) -> Result<Option<Fallback>, char> {
    let start = out.len();
    let mut encoder = encoding.new_encoder();
    out.reserve(text.len() * 2 + 8);
    let (result, _) = encoder.encode_from_utf8_to_vec_without_replacement(text, out, true);
    if let EncoderResult::Unmappable(c) = result {
        out.truncate(start);
        return Err(c);
    }
    // ISO 8859 leaves 0x80–0x9F unused (the reader decodes them as the C1 controls U+0080–U+009F, or,
    // for ISO 8859-9 and TIS 620, as its windows-1254/874 table says); such a byte for another character
    // is written as the reader would read it back, and reported.
    if encoding.is_single_byte() {
        // One byte a character: more bytes there than C1 controls in the text means a table character.
        let unused_bytes = out[start..]
            .iter()
            .filter(|b| (0x80..0xA0).contains(*b))
            .count();
        let controls = text
            .chars()
            .filter(|c| ('\u{80}'..='\u{9F}').contains(c))
            .count();
        if unused_bytes > controls {
            return Ok(Some(Fallback::UnusedByte));
        }
    }
    Ok(None)
}

struct Iso2022Encoder<'s> {
    initial: (Set, Option<Set>),
    g0: Set,
    g1: Option<Set>,
    sets: &'s [Set],
}

/// The multi-byte code elements the reader decodes wherever their escape sequence appears, declared or
/// not (PS3.3 Table C.12-4): the encoder's last resort, reported as [`Fallback::UndeclaredSet`].
const UNDECLARED_SETS: [Set; 4] = [Set::Jis0208, Set::Jis0212, Set::Ksx1001, Set::Gb2312];

/// Control characters before which the initial sets are active again (PS3.5 6.1.2.5.3).
const CONTROL_RESETS: [u8; 4] = [b'\r', b'\n', 0x0C, b'\t'];

impl Iso2022Encoder<'_> {
    /// Ok(true): some character needed a code element that is not declared ([`UNDECLARED_SETS`]).
    fn encode(&mut self, text: &str, resets: &[u8], out: &mut Vec<u8>) -> Result<bool, char> {
        let mut undeclared = false;
        let mut bytes = [0u8; 4];
        for c in text.chars() {
            if c.is_ascii() {
                let b = c as u8;
                if CONTROL_RESETS.contains(&b) || resets.contains(&b) {
                    self.reset(out);
                }
                if !matches!(self.g0, Set::Ascii | Set::JisRomaji) {
                    self.designate_g0(Set::Ascii, out);
                }
                out.push(b);
                continue;
            }
            let declared = self
                .sets
                .iter()
                .find_map(|&set| in_set(set, c, &mut bytes).map(|n| (set, n)));
            let (set, n) = match declared {
                Some(found) => found,
                None => {
                    undeclared = true;
                    UNDECLARED_SETS
                        .iter()
                        .find_map(|&set| in_set(set, c, &mut bytes).map(|n| (set, n)))
                        .ok_or(c)?
                }
            };
            match set {
                Set::Jis0208 | Set::Jis0212 => {
                    if self.g0 != set {
                        self.designate_g0(set, out);
                    }
                }
                _ => {
                    if self.g1 != Some(set) {
                        out.push(ESC);
                        out.extend_from_slice(designation_g1(set));
                        self.g1 = Some(set);
                    }
                }
            }
            out.extend_from_slice(&bytes[..n]);
        }
        // PS3.5 6.1.2.5.3: the initial set is active again before the end of the value.
        self.reset(out);
        Ok(undeclared)
    }

    fn reset(&mut self, out: &mut Vec<u8>) {
        if self.g0 != self.initial.0 {
            self.designate_g0(self.initial.0, out);
        }
        self.g1 = self.initial.1;
    }

    fn designate_g0(&mut self, set: Set, out: &mut Vec<u8>) {
        out.push(ESC);
        out.extend_from_slice(match set {
            Set::Jis0208 => b"$B",
            Set::Jis0212 => b"$(D",
            Set::JisRomaji => b"(J",
            _ => b"(B",
        });
        self.g0 = set;
    }
}

fn designation_g1(set: Set) -> &'static [u8] {
    use encoding_rs::*;
    match set {
        Set::JisKatakana => b")I",
        Set::Ksx1001 => b"$)C",
        Set::Gb2312 => b"$)A",
        Set::Latin1Upper => b"-A",
        Set::Upper(e) if e == ISO_8859_2 => b"-B",
        Set::Upper(e) if e == ISO_8859_3 => b"-C",
        Set::Upper(e) if e == ISO_8859_4 => b"-D",
        Set::Upper(e) if e == ISO_8859_5 => b"-L",
        Set::Upper(e) if e == ISO_8859_6 => b"-G",
        Set::Upper(e) if e == ISO_8859_7 => b"-F",
        Set::Upper(e) if e == ISO_8859_8 => b"-H",
        Set::Upper(e) if e == WINDOWS_1254 => b"-M",
        Set::Upper(e) if e == WINDOWS_874 => b"-T",
        Set::Upper(_) => b"-b",
        _ => b"(B",
    }
}

/// The bytes of `c` in `set` (as they appear in the value: GR bytes for G1 sets, GL for two-byte G0 sets).
fn in_set(set: Set, c: char, out: &mut [u8; 4]) -> Option<usize> {
    let one = |encoding: &'static Encoding, out: &mut [u8; 4]| -> Option<usize> {
        let mut utf8 = [0u8; 4];
        let s = c.encode_utf8(&mut utf8);
        let mut encoder = encoding.new_encoder();
        let (result, _, written) = encoder.encode_from_utf8_without_replacement(s, out, true);
        (result == EncoderResult::InputEmpty).then_some(written)
    };
    match set {
        Set::Ascii | Set::JisRomaji => None,
        Set::Latin1Upper => {
            let cp = c as u32;
            (0xA0..=0xFF).contains(&cp).then(|| {
                out[0] = cp as u8;
                1
            })
        }
        Set::Upper(e) => one(e, out).filter(|&n| n == 1 && out[0] >= 0xA0),
        Set::JisKatakana => jis_x0201(c).filter(|&b| b >= 0xA1).map(|b| {
            out[0] = b;
            1
        }),
        Set::Jis0208 => {
            // EUC-JP's two-byte codes are JIS X 0208 with the high bit set; in G0 they go without it.
            let n = one(encoding_rs::EUC_JP, out)?;
            (n == 2 && out[0] >= 0xA1 && out[1] >= 0xA1).then(|| {
                out[0] &= 0x7F;
                out[1] &= 0x7F;
                2
            })
        }
        Set::Jis0212 => jis_x0212(c).map(|pair| {
            out[..2].copy_from_slice(&pair);
            2
        }),
        Set::Ksx1001 => {
            one(encoding_rs::EUC_KR, out).filter(|&n| n == 2 && out[0] >= 0xA1 && out[1] >= 0xA1)
        }
        Set::Gb2312 => one(encoding_rs::GBK, out)
            .filter(|&n| n == 2 && (0xA1..=0xF7).contains(&out[0]) && out[1] >= 0xA1),
    }
}

/// JIS X 0212 (ISO-IR 159), G0 bytes of `c`. encoding_rs decodes this set (EUC-JP's 0x8F prefix) but has
/// no encoder for it, so its decoder's table is inverted once, on first use (8 836 code points; only
/// data sets that declare ISO 2022 IR 159 pay for it).
fn jis_x0212(c: char) -> Option<[u8; 2]> {
    static BY_CHAR: OnceLock<Vec<(char, [u8; 2])>> = OnceLock::new();
    let table = BY_CHAR.get_or_init(|| {
        let mut table = Vec::with_capacity(6100);
        for row in 0x21..=0x7Eu8 {
            for cell in 0x21..=0x7Eu8 {
                let euc = [0x8F, row | 0x80, cell | 0x80];
                let (text, malformed) = encoding_rs::EUC_JP.decode_without_bom_handling(&euc);
                let mut chars = text.chars();
                if let (false, Some(ch), None) = (malformed, chars.next(), chars.next()) {
                    table.push((ch, [row, cell]));
                }
            }
        }
        // A character with two codes keeps the first (row-major order).
        table.sort_by_key(|&(ch, _)| ch);
        table.dedup_by_key(|&mut (ch, _)| ch);
        table
    });
    table
        .binary_search_by_key(&c, |&(ch, _)| ch)
        .ok()
        .map(|i| table[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CharacterSet;

    /// Encode, then decode with our decoder: the text comes back.
    fn round_trip(terms: &str, text: &str, resets: &[u8]) -> Vec<u8> {
        let encoder = TextEncoder::from_terms(terms).unwrap();
        let mut bytes = Vec::new();
        encoder.encode(text, resets, &mut bytes).unwrap();
        let mut back = String::new();
        let report = CharacterSet::parse(terms.as_bytes())
            .charset
            .decode(&bytes, resets, &mut back);
        assert_eq!(back, text, "{terms}: {bytes:?}");
        assert!(!report.replaced);
        bytes
    }

    #[test]
    fn single_byte_sets_encode_and_reject_what_they_lack() {
        assert_eq!(
            round_trip("ISO_IR 100", "Buc^Jérôme", b"^="),
            b"Buc^J\xe9r\xf4me"
        );
        round_trip("ISO_IR 144", "Люкceмбypг", b"");
        round_trip("ISO_IR 126", "Διονυσιος", b"");
        let latin1 = TextEncoder::from_terms("ISO_IR 100").unwrap();
        assert_eq!(latin1.encode("€", b"", &mut Vec::new()), Err('€'));
        assert_eq!(latin1.encode("日", b"", &mut Vec::new()), Err('日'));
        assert_eq!(
            TextEncoder::ascii().encode("é", b"", &mut Vec::new()),
            Err('é')
        );
    }

    #[test]
    fn iso_2022_japanese_designates_and_resets_at_delimiters() {
        // PS3.5 H.3.1 example: Yamada^Tarou=山田^太郎=やまだ^たろう
        let text = "Yamada^Tarou=山田^太郎=やまだ^たろう";
        let bytes = round_trip("\\ISO 2022 IR 87", text, b"^=");
        assert_eq!(
            bytes,
            b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B"
        );
    }

    #[test]
    fn iso_2022_jis_x_0212_encodes_by_the_inverted_decoder_table() {
        // Every code point of JIS X 0212 decodes (our decoder) and encodes back to the same bytes, and the
        // set is designated with ESC $ ( D (PS3.3 C.12.1.1.2, ISO-IR 159).
        let mut checked = 0;
        for row in 0x21..=0x7Eu8 {
            for cell in 0x21..=0x7Eu8 {
                let bytes = [0x1B, b'$', b'(', b'D', row, cell, 0x1B, b'(', b'B'];
                let mut text = String::new();
                let report = CharacterSet::parse(b"\\ISO 2022 IR 159")
                    .charset
                    .decode(&bytes, b"", &mut text);
                if report.replaced || text.chars().count() != 1 {
                    continue;
                }
                let c = text.chars().next().unwrap();
                // Characters that JIS X 0208 or ASCII also hold are not expected in 0212 form.
                if jis_x0212(c) != Some([row, cell]) {
                    continue;
                }
                let mut out = Vec::new();
                TextEncoder::from_terms("\\ISO 2022 IR 159")
                    .unwrap()
                    .encode(&text, b"", &mut out)
                    .unwrap();
                assert_eq!(out, bytes, "{c}");
                checked += 1;
            }
        }
        assert!(
            checked > 5000,
            "only {checked} JIS X 0212 characters round-tripped"
        );
        // 丂 (U+4E02) is in JIS X 0212 only.
        round_trip("\\ISO 2022 IR 87\\ISO 2022 IR 159", "丂^山田", b"^=");
    }

    #[test]
    fn iso_2022_korean_and_chinese_use_g1() {
        // PS3.5 I.2: Hong^Gildong=洪^吉洞=홍^길동
        let bytes = round_trip("\\ISO 2022 IR 149", "Hong^Gildong=洪^吉洞=홍^길동", b"^=");
        assert!(bytes.starts_with(b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C"));
        round_trip(
            "ISO 2022 IR 6\\ISO 2022 IR 58",
            "Zhang^XiaoDong=张^小东=",
            b"^=",
        );
    }

    #[test]
    fn multi_byte_whole_sets_and_unknown_terms() {
        round_trip("GB18030", "Wang^XiaoDong=王^小东=", b"");
        assert_eq!(
            TextEncoder::from_terms("ISO_IR 999"),
            Err(UnknownTerm("ISO_IR 999".into()))
        );
        let mut out = Vec::new();
        TextEncoder::utf8().encode("日本", b"", &mut out).unwrap();
        assert_eq!(out, "日本".as_bytes());
        // Among code extensions an unknown term is passed over, as the reader does: IR 87 still works.
        let (encoder, unknown) =
            TextEncoder::from_terms_or_undeclared("ISO 2022 IR IR 1266\\ISO 2022 IR 87")
                .unwrap_err();
        assert_eq!(unknown, UnknownTerm("ISO 2022 IR IR 1266".into()));
        let mut out = Vec::new();
        encoder.encode("やまだ", b"", &mut out).unwrap();
        assert!(out.starts_with(b"\x1b$B"));
        // With IR 87 misspelt, JIS X 0208 is still what the reader decodes after ESC $ B.
        let declared = "ISO 2022 IR 13\\ISOO 2022 IR 87";
        let (encoder, _) = TextEncoder::from_terms_or_undeclared(declared).unwrap_err();
        let mut out = Vec::new();
        let fallback = encoder.encode("山田^ﾀﾛｳ", b"^", &mut out).unwrap();
        assert_eq!(fallback, Some(Fallback::UndeclaredSet));
        let mut text = String::new();
        crate::CharacterSet::parse(declared.as_bytes())
            .charset
            .decode(&out, b"^", &mut text);
        assert_eq!(text, "山田^ﾀﾛｳ");
    }
}
