#!/usr/bin/env python3
"""Seeds the Avro fuzz targets. avro_read: from all the relevant Avro of ../shared: every container file of Apache's
interop data (all codecs, syncInMeta, test.avro12, schemas/*/data.avro), and — when fastavro is installed —
small files of random data for every schema tools/compare_avro_fastavro.py uses (interop.avsc: every type,
a recursive record, a 3-way union; the GA4GH Variant), in the null and deflate codecs, each behind the
target's mode byte.
avro_json_read and avro_json_roundtrip (which encode into the schemas of fuzz/schemas/, the mode byte's
low two bits picking one): Apache's weather.json (the weather schema), and for every schema random data
(fastavro) as JSON written by dcmflow avro2json in both encodings and by fastavro's json_writer (where it
can), and as bare binary data (fastavro's schemaless_writer).

  python3 fuzz/seed_avro.py SHARED_DIR [DCMFLOW]
"""
import glob
import importlib.util
import io
import json
import os
import random
import subprocess
import sys
import tempfile

# The order of fuzz_targets/avro_schemas.rs's TEXTS.
FUZZ_SCHEMAS = ["all_types", "variant", "weather", "wide_union"]


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else "../../shared"
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "corpus", "avro_read")
    os.makedirs(out, exist_ok=True)
    files = []
    for path in sorted(glob.glob(os.path.join(shared, "avro", "data", "**", "*.avro*"), recursive=True)):
        if os.path.getsize(path) <= 64 << 10:
            with open(path, "rb") as f:
                files.append(f.read())
    generated = 0
    try:
        import fastavro
        spec = importlib.util.spec_from_file_location(
            "compare", os.path.join(here, "..", "tools", "compare_avro_fastavro.py"))
        compare = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(compare)
        rng = random.Random(7)
        for name, raw in compare.schemas(shared):
            names = {}
            compare.named(raw, names)
            parsed = fastavro.parse_schema(raw)
            for codec in ("null", "deflate"):
                for size in (1, 5, 30):
                    data = [compare.random_datum(raw, names, rng, 0)[0] for _ in range(size)]
                    buf = io.BytesIO()
                    fastavro.writer(buf, parsed, data, codec=codec, sync_interval=2000)
                    if len(buf.getvalue()) <= 64 << 10:
                        files.append(buf.getvalue())
                        generated += 1
    except ImportError:
        print("fastavro not installed: no generated Avro seeded", file=sys.stderr)
    for n, data in enumerate(files):
        mode = (n * 37) % 256
        with open(os.path.join(out, "a%d" % n), "wb") as f:
            f.write(bytes([mode]) + data)
    print("seeded avro_read: %d inputs (%d written by fastavro)" % (len(files), generated))
    dcmflow = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "target", "release", "dcmflow")
    seed_json_targets(shared, here, dcmflow)


def write_seeds(here, target, seeds):
    out = os.path.join(here, "corpus", target)
    os.makedirs(out, exist_ok=True)
    for n, data in enumerate(seeds):
        if len(data) <= 20 << 10:
            with open(os.path.join(out, "s%d" % n), "wb") as f:
                f.write(data)
    print("seeded %s: %d inputs" % (target, len(seeds)))


def seed_json_targets(shared, here, dcmflow):
    json_seeds, binary_seeds = [], []
    weather = os.path.join(shared, "avro", "data", "weather.json")
    if os.path.exists(weather):
        with open(weather, "rb") as f:
            text = f.read()
        json_seeds += [bytes([2 | 16 * k]) + text for k in range(3)]
        json_seeds += [bytes([2]) + line for line in text.splitlines()]
    try:
        import fastavro
        from fastavro import json_writer
        spec = importlib.util.spec_from_file_location(
            "compare", os.path.join(here, "..", "tools", "compare_avro_fastavro.py"))
        compare = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(compare)
    except ImportError:
        print("fastavro not installed: the Avro JSON targets seeded with weather.json only", file=sys.stderr)
        write_seeds(here, "avro_json_read", json_seeds)
        return
    rng = random.Random(11)
    have_dcmflow = os.path.exists(dcmflow)
    if not have_dcmflow:
        print("no %s: JSON seeds from fastavro only" % dcmflow, file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        for index, name in enumerate(FUZZ_SCHEMAS):
            with open(os.path.join(here, "schemas", name + ".avsc")) as f:
                raw = json.load(f)
            names = {}
            compare.named(raw, names)
            parsed = fastavro.parse_schema(raw)
            for size in (1, 3, 12):
                data = [compare.random_datum(raw, names, rng, 0)[0] for _ in range(size)]
                binary = b"".join(compare.schemaless(parsed, d) for d in data)
                for codec_bits in range(4):
                    binary_seeds.append(bytes([index | codec_bits << 3 | rng.randrange(8) << 5]) + binary)
                path = os.path.join(tmp, "data.avro")
                with open(path, "wb") as f:
                    fastavro.writer(f, parsed, data)
                if have_dcmflow:
                    for encoding, bit in (("avro", 0), ("ga4gh", 4)):
                        text = subprocess.run([dcmflow, "avro2json", "--encoding", encoding, path, "-"],
                                              capture_output=True, check=True).stdout
                        json_seeds.append(bytes([index | bit | rng.randrange(16) << 4]) + text)
                buf = io.StringIO()
                try:
                    with open(path, "rb") as f:
                        json_writer(buf, parsed, fastavro.reader(f))
                    json_seeds.append(bytes([index | rng.randrange(16) << 4]) + buf.getvalue().encode())
                except (RecursionError, OverflowError):
                    pass
    write_seeds(here, "avro_json_read", json_seeds)
    write_seeds(here, "avro_json_roundtrip", binary_seeds)


if __name__ == "__main__":
    main()
