//! Text VRs: which are multi-valued, what padding is insignificant, and Person Name component groups.

use dcmflow_core::Vr;

use crate::escape::write_escaped;

/// PS3.5 6.4: VRs whose values are separated by `\` (LT, ST, UT and UR hold one value that may contain it).
pub fn is_multi_valued(vr: Vr) -> bool {
    matches!(
        vr,
        Vr::AE
            | Vr::AS
            | Vr::CS
            | Vr::DA
            | Vr::DS
            | Vr::DT
            | Vr::IS
            | Vr::LO
            | Vr::PN
            | Vr::SH
            | Vr::TM
            | Vr::UC
            | Vr::UI
    )
}

/// PS3.5 6.1: Specific Character Set applies to SH, LO, ST, LT, PN, UC and UT; every other text VR is
/// the default repertoire.
pub fn uses_specific_charset(vr: Vr) -> bool {
    matches!(
        vr,
        Vr::SH | Vr::LO | Vr::ST | Vr::LT | Vr::PN | Vr::UC | Vr::UT
    )
}

/// Strips the padding PS3.5 Table 6.2-1 calls insignificant: leading and trailing spaces for the short
/// string VRs, trailing spaces for the long texts, PN, UC and UR, trailing NULs (UI padding, and a common
/// writer mistake elsewhere).
pub fn trim(vr: Vr, value: &str) -> &str {
    // Byte-wise: both padding characters are ASCII, so every cut is on a character boundary.
    let bytes = value.as_bytes();
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != 0)
        .map_or(0, |i| i + 1);
    let start = match vr {
        Vr::AE | Vr::AS | Vr::CS | Vr::DA | Vr::DS | Vr::DT | Vr::IS | Vr::LO | Vr::SH | Vr::TM => {
            bytes[..end].iter().position(|&b| b != b' ').unwrap_or(end)
        }
        _ => 0,
    };
    &value[start..end]
}

/// PS3.18 F.2.2: the JSON names of the PN component groups, in order.
const GROUP_NAMES: [&str; 3] = ["Alphabetic", "Ideographic", "Phonetic"];

/// Writes one PN value as an object of its non-empty component groups (F.2.2), or `null` when all are
/// empty. Returns `false` when the value has more than three groups (R8: invalid); the extra groups are
/// dropped.
pub fn write_person_name(out: &mut Vec<u8>, value: &str) -> bool {
    let mut groups = value.split('=');
    let mut wrote_any = false;
    for name in GROUP_NAMES {
        let Some(group) = groups.next() else { break };
        if group.is_empty() {
            continue;
        }
        out.extend_from_slice(if wrote_any { b",\"" } else { b"{\"" });
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":\"");
        write_escaped(out, group);
        out.push(b'"');
        wrote_any = true;
    }
    if wrote_any {
        out.push(b'}');
    } else {
        out.extend_from_slice(b"null");
    }
    groups.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pn(value: &str) -> (String, bool) {
        let mut out = Vec::new();
        let ok = write_person_name(&mut out, value);
        (String::from_utf8(out).unwrap(), ok)
    }

    #[test]
    fn person_name_groups_only_non_empty() {
        assert_eq!(pn("Doe^John").0, r#"{"Alphabetic":"Doe^John"}"#);
        assert_eq!(pn("=Ideo").0, r#"{"Ideographic":"Ideo"}"#);
        assert_eq!(
            pn("Yamada^Tarou=山田^太郎=やまだ^たろう").0,
            r#"{"Alphabetic":"Yamada^Tarou","Ideographic":"山田^太郎","Phonetic":"やまだ^たろう"}"#
        );
        assert_eq!(pn("").0, "null");
        assert_eq!(pn("==").0, "null");
        assert_eq!(
            pn("a=b=c=d"),
            (
                r#"{"Alphabetic":"a","Ideographic":"b","Phonetic":"c"}"#.into(),
                false
            )
        );
    }

    #[test]
    fn trimming_follows_the_vr() {
        assert_eq!(trim(Vr::CS, "  ORIGINAL "), "ORIGINAL");
        assert_eq!(trim(Vr::LT, "  indented  "), "  indented");
        assert_eq!(trim(Vr::UI, "1.2.3\0"), "1.2.3");
        assert_eq!(trim(Vr::PN, "Doe^John "), "Doe^John");
    }
}
