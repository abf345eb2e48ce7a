"""Datasets: the Benchmark container and the readers/generators that build one."""

from szsl.data.benchmark import Benchmark, Fold

__all__ = ["Benchmark", "Fold"]
