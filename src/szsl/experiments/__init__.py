"""Experiments on top of the core API: final evaluation, sweeps, figures, ``reproduce``."""
