"""Deep Calibration Network (Liu, Long, Wang, Jordan; NeurIPS 2018) in the szsl harness.

Same network and fixed attribute head as SZSL (logits z = g_W(x) @ A^T over all classes the
model knows), trained by the same loop (``szsl.train.train_population``) with a different
per-sample loss, selected per member by ``TrainConfig.method == "dcn"`` (``losses.batch_loss``):

    CE over the SEEN classes of softmax(z / T)  +  beta * H(softmax over the UNSEEN classes of s * z)

T = ``dcn_temperature`` (temperature calibration), beta = ``dcn_entropy`` (entropy
minimisation of the prediction over the unseen classes, on the training samples), s = ``dcn_unseen_scale`` (the
scale of the unseen logits inside that entropy; the authors' released code has it apart from the seen one, their
"entropy lambda", 0.03 on AwA and CUB, 0.1 on SUN), declared here (``PARAMS``): a DCN member's setting is a
``DCNConfig``, a TrainConfig with these three more. q, tau, alpha and soft_label are unused. Why s is its own: with
the unseen logits at the seen scale 1 / T, nothing in the loss holds the unseen logits' level against the seen ones
(the CE masks them out), and a strong entropy term drives one unseen class above every seen one: on a CUB twin the
setting a 5-trial search chose (T 0.6, beta 0.29) predicted one unseen class for every image (test H 0.1).
Prediction: argmax of z over all classes (T does not change it).
"""

from __future__ import annotations

from szsl.config import TrainConfig, network_setting
from szsl.methods.szsl import DEFAULTS as _NETWORK_DEFAULTS
from szsl.methods.szsl import PAPER_SPACE, fit_population, scorer  # noqa: F401 - the registry reads them
from szsl.methods.szsl import fit as _fit_network
from szsl.params import NON_NEGATIVE, POSITIVE, Param, defaults, space

NAME = "dcn"
DESCRIPTION = "Deep Calibration Network (Liu et al. 2018): seen CE with temperature + unseen entropy"
NETWORK = True
# DCN's own hyperparameters (the names keep the ``dcn_`` prefix of the TrainConfig fields they were: tuning records,
# study databases and saved settings name them so).
PARAMS = (
    Param("dcn_temperature", 1.0, POSITIVE, {"low": 0.1, "high": 10.0, "log": True},
          "dcn: softmax temperature over the seen classes (> 0)"),
    Param("dcn_entropy", 0.1, NON_NEGATIVE, {"low": 1e-3, "high": 1.0, "log": True},
          "dcn: weight of the entropy over the unseen classes (>= 0)"),
    Param("dcn_unseen_scale", 0.03, POSITIVE, {"low": 0.01, "high": 1.0, "log": True},
          "dcn: scale of the unseen logits inside the entropy (> 0; the authors' 'entropy lambda')"),
)


@network_setting(PARAMS, NAME)
class DCNConfig(TrainConfig):
    """A DCN member's setting: every TrainConfig hyperparameter, ``method`` "dcn", and DCN's own (``PARAMS``)."""


CONFIG = DCNConfig
FIXED = {"method": "dcn", "q": 0.0, "alpha": 0.0, "tau": 1.0, "soft_label": "similarity"}
DEFAULTS = {**_NETWORK_DEFAULTS, **defaults(PARAMS), **FIXED}
SPACE = {**PAPER_SPACE, **FIXED, **space(PARAMS)}


def fit(X, y, attributes, params: dict, *, seed: int = 0, device: str = "auto"):
    """One DCN model (the contract's single fit; the harness trains populations with ``fit_population``)."""
    return _fit_network(X, y, attributes, {**dict(params), **FIXED}, seed=seed, device=device)


# ---- the loss the one training loop uses for members with TrainConfig.method == "dcn" (szsl.losses.LOSSES)


def settings(configs, device) -> dict:
    """Per-member DCN settings: temperature and unseen scale (K, 1, 1), entropy weight (K, 1); a member of another loss (whose values
    ``batch_loss`` masks out) has the defaults."""
    from szsl.losses import member_column  # torch: not at import (szsl train's options read PARAMS)

    values = [c if isinstance(c, DCNConfig) else DCNConfig() for c in configs]
    return {
        "temperature": member_column(values, "dcn_temperature", device),
        "entropy": member_column(values, "dcn_entropy", device).view(-1, 1),
        "unseen_scale": member_column(values, "dcn_unseen_scale", device),
    }


def per_sample(z, yb, unseen, hp: dict):
    """DCN (Liu et al. 2018): CE over the seen classes of z / T + beta * entropy over the unseen ones of s * z, (K, B)."""
    zt = z / hp["temperature"]
    if not unseen.numel():
        return -zt.log_softmax(dim=-1).gather(-1, yb.unsqueeze(-1)).squeeze(-1)
    is_unseen = z.new_zeros(z.shape[-1], dtype=bool)
    is_unseen[unseen] = True
    ce_seen = -zt.masked_fill(is_unseen, float("-inf")).log_softmax(dim=-1).gather(-1, yb.unsqueeze(-1)).squeeze(-1)
    log_pu = (z[..., unseen] * hp["unseen_scale"]).log_softmax(dim=-1)
    entropy = -(log_pu.exp() * log_pu).sum(-1)
    return ce_seen + hp["entropy"] * entropy
