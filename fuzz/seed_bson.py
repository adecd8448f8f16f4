#!/usr/bin/env python3
"""Seeds the BSON fuzz targets from all the relevant BSON of ../shared: every document of MongoDB's
corpus (valid, degenerate and refused), the benchmark documents and real tweets (encoded by pymongo when it
is installed), each behind the targets' mode byte.

  python3 fuzz/seed_bson.py SHARED_DIR
"""
import glob
import json
import os
import sys


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else "../../shared"
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "bson_read")
    os.makedirs(out, exist_ok=True)
    docs = []
    for path in sorted(glob.glob(os.path.join(shared, "bson", "corpus", "*.json"))):
        with open(path) as f:
            case_file = json.load(f)
        for case in case_file.get("valid", []):
            for key in ("canonical_bson", "degenerate_bson", "converted_bson"):
                if key in case:
                    docs.append(bytes.fromhex(case[key]))
        for case in case_file.get("decodeErrors", []):
            docs.append(bytes.fromhex(case["bson"]))
    encoded = 0
    try:
        import bson
        from bson import json_util
        bench = os.path.join(shared, "bson", "bench")
        for name in ("flat_bson.json", "full_bson.json", "deep_bson.json", "tweet.json", "small_doc.json"):
            path = os.path.join(bench, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    doc = bson.encode(json_util.loads(f.read()))
                if len(doc) <= 64 << 10:
                    docs.append(doc)
                    encoded += 1
        tweets = sorted(glob.glob(os.path.join(bench, "ldjson", "*.txt")))
        if tweets:
            with open(tweets[0], "rb") as f:
                lines = [l for l in f if l.strip()][:60]
            for i in range(0, len(lines), 3):
                # Three tweets as one stream, as mongodump writes a collection.
                docs.append(b"".join(bson.encode(json.loads(l)) for l in lines[i:i + 3]))
                encoded += 1
    except ImportError:
        print("pymongo not installed: benchmark documents and tweets not seeded", file=sys.stderr)
    for n, doc in enumerate(docs):
        mode = (n * 37) % 256
        with open(os.path.join(out, "b%d" % n), "wb") as f:
            f.write(bytes([mode]) + doc)
    print("seeded bson_read: %d inputs (%d encoded by pymongo)" % (len(docs), encoded))


if __name__ == "__main__":
    main()
