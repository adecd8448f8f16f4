use std::fmt;

macro_rules! vrs {
    ($($name:ident),* $(,)?) => {
        /// Value Representation (PS3.5 6.2), every VR of the current edition.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub enum Vr { $(#[doc = concat!("The VR ", stringify!($name), " (PS3.5 Table 6.2-1).")] $name),* }

        impl Vr {
            /// All VRs, in alphabetical order.
            pub const ALL: &'static [Vr] = &[$(Vr::$name),*];

            /// The two ASCII bytes of an explicit-VR header.
            pub const fn bytes(self) -> [u8; 2] {
                match self { $(Vr::$name => { let s = stringify!($name).as_bytes(); [s[0], s[1]] }),* }
            }

            /// The VR's two letters.
            pub const fn as_str(self) -> &'static str {
                match self { $(Vr::$name => stringify!($name)),* }
            }
        }
    };
}

vrs!(
    AE, AS, AT, CS, DA, DS, DT, FD, FL, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS, ST,
    SV, TM, UC, UI, UL, UN, UR, US, UT, UV,
);

/// Every pair of uppercase letters → the VR it names, built at compile time from `Vr::ALL`.
const VR_BY_LETTERS: [Option<Vr>; 26 * 26] = {
    let mut table = [None; 26 * 26];
    let mut i = 0;
    while i < Vr::ALL.len() {
        let b = Vr::ALL[i].bytes();
        table[(b[0] - b'A') as usize * 26 + (b[1] - b'A') as usize] = Some(Vr::ALL[i]);
        i += 1;
    }
    table
};

impl Vr {
    /// Parses the two bytes of an explicit-VR header; `None` for bytes that name no VR.
    pub fn from_bytes(b: [u8; 2]) -> Option<Vr> {
        // Called for every explicit-VR header and every DICOM JSON element: a table, not a search.
        let (x, y) = (b[0].wrapping_sub(b'A'), b[1].wrapping_sub(b'A'));
        if x < 26 && y < 26 {
            VR_BY_LETTERS[usize::from(x) * 26 + usize::from(y)]
        } else {
            None
        }
    }

    /// PS3.5 Table 7.1-1: these VRs have a 2-byte reserved field and a 4-byte length in explicit VR.
    pub const fn has_long_length(self) -> bool {
        matches!(
            self,
            Vr::OB
                | Vr::OD
                | Vr::OF
                | Vr::OL
                | Vr::OV
                | Vr::OW
                | Vr::SQ
                | Vr::SV
                | Vr::UC
                | Vr::UN
                | Vr::UR
                | Vr::UT
                | Vr::UV
        )
    }

    /// The size of one binary word whose byte order depends on the transfer syntax (PS3.5 7.3),
    /// or 1 when the value is a byte stream that is never swapped (OB, UN, text).
    /// AT is two 16-bit words (PS3.5 6.2), so it swaps as 2.
    pub const fn swap_unit(self) -> usize {
        match self {
            Vr::AT | Vr::OW | Vr::SS | Vr::US => 2,
            Vr::FL | Vr::OF | Vr::OL | Vr::SL | Vr::UL => 4,
            Vr::FD | Vr::OD | Vr::OV | Vr::SV | Vr::UV => 8,
            _ => 1,
        }
    }

    /// Character-string VRs (their values are text, possibly multi-valued with `\`).
    pub const fn is_text(self) -> bool {
        matches!(
            self,
            Vr::AE
                | Vr::AS
                | Vr::CS
                | Vr::DA
                | Vr::DS
                | Vr::DT
                | Vr::IS
                | Vr::LO
                | Vr::LT
                | Vr::PN
                | Vr::SH
                | Vr::ST
                | Vr::TM
                | Vr::UC
                | Vr::UI
                | Vr::UR
                | Vr::UT
        )
    }
}

impl fmt::Display for Vr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_for_every_vr() {
        for &vr in Vr::ALL {
            assert_eq!(Vr::from_bytes(vr.bytes()), Some(vr));
        }
        assert_eq!(Vr::ALL.len(), 34);
        assert_eq!(Vr::from_bytes(*b"XX"), None);
        assert_eq!(Vr::from_bytes(*b"ob"), None);
        // Every other pair of bytes names no VR.
        for b0 in 0..=255u8 {
            for b1 in 0..=255u8 {
                let named = Vr::ALL.iter().any(|v| v.bytes() == [b0, b1]);
                assert_eq!(
                    Vr::from_bytes([b0, b1]).is_some(),
                    named,
                    "{b0:02X} {b1:02X}"
                );
            }
        }
    }

    #[test]
    fn long_length_vrs_match_ps3_5_table_7_1_1() {
        let long: Vec<&str> = Vr::ALL
            .iter()
            .filter(|v| v.has_long_length())
            .map(|v| v.as_str())
            .collect();
        assert_eq!(
            long,
            ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]
        );
    }
}
