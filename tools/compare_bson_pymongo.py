#!/usr/bin/env python3
"""BSON <-> Extended JSON, dcmflow against pymongo's bson.json_util, document by document.

  compare_bson_pymongo.py DCMFLOW SHARED [--random N] [--seed S]

The documents: MongoDB's benchmark documents (../shared/bson/bench: flat, full, deep, tweet, small, large)
and real tweets (bench/ldjson), then N random documents of every non-deprecated type, each encoded by
pymongo into one BSON stream. For canonical, relaxed and legacy, `dcmflow bson2json` must give the JSON
value pymongo's `json_util.dumps` gives for the same document, member order included, except where this
project decided otherwise (printed as a count, and each checked to be that decision):
  - legacy NaN and infinities: pymongo writes bare NaN/Infinity (not JSON); dcmflow {"$numberDouble": ...}.
`$numberDouble` strings are compared as the doubles they name; floats as their bits.
The deprecated types (symbol, undefined, DBPointer) are not generated: pymongo decodes them into other
types (str, None, DBRef) and so writes other JSON than the specification's, which the corpus tests hold.
Then the other way: for each mode, the Extended JSON pymongo writes for every document, read by
`dcmflow json2bson` (with --legacy for legacy), must give the BSON bytes pymongo encodes from
`json_util.loads` of the same text, document by document, except: pymongo's encoder moves a top-level
`_id` first (dcmflow keeps the text's order; checked by re-encoding ours with pymongo), and legacy texts
holding bare NaN or Infinity (not JSON) are not fed.
Exits 1 on any other difference.
"""
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import uuid

import bson
from bson import json_util, Int64, Decimal128, Regex, Code, Timestamp, ObjectId, Binary
from bson.codec_options import CodecOptions, DatetimeConversion
from bson.datetime_ms import DatetimeMS
from bson.max_key import MaxKey
from bson.min_key import MinKey

MODES = {
    "canonical": json_util.CANONICAL_JSON_OPTIONS,
    "relaxed": json_util.RELAXED_JSON_OPTIONS,
    "legacy": json_util.LEGACY_JSON_OPTIONS,
}


def random_double(rng):
    choice = rng.randrange(8)
    if choice == 0:
        return rng.choice([0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, 1.7976931348623157e308])
    if choice == 1:
        return struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
    if choice == 2:
        return float(rng.randrange(-10**6, 10**6))
    return rng.uniform(-1, 1) * 10 ** rng.randrange(-30, 30)


def random_string(rng):
    alphabet = "abc xyz\"\\/\n\t\x00\x01\x1f\x7f é中文😀\u2028"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))


def random_value(rng, depth):
    kind = rng.randrange(20 if depth < 4 else 18)
    if kind == 0:
        return random_double(rng)
    if kind == 1:
        return random_string(rng)
    if kind == 2:
        return rng.randrange(-2**31, 2**31)
    if kind == 3:
        return Int64(rng.randrange(-2**63, 2**63))
    if kind == 4:
        return rng.choice([True, False])
    if kind == 5:
        return None
    if kind == 6:
        return ObjectId(bytes(rng.getrandbits(8) for _ in range(12)))
    if kind == 7:
        # Dates inside and outside the years the relaxed form writes as text.
        ms = rng.choice([0, -1, 253402300799999, 253402300800000, -62135596800000,
                         rng.randrange(-2**40, 2**45)])
        return DatetimeMS(ms)
    if kind == 8:
        subtype = rng.choice([0, 1, 3, 4, 5, 6, 7, 8, 0x80, 0x8F])
        size = 16 if subtype in (3, 4) else rng.randrange(40)
        return Binary(bytes(rng.getrandbits(8) for _ in range(size)), subtype)
    if kind == 9:
        flags = "".join(rng.sample("imlsux", rng.randrange(4)))
        return Regex(random_string(rng).replace("\x00", ""), flags)
    if kind == 10:
        return Code(random_string(rng))
    if kind == 11:
        return Code(random_string(rng), {"x": rng.randrange(100), "s": random_string(rng)})
    if kind == 12:
        return Timestamp(rng.randrange(2**32), rng.randrange(2**32))
    if kind == 13:
        return Decimal128(rng.choice(["0", "-0", "1.5", "-1E+6111", "1E-6176", "NaN", "Infinity",
                                      "-Infinity", "0.000001", "1.234567890123456789012345678901234E+20",
                                      str(rng.randrange(-10**30, 10**30)) + "E" + str(rng.randrange(-50, 50))]))
    if kind == 14:
        return MinKey()
    if kind == 15:
        return MaxKey()
    if kind == 16:
        return Binary(bytes(rng.getrandbits(8) for _ in range(rng.randrange(8))), 2)
    if kind == 17:
        return float(rng.randrange(-2**53, 2**53))
    if kind == 18:
        return random_document(rng, depth + 1)
    return [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]


def random_document(rng, depth=0):
    doc = {}
    for i in range(rng.randrange(8)):
        key = rng.choice(["a", "b", "$x", "é", "k%d" % i, "", "a.b", "$ref", "$id"]) + str(i)
        doc[key] = random_value(rng, depth)
    return doc


def documents(shared, count, seed):
    bench = os.path.join(shared, "bson", "bench")
    docs = []
    for name in ["flat_bson.json", "full_bson.json", "deep_bson.json", "tweet.json", "small_doc.json",
                 "large_doc.json"]:
        path = os.path.join(bench, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                docs.append(json_util.loads(f.read()))
    ldjson = os.path.join(bench, "ldjson")
    if os.path.isdir(ldjson):
        for name in sorted(os.listdir(ldjson))[:2]:
            with open(os.path.join(ldjson, name), "rb") as f:
                for line in f:
                    if line.strip():
                        docs.append(json.loads(line))
    rng = random.Random(seed)
    docs.extend(random_document(rng) for _ in range(count))
    return docs


class Bare:
    """A bare NaN or infinity (not JSON, but Python's json module reads and writes them)."""

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, Bare) and other.text == self.text


def normalise(value):
    """A JSON value (objects as lists of pairs, in order) with doubles compared by their bits."""
    if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value):
        if len(value) == 1 and value[0][0] == "$numberDouble" and isinstance(value[0][1], str):
            text = value[0][1]
            return [("$numberDouble", text if text in ("NaN", "Infinity", "-Infinity")
                     else struct.pack("<d", float(text)).hex())]
        return [(k, normalise(v)) for k, v in value]
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return Bare(repr(value))
        return "float " + struct.pack("<d", value).hex()
    return value


def parse(text):
    return normalise(json.loads(text, object_pairs_hook=lambda pairs: [tuple(p) for p in pairs] or []))


def bare_non_finite_to_wrapper(value):
    """pymongo's legacy bare NaN/Infinity as the wrapper dcmflow writes."""
    if isinstance(value, Bare):
        text = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[value.text]
        return [("$numberDouble", text)]
    if isinstance(value, list):
        return [(p[0], bare_non_finite_to_wrapper(p[1])) if isinstance(p, tuple) else bare_non_finite_to_wrapper(p)
                for p in value]
    return value


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    dcmflow, shared = args[0], args[1]
    count = int(args[args.index("--random") + 1]) if "--random" in args else 3000
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 1
    docs = documents(shared, count, seed)
    options = CodecOptions(tz_aware=True, datetime_conversion=DatetimeConversion.DATETIME_AUTO)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        stream = os.path.join(tmp, "docs.bson")
        with open(stream, "wb") as f:
            for doc in docs:
                f.write(bson.encode(doc))
        decoded = bson.decode_all(open(stream, "rb").read(), options)
        for mode, json_options in MODES.items():
            run = subprocess.run([dcmflow, "bson2json", "--json-format", mode, stream],
                                 capture_output=True, check=False)
            if run.returncode != 0:
                print(f"{mode}: dcmflow failed: {run.stderr.decode()}")
                failures += 1
                continue
            # Split on line feeds only: str.splitlines also splits at U+2028 inside strings.
            lines = run.stdout.decode("utf-8").split("\n")[:-1]
            if len(lines) != len(decoded):
                print(f"{mode}: {len(lines)} lines for {len(decoded)} documents")
                failures += 1
                continue
            decided = 0
            for i, (line, doc) in enumerate(zip(lines, decoded)):
                ours = parse(line)
                theirs = parse(json_util.dumps(doc, json_options=json_options))
                if ours == theirs:
                    continue
                if mode == "legacy" and ours == bare_non_finite_to_wrapper(theirs):
                    decided += 1
                    continue
                failures += 1
                if failures <= 10:
                    print(f"{mode}: document {i} differs:\n  dcmflow {line[:400]}\n  pymongo "
                          f"{json_util.dumps(doc, json_options=json_options)[:400]}")
            print(f"{mode}: {len(lines)} documents, {len(lines) - decided} identical to pymongo, "
                  f"{decided} differing only by decision (legacy non-finite doubles in $numberDouble)")
        failures += compare_json_to_bson(dcmflow, docs, tmp)
    if failures:
        print(f"{failures} differences")
        return 1
    return 0


def split_documents(stream):
    """A stream of BSON documents as a list of each one's bytes."""
    out, at = [], 0
    while at < len(stream):
        size = struct.unpack("<i", stream[at:at + 4])[0]
        out.append(stream[at:at + size])
        at += size
    return out


def compare_json_to_bson(dcmflow, docs, tmp):
    failures = 0
    for mode, json_options in MODES.items():
        load_options = json_util.JSONOptions(json_mode=json_options.json_mode, tz_aware=True,
                                             datetime_conversion=DatetimeConversion.DATETIME_AUTO)
        texts, skipped = [], 0
        for doc in docs:
            text = json_util.dumps(doc, json_options=json_options)
            try:
                json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
            except ValueError:
                skipped += 1  # legacy bare NaN/Infinity: not JSON
                continue
            texts.append(text)
        path = os.path.join(tmp, f"{mode}.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(texts) + "\n")
        args = [dcmflow, "json2bson", path, "-"] + (["--legacy"] if mode == "legacy" else [])
        run = subprocess.run(args, capture_output=True, check=False)
        if run.returncode != 0:
            print(f"{mode} JSON -> BSON: dcmflow failed: {run.stderr.decode()}")
            failures += 1
            continue
        ours = split_documents(run.stdout)
        if len(ours) != len(texts):
            print(f"{mode} JSON -> BSON: {len(ours)} documents for {len(texts)} texts")
            failures += 1
            continue
        same = id_first = 0
        for i, (bson_bytes, text) in enumerate(zip(ours, texts)):
            theirs = bson.encode(json_util.loads(text, json_options=load_options))
            if bson_bytes == theirs:
                same += 1
                continue
            # pymongo's encoder writes a top-level `_id` first (as mongod stores it); dcmflow keeps the
            # order of the text. Equal once pymongo re-encodes ours: that is the only difference.
            ours_doc = bson.decode(bson_bytes, CodecOptions(
                tz_aware=True, datetime_conversion=DatetimeConversion.DATETIME_AUTO))
            if "_id" in ours_doc and bson.encode(ours_doc) == theirs:
                id_first += 1
                continue
            failures += 1
            if failures <= 10:
                print(f"{mode} JSON -> BSON: document {i} differs:\n  text    {text[:400]}\n"
                      f"  dcmflow {bson_bytes.hex()[:400]}\n  pymongo {theirs.hex()[:400]}")
        print(f"{mode} JSON -> BSON: {len(texts)} documents, {same} byte-identical to pymongo, "
              f"{id_first} identical but for pymongo moving the top-level _id first"
              f"{f', {skipped} not JSON in pymongo legacy form (bare NaN/Infinity)' if skipped else ''}")
    return failures


if __name__ == "__main__":
    sys.exit(main())
