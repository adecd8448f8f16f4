#!/usr/bin/env python3
"""Avro <-> JSON, dcmflow against fastavro's json_writer and json_reader (the Avro specification's JSON
encoding).

  compare_avro_fastavro.py DCMFLOW SHARED [--random N] [--seed S]

For each schema — Apache's interop.avsc (every type, a recursive record, a 3-way union), the GA4GH
Variant schema of ../shared/peers/codecs/variant.avsc, Apache's weather.avsc and schemas/*.avsc — N random
data (every branch of every union, empty and long arrays and maps, non-ASCII strings, every byte value,
NaN and infinities) are written by fastavro into object container files (codecs null and deflate);
`dcmflow avro2json` must give the JSON value fastavro's json_writer gives for every datum, member order
included, except where this project decided otherwise (counted, each checked to be that decision):
  - NaN and infinities: fastavro writes bare NaN/Infinity (not JSON); dcmflow "NaN", "Infinity",
    "-Infinity", as Java's encoder does.
Every datum is also checked against the JSON the specification's encoding gives it, computed here from
the random value itself (the union branch chosen, the full names of named types): this is the check for
schemas fastavro's json_writer cannot write (it recurses without end on a recursive record, and its
reader overflows on extreme longs under a logical type).
Floats are compared as the float32/float64 values they name.

JSON -> Avro: `dcmflow json2avro --framing bare` on dcmflow's JSON, in Avro's encoding and in GA4GH's,
and on fastavro's json_writer output where it has one and it is JSON (bare NaN/Infinity are refused, by
decision), must give, byte for byte, the binary encoding
fastavro's schemaless_writer gives each datum; fastavro's json_reader must read dcmflow's JSON (Avro's
encoding) into data that encode to those bytes too; and a container file written by json2avro (deflate)
must read back in fastavro to the same data. Exits 1 on any other difference.
"""
import io
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile

import fastavro
from fastavro import json_reader, json_writer


def full_name(schema, namespace):
    name = schema["name"]
    if "." in name:
        return name
    ns = schema.get("namespace", namespace)
    return f"{ns}.{name}" if ns else name


def named(schema, names, namespace=""):
    """Every named type by its full name (namespaces inherited as the specification says)."""
    if isinstance(schema, dict) and schema.get("type") in ("record", "error", "enum", "fixed"):
        full = full_name(schema, namespace)
        names[full] = (full, schema)
        inner = full.rsplit(".", 1)[0] if "." in full else ""
        for f in schema.get("fields", []):
            named(f["type"], names, inner)
    elif isinstance(schema, dict):
        for k in ("items", "values", "type"):
            if k in schema and not isinstance(schema[k], str):
                named(schema[k], names, namespace)
    elif isinstance(schema, list):
        for s in schema:
            named(s, names, namespace)


def resolve(schema, names, namespace):
    """A type's (full name or type name, schema, namespace inside it)."""
    if isinstance(schema, str):
        if schema in names:
            full, s = names[schema]
        elif f"{namespace}.{schema}" in names:
            full, s = names[f"{namespace}.{schema}"]
        else:
            return schema, schema, namespace
        return full, s, full.rsplit(".", 1)[0] if "." in full else ""
    if isinstance(schema, list):
        return "union", schema, namespace
    t = schema["type"]
    if t in ("record", "error", "enum", "fixed"):
        full = full_name(schema, namespace)
        return full, schema, full.rsplit(".", 1)[0] if "." in full else ""
    if isinstance(t, (dict, list)) or t in names:
        return resolve(t, names, namespace)
    return t, schema, namespace


def random_datum(schema, names, rng, depth, namespace=""):
    """A random datum of `schema` and the JSON value the specification's encoding gives it."""
    name, s, ns = resolve(schema, names, namespace)
    if name == "union":
        branch = rng.choice(s)
        if depth > 4:
            # Deep down, a branch that ends the recursion when there is one.
            flat = [b for b in s if resolve(b, names, ns)[0] in ("null", "boolean", "int", "long", "float",
                                                                  "double", "bytes", "string")]
            branch = flat[0] if flat else branch
        value, expected = random_datum(branch, names, rng, depth + 1, ns)
        branch_name = resolve(branch, names, ns)[0]
        return value, (None if branch_name == "null" else [(branch_name, expected)])
    t = s if isinstance(s, str) else s["type"]
    if t in ("record", "error"):
        value, expected = {}, []
        for f in s["fields"]:
            v, e = random_datum(f["type"], names, rng, depth + 1, ns)
            value[f["name"]] = v
            expected.append((f["name"], e))
        return value, expected or []
    if t == "enum":
        v = rng.choice(s["symbols"])
        return v, v
    if t == "fixed":
        v = bytes(rng.getrandbits(8) for _ in range(s["size"]))
        return v, v.decode("latin-1")
    if t == "array":
        n = 0 if depth > 3 else rng.choice([0, 1, 2, 5, 40])
        pairs = [random_datum(s["items"], names, rng, depth + 1, ns) for _ in range(n)]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    if t == "map":
        n = 0 if depth > 3 else rng.choice([0, 1, 3])
        keys = [random_string(rng) + str(i) for i in range(n)]
        pairs = [random_datum(s["values"], names, rng, depth + 1, ns) for _ in range(n)]
        return {k: p[0] for k, p in zip(keys, pairs)}, [(k, p[1]) for k, p in zip(keys, pairs)] or []
    if t == "null":
        return None, None
    if t == "boolean":
        v = rng.random() < 0.5
        return v, v
    if t in ("int", "long") and isinstance(s, dict) and "logicalType" in s:
        # Dates and times in the range fastavro's reader turns into Python values.
        v = rng.randrange(0, 2**31 if t == "int" else 2**40)
        return v, v
    if t == "int":
        v = rng.choice([0, -1, 1, 2**31 - 1, -2**31, rng.randrange(-2**31, 2**31)])
        return v, v
    if t == "long":
        v = rng.choice([0, -1, 2**63 - 1, -2**63, rng.randrange(-2**63, 2**63)])
        return v, v
    if t == "float":
        v = rng.choice([0.0, -0.0, 1.5, math.inf, -math.inf, math.nan, 3.4028234663852886e38,
                        1e-45, rng.uniform(-1e6, 1e6)])
        v = struct.unpack("<f", struct.pack("<f", v))[0]
        e = spec_float(v)
        return v, (("float32", v) if isinstance(e, tuple) else e)
    if t == "double":
        v = rng.choice([0.0, -0.0, 0.1, math.inf, -math.inf, math.nan, 5e-324,
                        1.7976931348623157e308, rng.uniform(-1e300, 1e300), float(rng.randrange(10**6))])
        return v, spec_float(v)
    if t == "bytes":
        v = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 5, 300])))
        return v, v.decode("latin-1")
    if t == "string":
        v = random_string(rng)
        return v, v
    raise ValueError(f"unknown type {t!r}")


def spec_float(v):
    """The JSON value dcmflow writes for a float: the number, or Java's strings for non-finite ones."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return ("float", v)


def random_string(rng):
    alphabet = "abc xyz\"\\/\n\t\x00\x01\x1f\x7f é中文😀\u2028"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(10)))


class Bare:
    """A bare NaN or infinity, as fastavro's json_writer writes them (not JSON)."""

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, Bare) and other.text == self.text

    def __repr__(self):
        return self.text


def normalise(value, float32_paths=False):
    if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value):
        return [(k, normalise(v)) for k, v in value]
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return Bare({True: "nan"}.get(math.isnan(value), "inf" if value > 0 else "-inf"))
        return ("float", value)
    return value


def normalise_expected(value):
    """The expected value in `parse`'s form (floats tagged, objects as pair lists)."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] in ("float", "float32"):
        return value
    if isinstance(value, list):
        return [(p[0], normalise_expected(p[1])) if isinstance(p, tuple) else normalise_expected(p)
                for p in value]
    return value


def same(ours, expected):
    """Ours equals the expected value; a float32 is equal when it names the same float32."""
    if isinstance(expected, tuple) and len(expected) == 2 and expected[0] == "float32":
        return (isinstance(ours, tuple) and ours[0] == "float"
                and struct.pack("<f", ours[1]) == struct.pack("<f", expected[1]))
    if isinstance(expected, tuple) and len(expected) == 2 and expected[0] == "float":
        return ours == expected and math.copysign(1, ours[1]) == math.copysign(1, expected[1])
    if isinstance(expected, list):
        if not isinstance(ours, list) or len(ours) != len(expected):
            return False
        for o, e in zip(ours, expected):
            if isinstance(e, tuple) and len(e) == 2 and isinstance(e[0], str) and e[0] not in ("float", "float32"):
                if not (isinstance(o, tuple) and o[0] == e[0] and same(o[1], e[1])):
                    return False
            elif not same(o, e):
                return False
        return True
    return ours == expected


def parse(text):
    return normalise(json.loads(text, object_pairs_hook=lambda pairs: [tuple(p) for p in pairs] or []))


def strings_to_bare(value):
    """dcmflow's "NaN"/"Infinity"/"-Infinity" strings, where fastavro writes bare numbers."""
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return Bare({"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}[value])
    if isinstance(value, list):
        return [(p[0], strings_to_bare(p[1])) if isinstance(p, tuple) else strings_to_bare(p) for p in value]
    return value


def floats_as(value):
    """Numbers as float32 where both sides may differ only in the digits of a float32 (fastavro writes
    a float field as the double it reads, dcmflow as the shortest float32 text)."""
    if isinstance(value, tuple) and value and value[0] == "float":
        v = value[1]
        if abs(v) <= 3.4028234663852886e38:
            return ("float", struct.unpack("<f", struct.pack("<f", v))[0])
        return value
    if isinstance(value, list):
        return [(p[0], floats_as(p[1])) if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                else floats_as(p) for p in value]
    return value


def json2avro(dcmflow, schema_path, json_path, *extra):
    """dcmflow json2avro's output bytes, or None (and the message printed) when it fails."""
    run = subprocess.run([dcmflow, "json2avro", "--schema-file", schema_path, *extra, json_path, "-"],
                         capture_output=True, check=False)
    if run.returncode != 0:
        print(f"  dcmflow json2avro {' '.join(extra)} failed: {run.stderr.decode()[:500]}")
        return None
    return run.stdout


def check_json_to_avro(dcmflow, tmp, name, raw, parsed, data, ours_text, theirs_text):
    """The JSON -> Avro checks of the module's docstring; the number of failures."""
    failures = 0
    schema_path = os.path.join(tmp, name + ".avsc")
    with open(schema_path, "w") as f:
        json.dump(raw, f)
    expected = b"".join(schemaless(parsed, d) for d in data)
    texts = [("dcmflow's JSON", ours_text, "avro")]
    if theirs_text is not None:
        texts.append(("fastavro's JSON", theirs_text, "avro"))
    ga4gh = subprocess.run([dcmflow, "avro2json", "--encoding", "ga4gh", os.path.join(tmp, name + ".null.avro"),
                            "-"], capture_output=True, check=True).stdout
    texts.append(("dcmflow's GA4GH JSON", ga4gh, "ga4gh"))
    for label, text, encoding in texts:
        path = os.path.join(tmp, name + ".in.json")
        with open(path, "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode())
        if label == "fastavro's JSON" and not is_json(text):
            # fastavro writes NaN and the infinities bare, which RFC 8259 does not allow: refused by
            # decision (the input must be JSON), checked to be refused for that.
            run = subprocess.run([dcmflow, "json2avro", "--schema-file", schema_path, "--framing", "bare", path,
                                  "-"], capture_output=True, check=False)
            if run.returncode == 20 and (b"bare NaN or Infinity" in run.stderr
                                         or b"infinities have no JSON form" in run.stderr):
                print(f"{name}: fastavro's JSON holds bare NaN/Infinity (not JSON): refused, by decision")
            else:
                failures += 1
                print(f"{name}: fastavro's JSON with bare NaN/Infinity was not refused for it: "
                      f"{run.stderr.decode()[:300]}")
            continue
        got = json2avro(dcmflow, schema_path, path, "--framing", "bare", "--encoding", encoding)
        if got is None or got != expected:
            failures += 1
            where = "" if got is None else first_difference(got, expected)
            print(f"{name}: json2avro of {label} differs from fastavro's binary encoding{where}")
        else:
            print(f"{name}: json2avro of {label}: {len(data)} data, {len(got)} bytes identical to fastavro's")
    # fastavro's json_reader reads our JSON into the same data.
    try:
        read = list(json_reader(io.StringIO(ours_text.decode() if isinstance(ours_text, bytes) else ours_text),
                                parsed))
        again = b"".join(schemaless(parsed, d) for d in read)
        if again != expected:
            failures += 1
            print(f"{name}: fastavro's json_reader reads dcmflow's JSON into other data"
                  f"{first_difference(again, expected)}")
        else:
            print(f"{name}: fastavro's json_reader reads dcmflow's JSON into the same {len(read)} data")
    except (RecursionError, ValueError, TypeError, KeyError, AttributeError) as e:
        print(f"{name}: fastavro's json_reader cannot read this schema's JSON ({type(e).__name__}: {e})")
    # A deflated container file written by json2avro reads back in fastavro.
    path = os.path.join(tmp, name + ".in.json")
    with open(path, "wb") as f:
        f.write(ours_text if isinstance(ours_text, bytes) else ours_text.encode())
    container = json2avro(dcmflow, schema_path, path, "--codec", "deflate", "--block-size", "3000")
    if container is None:
        return failures + 1
    back = list(fastavro.reader(io.BytesIO(container)))
    if b"".join(schemaless(parsed, d) for d in back) != expected:
        failures += 1
        print(f"{name}: the container file json2avro wrote reads back in fastavro to other data")
    return failures


def is_json(text):
    """Whether every line is JSON (RFC 8259: no bare NaN or Infinity)."""
    def refuse(constant):
        raise ValueError(constant)
    try:
        for line in (text.decode() if isinstance(text, bytes) else text).split("\n"):
            if line:
                json.loads(line, parse_constant=refuse)
        return True
    except ValueError:
        return False


def schemaless(parsed, datum):
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, parsed, datum)
    return buf.getvalue()


def first_difference(a, b):
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f" (first at byte {n}: {a[n:n + 12].hex()} vs {b[n:n + 12].hex()}; {len(a)} vs {len(b)} bytes)"


def schemas(shared):
    out = []
    for path in [os.path.join(shared, "avro", "schemas", "interop.avsc"),
                 os.path.join(shared, "avro", "schemas", "weather.avsc"),
                 os.path.join(shared, "avro", "schemas", "fooBar.avsc"),
                 os.path.join(shared, "avro", "schemas", "RecordWithRequiredFields.avsc"),
                 os.path.join(shared, "peers", "codecs", "variant.avsc")]:
        if os.path.exists(path):
            with open(path) as f:
                out.append((os.path.basename(path), json.load(f)))
    return out


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    dcmflow, shared = args[0], args[1]
    count = int(args[args.index("--random") + 1]) if "--random" in args else 300
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 1
    rng = random.Random(seed)
    failures = 0
    found = schemas(shared)
    if not found:
        print("no schemas under ../shared: SKIPPED")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, raw in found:
            parsed = fastavro.parse_schema(raw)
            names = {}
            named(raw, names)
            pairs = [random_datum(raw, names, rng, 0) for _ in range(count)]
            data = [p[0] for p in pairs]
            expected = [normalise_expected(p[1]) for p in pairs]
            for codec in ("null", "deflate"):
                path = os.path.join(tmp, f"{name}.{codec}.avro")
                with open(path, "wb") as f:
                    fastavro.writer(f, parsed, data, codec=codec, sync_interval=4000)
                run = subprocess.run([dcmflow, "avro2json", path, "-"], capture_output=True, check=False)
                if run.returncode != 0:
                    print(f"{name} ({codec}): dcmflow failed: {run.stderr.decode()}")
                    failures += 1
                    continue
                ours = [parse(line) for line in run.stdout.decode("utf-8").split("\n")[:-1]]
                if len(ours) != len(data):
                    print(f"{name} ({codec}): {len(ours)} lines for {len(data)} data")
                    failures += 1
                    continue
                # 1. Against the specification's encoding of what fastavro wrote (computed here).
                for i, (a_, e) in enumerate(zip(ours, expected)):
                    if not same(a_, e):
                        failures += 1
                        if failures <= 10:
                            print(f"{name} ({codec}): datum {i}:\n  dcmflow  {a_}\n  expected {e}")
                # 2. Against fastavro's own json_writer, where it can write the schema.
                theirs_text = io.StringIO()
                try:
                    with open(path, "rb") as f:
                        json_writer(theirs_text, parsed, fastavro.reader(f))
                except (RecursionError, OverflowError) as e:
                    # fastavro's json_writer recurses without end on a recursive record, and its reader
                    # turns logical types into Python values that overflow on extreme longs.
                    print(f"{name} ({codec}): {len(ours)} data as the specification encodes them; "
                          f"fastavro's json_writer fails here ({type(e).__name__}: {e})")
                    theirs_text = None
                if codec == "null":
                    failures += check_json_to_avro(
                        dcmflow, tmp, name, raw, parsed, data, run.stdout,
                        None if theirs_text is None else theirs_text.getvalue())
                if theirs_text is None:
                    continue
                theirs = [parse(t) for t in theirs_text.getvalue().split("\n") if t]
                decided = 0
                for i, (a_, b_) in enumerate(zip(ours, theirs)):
                    if a_ == b_:
                        continue
                    if floats_as(strings_to_bare(a_)) == floats_as(b_):
                        decided += 1
                        continue
                    failures += 1
                    if failures <= 10:
                        print(f"{name} ({codec}): datum {i} differs from fastavro:\n  dcmflow  {a_}\n  fastavro {b_}")
                print(f"{name} ({codec}): {len(ours)} data as the specification encodes them; "
                      f"{len(ours) - decided} identical to fastavro's json_writer, {decided} differing only by "
                      f"decision (NaN/Infinity as strings, float32 digits)")
    if failures:
        print(f"{failures} differences")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
