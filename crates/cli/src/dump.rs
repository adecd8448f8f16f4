//! `dcmflow dump`: one line per element, indented by nesting, like dcmdump:
//! `(0010,0010) PN [Doe^John]  # 8, PatientName`.

use std::io::{self, Write};

use dcmflow::dicom::DicomReader;
use dcmflow_core::{dict, Error, Header, Length, Token, Vr};

pub enum DumpError {
    Read(Error),
    Write(io::Error),
}

impl From<io::Error> for DumpError {
    fn from(e: io::Error) -> Self {
        DumpError::Write(e)
    }
}

/// At most this many value bytes are kept for display; the rest of a value streams past.
const SHOWN_BYTES: usize = 96;

pub fn dump(reader: &mut DicomReader<'_>, out: &mut impl Write) -> Result<(), DumpError> {
    let mut depth = 0usize;
    let mut pending: Option<Header> = None;
    let mut shown: Vec<u8> = Vec::with_capacity(SHOWN_BYTES);
    let mut big_endian = false;
    loop {
        let token = reader.read_token().map_err(DumpError::Read)?;
        let indent = "  ".repeat(depth);
        match token {
            Token::Eof => return Ok(()),
            Token::Element(h) => {
                pending = Some(h);
                shown.clear();
                // Group 0002 is always little endian (PS3.10 7.1).
                big_endian = h.tag.group() != 0x0002 && reader.encoding().big_endian;
            }
            Token::Value { bytes, last } => {
                let room = SHOWN_BYTES - shown.len();
                shown.extend_from_slice(&bytes[..bytes.len().min(room)]);
                if last {
                    if let Some(h) = pending.take() {
                        let value =
                            format_value(h.vr, &shown, h.len as usize > shown.len(), big_endian);
                        writeln!(
                            out,
                            "{indent}{} {} {value}  # {}, {}",
                            h.tag,
                            h.vr,
                            h.len,
                            name(h.tag)
                        )?;
                    }
                }
            }
            Token::SequenceStart { tag, vr, len } => {
                writeln!(
                    out,
                    "{indent}{tag} {vr} ({})  # {}, {}",
                    length_text(len, "Sequence"),
                    len_number(len),
                    name(tag)
                )?;
                depth += 1;
            }
            Token::PixelSequenceStart { tag, vr } => {
                writeln!(
                    out,
                    "{indent}{tag} {vr} (PixelSequence #=?)  # u/l, {}",
                    name(tag)
                )?;
                depth += 1;
            }
            Token::ItemStart { len } => {
                writeln!(
                    out,
                    "{indent}(FFFE,E000) na ({})  # {}, Item",
                    length_text(len, "Item"),
                    len_number(len)
                )?;
                depth += 1;
            }
            Token::ItemEnd => {
                depth = depth.saturating_sub(1);
                writeln!(
                    out,
                    "{}(FFFE,E00D) na (ItemDelimitationItem)",
                    "  ".repeat(depth)
                )?;
            }
            Token::SequenceEnd => {
                depth = depth.saturating_sub(1);
                writeln!(
                    out,
                    "{}(FFFE,E0DD) na (SequenceDelimitationItem)",
                    "  ".repeat(depth)
                )?;
            }
        }
    }
}

fn length_text(len: Length, what: &str) -> String {
    match len {
        Length::Defined(_) => what.to_string(),
        Length::Undefined => format!("{what} with undefined length"),
    }
}

fn len_number(len: Length) -> String {
    match len {
        Length::Defined(n) => n.to_string(),
        Length::Undefined => "u/l".to_string(),
    }
}

fn name(tag: dcmflow_core::Tag) -> &'static str {
    if tag.is_private_creator() {
        return "PrivateCreator";
    }
    if tag.is_group_length() {
        return "GroupLength";
    }
    dict::tag(tag).map_or("Unknown Tag & Data", |e| e.keyword)
}

/// A short rendering of a value: text in brackets, numbers separated by `\`, other binary as hex.
fn format_value(vr: Vr, bytes: &[u8], truncated: bool, big_endian: bool) -> String {
    let more = if truncated { "..." } else { "" };
    if bytes.is_empty() {
        return "(no value available)".to_string();
    }
    if vr.is_text() {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end_matches(['\0', ' ']);
        return format!("[{}{more}]", text.escape_debug());
    }
    let numbers: Option<Vec<String>> = match vr {
        Vr::US => Some(
            words::<2>(bytes, big_endian)
                .map(|w| u16::from_le_bytes(w).to_string())
                .collect(),
        ),
        Vr::SS => Some(
            words::<2>(bytes, big_endian)
                .map(|w| i16::from_le_bytes(w).to_string())
                .collect(),
        ),
        Vr::UL => Some(
            words::<4>(bytes, big_endian)
                .map(|w| u32::from_le_bytes(w).to_string())
                .collect(),
        ),
        Vr::SL => Some(
            words::<4>(bytes, big_endian)
                .map(|w| i32::from_le_bytes(w).to_string())
                .collect(),
        ),
        Vr::FL => Some(
            words::<4>(bytes, big_endian)
                .map(|w| f32::from_le_bytes(w).to_string())
                .collect(),
        ),
        Vr::FD => Some(
            words::<8>(bytes, big_endian)
                .map(|w| f64::from_le_bytes(w).to_string())
                .collect(),
        ),
        Vr::SV => Some(
            words::<8>(bytes, big_endian)
                .map(|w| i64::from_le_bytes(w).to_string())
                .collect(),
        ),
        Vr::UV => Some(
            words::<8>(bytes, big_endian)
                .map(|w| u64::from_le_bytes(w).to_string())
                .collect(),
        ),
        Vr::AT => Some(
            words::<4>(bytes, false)
                .map(|w| {
                    let (g, e) = if big_endian {
                        (
                            u16::from_be_bytes([w[0], w[1]]),
                            u16::from_be_bytes([w[2], w[3]]),
                        )
                    } else {
                        (
                            u16::from_le_bytes([w[0], w[1]]),
                            u16::from_le_bytes([w[2], w[3]]),
                        )
                    };
                    format!("({g:04X},{e:04X})")
                })
                .collect(),
        ),
        _ => None,
    };
    match numbers {
        Some(n) => format!("{}{more}", n.join("\\")),
        None => {
            let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
            let more = if truncated || bytes.len() > 16 {
                "..."
            } else {
                ""
            };
            format!("{}{more}", hex.join("\\"))
        }
    }
}

/// Fixed-size words of a value, as little-endian byte arrays whatever the source order.
fn words<const N: usize>(bytes: &[u8], big_endian: bool) -> impl Iterator<Item = [u8; N]> + '_ {
    bytes.chunks_exact(N).map(move |c| {
        let mut w = [0u8; N];
        w.copy_from_slice(c);
        if big_endian {
            w.reverse();
        }
        w
    })
}
