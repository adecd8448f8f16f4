use crate::dict::{self, UidKind};

/// How a data set is encoded on the wire (PS3.5 Section 10): the two switches that matter to the parser.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Encoding {
    /// VRs are written in element headers.
    pub explicit_vr: bool,
    /// Numbers are big endian.
    pub big_endian: bool,
}

impl Encoding {
    /// Implicit VR Little Endian.
    pub const IMPLICIT_LE: Encoding = Encoding {
        explicit_vr: false,
        big_endian: false,
    };
    /// Explicit VR Little Endian.
    pub const EXPLICIT_LE: Encoding = Encoding {
        explicit_vr: true,
        big_endian: false,
    };
    /// Explicit VR Big Endian.
    pub const EXPLICIT_BE: Encoding = Encoding {
        explicit_vr: true,
        big_endian: true,
    };
}

/// A transfer syntax from the PS3.6 registry, with the encoding of its data set.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TransferSyntax {
    /// The UID.
    pub uid: &'static str,
    /// The name, for people.
    pub name: &'static str,
    /// How its data set is encoded.
    pub encoding: Encoding,
    /// PS3.5 A.5: the data set after the file meta is a raw deflate stream.
    pub deflated: bool,
}

impl TransferSyntax {
    /// Implicit VR Little Endian, 1.2.840.10008.1.2.
    pub const IMPLICIT_VR_LE: TransferSyntax = TransferSyntax {
        uid: "1.2.840.10008.1.2",
        name: "Implicit VR Little Endian",
        encoding: Encoding::IMPLICIT_LE,
        deflated: false,
    };
    /// Explicit VR Little Endian, 1.2.840.10008.1.2.1.
    pub const EXPLICIT_VR_LE: TransferSyntax = TransferSyntax {
        uid: "1.2.840.10008.1.2.1",
        name: "Explicit VR Little Endian",
        encoding: Encoding::EXPLICIT_LE,
        deflated: false,
    };
    /// Explicit VR Big Endian (retired), 1.2.840.10008.1.2.2.
    pub const EXPLICIT_VR_BE: TransferSyntax = TransferSyntax {
        uid: "1.2.840.10008.1.2.2",
        name: "Explicit VR Big Endian",
        encoding: Encoding::EXPLICIT_BE,
        deflated: false,
    };
    /// Deflated Explicit VR Little Endian, 1.2.840.10008.1.2.1.99.
    pub const DEFLATED_EXPLICIT_VR_LE: TransferSyntax = TransferSyntax {
        uid: "1.2.840.10008.1.2.1.99",
        name: "Deflated Explicit VR Little Endian",
        encoding: Encoding::EXPLICIT_LE,
        deflated: true,
    };

    /// Looks a UID up in the registry. Trailing NUL/space padding (PS3.5 6.2 UI) is ignored.
    /// Every registered syntax other than the two implicit and the big-endian one encodes its data set as
    /// Explicit VR Little Endian (PS3.5 A.4: encapsulated syntaxes; A.5 and JPIP Deflate: deflated).
    pub fn from_uid(uid: &str) -> Option<TransferSyntax> {
        let uid = uid.trim_end_matches(['\0', ' ']);
        let entry = dict::uid(uid)?;
        if entry.kind != UidKind::TransferSyntax {
            return None;
        }
        let encoding = match entry.uid {
            // PS3.5 A.1, and the retired Papyrus 3 syntax that is Implicit VR LE too.
            "1.2.840.10008.1.2" | "1.2.840.10008.1.20" => Encoding::IMPLICIT_LE,
            "1.2.840.10008.1.2.2" => Encoding::EXPLICIT_BE,
            _ => Encoding::EXPLICIT_LE,
        };
        let deflated = matches!(
            entry.uid,
            "1.2.840.10008.1.2.1.99" | "1.2.840.10008.1.2.4.95" | "1.2.840.10008.1.2.4.205"
        );
        Some(TransferSyntax {
            uid: entry.uid,
            name: entry.name,
            encoding,
            deflated,
        })
    }

    /// True for the syntaxes whose pixel data is native (not encapsulated) and that we can write.
    pub fn is_uncompressed(&self) -> bool {
        matches!(
            self.uid,
            "1.2.840.10008.1.2"
                | "1.2.840.10008.1.2.1"
                | "1.2.840.10008.1.2.2"
                | "1.2.840.10008.1.2.1.99"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_lookup_gives_encodings() {
        assert_eq!(
            TransferSyntax::from_uid("1.2.840.10008.1.2\0"),
            Some(TransferSyntax::IMPLICIT_VR_LE)
        );
        assert_eq!(
            TransferSyntax::from_uid("1.2.840.10008.1.2.2"),
            Some(TransferSyntax::EXPLICIT_VR_BE)
        );
        assert_eq!(
            TransferSyntax::from_uid("1.2.840.10008.1.2.1.99"),
            Some(TransferSyntax::DEFLATED_EXPLICIT_VR_LE)
        );
        let jpeg = TransferSyntax::from_uid("1.2.840.10008.1.2.4.50").unwrap();
        assert_eq!(jpeg.encoding, Encoding::EXPLICIT_LE);
        assert!(!jpeg.deflated && !jpeg.is_uncompressed());
        // A SOP Class UID is not a transfer syntax.
        assert_eq!(TransferSyntax::from_uid("1.2.840.10008.5.1.4.1.1.2"), None);
        assert_eq!(TransferSyntax::from_uid("1.2.3.4"), None);
    }
}
