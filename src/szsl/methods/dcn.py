"""Deep Calibration Network (Liu, Long, Wang, Jordan; NeurIPS 2018) in the szsl harness.

Same network and fixed attribute head as SZSL (logits z = g_W(x) @ A^T over all classes the
model knows), trained by the same loop (``szsl.train.train_population``) with a different
per-sample loss, selected per member by ``TrainConfig.method == "dcn"`` (``losses.batch_loss``):

    CE over the SEEN classes of softmax(z / T)  +  beta * H(softmax over the UNSEEN classes of z / T)

T = ``dcn_temperature`` (temperature calibration), beta = ``dcn_entropy`` (entropy
minimisation of the prediction over the unseen classes, on the training samples). q, tau,
alpha and soft_label are unused. Prediction: argmax of z over all classes (T does not change it).
"""

from __future__ import annotations

import torch

from szsl.losses import member_column
from szsl.methods.szsl import DEFAULTS as _NETWORK_DEFAULTS
from szsl.methods.szsl import PAPER_SPACE, fit_population, scorer  # noqa: F401 - the registry reads them
from szsl.methods.szsl import fit as _fit_network

NAME = "dcn"
DESCRIPTION = "Deep Calibration Network (Liu et al. 2018): seen CE with temperature + unseen entropy"
NETWORK = True
DCN_FIXED = {"method": "dcn", "q": 0.0, "alpha": 0.0, "tau": 1.0, "soft_label": "similarity"}
DCN_SPACE = {
    "dcn_temperature": {"low": 0.1, "high": 10.0, "log": True},
    "dcn_entropy": {"low": 1e-3, "high": 1.0, "log": True},
}
FIXED = DCN_FIXED
DEFAULTS = {**_NETWORK_DEFAULTS, **DCN_FIXED}
SPACE = {**PAPER_SPACE, **DCN_FIXED, **DCN_SPACE}


def fit(X, y, attributes, params: dict, *, seed: int = 0, device: str = "auto"):
    """One DCN model (the contract's single fit; the harness trains populations with ``fit_population``)."""
    return _fit_network(X, y, attributes, {**dict(params), **DCN_FIXED}, seed=seed, device=device)


# ---- the loss the one training loop uses for members with TrainConfig.method == "dcn" (szsl.losses.LOSSES)


def settings(configs, device) -> dict:
    """Per-member DCN settings: temperature (K, 1, 1) and entropy weight (K, 1)."""
    return {
        "temperature": member_column(configs, "dcn_temperature", device),
        "entropy": member_column(configs, "dcn_entropy", device).view(-1, 1),
    }


def per_sample(z, yb, unseen, hp: dict):
    """DCN (Liu et al. 2018): CE over the seen classes of z / T + beta * entropy over the unseen ones, (K, B)."""
    zt = z / hp["temperature"]
    if not unseen.numel():
        return -torch.log_softmax(zt, dim=-1).gather(-1, yb.unsqueeze(-1)).squeeze(-1)
    is_unseen = torch.zeros(z.shape[-1], dtype=torch.bool, device=z.device)
    is_unseen[unseen] = True
    ce_seen = -torch.log_softmax(zt.masked_fill(is_unseen, float("-inf")), dim=-1).gather(-1, yb.unsqueeze(-1)).squeeze(-1)
    log_pu = torch.log_softmax(zt[..., unseen], dim=-1)
    entropy = -(log_pu.exp() * log_pu).sum(-1)
    return ce_seen + hp["entropy"] * entropy
