"""A standalone reader of tabula model artifacts (format versions 1 to 3), using only the
Python standard library and NumPy: the proof that another language can read the weights.

    header, arrays = read_artifact("model.tbl")
    header["model"]["kind"], arrays["coef_"]

Layout (docs/artifact-format.md): magic b"TABULA\\0\\1" | u32 format version | u64 header length
| header JSON | zero padding to a multiple of 64 | arrays at 64-byte aligned offsets relative to
the data start | u64 checksum of every byte before it: CRC-32 as in zlib, zero-extended
(versions 2 and 3), or 64-bit FNV-1a (version 1). All little-endian. Version 3 is version 2
with gradient boosting's category-set arrays, read like any other array.
"""
import json
import struct
import sys
import zlib

import numpy as np

MAGIC = b"TABULA\x00\x01"
SUPPORTED_VERSION = 3
DTYPES = {
    "float32": "<f4",
    "float64": "<f8",
    "int32": "<i4",
    "int64": "<i8",
    "uint8": "u1",
}
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


class ArtifactError(ValueError):
    """The file is not a readable tabula artifact; the message says why."""


def fnv1a64(data: bytes) -> int:
    """Version 1's checksum (slow in Python: about 6 MB/s; version 2 uses zlib.crc32)."""
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def checksum(version: int, data: bytes) -> int:
    """The checksum field a file of `version` carries over `data` (every byte before it)."""
    return fnv1a64(data) if version == 1 else zlib.crc32(data)


def read_artifact(path):
    """Returns (header dict, {name: numpy array}) after checking magic, version, length and
    checksum."""
    with open(path, "rb") as f:
        data = f.read()
    if data[: len(MAGIC)] != MAGIC[: len(data)] or not data:
        raise ArtifactError(f"{path}: not a tabula artifact (bad magic)")
    if len(data) < 20:
        raise ArtifactError(f"{path}: truncated")
    version, header_len = struct.unpack_from("<IQ", data, 8)
    if version == 0 or version > SUPPORTED_VERSION:
        raise ArtifactError(f"{path}: format version {version} is newer than {SUPPORTED_VERSION}")
    if 20 + header_len > len(data):
        raise ArtifactError(f"{path}: truncated")
    header = json.loads(data[20 : 20 + header_len].decode("utf-8"))
    data_start = (20 + header_len + 63) // 64 * 64
    expected = data_start + header["data_bytes"] + 8
    if len(data) < expected:
        raise ArtifactError(f"{path}: truncated ({len(data)} of {expected} bytes)")
    (stored,) = struct.unpack_from("<Q", data, len(data) - 8)
    if checksum(version, data[:-8]) != stored:
        raise ArtifactError(f"{path}: checksum mismatch")
    arrays = {}
    for name, entry in header["arrays"].items():
        start = data_start + entry["offset"]
        raw = data[start : start + entry["nbytes"]]
        arrays[name] = np.frombuffer(raw, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return header, arrays


if __name__ == "__main__":
    hdr, arrs = read_artifact(sys.argv[1])
    print(json.dumps({k: v for k, v in hdr.items() if k != "arrays"}, indent=2))
    for key, value in arrs.items():
        print(key, value.dtype, value.shape, value.ravel()[:8])
