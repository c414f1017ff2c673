"""The classic way to serve a tabular model: a Flask app around a scikit-learn pipeline, run by
gunicorn. It is the peer of `tabula serve` in benchmarks/bench_serve.py, so it answers the same
request bodies on the same paths:

  POST /v2/models/<name>/infer   Open Inference Protocol v2: one tensor per column (by name) or
                                 one 2-D tensor [rows, features] in training column order;
                                 outputs `predict` and, for classifiers, `probabilities`
  POST /invocations              MLflow scoring: dataframe_split or dataframe_records
  GET  /v2/health/ready          200 once the model is loaded (it is loaded at import)

The model file is a joblib dump written by bench_serve.py: {"name", "pipeline", "features",
"classes"} (classes is None for a regressor). Run:

  PEER_MODEL=/tmp/peer.joblib gunicorn --workers 2 --bind 127.0.0.1:8001 \
      --chdir benchmarks/peers flask_app:app
"""
import os

import joblib
import numpy as np
import pandas as pd
from flask import Flask, jsonify, request

_bundle = joblib.load(os.environ["PEER_MODEL"])
NAME = _bundle["name"]
PIPELINE = _bundle["pipeline"]
FEATURES = list(_bundle["features"])
CLASSES = _bundle["classes"]

app = Flask(__name__)


class BadRequest(Exception):
    pass


@app.errorhandler(BadRequest)
def _bad_request(error):
    return jsonify({"error": str(error)}), 400


def _frame_from_v2(inputs):
    """The v2 `inputs` list as a DataFrame with the training columns, in training order."""
    if not isinstance(inputs, list) or not inputs:
        raise BadRequest("'inputs' must be a non-empty list")
    if len(inputs) == 1 and len(inputs[0].get("shape", [])) == 2:
        shape = inputs[0]["shape"]
        values = np.asarray(inputs[0]["data"], dtype=np.float64)
        if shape[1] != len(FEATURES) or values.size != shape[0] * shape[1]:
            raise BadRequest(f"expected shape [n, {len(FEATURES)}], got {shape}")
        return pd.DataFrame(values.reshape(shape), columns=FEATURES)
    columns = {tensor["name"]: tensor["data"] for tensor in inputs}
    missing = [name for name in FEATURES if name not in columns]
    if missing:
        raise BadRequest(f"missing inputs: {missing}")
    return pd.DataFrame({name: columns[name] for name in FEATURES})


def _predict(frame):
    """(predictions as a list, probabilities as an ndarray or None)."""
    if CLASSES is None:
        return PIPELINE.predict(frame).tolist(), None
    proba = PIPELINE.predict_proba(frame)
    labels = np.asarray(CLASSES)[np.argmax(proba, axis=1)]
    return labels.tolist(), proba


@app.get("/v2/health/ready")
def ready():
    return "", 200


@app.post("/v2/models/<name>/infer")
def infer(name):
    if name != NAME:
        return jsonify({"error": f"unknown model '{name}'"}), 404
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object")
    frame = _frame_from_v2(body.get("inputs"))
    predictions, proba = _predict(frame)
    is_int = CLASSES is not None and np.issubdtype(np.asarray(CLASSES).dtype, np.integer)
    outputs = [{"name": "predict", "datatype": "INT64" if is_int else "FP64",
                "shape": [len(predictions)], "data": predictions}]
    if proba is not None:
        outputs.append({"name": "probabilities", "datatype": "FP64", "shape": list(proba.shape),
                        "data": proba.ravel().tolist()})
    answer = {"model_name": NAME, "outputs": outputs}
    if "id" in body:
        answer["id"] = body["id"]
    return jsonify(answer)


@app.post("/invocations")
def invocations():
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object")
    if "dataframe_split" in body:
        split = body["dataframe_split"]
        frame = pd.DataFrame(split["data"], columns=split["columns"])
    elif "dataframe_records" in body:
        frame = pd.DataFrame.from_records(body["dataframe_records"])
    else:
        raise BadRequest("expected dataframe_split or dataframe_records")
    missing = [name for name in FEATURES if name not in frame.columns]
    if missing:
        raise BadRequest(f"missing columns: {missing}")
    predictions, _ = _predict(frame[FEATURES])
    return jsonify({"predictions": predictions})
