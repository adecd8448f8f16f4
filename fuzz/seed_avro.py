#!/usr/bin/env python3
"""Seeds the Avro fuzz target from all the relevant Avro of ../shared: every container file of Apache's
interop data (all codecs, syncInMeta, test.avro12, schemas/*/data.avro), and — when fastavro is installed —
small files of random data for every schema tools/compare_avro_fastavro.py uses (interop.avsc: every type,
a recursive record, a 3-way union; the GA4GH Variant), in the null and deflate codecs, each behind the
target's mode byte.

  python3 fuzz/seed_avro.py SHARED_DIR
"""
import glob
import importlib.util
import io
import os
import random
import sys


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


if __name__ == "__main__":
    main()
