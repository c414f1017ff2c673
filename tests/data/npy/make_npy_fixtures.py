"""Writes the .npy fixtures the C++ tests read (run with the project venv; no randomness).

tests/io/npy_test.cpp checks that tabula reads every one of them and that tabula's writer
produces files byte-identical to f8_2d.npy, f4_1d.npy and f8_empty.npy, which numpy wrote here;
tests/python/test_npy_interop.py checks these committed files still match what numpy writes.
"""
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def arrays():
    """name -> (array, save keyword arguments), the arrays the tests expect."""
    f8_2d = np.arange(12, dtype="<f8").reshape(3, 4) * 0.5 - 1.0
    f4_1d = np.array([1.5, -2.25, np.nan, np.inf, 0.0], dtype="<f4")
    return {
        "f8_2d": f8_2d,
        "f4_1d": f4_1d,
        "f8_empty": np.zeros((0, 3), dtype="<f8"),
        "f8_fortran": np.asfortranarray(f8_2d),
        "i8": np.arange(4, dtype="<i8"),
        "f8_big_endian": f8_2d.astype(">f8"),
        "f8_3d": np.zeros((2, 2, 2), dtype="<f8"),
    }


def main():
    for name, array in arrays().items():
        np.save(HERE / f"{name}.npy", array)
    with open(HERE / "f4_v2.npy", "wb") as f:
        np.lib.format.write_array(f, arrays()["f8_2d"].astype("<f4"), version=(2, 0))
    data = (HERE / "f8_2d.npy").read_bytes()
    (HERE / "truncated.npy").write_bytes(data[:-8])
    (HERE / "bad_magic.npy").write_bytes(b"\x93NUMPZ" + data[6:])


if __name__ == "__main__":
    main()
