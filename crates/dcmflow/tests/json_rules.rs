//! One test per DICOM JSON rule of docs/design.md, JSON rules that applies to DICOM → JSON (R1–R22), on data sets built
//! here byte by byte, with the exact JSON we decided (docs/design.md, Decisions).

use dcmflow::json::bulk::{BulkDecision, BulkElement, BulkSelection, SourceReference};
use dcmflow::json::{BulkHandler, JsonOptions, JsonWarningKind, NumberPolicy};
use dcmflow::{DicomToJson, Input, Output, Report, ToJsonOptions, WarningCode};
use dcmflow_core::{TransferSyntax, Vr};
use dcmflow_dicom::{CharacterSet, ReaderOptions};

/// An Explicit VR Little Endian element (PS3.5 7.1.2).
fn el(group: u16, element: u16, vr: &str, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&element.to_le_bytes());
    out.extend_from_slice(vr.as_bytes());
    if matches!(
        vr,
        "OB" | "OD" | "OF" | "OL" | "OV" | "OW" | "SQ" | "SV" | "UC" | "UN" | "UR" | "UT" | "UV"
    ) {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(value);
    out
}

/// A sequence of undefined length holding the given items (each a data set body).
fn sq(group: u16, element: u16, items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&element.to_le_bytes());
    out.extend_from_slice(b"SQ\0\0");
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    for item in items {
        out.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
        out.extend_from_slice(&(item.len() as u32).to_le_bytes());
        out.extend_from_slice(item);
    }
    out.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    out
}

/// DICOM → JSON of `input` into `output`.
fn dicom_to_json<'i, 'o>(
    input: impl Into<Input<'i>>,
    output: impl Into<Output<'o>>,
    options: &ToJsonOptions,
) -> Result<Report, dcmflow::Error> {
    DicomToJson::new(options.clone()).convert(input, output)
}

fn json_with(dataset: &[u8], options: &ToJsonOptions) -> (String, Report) {
    let mut out = Vec::new();
    let report = dicom_to_json(dataset, &mut out, options).expect("converts");
    (String::from_utf8(out).expect("UTF-8"), report)
}

/// The JSON of `dataset` with every bulk decision left to `handler`.
fn json_with_bulk(dataset: &[u8], handler: &mut dyn BulkHandler) -> String {
    let mut out = Vec::new();
    DicomToJson::new(ToJsonOptions::default())
        .bulk_handler(handler)
        .convert(dataset, &mut out)
        .expect("converts");
    String::from_utf8(out).expect("UTF-8")
}

fn json(dataset: &[u8]) -> String {
    json_with(dataset, &ToJsonOptions::default()).0
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

fn warned(report: &Report, kind: JsonWarningKind) -> bool {
    report
        .warnings
        .iter()
        .any(|w| w.code() == WarningCode::JsonOutput(kind))
}

#[test]
fn r1_keys_ascending_even_for_unsorted_input() {
    let ds = cat(&[
        el(0x0010, 0x0020, "LO", b"ID"),
        el(0x0008, 0x0060, "CS", b"CT"),
        el(0x0010, 0x0010, "PN", b"A^B "),
    ]);
    let (out, report) = json_with(&ds, &ToJsonOptions::default());
    assert_eq!(
        out,
        r#"{"00080060":{"vr":"CS","Value":["CT"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"A^B"}]},"00100020":{"vr":"LO","Value":["ID"]}}"#
    );
    assert!(warned(&report, JsonWarningKind::OrderRestored));
}

#[test]
fn r1_duplicate_tags_keep_the_first_and_warn() {
    let ds = cat(&[
        el(0x0008, 0x0060, "CS", b"CT"),
        el(0x0008, 0x0060, "CS", b"MR"),
    ]);
    let (out, report) = json_with(&ds, &ToJsonOptions::default());
    assert_eq!(out, r#"{"00080060":{"vr":"CS","Value":["CT"]}}"#);
    assert!(warned(&report, JsonWarningKind::DuplicateDropped));
}

#[test]
fn r2_group_lengths_are_never_written() {
    let ds = cat(&[
        el(0x0008, 0x0000, "UL", &8u32.to_le_bytes()),
        el(0x0008, 0x0060, "CS", b"CT"),
    ]);
    assert_eq!(json(&ds), r#"{"00080060":{"vr":"CS","Value":["CT"]}}"#);
}

#[test]
fn r3_keys_are_eight_uppercase_hex_digits() {
    let ds = cat(&[
        el(0x0009, 0x0010, "LO", b"ACME"),
        el(0x0009, 0x10AB, "LO", b"x "),
    ]);
    assert_eq!(
        json(&ds),
        r#"{"00090010":{"vr":"LO","Value":["ACME"]},"000910AB":{"vr":"LO","Value":["x"]}}"#
    );
}

#[test]
fn r4_an_element_has_exactly_one_of_value_inline_binary_bulk_uri() {
    let ds = cat(&[
        el(0x0028, 0x0010, "US", &2u16.to_le_bytes()),
        el(0x7FE0, 0x0010, "OW", &[1; 2048]),
    ]);
    let mut handler = SourceReference {
        selection: BulkSelection::binary(1024),
        source_uri: "file:///x.dcm".into(),
    };
    let text = json_with_bulk(&ds, &mut handler);
    assert_eq!(
        text,
        r#"{"00280010":{"vr":"US","Value":[2]},"7FE00010":{"vr":"OW","BulkDataURI":"file:///x.dcm?offset=22&length=2048"}}"#
    );
}

#[test]
fn r5_zero_length_elements_have_no_value() {
    let ds = cat(&[
        el(0x0010, 0x0010, "PN", b""),
        el(0x0020, 0x0012, "IS", b""),
        el(0x0028, 0x0010, "US", b""),
        el(0x7FE0, 0x0010, "OB", b""),
    ]);
    assert_eq!(
        json(&ds),
        r#"{"00100010":{"vr":"PN"},"00200012":{"vr":"IS"},"00280010":{"vr":"US"},"7FE00010":{"vr":"OB"}}"#
    );
}

#[test]
fn r6_empty_values_among_several_are_null() {
    let ds = cat(&[
        el(0x0008, 0x0008, "CS", b"ORIGINAL\\\\PRIMARY "),
        el(0x0020, 0x0037, "DS", b"1\\\\0 "),
    ]);
    assert_eq!(
        json(&ds),
        r#"{"00080008":{"vr":"CS","Value":["ORIGINAL",null,"PRIMARY"]},"00200037":{"vr":"DS","Value":[1,null,0]}}"#
    );
}

#[test]
fn r7_person_name_groups_only_the_non_empty_ones_and_empty_names_null() {
    let ds = el(0x0010, 0x0010, "PN", b"Doe^John\\\\=Ideo ");
    assert_eq!(
        json(&ds),
        r#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"},null,{"Ideographic":"Ideo"}]}}"#
    );
}

#[test]
fn r8_person_names_with_more_than_three_groups_are_cut_with_a_warning() {
    let ds = el(0x0010, 0x0010, "PN", b"a=b=c=d ");
    let (out, report) = json_with(&ds, &ToJsonOptions::default());
    assert_eq!(
        out,
        r#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"a","Ideographic":"b","Phonetic":"c"}]}}"#
    );
    assert!(warned(&report, JsonWarningKind::PersonNameGroups));
}

#[test]
fn r9_is_ds_numbers_or_strings_by_policy() {
    let ds = cat(&[
        el(0x0018, 0x0050, "DS", b"+5\\1,5"),
        el(0x0020, 0x0013, "IS", b"007 "),
    ]);
    let (auto, report) = json_with(&ds, &ToJsonOptions::default());
    assert_eq!(
        auto,
        r#"{"00180050":{"vr":"DS","Value":[5,"1,5"]},"00200013":{"vr":"IS","Value":[7]}}"#
    );
    assert!(warned(&report, JsonWarningKind::InvalidNumber));

    let strings = {
        let mut o = ToJsonOptions::default();
        o.json = JsonOptions {
            numbers: NumberPolicy::String,
            ..JsonOptions::default()
        };
        o
    };
    assert_eq!(
        json_with(&ds, &strings).0,
        r#"{"00180050":{"vr":"DS","Value":["+5","1,5"]},"00200013":{"vr":"IS","Value":["007"]}}"#
    );

    let numbers = {
        let mut o = ToJsonOptions::default();
        o.json = JsonOptions {
            numbers: NumberPolicy::Number,
            ..JsonOptions::default()
        };
        o
    };
    let err = dicom_to_json(&ds[..], &mut Vec::new(), &numbers).unwrap_err();
    assert_eq!(err.classify(), dcmflow::Category::InvalidValue, "{err}");
}

#[test]
fn r10_ds_beyond_binary64_is_a_string_that_parsers_read_and_json2dcm_keeps() {
    // Valid DS syntax, 9 characters, but no binary64 holds it: serde_json would refuse it as a number.
    let ds = el(0x0018, 0x0050, "DS", b"-2.5E+530 ");
    let (out, report) = json_with(&ds, &ToJsonOptions::default());
    assert_eq!(out, r#"{"00180050":{"vr":"DS","Value":["-2.5E+530"]}}"#);
    assert!(warned(&report, JsonWarningKind::NumberOutOfRange));
    serde_json::from_str::<serde_json::Value>(&out).expect("valid for a binary64 parser");
    let bare = {
        let mut o = dcmflow::ToDicomOptions::default();
        o.part10 = false;
        o
    };
    let mut back = Vec::new();
    dcmflow::JsonToDicom::new(bare)
        .convert(out.as_bytes(), &mut back)
        .unwrap();
    assert_eq!(back, el(0x0018, 0x0050, "DS", b"-2.5E+530 "));
}

#[test]
fn r10_only_rfc8259_numbers_are_written() {
    let mut fd = Vec::new();
    for v in [f64::NAN, 1.5, f64::INFINITY, f64::NEG_INFINITY, 1e-7] {
        fd.extend_from_slice(&v.to_le_bytes());
    }
    let ds = cat(&[
        el(0x0018, 0x0088, "DS", b".5\\1.\\-.5e3\\NaN "),
        el(0x0018, 0x9087, "FD", &fd),
        el(0x0018, 0x9089, "FL", &0.1f32.to_le_bytes()),
    ]);
    let (out, report) = json_with(&ds, &ToJsonOptions::default());
    assert_eq!(
        out,
        r#"{"00180088":{"vr":"DS","Value":[0.5,1,-0.5e3,"NaN"]},"00189087":{"vr":"FD","Value":["NaN",1.5,"Infinity","-Infinity",1e-7]},"00189089":{"vr":"FL","Value":[0.1]}}"#
    );
    assert!(warned(&report, JsonWarningKind::NonFiniteFloat));
}

#[test]
fn r11_sv_uv_beyond_2_53_are_strings() {
    let mut sv = Vec::new();
    sv.extend_from_slice(&((1i64 << 53) - 1).to_le_bytes());
    sv.extend_from_slice(&i64::MIN.to_le_bytes());
    let ds = cat(&[
        el(0x0018, 0x9219, "SV", &sv),
        el(0x0018, 0x9220, "UV", &u64::MAX.to_le_bytes()),
    ]);
    assert_eq!(
        json(&ds),
        r#"{"00189219":{"vr":"SV","Value":[9007199254740991,"-9223372036854775808"]},"00189220":{"vr":"UV","Value":["18446744073709551615"]}}"#
    );
}

#[test]
fn r12_at_is_ggggeeee() {
    let ds = el(
        0x0028,
        0x0009,
        "AT",
        &[0x18, 0x00, 0x63, 0x10, 0x54, 0x00, 0x80, 0x00],
    );
    assert_eq!(
        json(&ds),
        r#"{"00280009":{"vr":"AT","Value":["00181063","00540080"]}}"#
    );
}

#[test]
fn r13_inline_binary_is_one_little_endian_base64_string() {
    // The same OW value in Explicit VR Big Endian: InlineBinary must be the little-endian bytes.
    let mut be = Vec::new();
    be.extend_from_slice(&[0x00, 0x28, 0x12, 0x01, b'O', b'W', 0, 0, 0, 0, 0, 6]);
    be.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
    let options = {
        let mut o = ToJsonOptions::default();
        o.reader = ReaderOptions {
            transfer_syntax: Some(TransferSyntax::EXPLICIT_VR_BE),
            ..ReaderOptions::default()
        };
        o
    };
    assert_eq!(
        json_with(&be, &options).0,
        r#"{"00281201":{"vr":"OW","InlineBinary":"AgEEAwYF"}}"#
    );
    // UN is never swapped.
    let un = cat(&[
        el(0x0009, 0x0010, "LO", b"X "),
        el(0x0009, 0x1001, "UN", &[1, 2, 3, 4]),
    ]);
    assert!(json(&un).ends_with(r#""00091001":{"vr":"UN","InlineBinary":"AQIDBA=="}}"#));
}

#[test]
fn r14_bulk_data_uri_only_for_the_vrs_f_2_2_allows() {
    let ds = cat(&[
        el(0x0008, 0x0018, "UI", &[b'1'; 64]),
        el(0x0018, 0x1030, "LO", &[b'a'; 64]),
        el(0x0020, 0x4000, "LT", &[b'b'; 64]),
    ]);
    let mut asked = Vec::new();
    let mut handler = |e: &BulkElement<'_>| -> std::io::Result<BulkDecision> {
        asked.push(e.vr);
        Ok(BulkDecision::Uri(format!("bulk/{}", e.tag.0)))
    };
    let text = json_with_bulk(&ds, &mut handler);
    assert_eq!(asked, [dcmflow_core::Vr::LT]);
    assert!(text.ends_with(r#""00204000":{"vr":"LT","BulkDataURI":"bulk/2113536"}}"#));
}

fn encapsulated() -> Vec<u8> {
    let mut px = Vec::new();
    px.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
    px.extend_from_slice(&u32::MAX.to_le_bytes());
    px.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]); // empty offset table
    px.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 4, 0, 0, 0, 0xFF, 0xD8, 0xFF, 0xD9]);
    px.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    px
}

#[test]
fn r15_encapsulated_pixel_data_is_never_empty() {
    let ds = cat(&[
        el(0x0028, 0x0010, "US", &1u16.to_le_bytes()),
        encapsulated(),
    ]);
    // Inline: the encapsulated value field (items), base64.
    assert_eq!(
        json(&ds),
        r#"{"00280010":{"vr":"US","Value":[1]},"7FE00010":{"vr":"OB","InlineBinary":"/v8A4AAAAAD+/wDgBAAAAP/Y/9k="}}"#
    );
    // Referenced: one URI for the whole value field (items, not the sequence delimiter).
    let mut handler = SourceReference {
        selection: BulkSelection::binary(1024),
        source_uri: "file:///x.dcm".into(),
    };
    assert!(json_with_bulk(&ds, &mut handler)
        .ends_with(r#""7FE00010":{"vr":"OB","BulkDataURI":"file:///x.dcm?offset=22&length=20"}}"#));
}

#[test]
fn r16_un_of_undefined_length_is_a_sequence() {
    let mut ds = Vec::new();
    ds.extend_from_slice(&[0x08, 0x00, 0x40, 0x11, b'U', b'N', 0, 0]);
    ds.extend_from_slice(&u32::MAX.to_le_bytes());
    // CP-246: the contents are Implicit VR Little Endian.
    let mut item = Vec::new();
    item.extend_from_slice(&[0x08, 0x00, 0x50, 0x11, 4, 0, 0, 0]);
    item.extend_from_slice(b"1.2\0");
    ds.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
    ds.extend_from_slice(&(item.len() as u32).to_le_bytes());
    ds.extend_from_slice(&item);
    ds.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    assert_eq!(
        json(&ds),
        r#"{"00081140":{"vr":"SQ","Value":[{"00081150":{"vr":"UI","Value":["1.2"]}}]}}"#
    );
}

#[test]
fn r17_character_sets_decode_and_0008_0005_is_kept_unless_replaced() {
    let ds = cat(&[
        el(0x0008, 0x0005, "CS", b"ISO_IR 100"),
        el(0x0010, 0x0010, "PN", b"M\xfcller^J\xfcrgen "),
    ]);
    assert_eq!(
        json(&ds),
        r#"{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Müller^Jürgen"}]}}"#
    );
    let replace = {
        let mut o = ToJsonOptions::default();
        o.json = JsonOptions {
            charset_replace: true,
            ..JsonOptions::default()
        };
        o
    };
    assert!(json_with(&ds, &replace)
        .0
        .starts_with(r#"{"00080005":{"vr":"CS","Value":["ISO_IR 192"]}"#));
    // ISO 2022 with code extensions, scoped per item: the item declares Japanese, the data set Latin-1.
    let item = cat(&[
        el(0x0008, 0x0005, "CS", b"\\ISO 2022 IR 87 "),
        el(
            0x0010,
            0x0010,
            "PN",
            b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B",
        ),
    ]);
    let nested = cat(&[
        el(0x0008, 0x0005, "CS", b"ISO_IR 100"),
        sq(0x0008, 0x1140, &[item]),
        el(0x0010, 0x0010, "PN", b"J\xe9r\xf4me "),
    ]);
    let out = json(&nested);
    assert!(
        out.contains(r#"{"Alphabetic":"Yamada^Tarou","Ideographic":"山田^太郎"}"#),
        "{out}"
    );
    assert!(
        out.ends_with(r#""00100010":{"vr":"PN","Value":[{"Alphabetic":"Jérôme"}]}}"#),
        "{out}"
    );
    // Nothing declared, 8-bit bytes: ISO 8859-1 with a warning, or what --charset-assume says.
    let undeclared = el(0x0010, 0x0010, "PN", b"\xc4\xe9\xef ");
    let (out, report) = json_with(&undeclared, &ToJsonOptions::default());
    assert!(out.contains("Äéï"));
    assert!(warned(&report, JsonWarningKind::UndeclaredCharacterSet));
    let greek = {
        let mut o = ToJsonOptions::default();
        o.json = JsonOptions {
            charset_assume: Some(CharacterSet::parse(b"ISO_IR 126").charset),
            ..JsonOptions::default()
        };
        o
    };
    assert!(json_with(&undeclared, &greek).0.contains("Διο"));
}

#[test]
fn r18_multi_valued_strings_split_on_backslash_but_texts_do_not() {
    let ds = cat(&[
        el(0x0008, 0x0008, "CS", b"A\\B"),
        el(0x0020, 0x4000, "LT", b"a\\b "),
    ]);
    assert_eq!(
        json(&ds),
        r#"{"00080008":{"vr":"CS","Value":["A","B"]},"00204000":{"vr":"LT","Value":["a\\b"]}}"#
    );
}

#[test]
fn r19_empty_items_are_empty_objects_and_empty_sequences_have_no_value() {
    let ds = cat(&[
        sq(0x0008, 0x1110, &[]),
        sq(
            0x0008,
            0x1140,
            &[Vec::new(), el(0x0008, 0x1155, "UI", b"1.2\0")],
        ),
    ]);
    assert_eq!(
        json(&ds),
        r#"{"00081110":{"vr":"SQ"},"00081140":{"vr":"SQ","Value":[{},{"00081155":{"vr":"UI","Value":["1.2"]}}]}}"#
    );
}

#[test]
fn r21_group_0002_inside_an_item_is_data_and_kept() {
    // PS3.10 7.1: only the top-level group 0002 is the file meta; DCMTK and pydicom keep nested ones.
    let ds = cat(&[
        el(0x0008, 0x0060, "CS", b"CT"),
        sq(
            0x0009,
            0x1010,
            &[el(0x0002, 0x0010, "UI", b"1.2.840.10008.1.2\0")],
        ),
    ]);
    let out = json(&ds);
    assert_eq!(
        out,
        r#"{"00080060":{"vr":"CS","Value":["CT"]},"00091010":{"vr":"SQ","Value":[{"00020010":{"vr":"UI","Value":["1.2.840.10008.1.2"]}}]}}"#
    );
    // And back: the nested element is written into the item, not taken for the meta.
    let bare = {
        let mut o = dcmflow::ToDicomOptions::default();
        o.part10 = false;
        o.lengths = dcmflow::dicom::LengthMode::Undefined;
        o
    };
    let mut back = Vec::new();
    dcmflow::JsonToDicom::new(bare)
        .convert(out.as_bytes(), &mut back)
        .unwrap();
    assert_eq!(json(&back), out);
}

#[test]
fn r21_file_meta_only_on_request() {
    let mut file = vec![0u8; 128];
    file.extend_from_slice(b"DICM");
    let ts = b"1.2.840.10008.1.2.1\0";
    let meta_body = cat(&[
        el(0x0002, 0x0001, "OB", &[0, 1]),
        el(0x0002, 0x0002, "UI", b"1.2\0"),
        el(0x0002, 0x0003, "UI", b"1.3\0"),
        el(0x0002, 0x0010, "UI", ts),
    ]);
    file.extend(el(
        0x0002,
        0x0000,
        "UL",
        &(meta_body.len() as u32).to_le_bytes(),
    ));
    file.extend(meta_body);
    file.extend(el(0x0008, 0x0060, "CS", b"CT"));
    assert_eq!(json(&file), r#"{"00080060":{"vr":"CS","Value":["CT"]}}"#);
    let meta = {
        let mut o = ToJsonOptions::default();
        o.json = JsonOptions {
            write_meta: true,
            ..JsonOptions::default()
        };
        o
    };
    assert_eq!(
        json_with(&file, &meta).0,
        r#"{"00020001":{"vr":"OB","InlineBinary":"AAE="},"00020002":{"vr":"UI","Value":["1.2"]},"00020003":{"vr":"UI","Value":["1.3"]},"00020010":{"vr":"UI","Value":["1.2.840.10008.1.2.1"]},"00080060":{"vr":"CS","Value":["CT"]}}"#
    );
}

#[test]
fn r22_newer_vrs_ol_ov_sv_uv_uc_ur() {
    let ds = cat(&[
        el(0x0008, 0x0119, "UC", b"long code\\two "),
        el(0x0008, 0x0120, "UR", b"http://x/y "),
        el(0x0066, 0x0040, "OL", &[1, 0, 0, 0]),
        el(0x0066, 0x0041, "OV", &[2, 0, 0, 0, 0, 0, 0, 0]),
        el(0x0072, 0x0082, "SV", &(-5i64).to_le_bytes()),
        el(0x0072, 0x0083, "UV", &7u64.to_le_bytes()),
    ]);
    assert_eq!(
        json(&ds),
        r#"{"00080119":{"vr":"UC","Value":["long code","two"]},"00080120":{"vr":"UR","Value":["http://x/y"]},"00660040":{"vr":"OL","InlineBinary":"AQAAAA=="},"00660041":{"vr":"OV","InlineBinary":"AgAAAAAAAAA="},"00720082":{"vr":"SV","Value":[-5]},"00720083":{"vr":"UV","Value":[7]}}"#
    );
}

#[test]
fn pretty_output_is_the_same_json_indented() {
    let ds = cat(&[
        el(0x0008, 0x0060, "CS", b"CT"),
        sq(0x0008, 0x1140, &[Vec::new()]),
    ]);
    let pretty = {
        let mut o = ToJsonOptions::default();
        o.pretty = true;
        o
    };
    assert_eq!(
        json_with(&ds, &pretty).0,
        "{\n  \"00080060\": {\n    \"vr\": \"CS\",\n    \"Value\": [\n      \"CT\"\n    ]\n  },\n  \"00081140\": {\n    \"vr\": \"SQ\",\n    \"Value\": [\n      {}\n    ]\n  }\n}"
    );
}

#[test]
fn convert_un_resolves_public_and_private_tags() {
    let ds = cat(&[
        el(0x0008, 0x0060, "UN", b"CT"),
        el(0x0045, 0x0010, "LO", b"GEMS_HELIOS_01"),
        el(0x0045, 0x1001, "UN", &24u16.to_le_bytes()),
    ]);
    assert!(json(&ds).starts_with(r#"{"00080060":{"vr":"UN","InlineBinary":"Q1Q="}"#));
    let convert = {
        let mut o = ToJsonOptions::default();
        o.json = JsonOptions {
            convert_un: true,
            ..JsonOptions::default()
        };
        o
    };
    let (out, report) = json_with(&ds, &convert);
    assert_eq!(
        out,
        r#"{"00080060":{"vr":"CS","Value":["CT"]},"00450010":{"vr":"LO","Value":["GEMS_HELIOS_01"]},"00451001":{"vr":"SS","Value":[24]}}"#
    );
    assert_eq!(
        report
            .warnings
            .iter()
            .filter(|w| matches!(
                w.code(),
                WarningCode::JsonOutput(JsonWarningKind::UnConverted(_))
            ))
            .count(),
        2
    );
}

/// `--convert-un` on a UN of defined length that the private dictionary calls a sequence (Philips
/// (2001,xx5F)): its value is parsed as Implicit VR LE items (PS3.5 6.2.2), with or without the sequence
/// delimiter some writers keep in it; a value that is not items stays UN, with a warning.
#[test]
fn convert_un_parses_private_sequences_of_defined_length() {
    let convert = {
        let mut o = ToJsonOptions::default();
        o.json = JsonOptions {
            convert_un: true,
            ..JsonOptions::default()
        };
        o
    };
    // One item: its own creator and (2001,1032) FL 7.5 (Philips' dictionary), Implicit VR LE.
    let mut item_content = Vec::new();
    item_content.extend_from_slice(&[0x01, 0x20, 0x10, 0x00, 22, 0, 0, 0]);
    item_content.extend_from_slice(b"Philips Imaging DD 001");
    item_content.extend_from_slice(&[0x01, 0x20, 0x32, 0x10, 4, 0, 0, 0]);
    item_content.extend_from_slice(&7.5f32.to_le_bytes());
    let mut items = vec![0xFE, 0xFF, 0x00, 0xE0];
    items.extend_from_slice(&(item_content.len() as u32).to_le_bytes());
    items.extend_from_slice(&item_content);
    let with_delimiter = [items.clone(), vec![0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]].concat();
    // (0008,0060) first: a bare data set's encoding is detected from its first element.
    let creator = cat(&[
        el(0x0008, 0x0060, "CS", b"MR"),
        el(0x2001, 0x0010, "LO", b"Philips Imaging DD 001"),
    ]);
    for value in [&items, &with_delimiter] {
        let ds = cat(&[creator.clone(), el(0x2001, 0x105F, "UN", value)]);
        let (out, report) = json_with(&ds, &convert);
        assert!(
            out.contains(r#""2001105F":{"vr":"SQ","Value":[{"20010010":{"vr":"LO","Value":["Philips Imaging DD 001"]},"20011032":{"vr":"FL","Value":[7.5]}}]}"#),
            "{out}"
        );
        assert!(warned(&report, JsonWarningKind::UnConverted(Vr::SQ)));
        // Without --convert-un the bytes stay UN.
        assert!(json(&ds).contains(r#""2001105F":{"vr":"UN","InlineBinary":""#));
    }
    let ds = cat(&[creator, el(0x2001, 0x105F, "UN", b"not items")]);
    let (out, report) = json_with(&ds, &convert);
    assert!(
        out.contains(r#""2001105F":{"vr":"UN","InlineBinary":"bm90IGl0ZW1z"}"#),
        "{out}"
    );
    assert!(warned(&report, JsonWarningKind::UnSequenceUnparsed));
}

/// A UN value the dictionary calls a sequence that is not items stays UN whole: a reference into the
/// source points at its value, not at its header; inside a dropped duplicate it is not reported.
#[test]
fn convert_un_unparsed_values_keep_their_place() {
    let not_items = vec![7u8; 2048];
    // (0008,0060) first: a bare data set's encoding is detected from its first element.
    let ds = cat(&[
        el(0x0008, 0x0060, "CS", b"MR"),
        el(0x0008, 0x1140, "UN", &not_items),
    ]);
    let mut options = ToJsonOptions::default();
    options.json.convert_un = true;
    let mut handler = SourceReference {
        selection: BulkSelection::binary(1024),
        source_uri: "file:///x.dcm".into(),
    };
    let mut out = Vec::new();
    let report = DicomToJson::new(options.clone())
        .bulk_handler(&mut handler)
        .convert(&ds[..], &mut out)
        .expect("converts");
    let text = String::from_utf8(out).unwrap();
    // 10 bytes of (0008,0060), then the UN header of 12: the value starts at 22.
    assert!(
        text.contains(
            r#""00081140":{"vr":"UN","BulkDataURI":"file:///x.dcm?offset=22&length=2048"}"#
        ),
        "{text}"
    );
    assert!(warned(&report, JsonWarningKind::UnSequenceUnparsed));

    // A duplicate sequence is dropped with what it holds, a UN sequence in it unreported.
    let item = |content: &[u8]| {
        let mut item = vec![0xFE, 0xFF, 0x00, 0xE0];
        item.extend_from_slice(&(content.len() as u32).to_le_bytes());
        item.extend_from_slice(content);
        item
    };
    let inner = el(0x0008, 0x1140, "UN", &item(&[]));
    let ds = cat(&[
        el(0x0008, 0x0060, "CS", b"MR"),
        el(0x0008, 0x1115, "SQ", &item(&[])),
        el(0x0008, 0x1115, "SQ", &item(&inner)),
    ]);
    let (text, report) = json_with(&ds, &options);
    assert!(
        text.ends_with(r#""00081115":{"vr":"SQ","Value":[{}]}}"#),
        "{text}"
    );
    assert!(warned(&report, JsonWarningKind::DuplicateDropped));
    assert!(
        !warned(&report, JsonWarningKind::UnConverted(Vr::SQ)),
        "{report:?}"
    );
    // The same UN sequence where it is kept is converted.
    let ds = cat(&[
        el(0x0008, 0x0060, "CS", b"MR"),
        el(0x0008, 0x1115, "SQ", &item(&inner)),
    ]);
    let (text, report) = json_with(&ds, &options);
    assert!(
        text.contains(r#""00081140":{"vr":"SQ","Value":[{}]}"#),
        "{text}"
    );
    assert!(warned(&report, JsonWarningKind::UnConverted(Vr::SQ)));
}

/// Records the largest single write: the JSON writer must hand out bounded pieces even when a whole value
/// is borrowed from a slice (no buffer the size of the value).
#[derive(Default)]
struct LargestWrite {
    largest: usize,
    total: usize,
}

impl std::io::Write for LargestWrite {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.largest = self.largest.max(buf.len());
        self.total += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn large_values_from_a_slice_are_written_in_bounded_pieces() {
    let value: Vec<u8> = (0..24u32 << 20).map(|i| (i % 251) as u8).collect();
    for vr in ["OB", "OW", "OF", "SV"] {
        let ds = el(0x7FE0, 0x0010, vr, &value);
        let mut sink = LargestWrite::default();
        dicom_to_json(&ds, Output::stream(&mut sink), &ToJsonOptions::default()).unwrap();
        assert!(sink.total > value.len(), "{vr}: output too small");
        assert!(
            sink.largest <= 2 << 20,
            "{vr}: a {} byte write for a {} byte value",
            sink.largest,
            value.len()
        );
    }
}

#[test]
fn megabytes_of_garbage_elements_give_valid_json_or_an_error() {
    // A 24 MiB FL value behind a 16-bit length: the reader sees thousands of bogus, unsorted, duplicate
    // elements, and the JSON writer must flush, reorder what it can and stay valid (this once panicked in
    // the key-order code after a flush).
    let value: Vec<u8> = (0..24u32 << 20).map(|i| (i % 251) as u8).collect();
    let ds = el(0x0018, 0x9087, "FL", &value);
    let mut out = Vec::new();
    if dicom_to_json(&ds, &mut out, &ToJsonOptions::default()).is_ok() {
        serde_json::from_slice::<serde_json::Value>(&out).expect("valid JSON");
    }
}

/// A UT of a few MiB streams (memory bounded by the chunk): UTF-8 characters cut by every chunk size,
/// trailing spaces and NULs dropped, inner ones kept, the same JSON from a slice and from any stream; a
/// value of padding only has no Value (R5); Latin-1 decodes piecewise too.
#[test]
fn long_single_valued_text_streams_with_the_gathered_result() {
    let unit = "Zürich — 山田 𝄞 \"q\" \\ \n";
    let mut body = String::new();
    while body.len() < (3 << 20) {
        body.push_str(unit);
    }
    body.push_str("  \0 inner  ");
    let mut raw = body.clone().into_bytes();
    raw.extend_from_slice(b"   \0\0  ");
    if raw.len() % 2 == 1 {
        raw.push(b' ');
    }
    let utf8 = cat(&[
        el(0x0008, 0x0005, "CS", b"ISO_IR 192"),
        el(0x0018, 0x9074, "UT", &raw),
    ]);
    let want = body.trim_end_matches([' ', '\0']);
    let check = |json: &str| {
        let v: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
        assert_eq!(v["00189074"]["vr"], "UT");
        assert_eq!(v["00189074"]["Value"][0].as_str().unwrap(), want);
    };
    check(&json(&utf8));
    for chunk in [1usize, 7, 4096, 65_536] {
        let options = {
            let mut o = ToJsonOptions::default();
            o.reader = ReaderOptions {
                chunk_size: chunk,
                ..ReaderOptions::default()
            };
            o
        };
        let mut out = Vec::new();
        dicom_to_json(Input::reader(&utf8[..]), &mut out, &options).unwrap();
        check(std::str::from_utf8(&out).unwrap());
    }
    // Only padding: no Value, as for a short value.
    let pad = vec![b' '; (2 << 20) + 2];
    let only_pad = json(&cat(&[
        el(0x0008, 0x0060, "CS", b"MR"),
        el(0x0018, 0x9074, "UT", &pad),
    ]));
    assert!(
        only_pad.ends_with(r#""00189074":{"vr":"UT"}}"#),
        "{}",
        &only_pad[..80]
    );
    // ISO 8859-1 bytes above 0x7F, piecewise.
    let latin: Vec<u8> = (0..(2 << 20))
        .map(|i| if i % 3 == 0 { 0xE9 } else { b'a' })
        .collect();
    let text = json(&cat(&[
        el(0x0008, 0x0005, "CS", b"ISO_IR 100"),
        el(0x0018, 0x9074, "UT", &latin),
    ]));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let s = v["00189074"]["Value"][0].as_str().unwrap();
    assert_eq!(s.chars().count(), 2 << 20);
    assert_eq!(
        s.chars().filter(|&c| c == 'é').count(),
        (2usize << 20).div_ceil(3)
    );
}
