#!/usr/bin/env python3
"""JSON → DICOM conformance over the shared corpus, judged by pydicom.

  roundtrip_corpus.py DCMFLOW_BINARY SHARED_DIR [--dir DIR]

With --dir, only step 1, over every file below DIR (any other collection of DICOM files).

1. Round trip: for every file of SHARED_DIR/corpus/MANIFEST.tsv outside malformed/,
   `dcm2json --write-meta FILE A.json`, `json2dcm A.json B.dcm`; pydicom reading B.dcm must equal pydicom
   reading FILE value by value (SHARED_DIR/peers/compare_pydicom.py's comparison, imported). Default
   options both ways. Per transfer syntax, the share of files whose data set comes back byte-identical is
   reported (ROUNDTRIP_LIST_DIFFERENT=1 lists the others); a byte difference that is none of the
   model's documented limits (MODEL_LIMITS) fails.
2. Reading direction: every JSON file under SHARED_DIR/json (written by DCMTK, pydicom, dcm4che,
   dicom-rs, dcmjs) must convert (exit 0), and pydicom reading the DICOM must equal pydicom reading the JSON.
   Strict first; a file dcmflow refuses as invalid DICOM JSON (exit 65) is tried again with --lenient and
   counted as such. Of an array of several data sets the first is converted (+as 1).
Exits 1 on any failure not listed in EXPECTED / EXPECTED_JSON with its reason.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_common import load_comparator, run_parallel, well_formed_files  # noqa: E402

# Round-trip files whose difference is the first direction's documented one (tools/compare_json_corpus.py).
EXPECTED = {
    'fo-dicom/GH179A.dcm': 'pydicom stops reading the original at a bad VR; dcmflow reads on',
    'fo-dicom/charset/chrGB2312.dcm': 'pydicom leaves ISO 2022 IR 58 escapes undecoded in the original',
}


# Reading-direction files whose difference is the peer's or the comparison's, not ours: (path suffix, reason).
UN_RESOLVED = ('pydicom reading DICOM gives UN elements their dictionary VR (private ones included), '
               'reading JSON it keeps UN bytes: the comparison cannot match them')
ESCAPES_IN_JSON = ('the peer left ISO 2022 escape sequences undecoded in its JSON text; pydicom keeps them as '
                   'characters, dcmflow encodes them and the DICOM then decodes to the real text')
MOJIBAKE = ('dicom-rs decoded the ISO 2022 text wrongly; the characters it wrote are not in the declared '
            'character set: exit 67 is the right answer')
EXPECTED_JSON = [
    ('peers/dcmtk370/fo-dicom/GH064.dcm.json', UN_RESOLVED),
    ('peers/dicomrs/fo-dicom/GH064.dcm.json', UN_RESOLVED),
    ('peers/dcmtk370/fo-dicom/GH179A.dcm.json', UN_RESOLVED),
    ('/chrJapMulti.dcm.json', UN_RESOLVED),
    ('/chrJapMultiExplicitIR6.dcm.json', UN_RESOLVED),
    ('peers/dcmtk370/fo-dicom/charset/chrKoreanMulti.dcm.json', UN_RESOLVED),
    ('peers/dcmtk370/pydicom-3.0.2/charset_files/chrKoreanMulti.dcm.json', UN_RESOLVED),
    ('/rtdose_rle.dcm.json', UN_RESOLVED),
    ('/rtdose_rle_1frame.dcm.json', UN_RESOLVED),
    ('peers/dicomrs/pydicom-data-1.0.0/explicit_VR-UN.dcm.json', UN_RESOLVED),
    ('peers/dicomrs/fo-dicom/charset/chrH31.dcm.json', ESCAPES_IN_JSON),
    ('peers/dicomrs/fo-dicom/charset/chrH32.dcm.json', ESCAPES_IN_JSON),
    ('peers/dicomrs/fo-dicom/charset/chrSQEncoding.dcm.json', ESCAPES_IN_JSON),
    ('peers/dicomrs/fo-dicom/charset/chrSQEncoding1.dcm.json', ESCAPES_IN_JSON),
    ('peers/dicomrs/pydicom-3.0.2/charset_files/chrH31.dcm.json', ESCAPES_IN_JSON),
    ('peers/dicomrs/pydicom-3.0.2/charset_files/chrH32.dcm.json', ESCAPES_IN_JSON),
    ('peers/dicomrs/pydicom-3.0.2/charset_files/chrSQEncoding.dcm.json', ESCAPES_IN_JSON),
    ('peers/dicomrs/pydicom-3.0.2/charset_files/chrSQEncoding1.dcm.json', ESCAPES_IN_JSON),
    ('peers/pydicom/fo-dicom/charset/chrGB2312.dcm.json', ESCAPES_IN_JSON),
    ('peers/dicomrs/fo-dicom/charset/chrGB2312.dcm.json', MOJIBAKE),
    ('peers/dicomrs/fo-dicom/charset/chrI2.dcm.json', MOJIBAKE),
    ('peers/dicomrs/fo-dicom/charset/chrKoreanMulti.dcm.json', MOJIBAKE),
    ('peers/dicomrs/pydicom-3.0.2/charset_files/chrI2.dcm.json', MOJIBAKE),
    ('peers/dicomrs/pydicom-3.0.2/charset_files/chrKoreanMulti.dcm.json', MOJIBAKE),
    ('pydicom-3.0.2/test_files/test1.json',
     'a null inside a US value: pydicom keeps None, which no DICOM encoding can hold; dcmflow refuses it '
     '(exit 65) and drops it with --lenient'),
    ('peers/dicomrs/malformed/fo-dicom/DIRW0007.json',
     'dicom-rs wrote a delimitation item as an element with VR "NONE"; pydicom cannot read the JSON'),
    ('peers/dicomrs/malformed/fo-dicom/GH364.dcm.json',
     'dicom-rs wrote an item tag (FFFE,E000) as an element; pydicom compares it as text'),
]


def expected_json(rel):
    return next((reason for suffix, reason in EXPECTED_JSON if rel.endswith(suffix)), None)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True)
    return r.returncode, r.stderr.decode(errors='replace')[:300]


def data_set_bytes(path):
    """The bytes after the file meta group (PS3.10 7.1: Explicit VR LE elements of group 0002 after
    DICM), found by walking its elements rather than trusting (0002,0000); None for a bare data set."""
    raw = open(path, 'rb').read()
    if raw[128:132] != b'DICM':
        return None
    pos = 132
    while pos + 8 <= len(raw) and int.from_bytes(raw[pos:pos + 2], 'little') == 2:
        vr = raw[pos + 4:pos + 6]
        if vr in (b'OB', b'OW', b'OF', b'SQ', b'UT', b'UN', b'UC', b'UR', b'OD', b'OL', b'OV', b'SV', b'UV'):
            pos += 12 + int.from_bytes(raw[pos + 8:pos + 12], 'little')
        else:
            pos += 8 + int.from_bytes(raw[pos + 6:pos + 8], 'little')
    return raw[pos:]


TEXT_VRS = {'AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT'}
LISTED = re.compile(r'^(\s*\([0-9A-F]{4},[0-9A-F]{4}\)) (\w\w) (.*?)(  # .*)?$')


def _values(line, edit):
    """`line` with its text value passed through `edit(vr, text)` and its length comment dropped."""
    m = LISTED.match(line)
    if not m or m.group(2) not in TEXT_VRS:
        return line
    head, vr, value = m.group(1), m.group(2), m.group(3)
    if value == '(no value available)':
        value = '[]'
    if value.startswith('[') and value.endswith(']'):
        value = '[' + edit(vr, value[1:-1]) + ']'
    return f'{head} {vr} {value}'


def _padding(lines):
    # PS3.5 6.2: leading/trailing spaces (and a UI's trailing NUL) are not significant, and the JSON
    # model carries none; a value of spaces only is empty.
    def edit(vr, text):
        # `dump` shows long values cut short with '...'.
        text = text[:-3] if text.endswith('...') else text
        return '\\'.join(part.strip(' \x00') for part in text.split('\\'))
    return [_values(line, edit) for line in lines]


def _number_text(lines):
    # IS/DS text that is a number but no JSON number (001, 127., +5) comes back as the number it means.
    def edit(vr, text):
        if vr not in ('IS', 'DS'):
            return text
        out = []
        for part in text.split('\\'):
            try:
                out.append(repr(float(part)))
            except ValueError:
                out.append(part)
        return '\\'.join(out)
    return [_values(line, edit) for line in lines]


def _duplicates(lines):
    # A JSON object has one member per key: the second of two equal tags is dropped (with a warning).
    out = []
    for line in lines:
        if out and line.split(' ')[0] == out[-1].split(' ')[0] and line[:1] != ' ':
            continue
        out.append(line)
    return out


def _un_sequences(lines):
    # CP-246: a UN of undefined length is a sequence, and comes back as SQ.
    return [line.replace(' UN (Sequence', ' SQ (Sequence') for line in lines]


def _un_padding(lines):
    # An odd-length value comes back padded to even length (PS3.5 7.1.1).
    return [re.sub(r'(\\00)?  # \d+,', '  #', line) if ' UN ' in line else line for line in lines]


def _encapsulated_pixels(lines):
    # Encapsulated Pixel Data in a native syntax comes back as OB bytes (the JSON carried no syntax).
    out, skip = [], None
    for line in lines:
        if skip is not None:
            # Its fragment items are indented below it (delimiters may already be gone).
            if line.startswith(skip + ' ') or line.startswith(skip + '(FFFE,E0DD)'):
                continue
            skip = None
        m = re.match(r'^(\s*)\(7FE0,0010\) O[BW] ', line)
        if m:
            if 'PixelSequence' in line:
                skip = m.group(1)
            out.append(m.group(1) + '(7FE0,0010) pixel data')
            continue
        out.append(line)
    return out


def _iso2022_return(lines):
    # Which escape sequence a value used to return to its initial set is not kept (PS3.5 6.1.2.5.3).
    return [re.sub(r'\\u\{1b\}\([BJ](?=[\]^=\\])', '', line) for line in lines]


MODEL_LIMITS = [
    ('padding', _padding),
    ('IS/DS text', _number_text),
    ('duplicate tags', _duplicates),
    ('UN sequence as SQ', _un_sequences),
    ('odd-length padding', _un_padding),
    ('encapsulated pixel data as OB', _encapsulated_pixels),
    ('ISO 2022 return escape', _iso2022_return),
]


def difference_class(binary, original, written):
    """Why a data set did not come back byte-identical, from the two element listings: group length
    elements (not in the JSON model, PS3.18 F.2: R2), sequence or item lengths defined in one and
    undefined in the other (the model keeps no trace of the form), trailing empty PN component groups
    (F.2.2: only non-empty groups are members), or something else (then the first differing lines)."""
    def listing(path):
        out = subprocess.run([binary, 'dump', '-q', path], capture_output=True).stdout.decode(errors='replace')
        return [line for line in out.splitlines() if not line.startswith('(0002,')]
    a, b = listing(original), listing(written)
    if a == b:
        return 'bytes only (value padding or header form; listings equal)'
    classes = []
    def without_group_lengths(lines):
        return [line for line in lines if not line.strip().split(' ')[0].endswith(',0000)')]
    if without_group_lengths(a) != a:
        classes.append('group lengths')
        a, b = without_group_lengths(a), without_group_lengths(b)
    def length_form(lines):
        out = []
        for line in lines:
            for long, short in ((' (Sequence with undefined length)', ' (Sequence)'),
                                (' (Item with undefined length)', ' (Item)')):
                line = line.replace(long, short)
            if ' (Sequence)' in line or ' (Item)' in line or 'Delimitation' in line:
                line = line.split('  #')[0]
            out.append(line)
        return [line for line in out if 'Delimitation' not in line]
    if a != b and length_form(a) == length_form(b):
        classes.append('sequence/item length form')
        a, b = length_form(a), length_form(b)
    elif a != b and length_form(a) != a:
        a, b = length_form(a), length_form(b)
        if a == b:
            classes.append('sequence/item length form')
    def pn_groups(lines):
        return [re.sub(r'=+\]', ']', line.split('  #')[0]) if ' PN [' in line else line for line in lines]
    if a != b and pn_groups(a) == pn_groups(b):
        classes.append('trailing empty PN groups')
        a, b = pn_groups(a), pn_groups(b)
    # The remaining classes are the model's other limits (docs/behaviour.md, "What a round trip keeps").
    for name, form in MODEL_LIMITS:
        if a != b and (form(a) != a or form(b) != b):
            a2, b2 = form(a), form(b)
            if a2 != a or b2 != b:
                classes.append(name)
                a, b = a2, b2
    if a != b:
        first = next(i for i in range(min(len(a), len(b)) + 1) if i >= min(len(a), len(b)) or a[i] != b[i])
        shown = (a[first] if first < len(a) else '<end>') + ' | ' + (b[first] if first < len(b) else '<end>')
        classes.append('other: ' + shown[:160])
    return ', '.join(classes)


def roundtrip(binary, corpus, rel, cmp):
    import pydicom
    path = os.path.join(corpus, rel)
    with tempfile.TemporaryDirectory() as tmp:
        js, dcm = os.path.join(tmp, 'a.json'), os.path.join(tmp, 'b.dcm')
        code, err = run([binary, 'dcm2json', '-q', '--write-meta', path, js])
        if code != 0:
            return None, ['dcm2json exit %d: %s' % (code, err)]
        # Default options: real files hold values their VR does not allow (a DA of 1994.11.05); json2dcm
        # writes them as they are, so they come back as they were.
        code, err = run([binary, 'json2dcm', '-q', js, dcm])
        if code != 0:
            return None, ['json2dcm exit %d: %s' % (code, err)]
        try:
            a = pydicom.dcmread(path, force=True)
            b = pydicom.dcmread(dcm, force=True)
            big_a = a.original_encoding[1] is False if hasattr(a, 'original_encoding') else False
            big_b = b.original_encoding[1] is False if hasattr(b, 'original_encoding') else False
            diffs = []
            cmp.cmp_ds(a, b, big_a, big_b, '', diffs)
        except Exception as e:
            return None, ['comparison error: %s: %s' % (type(e).__name__, str(e)[:200])]
        syntax = str(getattr(a.file_meta, 'TransferSyntaxUID', '')) if hasattr(a, 'file_meta') else ''
        identical = None
        if syntax and data_set_bytes(path) is not None:
            same = data_set_bytes(path) == data_set_bytes(dcm)
            identical = (syntax, same, None if same else difference_class(binary, path, dcm))
        return identical, diffs


def from_json(binary, path, cmp):
    """Returns (needed --lenient, differences)."""
    import pydicom
    with tempfile.TemporaryDirectory() as tmp:
        dcm = os.path.join(tmp, 'b.dcm')
        doc = json.loads(open(path, 'rb').read().decode('utf-8'))
        command = [binary, 'json2dcm', '-q', '--bulk-json-dir', path, dcm]
        if isinstance(doc, list):
            command[3:3] = ['+as', '1']
            doc = doc[0]
        code, err = run(command)
        lenient = code == 65
        if lenient:
            command[3:3] = ['--lenient']
            code, err = run(command)
        ignore_bulk = code == 66
        if ignore_bulk:
            # http(s) and empty BulkDataURIs are refused (exit 66); -Bu writes those elements empty.
            command[3:3] = ['-Bu']
            code, err = run(command)
        if code != 0:
            return lenient, ['json2dcm exit %d: %s' % (code, err)]
        try:
            a = cmp.json_to_ds(doc, (lambda tag, vr, uri: b'') if ignore_bulk
                               else (lambda tag, vr, uri: cmp.read_uri(uri)))
            b = pydicom.dcmread(dcm, force=True)
            diffs = []
            cmp.cmp_ds(a, b, False, False, '', diffs)
            return lenient, diffs
        except Exception as e:
            return lenient, ['comparison error: %s: %s' % (type(e).__name__, str(e)[:200])]


def main():
    binary, shared = sys.argv[1], sys.argv[2]
    corpus = os.path.join(shared, 'corpus')
    files = well_formed_files(corpus)
    only_dir = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == '--dir' else None
    if only_dir:
        corpus = only_dir
        files = sorted(os.path.relpath(os.path.join(d, f), only_dir)
                       for d, _, fs in os.walk(only_dir) for f in fs)
    cmp = load_comparator(shared)
    results = run_parallel(lambda rel: roundtrip(binary, corpus, rel, cmp), files)
    failures = 0
    for rel, (_, diffs) in results:
        if diffs and rel in EXPECTED:
            print('expected difference: %s (%s)' % (rel, EXPECTED[rel]))
        elif diffs:
            failures += 1
            print('FAIL round trip %s' % rel)
            for d in diffs[:6]:
                print('    ' + d)
    equal = sum(1 for _, (_, d) in results if not d)
    print('round trip: %d files, %d equal value by value' % (len(results), equal))
    by_syntax, by_class = {}, {}
    for rel, (i, _) in results:
        if i is None:
            continue
        same, total = by_syntax.get(i[0], (0, 0))
        by_syntax[i[0]] = (same + i[1], total + 1)
        if not i[1]:
            by_class.setdefault(re.sub(r'other: .*', 'other', i[2]), []).append((rel, i[2]))
    for syntax, (same, total) in sorted(by_syntax.items(), key=lambda kv: -kv[1][1]):
        print('  data sets byte-identical, %s: %d of %d' % (syntax, same, total))
    unexplained = 0
    for cls, files in sorted(by_class.items(), key=lambda kv: -len(kv[1])):
        print('  not byte-identical because of %s: %d' % (cls, len(files)))
        if os.environ.get('ROUNDTRIP_LIST_DIFFERENT') or 'other' in cls:
            for rel, detail in files:
                print('      %s: %s' % (rel, detail))
        if 'other' in cls:
            unexplained += len(files)
    if unexplained and not only_dir:
        # Every byte difference of the shared corpus is one of the model's documented limits; a new
        # kind is either a limit to write down (docs/behaviour.md and MODEL_LIMITS) or a bug to fix.
        print('FAIL %d data sets differ in bytes for a reason that is not a documented limit' % unexplained)
        failures += unexplained
    if only_dir:
        return 1 if failures else 0
    json_files = sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(shared, 'json'))
                        for f in fs if f.endswith('.json'))
    json_results = run_parallel(lambda p: from_json(binary, p, cmp), json_files)
    json_failures, json_expected, lenient_needed = 0, 0, []
    for path, (lenient, diffs) in json_results:
        rel = os.path.relpath(path, os.path.join(shared, 'json'))
        if lenient:
            lenient_needed.append(rel)
        reason = expected_json(rel)
        if diffs and reason:
            json_expected += 1
            print('expected difference: %s (%s)' % (rel, reason))
        elif diffs:
            json_failures += 1
            print('FAIL json %s' % rel)
            for d in diffs[:6]:
                print('    ' + d)
    for rel in lenient_needed:
        print('converted only with --lenient: %s' % rel)
    print('json inputs: %d files, %d equal, %d expected differences, %d needed --lenient, %d failures'
          % (len(json_results), len(json_results) - json_expected - json_failures, json_expected,
             len(lenient_needed), json_failures))
    return 1 if failures or json_failures else 0


if __name__ == '__main__':
    sys.exit(main())
