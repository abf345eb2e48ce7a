"""szsl: generalized zero-shot learning with semantic-similarity soft labels."""

from szsl.data.benchmark import Benchmark, Fold
from szsl.errors import SZSLError

__version__ = "0.1.0"

__all__ = ["Benchmark", "Fold", "SZSLError", "__version__"]
