#!/usr/bin/env python3
"""JSON → DICOM conformance over the shared corpus, judged by pydicom.

  roundtrip_corpus.py DCMFLOW_BINARY SHARED_DIR

1. Round trip: for every file of SHARED_DIR/corpus/MANIFEST.tsv outside malformed/,
   `dcm2json --write-meta FILE A.json`, `json2dcm A.json B.dcm`; pydicom reading B.dcm must equal pydicom
   reading FILE value by value (SHARED_DIR/peers/compare_pydicom.py's comparison, imported). For Explicit
   VR Little Endian files the share whose data set comes back byte-identical is reported.
2. Reading direction: every JSON file under SHARED_DIR/json (written by DCMTK, pydicom, dcm4che,
   dicom-rs, dcmjs) must convert (exit 0), and pydicom reading the DICOM must equal pydicom reading the JSON.
Exits 1 on any round-trip failure not listed in EXPECTED with its reason; part 2 is reported only.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

# Round-trip files whose difference is the first direction's documented one (tools/compare_json_corpus.py).
EXPECTED = {
    'fo-dicom/GH179A.dcm': 'pydicom stops reading the original at a bad VR; dcmflow reads on',
    'fo-dicom/charset/chrGB2312.dcm': 'pydicom leaves ISO 2022 IR 58 escapes undecoded in the original',
}


def load_comparator(shared):
    spec = importlib.util.spec_from_file_location(
        'compare_pydicom', os.path.join(shared, 'peers', 'compare_pydicom.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(cmd):
    r = subprocess.run(cmd, capture_output=True)
    return r.returncode, r.stderr.decode(errors='replace')[:300]


def data_set_bytes(path):
    """The bytes after the file meta group (PS3.10 7.1), or None for a bare data set."""
    raw = open(path, 'rb').read()
    if raw[128:132] != b'DICM':
        return None
    length = int.from_bytes(raw[140:144], 'little')
    return raw[144 + length:]


def roundtrip(binary, corpus, rel, cmp):
    import pydicom
    path = os.path.join(corpus, rel)
    with tempfile.TemporaryDirectory() as tmp:
        js, dcm = os.path.join(tmp, 'a.json'), os.path.join(tmp, 'b.dcm')
        code, err = run([binary, 'dcm2json', '-q', '--write-meta', path, js])
        if code != 0:
            return None, ['dcm2json exit %d: %s' % (code, err)]
        # +E: real files hold values their VR does not allow (a DA of 1994.11.05); they must come back as they were.
        code, err = run([binary, 'json2dcm', '-q', '+E', js, dcm])
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
        explicit_le = str(getattr(a.file_meta, 'TransferSyntaxUID', '')) == '1.2.840.10008.1.2.1' \
            if hasattr(a, 'file_meta') else False
        identical = None
        if explicit_le:
            identical = data_set_bytes(path) == data_set_bytes(dcm)
        return identical, diffs


def from_json(binary, path, cmp):
    import pydicom
    with tempfile.TemporaryDirectory() as tmp:
        dcm = os.path.join(tmp, 'b.dcm')
        code, err = run([binary, 'json2dcm', '-q', '+E', '--bulk-json-dir', path, dcm])
        if code != 0:
            return ['json2dcm exit %d: %s' % (code, err)]
        try:
            doc = json.loads(open(path, 'rb').read().decode('utf-8'))
            if isinstance(doc, list):
                doc = doc[0]
            a = cmp.json_to_ds(doc, lambda tag, vr, uri: cmp.read_uri(uri))
            b = pydicom.dcmread(dcm, force=True)
            diffs = []
            cmp.cmp_ds(a, b, False, False, '', diffs)
            return diffs
        except Exception as e:
            return ['comparison error: %s: %s' % (type(e).__name__, str(e)[:200])]


def main():
    binary, shared = sys.argv[1], sys.argv[2]
    corpus = os.path.join(shared, 'corpus')
    cmp = load_comparator(shared)
    with open(os.path.join(corpus, 'MANIFEST.tsv')) as f:
        rows = [line.split('\t')[0] for line in f.read().splitlines()[1:] if line.strip()]
    files = [r for r in rows if not r.startswith('malformed/')]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(lambda rel: (rel, roundtrip(binary, corpus, rel, cmp)), files))
    failures = 0
    for rel, (_, diffs) in results:
        if diffs and rel in EXPECTED:
            print('expected difference: %s (%s)' % (rel, EXPECTED[rel]))
        elif diffs:
            failures += 1
            print('FAIL round trip %s' % rel)
            for d in diffs[:6]:
                print('    ' + d)
    le = [i for _, (i, d) in results if i is not None]
    equal = sum(1 for _, (_, d) in results if not d)
    print('round trip: %d files, %d equal value by value; Explicit VR LE data sets byte-identical: %d of %d'
          % (len(results), equal, sum(le), len(le)))
    json_files = sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(shared, 'json'))
                        for f in fs if f.endswith('.json'))
    json_failures = 0
    for path in json_files:
        diffs = from_json(binary, path, cmp)
        if diffs:
            json_failures += 1
            print('FAIL json %s' % os.path.relpath(path, shared))
            for d in diffs[:6]:
                print('    ' + d)
    # The peers' JSON disagrees with pydicom's reading of it in places that are the peers' dialects
    # (undecoded ISO 2022 escapes, unsorted keys, arrays of several data sets, http BulkDataURIs): this part
    # is reported, not enforced, until each case is classified (see README, Known gaps).
    print('json inputs (report only): %d files, %d not equal or not converted' % (len(json_files), json_failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
