"""The method's ablations, each a fixed setting of the SAME TrainConfig and training loop.

Which equalities are exact (bit-for-bit; tests/test_methods.py checks them with torch.equal):

- ``hard`` (q = 0): the data term is (1 - m) CE(hard) + m CE(soft) with m = alpha * q, so
  q = 0 and alpha = 0 both give m = 0.0 exactly: ``hard``, q = 0 and alpha = 0 train identical
  weights whatever tau, alpha (resp. q) and soft_label are.
- ``soft-only`` (alpha = 1): m = q; identical to any (alpha, q') with alpha * q' == q in floating
  point (e.g. alpha = 0.5, q' = 2q).
- ``uniform`` (soft_label = "uniform", the tau -> infinity limit): exactly equal to "similarity"
  only when the similarity softmax is exactly uniform in float32: one unseen class, or a power
  of two of unseen classes equally similar to every seen class. For large finite tau it is
  close, not equal (softmax(s / tau) = uniform + O(spread(s) / tau)).
- ``nearest`` (soft_label = "nearest", the tau -> 0 limit): exactly equal to "similarity" once
  every gap between the most similar unseen class and the others is over ~104 * tau (the float32
  exp then underflows to exactly 0, so the softmax is exactly one-hot). Below that the targets
  differ by about exp(-gap / tau) and the weights agree only within a tolerance.
"""

from __future__ import annotations

from szsl.methods.szsl import network_method

# name -> (TrainConfig values the ablation fixes, one-line description)
ABLATIONS: dict[str, tuple[dict, str]] = {
    "hard": ({"q": 0.0, "alpha": 0.0, "tau": 1.0, "soft_label": "similarity"}, "hard labels only (q = 0): plain CE over all classes"),
    "uniform": ({"soft_label": "uniform", "tau": 1.0}, "q spread evenly over the unseen classes (tau -> infinity)"),
    "nearest": ({"soft_label": "nearest", "tau": 1.0}, "all of q on the most similar unseen class (tau -> 0)"),
    "soft-only": ({"alpha": 1.0}, "soft-label CE only (alpha = 1)"),
}

# The registry's methods of this module (``szsl.methods.register("szsl.methods.ablations", name)``).
METHODS = {name: network_method(name, desc, fixed) for name, (fixed, desc) in ABLATIONS.items()}
