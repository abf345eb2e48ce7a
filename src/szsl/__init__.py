"""szsl: generalized zero-shot learning with semantic-similarity soft labels."""

from szsl.config import TrainConfig
from szsl.data import load_benchmark
from szsl.data.benchmark import Benchmark, Fold
from szsl.errors import SZSLError
from szsl.estimator import SZSLClassifier
from szsl.metrics import gzsl_metrics, harmonic_mean, zsl_top1
from szsl.soft_labels import soft_labels
from szsl.train import TrainedMember, train_population

__version__ = "0.1.0"


def load_xlsa17(root, dataset):
    """Load one xlsa17 benchmark (``<root>/<DS>/res101.mat`` + ``att_splits.mat`` + class lists)."""
    from szsl.data.xlsa17 import load_xlsa17 as _load

    return _load(root, dataset)


__all__ = [
    "Benchmark",
    "Fold",
    "SZSLClassifier",
    "SZSLError",
    "TrainConfig",
    "TrainedMember",
    "gzsl_metrics",
    "harmonic_mean",
    "load_benchmark",
    "load_xlsa17",
    "soft_labels",
    "train_population",
    "zsl_top1",
    "__version__",
]
