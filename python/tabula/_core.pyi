"""tabula's engine: fit, score, save and load registered models"""

from collections.abc import Mapping, Sequence
from typing import Annotated

import numpy
from numpy.typing import NDArray


def set_log_level(level: str) -> None:
    """Sets how much the engine logs: trace ... critical, off (default warn)."""

def estimator_names() -> list[str]:
    """Registry names of the models."""

def estimator_tasks(arg: str, /) -> list[str]:
    """The tasks a registered model does."""

def tune(data: str, target: str, model: str, space: Sequence[str], params: Mapping[str, str], search: str, n_iter: int, scheme: str, folds: int, metric: str, metrics: Sequence[str], test_size: float, seed: int, jobs: int, out_dir: str, device: str, n_jobs: int) -> str:
    """tabula tune's cross-validation driver; returns its result as JSON."""

def export_onnx(model_path: str, out_path: str) -> None:
    """Writes a model file as ONNX (tabula export --format onnx)."""

class Model:
    def __init__(self, name: str, params: Mapping[str, str], task: str) -> None: ...

    @staticmethod
    def load(path: str) -> Model: ...

    def fit_matrix(self, x: Annotated[NDArray[numpy.float32], dict(shape=(None, None), order='C', device='cpu', writable=False)], y: Annotated[NDArray[numpy.float64], dict(shape=(None,), order='C', device='cpu', writable=False)] | None, sample_weight: Annotated[NDArray[numpy.float64], dict(shape=(None,), order='C', device='cpu', writable=False)] | None, n_classes: int, seed: int, device: str, n_jobs: int, names: Sequence[str]) -> None: ...

    def partial_fit_matrix(self, x: Annotated[NDArray[numpy.float32], dict(shape=(None, None), order='C', device='cpu', writable=False)], sample_weight: Annotated[NDArray[numpy.float64], dict(shape=(None,), order='C', device='cpu', writable=False)] | None, seed: int, device: str, n_jobs: int, names: Sequence[str]) -> None: ...

    def fit_columns(self, columns: Sequence[tuple[str, Annotated[NDArray[numpy.float64], dict(shape=(None,), order='C', device='cpu', writable=False)] | tuple[Annotated[NDArray[numpy.int32], dict(shape=(None,), order='C', device='cpu', writable=False)], Sequence[str]]]], y: Annotated[NDArray[numpy.float64], dict(shape=(None,), order='C', device='cpu', writable=False)] | None, sample_weight: Annotated[NDArray[numpy.float64], dict(shape=(None,), order='C', device='cpu', writable=False)] | None, n_classes: int, seed: int, device: str, n_jobs: int) -> None: ...

    def apply_matrix(self, method: str, x: Annotated[NDArray[numpy.float32], dict(shape=(None, None), order='C', device='cpu', writable=False)], device: str, n_jobs: int) -> NDArray[numpy.float64]: ...

    def apply_columns(self, method: str, columns: Sequence[tuple[str, Annotated[NDArray[numpy.float64], dict(shape=(None,), order='C', device='cpu', writable=False)] | tuple[Annotated[NDArray[numpy.int32], dict(shape=(None,), order='C', device='cpu', writable=False)], Sequence[str]]]], device: str, n_jobs: int) -> NDArray[numpy.float64]: ...

    def save(self, path: str, target: str, class_labels: Sequence[str], numeric_labels: bool) -> None: ...

    @property
    def name(self) -> str: ...

    @property
    def task(self) -> str: ...

    @property
    def params_json(self) -> str: ...

    @property
    def summary_json(self) -> str: ...

    @property
    def training_json(self) -> str: ...

    @property
    def n_outputs(self) -> int: ...

    @property
    def reads_matrices(self) -> bool: ...

    @property
    def input_columns(self) -> list[tuple[str, str]]: ...

    @property
    def feature_names_out(self) -> list[str]: ...

    @property
    def class_labels(self) -> list[str]: ...

    @property
    def numeric_labels(self) -> bool: ...

    @property
    def target(self) -> str: ...

    def training_labels(self) -> NDArray[numpy.int32] | None: ...
