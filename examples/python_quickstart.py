"""tabula from Python, as a notebook would use it: scikit-learn estimators on tabula's engine.

    PYTHONPATH=build/release/python .venv/bin/python examples/python_quickstart.py
(or, after `pip install .`, plain `python examples/python_quickstart.py`). Run from the
repository root: it reads data/titanic.csv and data/breast_cancer.csv, and writes its model
files to a temporary folder.
"""
import pathlib
import subprocess
import tempfile

import pandas as pd
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import tabula

out = pathlib.Path(tempfile.mkdtemp())

# 1. A DataFrame with text columns and missing ages: tabula's own pipeline one-hot encodes the
#    text, and the forest routes missing values itself.
titanic = pd.read_csv("data/titanic.csv").drop(columns=["name"])
y = titanic.pop("survived")
x_train, x_test, y_train, y_test = train_test_split(titanic, y, test_size=0.25, random_state=0,
                                                    stratify=y)
forest = tabula.RandomForestClassifier(n_estimators=200, random_state=0)
forest.fit(x_train, y_train)
print(f"titanic forest: test accuracy {forest.score(x_test, y_test):.3f}")

# 2. The same model file as `tabula train` writes: the command line scores it.
forest.save(out / "titanic.tbl")
x_test.to_csv(out / "passengers.csv", index=False)
subprocess.run(["tabula", "predict", "--model", out / "titanic.tbl", "--data",
                out / "passengers.csv", "--out", out / "predictions.csv"], check=True,
               capture_output=True)
cli = pd.read_csv(out / "predictions.csv").iloc[:, -1].to_numpy()
print("command line agrees with Python:", bool((cli == forest.predict(x_test)).all()))

# 3. Inside scikit-learn's tools: a pipeline, cross-validation, a grid search.
cancer = pd.read_csv("data/breast_cancer.csv")
target = cancer.pop("target")
scores = cross_val_score(make_pipeline(StandardScaler(), tabula.LogisticRegression()),
                         cancer, target, cv=5, scoring="roc_auc")
print(f"breast cancer logistic regression: ROC-AUC {scores.mean():.4f} +- {scores.std():.4f}")
search = GridSearchCV(tabula.RandomForestClassifier(n_estimators=50, random_state=0),
                      {"max_depth": [4, 8, None]}, cv=3).fit(cancer, target)
print("grid search best:", search.best_params_)

# 4. tabula's own search: held-out test rows, the leaderboard as a DataFrame.
board = tabula.tune("data/breast_cancer.csv", "target", "logistic",
                    {"C": [0.01, 0.1, 1.0, 10.0]}, scoring="roc_auc")
print(board[["param_C", "mean_test_roc_auc", "std_test_roc_auc"]].to_string(index=False))
print(f"refitted best model, test ROC-AUC {board.attrs['test_score']:.4f}")

# 5. Read back any model file.
same = tabula.load(out / "titanic.tbl")
print("reloaded model predicts the same:", bool((same.predict(x_test) == forest.predict(x_test)).all()))
