#!/usr/bin/env python3
"""DICOM → JSON conformance over the shared real-world corpus, judged by independent tools.

  compare_json_corpus.py DCMFLOW_BINARY SHARED_DIR

For every file of SHARED_DIR/corpus/MANIFEST.tsv outside malformed/:
  1. `dcmflow dcm2json FILE OUT.json` must exit 0;
  2. OUT.json must parse with Python's json module, strictly (NaN/Infinity tokens rejected, UTF-8 only);
  3. pydicom reading OUT.json must equal pydicom reading FILE, value by value
     (SHARED_DIR/peers/compare_pydicom.py's comparison, imported, not copied).
Exits 1 if any file fails that is not listed in EXPECTED_DIFFERENCES with its reason.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_common import load_comparator, run_parallel, well_formed_files  # noqa: E402

# Files where the comparison reports a difference and pydicom, not dcmflow, is wrong. Each entry was
# checked by hand against the bytes of the file; the reason says what pydicom does.
EXPECTED_DIFFERENCES = {
    'fo-dicom/GH179A.dcm': 'pydicom stops reading at (0028,0120), whose VR bytes are two spaces; dcmflow reads on '
                           '(DCMTK\'s rule) and writes the 8 elements after it',
    'fo-dicom/charset/chrGB2312.dcm': 'pydicom leaves the ESC $ ) A escape sequences of ISO 2022 IR 58 in the text; '
                                      'dcmflow decodes them (Zhang^XiaoDong=张^小东)',
}

# Files holding explicit UN elements that pydicom resolves from its dictionaries when it reads the file.
# dcmflow writes UN as the file says by default; these are compared with --convert-un instead, which
# must then agree with pydicom.
CONVERT_UN = {
    'fo-dicom/charset/chrJapMulti.dcm', 'fo-dicom/charset/chrJapMultiExplicitIR6.dcm',
    'fo-dicom/charset/chrKoreanMulti.dcm', 'pydicom-3.0.2/charset_files/chrJapMulti.dcm',
    'pydicom-3.0.2/charset_files/chrJapMultiExplicitIR6.dcm', 'pydicom-3.0.2/charset_files/chrKoreanMulti.dcm',
    'pydicom-3.0.2/test_files/rtdose_rle.dcm', 'pydicom-3.0.2/test_files/rtdose_rle_1frame.dcm',
    'pydicom-data-1.0.0/explicit_VR-UN.dcm', 'fo-dicom/GH064.dcm', 'fo-dicom/GH1308.dcm',
}


def reject_constant(c):
    raise ValueError('non-JSON token %s' % c)


def check(binary, corpus, rel, cmp):
    path = os.path.join(corpus, rel)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'out.json')
        extra = ['--convert-un'] if rel in CONVERT_UN else []
        run = subprocess.run([binary, 'dcm2json', '-q'] + extra + [path, out], capture_output=True)
        if run.returncode != 0:
            return ['dcm2json exit %d: %s' % (run.returncode, run.stderr.decode(errors='replace')[:300])]
        raw = open(out, 'rb').read()
        try:
            doc = json.loads(raw.decode('utf-8'), parse_constant=reject_constant)
        except Exception as e:  # invalid JSON is the worst failure there is
            return ['invalid JSON: %s' % e]
        if not isinstance(doc, dict):
            return ['top level is not an object']
        try:
            import pydicom
            a = pydicom.dcmread(path, force=True)
            big_a = a.original_encoding[1] is False if hasattr(a, 'original_encoding') else False
            b = cmp.json_to_ds(doc, lambda tag, vr, uri: cmp.read_uri(uri))
            diffs = []
            cmp.cmp_ds(a, b, big_a, False, '', diffs)
            return diffs
        except Exception as e:
            return ['comparison error: %s: %s' % (type(e).__name__, str(e)[:200])]


def main():
    binary, shared = sys.argv[1], sys.argv[2]
    corpus = os.path.join(shared, 'corpus')
    cmp = load_comparator(shared)
    results = run_parallel(lambda rel: check(binary, corpus, rel, cmp), well_formed_files(corpus))
    unexpected = 0
    for rel, diffs in results:
        if not diffs:
            continue
        if rel in EXPECTED_DIFFERENCES:
            print('expected difference: %s (%s)' % (rel, EXPECTED_DIFFERENCES[rel]))
            continue
        unexpected += 1
        print('FAIL %s' % rel)
        for d in diffs[:8]:
            print('    ' + d)
    passed = sum(1 for _, d in results if not d)
    print('json corpus: %d files, %d equal to pydicom, %d expected differences, %d failures'
          % (len(results), passed, sum(1 for r, d in results if d and r in EXPECTED_DIFFERENCES), unexpected))
    return 1 if unexpected else 0


if __name__ == '__main__':
    sys.exit(main())
