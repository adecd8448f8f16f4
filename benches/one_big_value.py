#!/usr/bin/env python3
"""An Avro object container file of one datum: a `bytes` value of N MiB (every byte value, in a
pattern that deflate shrinks little), as a single block — the case of a value larger than any block
a reader should hold.

    python3 benches/one_big_value.py OUT.avro [MIB] [null|deflate]
"""
import os
import sys
import zlib


def long_bytes(n):
    """A long in Avro's binary encoding (zig-zag, seven bits a byte)."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def main():
    out, mib = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100
    codec = sys.argv[3] if len(sys.argv) > 3 else "null"
    size = mib << 20
    value = (os.urandom(1 << 20) * mib)[:size]
    data = long_bytes(size) + value
    if codec == "deflate":
        squeeze = zlib.compressobj(6, zlib.DEFLATED, -15)
        data = squeeze.compress(data) + squeeze.flush()
    sync = bytes(range(16))
    meta = {b"avro.schema": b'"bytes"', b"avro.codec": codec.encode()}
    header = b"Obj\x01" + long_bytes(len(meta))
    for key, val in meta.items():
        header += long_bytes(len(key)) + key + long_bytes(len(val)) + val
    header += b"\x00" + sync
    with open(out, "wb") as f:
        f.write(header + long_bytes(1) + long_bytes(len(data)))
        f.write(data)
        f.write(sync)


main()
