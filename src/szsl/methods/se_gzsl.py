"""SE-GZSL: generalized zero-shot learning via synthesized examples (Kumar Verma, Arora, Mishra & Rai, CVPR 2018).

A conditional VAE plus an attribute regressor, trained on the seen classes (features min-max scaled per
dimension with the training statistics, attributes as given; LeakyReLU 0.2; Linear weights N(0, 0.02),
biases 0 as ``_gan_common``):

* encoder E(x, a) -> (mu, log var): Linear([x, a], H)-LReLU, then two Linear(H, nz) heads; decoder
  G(z, a) = Sigmoid(Linear(LReLU(Linear([z, a], H)), D)); nz = dim(a) unless ``latent_dim``;
* regressor R(x) = W x + b (features -> attributes), pre-trained on the real seen features (squared error
  to their class attributes), then trained on, per minibatch, the real features and the generated ones:
  ||R(x) - a||^2 + ``reg_gen_weight`` ||R(G(z, a)) - a||^2, z ~ N(0, I), G frozen for this step;
* per minibatch (after R's step), one step of E and G on: the VAE loss (tf-vaegan's: BCE summed over
  dimensions + KL, per image), + ``sem_weight`` ||R(G(z, a)) - a||^2 (R frozen: the regressor's
  "discriminator" feedback that makes generated features carry their class attributes) + ``feedback_weight``
  ||mu_E(G(z, a), a) - z||^2 (E frozen: the encoder must recover the code the decoder was given);
* then ``n_synth`` features per unseen class from G(z ~ N(0, I), a) and a linear softmax over ALL classes
  on real seen + synthetic unseen features (``_gan_common.final_classifier``); ``scores`` are its logits.

Published: the model (conditional VAE, regressor trained on real and synthesized examples, its loss on
synthesized examples and the latent / KL feedback on the decoder; synthesize unseen, classify all).
szsl's choices (the paper's values were not at hand): hidden 512, the loss weights (sem 1, reg_gen 0.1,
feedback 0.1), Adam lr 1e-3 (betas 0.9, 0.999), 50 epochs of minibatch 64, the linear regressor and its
pre-training (f-clswgan's: lr 1e-3, 50 epochs, batch 100), the final classifier's values (f-clswgan's: 300
features per unseen class, Adam lr 1e-3, 25 epochs, batch n_synth). Left out: the paper's KL annealing
and its separate warm-up of the VAE, and any per-dataset settings.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from szsl.methods._gan_common import CLASSIFIER_PARAMS, final_classifier, frozen, gan_inputs, normal_linear, randn
from szsl.methods._peer_common import Fitted, batches, begin_fit
from szsl.methods.cycle_wgan import cycle_loss, train_regressor
from szsl.methods.tf_vaegan import vae_loss
from szsl.params import BOOLEAN, NON_NEGATIVE, POSITIVE, Interval, Param, defaults, searched, space

NAME = "se-gzsl"
DESCRIPTION = "SE-GZSL (Kumar Verma et al. 2018) conditional VAE + attribute regressor feedback, synthesized unseen features"

# Declared once (szsl.params): szsl's choices as defaults; the searched ones in the order the sampler draws them.
PARAMS = (
    Param("lr", 1e-3, POSITIVE, {"low": 1e-4, "high": 3e-3, "log": True}, "Adam learning rate of encoder, decoder and regressor"),
    Param("batch_size", 64, Interval(int, 1, None), None, "minibatch"),
    Param("hidden", 512, Interval(int, 1, None), None, "hidden units of encoder and decoder"),
    Param("latent_dim", 0, Interval(int, 0, None), None, "0: the attribute dimension"),
    Param("sem_weight", 1.0, NON_NEGATIVE, {"low": 1e-2, "high": 10.0, "log": True},
          "weight of the regressor's loss on generated features in the decoder's loss"),
    Param("reg_gen_weight", 0.1, NON_NEGATIVE, None, "weight of the generated features in the regressor's loss"),
    Param("feedback_weight", 0.1, NON_NEGATIVE, None, "weight of ||mu_E(G(z, a), a) - z||^2 in the decoder's loss"),
    *searched(CLASSIFIER_PARAMS, n_synth={"choices": [50, 100, 300, 600]}),
    Param("epochs", 50, Interval(int, 0, 100000), {"choices": [20, 50, 100]}, "epochs"),
    Param("pre_lr", 1e-3, POSITIVE, None, "learning rate of the regressor's pre-training"),
    Param("pre_epochs", 50, Interval(int, 1, 100000), None, "its epochs"),
    Param("pre_batch_size", 100, Interval(int, 1, None), None, "its minibatch"),
    Param("minmax", True, BOOLEAN, None, "min-max scale the features"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)


class Encoder(nn.Module):
    """E(x, a) -> (mu, log var): Linear([x, a], hidden)-LReLU_0.2, then two Linear(hidden, nz) heads."""

    def __init__(self, x_dim: int, a_dim: int, hidden: int, nz: int, g: torch.Generator):
        super().__init__()
        self.fc = normal_linear(x_dim + a_dim, hidden, g)
        self.mu = normal_linear(hidden, nz, g)
        self.logvar = normal_linear(hidden, nz, g)

    def forward(self, x: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.leaky_relu(self.fc(torch.cat([x, a], 1)), 0.2)
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    """G(z, a) = Sigmoid(Linear(LReLU_0.2(Linear([z, a], hidden)), out_dim))."""

    def __init__(self, nz: int, a_dim: int, hidden: int, out_dim: int, g: torch.Generator):
        super().__init__()
        self.fc1 = normal_linear(nz + a_dim, hidden, g)
        self.fc2 = normal_linear(hidden, out_dim, g)

    def forward(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc2(F.leaky_relu(self.fc1(torch.cat([z, a], 1)), 0.2)))


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto") -> Fitted:
    """Train SE-GZSL on (X, y); classes of ``attributes`` without training images are the unseen ones."""
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS)
    p, g, dev = run.p, run.g, run.dev
    scaler, Xs, A_t, y_t = gan_inputs(run)
    n, D, Adim = run.X.shape[0], run.X.shape[1], run.A.shape[1]
    nz, H = p["latent_dim"] or Adim, p["hidden"]
    betas = (0.9, 0.999)

    # the regressor, pre-trained on the real seen features
    R, reg_hist = train_regressor(Xs, A_t[y_t], lr=p["pre_lr"], betas=betas, epochs=p["pre_epochs"],
                                  batch_size=p["pre_batch_size"], g=g, device=dev)
    E = Encoder(D, Adim, H, nz, g).to(dev)
    G = Decoder(nz, Adim, H, D, g).to(dev)
    optR = torch.optim.Adam(R.parameters(), lr=p["lr"], betas=betas)
    optEG = torch.optim.Adam([*E.parameters(), *G.parameters()], lr=p["lr"], betas=betas)

    hist = {"regressor": [], "vae": [], "sem": [], "feedback": []}
    for _epoch in range(p["epochs"]):
        sums, steps = dict.fromkeys(hist, 0.0), 0
        for idx in batches(n, p["batch_size"], g):
            idx = idx.to(dev)
            x, a = Xs[idx], A_t[y_t[idx]]
            # 1. the regressor on real and generated features
            with torch.no_grad():
                x_gen = G(randn((idx.numel(), nz), g, dev), a)
            loss_r = cycle_loss(x, a, R) + p["reg_gen_weight"] * cycle_loss(x_gen, a, R)
            optR.zero_grad(set_to_none=True)
            loss_r.backward()
            optR.step()
            # 2. encoder and decoder: VAE + the regressor's and the encoder's feedback on generated features
            mu, logvar = E(x, a)
            recon = G(mu + randn(mu.shape, g, dev) * torch.exp(0.5 * logvar), a)
            loss_vae = vae_loss(recon, x, mu, logvar)
            z = randn((idx.numel(), nz), g, dev)
            x_gen = G(z, a)
            loss_sem = cycle_loss(x_gen, a, frozen(R))
            loss_fb = (frozen(E)(x_gen, a)[0] - z).pow(2).sum(1).mean()
            loss = loss_vae + p["sem_weight"] * loss_sem + p["feedback_weight"] * loss_fb
            optEG.zero_grad(set_to_none=True)
            loss.backward()
            optEG.step()
            for k, v in (("regressor", loss_r), ("vae", loss_vae), ("sem", loss_sem), ("feedback", loss_fb)):
                sums[k] += float(v.detach())
            steps += 1
        for k, values in hist.items():
            values.append(sums[k] / steps)

    # synthetic unseen features + real seen ones -> a softmax classifier over all classes
    G.requires_grad_(False)
    with torch.no_grad():
        labels = torch.as_tensor(np.repeat(run.unseen, p["n_synth"]), device=dev)
        syn = [G(randn((lab.numel(), nz), g, dev), A_t[lab]) for lab in labels.split(4096)]
        syn_X = torch.cat(syn) if syn else torch.zeros((0, D), device=dev)
    # loss_history_: the final classifier's per-epoch loss; the generative model's per-epoch means are in
    # regressor_history_, vae_history_, sem_history_ and feedback_history_.
    fitted = final_classifier(run, torch.cat([Xs, syn_X]), torch.cat([y_t, labels]), betas=(0.5, 0.999), scaler=scaler,
                              hist=hist)
    fitted.pretrain_history_ = reg_hist
    return fitted
