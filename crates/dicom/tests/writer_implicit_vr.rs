//! Implicit VR leaves the VR to the reader's dictionary (PS3.5 7.1.3): what the writer refuses and what it
//! writes so that the output still reads back.

use dcmflow_core::{ErrorKind, Header, Length, Tag, Token, TransferSyntax, Vr};
use dcmflow_dicom::{DicomReader, DicomWriter, ReaderOptions, WriterOptions};

fn write(ts: TransferSyntax, tokens: &[Token<'_>]) -> Result<Vec<u8>, ErrorKind> {
    let mut options = WriterOptions::new(ts);
    options.part10 = false;
    let mut writer = DicomWriter::new(Vec::new(), options);
    for token in tokens {
        writer.write_token(token).map_err(|e| e.kind)?;
    }
    writer.finish().map_err(|e| e.kind)
}

fn read_back(data: &[u8]) -> Vec<Token<'static>> {
    let options = ReaderOptions {
        transfer_syntax: Some(TransferSyntax::IMPLICIT_VR_LE),
        ..ReaderOptions::default()
    };
    let mut reader = DicomReader::from_slice(data, options);
    let mut tokens = Vec::new();
    loop {
        let token = reader.read_token().expect("reads back");
        let done = token == Token::Eof;
        tokens.push(token.to_static().unwrap_or(Token::Eof));
        if done {
            return tokens;
        }
    }
}

/// (0048,0008) Total Pixel Matrix Origin Sequence, given a CS value.
fn cs_on_a_sequence_tag(value: &[u8]) -> [Token<'_>; 3] {
    [
        Token::Element(Header {
            tag: Tag(0x0048_0008),
            vr: Vr::CS,
            len: value.len() as u32,
        }),
        Token::Value {
            bytes: value,
            last: true,
        },
        Token::Eof,
    ]
}

#[test]
fn a_value_on_a_dictionary_sequence_is_refused_in_implicit_vr_only() {
    let tokens = cs_on_a_sequence_tag(b"ORIGINAL");
    assert_eq!(
        write(TransferSyntax::IMPLICIT_VR_LE, &tokens),
        Err(ErrorKind::ImplicitVrSequence(Tag(0x0048_0008), Vr::CS))
    );
    assert!(write(TransferSyntax::EXPLICIT_VR_LE, &tokens).is_ok());
    assert!(write(TransferSyntax::EXPLICIT_VR_BE, &tokens).is_ok());
    // Empty, it reads back as an empty sequence.
    let empty = write(TransferSyntax::IMPLICIT_VR_LE, &cs_on_a_sequence_tag(b"")).unwrap();
    let tokens = read_back(&empty);
    assert!(
        matches!(
            tokens[0],
            Token::SequenceStart {
                tag: Tag(0x0048_0008),
                ..
            }
        ),
        "{tokens:?}"
    );
}

#[test]
fn a_sequence_on_a_non_sequence_tag_reads_back_as_a_sequence() {
    // (0010,0010) is PN in the dictionary.
    let value = b"x ";
    let tokens = [
        Token::SequenceStart {
            tag: Tag(0x0010_0010),
            vr: Vr::SQ,
            len: Length::Undefined,
        },
        Token::ItemStart {
            len: Length::Undefined,
        },
        Token::Element(Header {
            tag: Tag(0x0010_0020),
            vr: Vr::LO,
            len: 2,
        }),
        Token::Value {
            bytes: value,
            last: true,
        },
        Token::ItemEnd,
        Token::SequenceEnd,
        Token::Eof,
    ];
    let written = write(TransferSyntax::IMPLICIT_VR_LE, &tokens).unwrap();
    let back = read_back(&written);
    assert!(
        matches!(
            back[0],
            Token::SequenceStart {
                tag: Tag(0x0010_0010),
                ..
            }
        ),
        "{back:?}"
    );
    assert!(back.contains(&Token::Element(Header {
        tag: Tag(0x0010_0020),
        vr: Vr::LO,
        len: 2
    })));
}
