#!/usr/bin/env python3
"""Seeds the BSON fuzz targets from all the relevant BSON and Extended JSON of ../shared, each input behind
the targets' mode byte:

- bson_read, bson_json_roundtrip: every document of MongoDB's corpus (valid, degenerate and refused), the
  benchmark documents and real tweets (encoded by pymongo when it is installed);
- extjson_read: every Extended JSON text of the corpus (canonical, relaxed, degenerate, converted, and the
  parse errors), the benchmark documents as given, real tweets as given, and pymongo's canonical, relaxed
  and legacy output for the benchmark documents and tweets.

  python3 fuzz/seed_bson.py SHARED_DIR
"""
import glob
import json
import os
import sys


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else "../../shared"
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
    for target in ("bson_read", "bson_json_roundtrip"):
        write(shared, target, "b", docs)
    print("seeded bson_read and bson_json_roundtrip: %d inputs each (%d encoded by pymongo)"
          % (len(docs), encoded))
    texts = extended_json_texts(shared)
    write(shared, "extjson_read", "j", texts)
    print("seeded extjson_read: %d inputs" % len(texts))


def write(shared, target, prefix, inputs):
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", target)
    os.makedirs(out, exist_ok=True)
    for n, data in enumerate(inputs):
        mode = (n * 37) % 256
        with open(os.path.join(out, "%s%d" % (prefix, n)), "wb") as f:
            f.write(bytes([mode]) + data)


def extended_json_texts(shared):
    texts = []
    for path in sorted(glob.glob(os.path.join(shared, "bson", "corpus", "*.json"))):
        with open(path) as f:
            case_file = json.load(f)
        for case in case_file.get("valid", []):
            for key in ("canonical_extjson", "relaxed_extjson", "degenerate_extjson", "converted_extjson"):
                if key in case:
                    texts.append(case[key].encode())
        if case_file.get("bson_type") != "0x13":
            for case in case_file.get("parseErrors", []):
                texts.append(case["string"].encode())
        else:
            for case in case_file.get("parseErrors", []):
                texts.append(json.dumps({"d": {"$numberDecimal": case["string"]}}).encode())
    bench = os.path.join(shared, "bson", "bench")
    originals = []
    for name in ("flat_bson.json", "full_bson.json", "deep_bson.json", "tweet.json", "small_doc.json"):
        path = os.path.join(bench, name)
        if os.path.exists(path) and os.path.getsize(path) <= 64 << 10:
            with open(path, "rb") as f:
                originals.append(f.read())
    tweets = sorted(glob.glob(os.path.join(bench, "ldjson", "*.txt")))
    if tweets:
        with open(tweets[0], "rb") as f:
            lines = [l for l in f if l.strip()][:60]
        originals += [b"".join(lines[i:i + 3]) for i in range(0, len(lines), 3)]
    texts += originals
    try:
        from bson import json_util
        modes = [json_util.CANONICAL_JSON_OPTIONS, json_util.RELAXED_JSON_OPTIONS,
                 json_util.LEGACY_JSON_OPTIONS]
        for text in originals:
            docs = [json_util.loads(line) for line in text.splitlines() if line.strip()] \
                if text.lstrip().startswith(b"{\"text\"") else [json_util.loads(text)]
            for options in modes:
                texts.append("\n".join(json_util.dumps(d, json_options=options) for d in docs).encode())
    except ImportError:
        print("pymongo not installed: no pymongo Extended JSON seeded", file=sys.stderr)
    return texts


if __name__ == "__main__":
    main()
