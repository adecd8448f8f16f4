#!/usr/bin/env python3
"""Side-by-side DICOM -> JSON: dcmflow, the streaming roofline, DCMTK dcm2json, dicom-rs and pydicom, on the
same files in one run. Prints the median wall time of RUNS runs (the tools take turns, one run each per
round, with no wrapper), the peak RSS (/usr/bin/time, in one more run of each tool, which also warms
the page cache) and the ratios to dcmflow.

  python3 benches/peers.py [--runs N] [--skip TOOL,...] FILE...
  python3 benches/peers.py --direction json2dcm [--runs N] [--skip TOOL,...] FILE.json...
  python3 benches/peers.py --direction bson2json [--runs N] [--skip TOOL,...] FILE.bson...
  python3 benches/peers.py --direction json2bson [--runs N] [--skip TOOL,...] FILE.ndjson...
  python3 benches/peers.py --direction avro2json [--runs N] [--skip TOOL,...] FILE.avro...
  python3 benches/peers.py --direction json2avro --schema SCHEMA.avsc [--runs N] [--skip TOOL,...] FILE.json...

json2dcm: dcmflow json2dcm, the decode roofline (examples/roofline_decode.rs on the file's largest
InlineBinary, when it has one), DCMTK json2dcm (3.7+, where installed), pydicom from_json and dicom-rs.

bson2json: dcmflow bson2json relaxed and canonical, the base64 roofline (examples/roofline.rs on the
whole file), the bson crate, libbson and pymongo (../shared/peers/codecs/install.sh; inputs from its
make-big-codecs: `bson-tweets 50 tweets.bson`, `bson-binary 100 binary.bson`).

json2bson: dcmflow json2bson, the bson crate, libbson and pymongo, on the NDJSON make-big-codecs writes
beside its BSON (`tweets.bson.ndjson`, `binary.bson.ndjson`).

avro2json: dcmflow avro2json (Avro's JSON encoding and GA4GH's), avrocat (avro-c), the apache-avro crate
(its own mapping) and fastavro's json_writer, on make-big-codecs' `avro-variants 200000 variants.avro`.

Peers come from ../shared/peers/install.sh (PEERS=/tmp/dcmflow-peers by default); inputs from its
make-big (`make-big ct 1024 ct512.dcm`, `make-big mr-meta 36000 mr.dcm`). Every tool writes to /dev/null
(check that it is the character device: a regular file there makes every writer pay for the disk).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.environ.get('PEERS', '/tmp/dcmflow-peers') + '/bin'


def tools(path):
    dcmflow = os.path.join(ROOT, 'target/release/dcmflow')
    roofline = os.path.join(ROOT, 'target/release/examples/roofline')
    return [
        ('dcmflow', [dcmflow, 'dcm2json', '-q', path, '-']),
        ('dcmflow --threads 1', [dcmflow, 'dcm2json', '-q', '--threads', '1', path, '-']),
        ('dcmflow --bulk-ref', [dcmflow, 'dcm2json', '-q', '--bulk-ref', path, '-']),
        ('roofline', [roofline, path]),
        ('DCMTK dcm2json -fc', [PEERS + '/dcm2json', '-fc', path]),
        ('dicom-rs', [PEERS + '/dicomrs-peer', 'to-json', path]),
        ('pydicom', [PEERS + '/pydicom-peer', 'to-json', path]),
    ]


def largest_inline_binary(path):
    """(offset, length) of the base64 text of the file's last InlineBinary (make-big puts the pixel data last)."""
    import mmap
    with open(path, 'rb') as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        marker = b'"InlineBinary":"'
        at = m.rfind(marker)
        if at < 0:
            return None
        start = at + len(marker)
        return start, m.find(b'"', start) - start


def json_tools(path):
    dcmflow = os.path.join(ROOT, 'target/release/dcmflow')
    roofline = os.path.join(ROOT, 'target/release/examples/roofline_decode')
    dcmtk = PEERS + '/json2dcm' if os.path.exists(PEERS + '/json2dcm') else shutil.which('json2dcm') or '/nonexistent'
    found = largest_inline_binary(path)
    value_mib = found[1] * 3 / 4 / 2**20 if found else 0
    return [
        ('dcmflow', [dcmflow, 'json2dcm', '-q', path, '/dev/null']),
        ('dcmflow --threads 1', [dcmflow, 'json2dcm', '-q', '--threads', '1', path, '/dev/null']),
        ('roofline (decode)', [roofline, path, str(found[0]), str(found[1])] if found and value_mib >= 64
         else ['/nonexistent']),
        ('DCMTK json2dcm', [dcmtk, path, '/dev/null']),
        ('dicom-rs', [PEERS + '/dicomrs-peer', 'from-json', path, '/dev/null']),
        ('pydicom', [PEERS + '/pydicom-peer', 'from-json', path, '/dev/null']),
    ]


def bson_tools(path):
    dcmflow = os.path.join(ROOT, 'target/release/dcmflow')
    roofline = os.path.join(ROOT, 'target/release/examples/roofline')
    return [
        ('dcmflow', [dcmflow, 'bson2json', '-q', path, '-']),
        ('dcmflow one thread', [dcmflow, 'bson2json', '-q', '--threads', '1', path, '-']),
        ('dcmflow canonical', [dcmflow, 'bson2json', '-q', '--json-format', 'canonical', path, '-']),
        ('roofline', [roofline, path]),
        ('bson crate', [PEERS + '/codecrs-peer', 'bson-to-json', 'relaxed', path]),
        ('bson crate canonical', [PEERS + '/codecrs-peer', 'bson-to-json', 'canonical', path]),
        ('libbson', [PEERS + '/libbson-peer', 'to-json', 'relaxed', path]),
        ('libbson canonical', [PEERS + '/libbson-peer', 'to-json', 'canonical', path]),
        ('pymongo', [PEERS + '/bson-peer', 'to-json', '--relaxed', path]),
        ('pymongo canonical', [PEERS + '/bson-peer', 'to-json', '--canonical', path]),
    ]


def json_bson_tools(path):
    """Extended JSON (one document per line) -> BSON; every tool writes its BSON to /dev/null."""
    dcmflow = os.path.join(ROOT, 'target/release/dcmflow')
    return [
        ('dcmflow', [dcmflow, 'json2bson', '-q', path, '-']),
        ('bson crate', [PEERS + '/codecrs-peer', 'json-to-bson', path, '/dev/null']),
        ('libbson', [PEERS + '/libbson-peer', 'from-json', path, '/dev/null']),
        ('pymongo', [PEERS + '/bson-peer', 'from-json', path, '/dev/null']),
    ]


def avro_tools(path):
    """Avro object container file -> JSON on standard output."""
    dcmflow = os.path.join(ROOT, 'target/release/dcmflow')
    return [
        ('dcmflow', [dcmflow, 'avro2json', '-q', path, '-']),
        ('dcmflow one thread', [dcmflow, 'avro2json', '-q', '--threads', '1', path, '-']),
        ('dcmflow ga4gh', [dcmflow, 'avro2json', '-q', '--encoding', 'ga4gh', path, '-']),
        ('avrocat', [PEERS + '/avrocat', path]),
        ('apache-avro', [PEERS + '/codecrs-peer', 'avro-to-json', path]),
        ('fastavro', [PEERS + '/avro-peer', 'to-json', path]),
    ]


def json_avro_tools(path, schema):
    """JSON (Avro's encoding, one datum per line) -> an Avro object container file, written to /dev/null."""
    dcmflow = os.path.join(ROOT, 'target/release/dcmflow')
    return [
        ('dcmflow', [dcmflow, 'json2avro', '-q', '-s', schema, path, '/dev/null']),
        ('dcmflow deflate', [dcmflow, 'json2avro', '-q', '-s', schema, '--codec', 'deflate', path, '/dev/null']),
        ('fastavro', [PEERS + '/avro-peer', 'from-json', schema, path, '/dev/null']),
        ('fastavro deflate', [PEERS + '/avro-peer', 'from-json', schema, path, '/dev/null', 'deflate']),
    ]


def run_once(cmd):
    """Exit code and wall seconds of one run, timed here to the microsecond with nothing in between.
    Timing the tools under /usr/bin/time with its stderr piped here, as this script did before, added
    8–11 ms to every run: a sixth of dcmflow's time on the metadata-heavy file, nothing on the peers'
    seconds. Peak RSS comes from a separate run (`peak_rss`)."""
    start = time.perf_counter()
    code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return code, time.perf_counter() - start


def peak_rss(cmd):
    """Peak RSS in KiB from GNU time, in a run of its own (not timed). The child's own rusage in Python
    (wait4) would count the forked interpreter's pages before the exec."""
    with tempfile.NamedTemporaryFile(mode='r') as out:
        subprocess.run(['/usr/bin/time', '-f', '%M', '-o', out.name] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        lines = out.read().strip().splitlines()
        return int(lines[-1]) if lines and lines[-1].isdigit() else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--skip', default='')
    ap.add_argument('--direction', choices=['dcm2json', 'json2dcm', 'bson2json', 'json2bson', 'avro2json', 'json2avro'],
                    default='dcm2json')
    ap.add_argument('--schema', help='json2avro: the schema (.avsc) of the data')
    ap.add_argument('files', nargs='+')
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(',') if s.strip()}
    if not os.path.exists('/dev/null') or not os.path.stat.S_ISCHR(os.stat('/dev/null').st_mode):
        sys.exit('/dev/null is not the null device; timings would include disk writes')
    for path in args.files:
        size = os.path.getsize(path)
        print('\n## %s (%.1f MiB)\n' % (os.path.basename(path), size / 2**20))
        print('| tool | median s | peak RSS MiB | vs dcmflow |')
        print('|---|---|---|---|')
        make = {'dcm2json': tools, 'json2dcm': json_tools, 'bson2json': bson_tools, 'json2bson': json_bson_tools,
                'avro2json': avro_tools, 'json2avro': lambda p: json_avro_tools(p, args.schema)}[args.direction]
        chosen = [(name, cmd) for name, cmd in make(path)
                  if not (name in skip or name.split()[0] in skip or not os.path.exists(cmd[0]))]
        # Round robin (every tool once per round), so that a burst of load from elsewhere on a shared
        # machine hits all tools alike instead of one tool's consecutive runs.
        times = {name: [] for name, _ in chosen}
        rss = {name: peak_rss(cmd) for name, cmd in chosen}
        failed = {name: False for name, _ in chosen}
        for _ in range(args.runs):
            for name, cmd in chosen:
                rc, wall = run_once(cmd)
                failed[name] |= rc != 0
                times[name].append(wall)
        base = None
        for name, _ in chosen:
            median = statistics.median(times[name])
            if name == 'dcmflow':
                base = median
            ratio = '%.1f×' % (median / base) if base else '-'
            print('| %s%s | %.3f | %.1f | %s |' % (name, ' (failed)' if failed[name] else '', median,
                                                   rss[name] / 1024, ratio), flush=True)


if __name__ == '__main__':
    main()
