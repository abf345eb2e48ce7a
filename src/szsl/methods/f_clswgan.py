"""f-CLSWGAN: feature generating networks for zero-shot learning (Xian, Lorenz, Schiele & Akata, CVPR 2018).

Written from the paper (Sec. 3.2-3.3) with the settings of the authors' released run scripts:

* features min-max scaled per dimension with the training statistics (the scripts' ``--preprocessing``);
  attributes as given (xlsa17's ``att``, L2-normalised per class);
* generator G(z, a) = ReLU(Linear(LeakyReLU_0.2(Linear([z, a], 4096)), D)), z ~ N(0, I) with
  dim(z) = dim(a); critic D(x, a) = Linear(LeakyReLU_0.2(Linear([x, a], 4096)), 1); Linear weights
  N(0, 0.02), biases 0;
* WGAN-GP: critic loss D(G(z, a)) - D(x, a) + lambda (||grad D(x_hat, a)|| - 1)^2, lambda 10,
  5 critic steps per generator step, each on a fresh minibatch of 64 real (x, a) pairs (64 distinct
  training images drawn at random); the generator step conditions on the last of them;
* generator loss -D(G(z, a)) + beta * CE(P(y | G(z, a))) with P a linear softmax classifier
  pre-trained on the real seen features (frozen; Adam lr 1e-3, betas (0.5, 0.999), 50 epochs,
  batch 100), beta 0.01;
* Adam lr 1e-4 (CUB), betas (0.5, 0.999) for G and D; an "epoch" is N/64 generator steps; 56 epochs (CUB);
* then ``n_synth`` = 300 (CUB) features are generated per unseen class and a linear softmax
  classifier over ALL classes is trained on real seen + synthetic unseen features (Adam lr 1e-3,
  betas (0.5, 0.999), 25 epochs, batch = n_synth); ``scores`` are its logits.

``DEFAULTS`` are the authors' CUB values; ``AUTHORS`` (``PER_DATASET``: applied wherever the method runs
on that dataset, the user's values winning) holds their other per-dataset values
(AWA1: lr 1e-5, 30 epochs, 1800 features; SUN: lr 2e-4, 40 epochs, 400; FLO: beta 0.1, 80 epochs,
1200). The authors report no aPY setting. Their scripts evaluate the final classifier after every
GAN epoch and report the best test H; here the GAN trains its fixed number of epochs and the
classifier is trained once, at the end, for its fixed 25 epochs -- nothing is chosen on test data.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from szsl.methods._gan_common import (
    CLASSIFIER_PARAMS,
    Critic,
    final_classifier,
    gan_inputs,
    normal_linear,
    randn,
    seen_index,
    train_cwgan,
    train_softmax,
)
from szsl.methods._peer_common import Fitted, begin_fit
from szsl.params import BOOLEAN, NON_NEGATIVE, POSITIVE, Interval, Param, defaults, searched, space

NAME = "f-clswgan"

# Declared once (szsl.params): the authors' CUB values as defaults; the searched ones in the order the sampler draws them.
PARAMS = (
    Param("lr", 1e-4, POSITIVE, {"low": 1e-5, "high": 3e-4, "log": True}, "Adam learning rate of generator and critic"),
    Param("beta1", 0.5, Interval(float, 0.0, 1.0, "left"), None, "Adam beta1"),
    Param("batch_size", 64, Interval(int, 1, None), None, "real (x, a) pairs per critic step"),
    Param("critic_iters", 5, Interval(int, 1, 1000), None, "critic steps per generator step"),
    Param("gp_lambda", 10.0, NON_NEGATIVE, None, "weight of the gradient penalty"),
    Param("cls_weight", 0.01, NON_NEGATIVE, {"low": 1e-3, "high": 1.0, "log": True},
          "beta: weight of the pre-trained classifier's loss in the generator loss"),
    Param("hidden", 4096, Interval(int, 1, None), None, "hidden units of G and D"),
    Param("noise_dim", 0, Interval(int, 0, None), None, "0: the attribute dimension (the authors' nz = attSize)"),
    *searched(CLASSIFIER_PARAMS, n_synth={"choices": [50, 100, 300, 600]}),
    Param("epochs", 56, Interval(int, 0, 100000), {"choices": [20, 40, 56]}, "GAN epochs (N/64 generator steps each)"),
    Param("pre_lr", 1e-3, POSITIVE, None, "learning rate of the pre-trained seen-class classifier"),
    Param("pre_epochs", 50, Interval(int, 1, 100000), None, "its epochs"),
    Param("pre_batch_size", 100, Interval(int, 1, None), None, "its minibatch"),
    Param("minmax", True, BOOLEAN, None, "min-max scale the features (the authors' --preprocessing)"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)

# The authors' per-dataset values (their released run scripts); anything not listed is DEFAULTS'.
AUTHORS = {
    "CUB": {},
    "AWA1": {"lr": 1e-5, "epochs": 30, "n_synth": 1800},
    "AWA2": {"lr": 1e-5, "epochs": 30, "n_synth": 1800},  # no AWA2 run of theirs; AWA1's
    "SUN": {"lr": 2e-4, "epochs": 40, "n_synth": 400},
    "FLO": {"lr": 1e-4, "epochs": 80, "n_synth": 1200, "cls_weight": 0.1},
}

# The registry's PER_DATASET: applied wherever the method runs on that dataset (szsl train, the fixed
# values of a tuning space, szsl compare); the user's values win. SPACE searches lr, epochs, n_synth and cls_weight, so
# under tuning / compare the search sets those, not these.
PER_DATASET = AUTHORS


def authors_params(dataset: str) -> dict:
    """DEFAULTS with the authors' values for ``dataset`` (AWA1, AWA2, CUB, SUN, FLO; others: DEFAULTS)."""
    return {**DEFAULTS, **AUTHORS.get(str(dataset).upper(), {})}


class Generator(nn.Module):
    """G(z, a) = ReLU(Linear(LeakyReLU_0.2(Linear([z, a], hidden)), out_dim)); layers ``normal_linear``, drawn in order."""

    def __init__(self, nz: int, a_dim: int, hidden: int, out_dim: int, g: torch.Generator):
        super().__init__()
        self.fc1 = normal_linear(nz + a_dim, hidden, g)
        self.fc2 = normal_linear(hidden, out_dim, g)

    def forward(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc2(F.leaky_relu(self.fc1(torch.cat([z, a], dim=1)), 0.2)))


def synthesize(G: nn.Module, A_t: torch.Tensor, classes: np.ndarray, n_per_class: int, noise_dim: int,
               g: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_per_class`` features per class of ``classes`` from G (no gradient); labels in the full class space."""
    labels = torch.as_tensor(np.repeat(classes, n_per_class), device=device)
    out = []
    with torch.no_grad():
        for start in range(0, labels.numel(), 4096):
            lab = labels[start : start + 4096]
            out.append(G(randn((lab.numel(), noise_dim), g, device), A_t[lab]))
    if not out:
        return torch.zeros((0, G.fc2.out_features), device=device), labels
    return torch.cat(out), labels


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto") -> Fitted:
    """Train f-CLSWGAN on (X, y); classes of ``attributes`` without training images are the unseen ones."""
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS)
    p, seen, g, dev = run.p, run.seen, run.g, run.dev
    scaler, Xs, A_t, y_t = gan_inputs(run)
    y_seen = seen_index(seen, run.y, dev)
    D, Adim = run.X.shape[1], run.A.shape[1]
    nz = p["noise_dim"] or Adim
    betas = (p["beta1"], 0.999)

    # 1. the softmax classifier over the seen classes, on real features (frozen afterwards)
    pre, pre_hist = train_softmax(Xs, y_seen, seen.size, lr=p["pre_lr"], betas=betas, epochs=p["pre_epochs"],
                                         batch_size=p["pre_batch_size"], g=g, device=dev)

    # 2. the conditional WGAN-GP with the classification loss
    H = p["hidden"]
    G = Generator(nz, Adim, H, D, g).to(dev)
    critic = Critic(D, Adim, H, g).to(dev)

    def cls_term(fake, a, idx):
        cls_loss = F.cross_entropy(pre(fake), y_seen[idx])
        return p["cls_weight"] * cls_loss, {"gen_cls": cls_loss}

    hist = train_cwgan(G, critic, Xs, A_t, y_t, p=p, nz=nz, g=g, device=dev, betas=betas,
                       extra=cls_term)

    # 3. synthetic unseen features + real seen ones -> a softmax classifier over all classes
    G.requires_grad_(False)
    syn_X, syn_y = synthesize(G, A_t, run.unseen, p["n_synth"], nz, g, dev)
    train_X = torch.cat([Xs, syn_X])
    train_y = torch.cat([y_t, syn_y])
    # loss_history_: the final classifier's per-epoch loss; the GAN's per-epoch means are in
    # critic_history_ (-W + lambda GP), wasserstein_history_, generator_history_ and gen_cls_history_.
    fitted = final_classifier(run, train_X, train_y, betas=betas, scaler=scaler, hist=hist)
    fitted.pretrain_history_ = pre_hist
    fitted.generator_params_ = [t.cpu().numpy() for t in G.parameters()]  # fc1 weight, bias, fc2 weight, bias
    return fitted
