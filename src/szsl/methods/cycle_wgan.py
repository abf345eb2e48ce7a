"""cycle-WGAN: multi-modal cycle-consistent generalized zero-shot learning (Felix, Kumar, Reid & Carneiro, ECCV 2018).

f-clswgan's conditional WGAN-GP (``_gan_common.train_cwgan`` with f-clswgan's generator, critic and
init; features min-max scaled per dimension, attributes as given) plus a **regressor** R from features
to attributes, R(x) = W x + b, pre-trained on the real seen features by the squared error to their
class attributes (Adam, then frozen). Its reconstruction error on generated features is the
cycle-consistency term of the generator loss:

    L_G = -D(G(z, a), a) + lambda_cycle ||R(G(z, a)) - a||^2   (+ beta CE(P(y | G(z, a))) when cls_weight > 0)

(squared norm summed over attributes, mean over the minibatch). With ``unseen_cycle`` (default) every
generator step adds the same term for a minibatch of the *unseen* classes' attribute vectors (classes
drawn uniformly): the "(U)" of Table 2's row "cycle-UWGAN" -- the generator is trained on the seen and
unseen classes' semantic features and the seen classes' images only (no unseen image is used). Then, as
f-clswgan, ``n_synth`` features per unseen class and a linear softmax over ALL classes on real seen +
synthetic unseen features; ``scores`` are its logits.

Published: the model (f-clswgan's WGAN plus the regressor's cycle-consistency loss on generated
features, the unseen classes' semantic samples in cycle-(U)WGAN). szsl's choices: lambda_cycle 0.01; the
regressor one linear layer, pre-trained like f-clswgan's classifier (Adam lr 1e-3, 50 epochs, batch
100); every other value f-clswgan's CUB defaults (lr 1e-4, 56 epochs, 4096 hidden, 300 synthetic
features per class, final classifier 25 epochs); the classification term off (cls_weight 0: the plain
cycle-WGAN; > 0 pre-trains f-clswgan's seen-class softmax too). A GPU-budget method like f-clswgan: on a
CPU run it at a stated budget (fewer epochs / hidden units). The authors' fine-tuned classifier variants
and per-dataset settings are left out.
"""

from __future__ import annotations

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
from szsl.methods._peer_common import Fitted, begin_fit, train_epochs
from szsl.methods.f_clswgan import Generator, synthesize
from szsl.params import BOOLEAN, NON_NEGATIVE, POSITIVE, Interval, Param, defaults, searched, space

NAME = "cycle-wgan"
DESCRIPTION = ("cycle-WGAN (Felix et al. 2018) f-clswgan's WGAN-GP + frozen feature->attribute regressor's cycle loss; "
               "GPU-budget method: run at a stated CPU budget")

# Declared once (szsl.params): f-clswgan's CUB values and szsl's choices as defaults; the searched ones in the order
# the sampler draws them.
PARAMS = (
    Param("lr", 1e-4, POSITIVE, {"low": 1e-5, "high": 3e-4, "log": True}, "Adam learning rate of generator and critic"),
    Param("beta1", 0.5, Interval(float, 0.0, 1.0, "left"), None, "Adam beta1"),
    Param("batch_size", 64, Interval(int, 1, None), None, "real (x, a) pairs per critic step"),
    Param("critic_iters", 5, Interval(int, 1, 1000), None, "critic steps per generator step"),
    Param("gp_lambda", 10.0, NON_NEGATIVE, None, "weight of the gradient penalty"),
    Param("cycle_weight", 0.01, NON_NEGATIVE, {"low": 1e-3, "high": 1.0, "log": True},
          "lambda_cycle: weight of the regressor's cycle-consistency loss in the generator loss"),
    Param("unseen_cycle", True, BOOLEAN, None, "the cycle term on the unseen classes' attributes too (cycle-(U)WGAN)"),
    Param("cls_weight", 0.0, NON_NEGATIVE, None, "beta: weight of f-clswgan's classification term (0: off)"),
    Param("hidden", 4096, Interval(int, 1, None), None, "hidden units of G and D"),
    Param("noise_dim", 0, Interval(int, 0, None), None, "0: the attribute dimension"),
    *searched(CLASSIFIER_PARAMS, n_synth={"choices": [50, 100, 300, 600]}),
    Param("epochs", 56, Interval(int, 0, 100000), {"choices": [20, 40, 56]}, "GAN epochs (ceil(N / batch_size) generator steps each)"),
    Param("pre_lr", 1e-3, POSITIVE, None,
          "learning rate of the regressor's (and, when cls_weight > 0, the seen classifier's) pre-training"),
    Param("pre_epochs", 50, Interval(int, 1, 100000), None, "its epochs"),
    Param("pre_batch_size", 100, Interval(int, 1, None), None, "its minibatch"),
    Param("minmax", True, BOOLEAN, None, "min-max scale the features"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)


def train_regressor(Xs: torch.Tensor, targets: torch.Tensor, *, lr: float, betas, epochs: int, batch_size: int,
                    g: torch.Generator, device) -> tuple[nn.Linear, list[float]]:
    """R(x) = W x + b (an nn.Linear) fitted by mean ||R(x) - a||^2 with Adam; init N(0, 0.02), bias 0. Returns (R, still
    trainable, its gradients cleared; per-epoch loss)."""
    R = normal_linear(Xs.shape[1], targets.shape[1], g).to(device)
    opt = torch.optim.Adam(R.parameters(), lr=lr, betas=betas)

    def step_loss(idx: torch.Tensor) -> torch.Tensor:
        return cycle_loss(Xs[idx], targets[idx], R)

    history = train_epochs(step_loss, opt, n=Xs.shape[0], epochs=epochs, batch_size=batch_size, g=g, device=device)
    R.zero_grad(set_to_none=True)
    return R, history


def cycle_loss(fake: torch.Tensor, a: torch.Tensor, R) -> torch.Tensor:
    """mean ||R(fake) - a||^2 (summed over attributes); ``R`` the regressor (a module or any function of ``fake``)."""
    return (R(fake) - a).pow(2).sum(1).mean()


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto") -> Fitted:
    """Train cycle-WGAN on (X, y); classes of ``attributes`` without training images are the unseen ones."""
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS)
    p, seen, g, dev = run.p, run.seen, run.g, run.dev
    scaler, Xs, A_t, y_t = gan_inputs(run)
    D, Adim = run.X.shape[1], run.A.shape[1]
    nz = p["noise_dim"] or Adim
    betas = (p["beta1"], 0.999)
    pre = dict(lr=p["pre_lr"], betas=betas, epochs=p["pre_epochs"], batch_size=p["pre_batch_size"], g=g, device=dev)

    # 1. the regressor features -> attributes on the real seen features (frozen afterwards)
    R, reg_hist = train_regressor(Xs, A_t[y_t], **pre)
    R.requires_grad_(False)
    beta = p["cls_weight"]
    if beta > 0:  # f-clswgan's seen-class softmax, for its classification term
        y_seen = seen_index(seen, run.y, dev)
        pre_clf, _ = train_softmax(Xs, y_seen, seen.size, **pre)

    # 2. the conditional WGAN-GP with the cycle-consistency term
    H = p["hidden"]
    G = Generator(nz, Adim, H, D, g).to(dev)
    critic = Critic(D, Adim, H, g).to(dev)
    unseen_t = torch.as_tensor(run.unseen)
    lam = p["cycle_weight"]

    def cycle_term(fake, a, idx):
        cyc = cycle_loss(fake, a, R)
        term, record = lam * cyc, {"cycle": cyc}
        if beta > 0:
            cls_loss = F.cross_entropy(pre_clf(fake), y_seen[idx])
            term, record["gen_cls"] = term + beta * cls_loss, cls_loss
        if p["unseen_cycle"] and unseen_t.numel():
            lab = unseen_t[torch.randint(unseen_t.numel(), (idx.numel(),), generator=g)].to(dev)
            a_u = A_t[lab]
            cyc_u = cycle_loss(G(randn((lab.numel(), nz), g, dev), a_u), a_u, R)
            term, record["cycle_unseen"] = term + lam * cyc_u, cyc_u
        return term, record

    hist = train_cwgan(G, critic, Xs, A_t, y_t, p=p, nz=nz, g=g, device=dev, betas=betas,
                       extra=cycle_term)

    # 3. synthetic unseen features + real seen ones -> a softmax classifier over all classes
    G.requires_grad_(False)
    syn_X, syn_y = synthesize(G, A_t, run.unseen, p["n_synth"], nz, g, dev)
    # loss_history_: the final classifier's per-epoch loss; the GAN's per-epoch means are in critic_history_,
    # wasserstein_history_, generator_history_, cycle_history_ (and cycle_unseen_history_, gen_cls_history_).
    fitted = final_classifier(run, torch.cat([Xs, syn_X]), torch.cat([y_t, syn_y]), betas=betas, scaler=scaler, hist=hist)
    fitted.regressor_history_ = reg_hist
    fitted.generator_params_ = [t.cpu().numpy() for t in G.parameters()]
    return fitted
