//! Shared by the integration tests: turn a token stream into the element listing format of
//! `shared/corpus/expected/` (path, tag, VR, length), and locate the shared test material.

#![allow(dead_code)]

use dcmflow_core::{Result, Token};
use dcmflow_dicom::DicomReader;

pub use dcmflow_testkit::shared_dir;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub path: String,
    pub tag: String,
    pub vr: String,
    pub length: String,
}

enum Open {
    Sequence {
        line: usize,
        items: usize,
        prefix: String,
    },
    Pixels {
        line: usize,
        bytes: u64,
    },
}

/// Reads the whole input and lists its elements depth first, as `expected_listing.py` does.
pub fn listing(reader: &mut DicomReader<'_>) -> Result<Vec<Line>> {
    let mut lines: Vec<Line> = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut path = String::new();
    loop {
        match reader.read_token()? {
            Token::Eof => return Ok(lines),
            Token::Element(h) => lines.push(Line {
                path: path.clone(),
                tag: format!("{:08X}", h.tag.0),
                vr: h.vr.to_string(),
                length: h.len.to_string(),
            }),
            Token::Value { .. } => {}
            Token::SequenceStart { tag, vr, .. } => {
                lines.push(Line {
                    path: path.clone(),
                    tag: format!("{:08X}", tag.0),
                    vr: vr.to_string(),
                    length: String::new(),
                });
                open.push(Open::Sequence {
                    line: lines.len() - 1,
                    items: 0,
                    prefix: path.clone(),
                });
            }
            Token::PixelSequenceStart { tag, vr } => {
                lines.push(Line {
                    path: path.clone(),
                    tag: format!("{:08X}", tag.0),
                    vr: vr.to_string(),
                    length: String::new(),
                });
                open.push(Open::Pixels {
                    line: lines.len() - 1,
                    bytes: 0,
                });
            }
            Token::ItemStart { len } => match open.last_mut() {
                Some(Open::Sequence {
                    line,
                    items,
                    prefix,
                }) => {
                    *items += 1;
                    path = format!("{}{}[{}].", prefix, lines[*line].tag, items);
                }
                Some(Open::Pixels { bytes, .. }) => *bytes += 8 + len.raw() as u64,
                None => panic!("item outside a sequence"),
            },
            Token::ItemEnd => {
                if let Some(Open::Sequence { prefix, .. }) = open.last() {
                    path = prefix.clone();
                }
            }
            Token::SequenceEnd => match open.pop() {
                Some(Open::Sequence {
                    line,
                    items,
                    prefix,
                }) => {
                    lines[line].length = format!("items={items}");
                    path = prefix;
                }
                Some(Open::Pixels { line, bytes }) => {
                    lines[line].length = format!("encapsulated={bytes}")
                }
                None => panic!("sequence end outside a sequence"),
            },
        }
    }
}

pub fn parse_expected(text: &str) -> Vec<Line> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut c = l.split('\t');
            let mut next = || c.next().unwrap_or("").to_string();
            Line {
                path: next(),
                tag: next(),
                vr: next(),
                length: next(),
            }
        })
        .collect()
}
