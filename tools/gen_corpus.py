#!/usr/bin/env python3
"""Write the synthetic test corpus into corpus/synthetic/ (committed; rerun to regenerate).

Every file is built byte by byte here, independent of the Rust code under test, so a test that reads them
checks the parser against a second implementation of PS3.5. Covers every VR, every uncompressed transfer
syntax and Deflated Explicit VR LE, nested / undefined-length / empty sequences and items, encapsulated
pixel data with and without a Basic Offset Table, a CP-246 UN sequence, private blocks and odd lengths.
Also writes corpus/charset/: one file per character set reading rule that DICOM JSON keeps no trace of
(8-bit text without (0008,0005), an unknown term, ISO_IR 13 holding Shift_JIS two-byte codes, ISO_IR 100
C1 bytes, ISO 8859-9 bytes 0x80-0x9F read with windows-1254): dcm2json then json2dcm must give their
bytes back.
Usage: python3 tools/gen_corpus.py [OUT_DIR]
"""
import os
import struct
import sys
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "corpus", "synthetic")
LONG = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
UNDEF = 0xFFFFFFFF
SWAP = {"AT": 2, "OW": 2, "SS": 2, "US": 2, "FL": 4, "OF": 4, "OL": 4, "SL": 4, "UL": 4,
        "FD": 8, "OD": 8, "OV": 8, "SV": 8, "UV": 8}


class Enc:
    def __init__(self, explicit, big):
        self.explicit, self.big = explicit, big

    def u16(self, v):
        return struct.pack(">H" if self.big else "<H", v)

    def u32(self, v):
        return struct.pack(">I" if self.big else "<I", v)

    def tag(self, t):
        return self.u16(t >> 16) + self.u16(t & 0xFFFF)

    def header(self, t, vr, length):
        if not self.explicit:
            return self.tag(t) + self.u32(length)
        if vr in LONG:
            return self.tag(t) + vr.encode() + b"\0\0" + self.u32(length)
        return self.tag(t) + vr.encode() + self.u16(length)

    def elem(self, t, vr, value):
        """value: bytes in little-endian order for binary VRs (swapped here for big endian)."""
        if self.big and vr in SWAP:
            n = SWAP[vr]
            value = b"".join(value[i:i + n][::-1] for i in range(0, len(value) - len(value) % n, n)) + value[len(value) - len(value) % n:]
        return self.header(t, vr, len(value)) + value

    def item(self, content, defined=True):
        if defined:
            return self.tag(0xFFFEE000) + self.u32(len(content)) + content
        return self.tag(0xFFFEE000) + self.u32(UNDEF) + content + self.tag(0xFFFEE00D) + self.u32(0)

    def seq(self, t, items, defined=True, vr="SQ"):
        body = b"".join(items)
        if defined:
            return self.header(t, vr, len(body)) + body
        return self.header(t, vr, UNDEF) + body + self.tag(0xFFFEE0DD) + self.u32(0)


IMPLICIT = Enc(False, False)
EXPLICIT = Enc(True, False)
BIG = Enc(True, True)
TS = {"implicit": "1.2.840.10008.1.2", "explicit": "1.2.840.10008.1.2.1", "big": "1.2.840.10008.1.2.2",
      "deflated": "1.2.840.10008.1.2.1.99", "jpeg": "1.2.840.10008.1.2.4.50", "rle": "1.2.840.10008.1.2.5"}


def ui(s):
    b = s.encode()
    return b + b"\0" if len(b) % 2 else b


def text(s, pad=b" "):
    b = s.encode("latin-1")
    return b + pad if len(b) % 2 else b


def meta(ts_uid, sop_class="1.2.840.10008.5.1.4.1.1.7", sop_inst="1.2.826.0.1.3680043.2.1143.1"):
    e = EXPLICIT
    body = (e.elem(0x00020001, "OB", b"\0\1") + e.elem(0x00020002, "UI", ui(sop_class))
            + e.elem(0x00020003, "UI", ui(sop_inst)) + e.elem(0x00020010, "UI", ui(ts_uid))
            + e.elem(0x00020012, "UI", ui("1.2.826.0.1.3680043.2.1143.107"))
            + e.elem(0x00020013, "SH", text("GEN_CORPUS")))
    return b"\0" * 128 + b"DICM" + e.elem(0x00020000, "UL", struct.pack("<I", len(body))) + body


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


def f64(*v):
    return struct.pack("<%dd" % len(v), *v)


def every_vr(e):
    """One element of every VR in ascending tag order (standard tags where one exists)."""
    # Ascending tags whose dictionary VR is the VR written, so the implicit-VR files read back the same.
    elements = [
        e.elem(0x00080005, "CS", text("ISO_IR 100")),
        e.elem(0x00080008, "CS", text("ORIGINAL\\PRIMARY\\\\AXIAL")),
        e.elem(0x00080016, "UI", ui("1.2.840.10008.5.1.4.1.1.7")),
        e.elem(0x00080018, "UI", ui("1.2.826.0.1.3680043.2.1143.1")),
        e.elem(0x00080020, "DA", text("20261121")),
        e.elem(0x0008002A, "DT", text("20261121235959.5+0100")),
        e.elem(0x00080030, "TM", text("235959.123456")),
        e.elem(0x00080054, "AE", text("DCMFLOW")),
        e.elem(0x00080081, "ST", text("short text")),
        e.elem(0x00080090, "PN", text("Doe^John=\u00c9\u00e9^J")),
        e.elem(0x00080119, "UC", text("unlimited characters " * 3)),
        e.elem(0x00080120, "UR", text("http://example.invalid/x")),
        e.elem(0x0008030E, "UT", text("unlimited text")),
        e.elem(0x0008040C, "UV", struct.pack("<Q", 2 ** 64 - 1)),
        e.elem(0x00081030, "LO", text("Study description")),
        e.elem(0x00081160, "IS", text("1\\+2\\-0003")),
        e.elem(0x00089459, "FL", f32(1.5, -0.25)),
        e.elem(0x00091010, "UN", b"\x01\x02\x03"),  # private, odd length, no creator block
        e.elem(0x00101010, "AS", text("042Y")),
        e.elem(0x00101020, "DS", text("1.75\\-2.5E+03\\.5")),
        e.elem(0x00104000, "LT", text("Long text\r\nwith two lines")),
        e.elem(0x00181063, "DS", text("33.3")),
        e.elem(0x00181638, "OF", f32(0.5, 2.0)),
        e.elem(0x00186020, "SL", struct.pack("<ii", -100000, 7)),
        e.elem(0x00189219, "SS", struct.pack("<hh", -3, 4)),
        e.elem(0x00189327, "FD", f64(33.3)),
        e.elem(0x00200012, "IS", text("7")),
        e.elem(0x00209165, "AT", struct.pack("<HHHH", 0x0018, 0x1063, 0x7FE0, 0x0010)),
        e.elem(0x00280010, "US", struct.pack("<H", 2)),
        e.elem(0x00280011, "US", struct.pack("<H", 2)),
        e.elem(0x00280100, "US", struct.pack("<H", 16)),
        e.elem(0x00281052, "DS", text("-1024")),
        e.elem(0x00281201, "OW", struct.pack("<4H", 1, 2, 3, 4)),
        e.elem(0x003A032E, "OD", f64(1.0, -2.0)),
        e.elem(0x00403001, "LO", text("confidential")),
        e.elem(0x00420011, "OB", b"%PDF\x00\x01"),
        e.elem(0x00660040, "OL", struct.pack("<III", 1, 2, 0xFFFFFFFF)),
        e.elem(0x00720081, "OV", struct.pack("<Q", 12345678901234567890)),
        e.elem(0x00720082, "SV", struct.pack("<qq", -(2 ** 62), 2 ** 53 + 1)),
        e.elem(0x7FE00010, "OW", struct.pack("<4H", 0x0102, 0x0304, 0x0506, 0x0708)),
    ]
    return b"".join(elements)


def nested(e, defined):
    ref = e.seq(0x00081140, [
        e.item(e.elem(0x00081150, "UI", ui("1.2.840.10008.5.1.4.1.1.2")) + e.elem(0x00081155, "UI", ui("1.2.3.4.5")), defined),
        e.item(b"", defined),  # empty item
        e.item(e.seq(0x00089215, [e.item(e.elem(0x00080100, "SH", text("121311")), defined)], defined), defined),
    ], defined)
    empty_seq = e.seq(0x00081115, [], defined)
    return e.elem(0x00080005, "CS", text("ISO_IR 192")) + e.elem(0x00080016, "UI", ui("1.2.840.10008.5.1.4.1.1.7")) + \
        e.elem(0x00080018, "UI", ui("1.2.826.0.1.3680043.2.1143.2")) + empty_seq + ref + \
        e.elem(0x00100010, "PN", text("Nested^Sequences"))


def deep(e, depth):
    content = e.elem(0x00080100, "SH", text("LEAF"))
    for _ in range(depth):
        content = e.seq(0x00400260, [e.item(content, False)], False)
    return content


def private_block(e):
    return (e.elem(0x00090010, "LO", text("DCMFLOW TEST")) + e.elem(0x00091001, "LO", text("private value"))
            + e.elem(0x00091002, "UN", b"\x00\x01\x02\x03") + e.elem(0x00111010, "LO", text("creator 2"))
            + e.elem(0x00111011, "LO", text("no matching creator")))


def encapsulated(frames, bot):
    e = EXPLICIT
    offsets = b""
    if bot:
        pos = 0
        for f in frames:
            offsets += struct.pack("<I", pos)
            pos += 8 + len(f)
    body = e.item(offsets) + b"".join(e.item(f) for f in frames)
    return e.header(0x7FE00010, "OB", UNDEF) + body + e.tag(0xFFFEE0DD) + e.u32(0)


def cp246():
    """UN of undefined length in explicit VR: an Implicit VR LE sequence inside (PS3.5 6.2.2, CP-246)."""
    e = EXPLICIT
    inner = IMPLICIT.elem(0x00081150, "UI", ui("1.2.3")) + IMPLICIT.elem(0x00081155, "UI", ui("1.2.3.4"))
    body = IMPLICIT.item(inner, False)
    return e.header(0x00082112, "UN", UNDEF) + body + IMPLICIT.tag(0xFFFEE0DD) + IMPLICIT.u32(0)


def write(name, data, out=None):
    out = out or OUT
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


CHARSET_OUT = os.path.join(os.path.dirname(OUT), "charset")


def raw_text(b):
    """Text bytes as they are, padded with a space to even length."""
    return b + b" " if len(b) % 2 else b


def charset_files():
    e = EXPLICIT
    head = meta(TS["explicit"])
    def data_set(charset, *elements):
        declared = e.elem(0x00080005, "CS", raw_text(charset)) if charset is not None else b""
        return head + declared + b"".join(elements)
    latin1 = "Müller^Jérôme ±5".encode("latin-1")
    files = {
        # No (0008,0005), 8-bit bytes: read as ISO 8859-1 (as pydicom does).
        "undeclared_latin1.dcm": data_set(None, e.elem(0x00081030, "LO", raw_text(latin1)),
                                          e.elem(0x00100010, "PN", raw_text(latin1[:13]))),
        # An unknown term: read as the default repertoire, 8-bit bytes as ISO 8859-1.
        "unknown_term.dcm": data_set(b"ISO_IR 999", e.elem(0x00100010, "PN", raw_text(latin1[:13]))),
        # ISO_IR 13 (JIS X 0201) with Shift_JIS two-byte codes (read as Shift_JIS, as pydicom does).
        "ir13_shift_jis.dcm": data_set(b"ISO_IR 13", e.elem(0x00100010, "PN", raw_text(
            "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=Д".encode("shift_jis")))),
        # ISO_IR 100 with a C1 byte 0x85 (read as U+0085).
        "latin1_c1.dcm": data_set(b"ISO_IR 100", e.elem(0x00081030, "LO", raw_text(b"Caf\xe9\x85 bar"))),
        # ISO_IR 148 (ISO 8859-9) with byte 0x80, read as the euro sign of windows-1254.
        "ir148_unused_byte.dcm": data_set(b"ISO_IR 148", e.elem(0x00081030, "LO", raw_text(b"Fiyat 5\x80 \xdc"))),
        # 8-bit bytes in a VR limited to the default repertoire (CS): read as ISO 8859-1.
        "cs_latin1.dcm": data_set(b"ISO_IR 192", e.elem(0x00080060, "CS", raw_text(b"M\xc4"))),
    }
    for name, data in files.items():
        write(name, data, CHARSET_OUT)


def main():
    for key, enc in (("implicit", IMPLICIT), ("explicit", EXPLICIT), ("big", BIG)):
        write(f"every_vr_{key}.dcm", meta(TS[key]) + every_vr(enc))
        write(f"sequences_defined_{key}.dcm", meta(TS[key]) + nested(enc, True))
        write(f"sequences_undefined_{key}.dcm", meta(TS[key]) + nested(enc, False))
        write(f"private_{key}.dcm", meta(TS[key]) + private_block(enc))
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = every_vr(EXPLICIT) + nested(EXPLICIT, False)
    write("deflated.dcm", meta(TS["deflated"]) + deflater.compress(body) + deflater.flush())
    pixels = [EXPLICIT.elem(0x00280010, "US", struct.pack("<H", 8)), EXPLICIT.elem(0x00280011, "US", struct.pack("<H", 8))]
    write("encapsulated_bot.dcm", meta(TS["jpeg"]) + b"".join(pixels) + encapsulated([b"\xff\xd8frame-one\xff\xd9", b"\xff\xd8two\xff\xd9"], True))
    write("encapsulated_no_bot.dcm", meta(TS["rle"]) + b"".join(pixels) + encapsulated([b"\x00" * 64, b"\x01\x02", b""], False))
    write("cp246_un_sequence.dcm", meta(TS["explicit"]) + EXPLICIT.elem(0x00080005, "CS", text("ISO_IR 100")) + cp246())
    write("odd_lengths.dcm", meta(TS["explicit"]) + EXPLICIT.elem(0x00080005, "CS", b"ISO_IR 100") + EXPLICIT.elem(0x00100010, "PN", b"Odd^Name") + EXPLICIT.elem(0x00100020, "LO", b"ABC"))
    write("deep_nesting.dcm", meta(TS["explicit"]) + deep(EXPLICIT, 40))
    write("bare_implicit.dcm", every_vr(IMPLICIT))
    write("bare_explicit_big.dcm", every_vr(BIG))
    write("no_preamble.dcm", meta(TS["explicit"])[128:] + every_vr(EXPLICIT))
    charset_files()


main()
