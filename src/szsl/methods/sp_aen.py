"""SP-AEN, feature-level variant: semantics-preserving adversarial embedding (Chen et al., CVPR 2018).

(Table 2 row "SP-AEN".) The paper trains end to end on raw images: a classifier embedding E, a
reconstructive embedding F, and an image generator (pre-trained) that reconstructs the image; an
adversarial loss makes what E keeps reconstruct like what F keeps, so E does not discard the visual
information the unseen classes need. szsl has fixed CNN features, not images, so this is the
**feature-level variant** (szsl's own construction from the paper's description), on features x
standardised with the training statistics:

* **classifier**: E(x) = MLP(x) in R^``embed_dim``; class embedding phi(c) = W_a a_c (linear in the class's
  attribute vector); compatibility s(x, c) = ``scale`` * cos(E(x), phi(c)); cross-entropy over the seen classes;
* **reconstructor**: a second embedding F(x) = MLP(x) in R^``embed_dim`` and a decoder D(F(x)) = MLP(F(x)) in
  R^D, loss ||D(F(x)) - x||^2 (mean over the feature dimensions) weighted ``rec_weight``;
* **adversarial alignment**: a discriminator Dis(z) = MLP(z) -> logit tells F(x) ("real") from E(x) ("fake")
  (binary cross-entropy, its own Adam, betas (0.5, 0.999), both embeddings detached); E is trained to fool it,
  ``adv_weight`` * BCE(Dis(E(x)), real), so E's embedding keeps the distribution of the reconstructive one.

Per minibatch: one discriminator step, then one step of E, W_a, F and D on CE + rec_weight * rec + adv_weight
* adv (Adam, ``lr``, ``weight_decay``). Every MLP: one hidden layer of ``hidden`` units, LeakyReLU 0.2,
PyTorch's default Linear init drawn from the fit's seed. GZSL scores: s(x, c) for every class.
``loss_history_``: the per-epoch mean of the main (non-discriminator) loss.

szsl's choices (the paper's numbers are for its image pipeline): embed_dim 256, hidden 512, Adam lr 1e-4,
30 epochs, batch 64, adv_weight 0.1, rec_weight 1, cosine scale 10, no weight decay, the discriminator in
the embedding space and the decoder in the feature space (the paper: a pre-trained image generator and an
image-level discriminator). ``SPACE``: lr and adv_weight (log).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from szsl.methods._peer_common import begin_fit, l2_rows, seeded_linear, train_epochs
from szsl.params import NON_NEGATIVE, POSITIVE, Interval, Param, defaults, space

NAME = "sp-aen"
DESCRIPTION = ("SP-AEN (Chen et al. 2018), feature-level variant: cosine classifier embedding + reconstructive embedding, "
               "adversarially aligned")

# Declared once (szsl.params); the searched ones in the order the sampler draws them.
PARAMS = (
    Param("embed_dim", 256, Interval(int, 1, None), None, "dimension of the two embeddings E(x), F(x)"),
    Param("hidden", 512, Interval(int, 1, None), None, "hidden units of the embeddings, decoder and discriminator"),
    Param("lr", 1e-4, POSITIVE, {"low": 1e-5, "high": 1e-3, "log": True}, "Adam learning rate"),
    Param("epochs", 30, Interval(int, 1, 100000), None, "epochs"),
    Param("batch_size", 64, Interval(int, 1, None), None, "minibatch"),
    Param("adv_weight", 0.1, NON_NEGATIVE, {"low": 1e-3, "high": 1.0, "log": True}, "weight of the adversarial alignment of E to F"),
    Param("rec_weight", 1.0, NON_NEGATIVE, None, "weight of the reconstruction ||D(F(x)) - x||^2"),
    Param("scale", 10.0, POSITIVE, None, "scale of the cosine compatibility"),
    Param("weight_decay", 0.0, NON_NEGATIVE, None, "Adam weight decay"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)


class MLP(nn.Module):
    """in -> hidden -> out: Linear, LeakyReLU 0.2, Linear (PyTorch's default Linear init drawn from ``g``)."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, g: torch.Generator):
        super().__init__()
        self.fc1 = seeded_linear(in_dim, hidden, g)
        self.fc2 = seeded_linear(hidden, out_dim, g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.leaky_relu(self.fc1(x), 0.2))


class SPAEN(nn.Module):
    """The classifier embedding E, the attribute map W_a (no bias), the reconstructive embedding F (``Fr``), its
    decoder ``Dec`` and the discriminator ``Dis``, drawn from ``g`` in this order."""

    def __init__(self, D: int, attr_dim: int, hidden: int, Z: int, g: torch.Generator):
        super().__init__()
        self.E = MLP(D, hidden, Z, g)
        self.Wa = seeded_linear(attr_dim, Z, g, bias=False)
        self.Fr = MLP(D, hidden, Z, g)
        self.Dec = MLP(Z, hidden, D, g)
        self.Dis = MLP(Z, hidden, 1, g)


def cosine_scores(e: torch.Tensor, phi: torch.Tensor, scale: float) -> torch.Tensor:
    """(n, C): scale * cos(e_i, phi_c)."""
    return scale * l2_rows(e) @ l2_rows(phi).T


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto"):
    """Train the feature-level SP-AEN on (X, y); classes of ``attributes`` without training images are unseen."""
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS)
    p, seen, g, dev = run.p, run.seen, run.g, run.dev
    Xt = torch.as_tensor(run.X, device=dev)
    mu, sd = Xt.mean(dim=0), Xt.std(dim=0).clamp_min(1e-6)
    Xs = (Xt - mu) / sd
    A_t = torch.as_tensor(run.A, device=dev)
    A_seen = A_t[torch.as_tensor(seen, device=dev)]
    col = torch.as_tensor(np.searchsorted(seen, run.y), device=dev)
    D, H, Z = Xs.shape[1], p["hidden"], p["embed_dim"]

    net = SPAEN(D, run.A.shape[1], H, Z, g).to(dev)
    E, Wa, Fr, Dec, Dis = net.E, net.Wa, net.Fr, net.Dec, net.Dis
    opt = torch.optim.Adam([*E.parameters(), *Wa.parameters(), *Fr.parameters(), *Dec.parameters()], lr=p["lr"],
                           weight_decay=p["weight_decay"])
    dis_opt = torch.optim.Adam(Dis.parameters(), lr=p["lr"], betas=(0.5, 0.999))
    parts: dict[str, list[float]] = {"ce": [], "rec": [], "adv": [], "dis": []}

    def step_loss(idx: torch.Tensor) -> torch.Tensor:
        x = Xs[idx]
        e, f = E(x), Fr(x)
        real, fake = Dis(f.detach()).squeeze(1), Dis(e.detach()).squeeze(1)
        dis_loss = F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + \
            F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
        dis_opt.zero_grad(set_to_none=True)
        dis_loss.backward()
        dis_opt.step()
        ce = F.cross_entropy(cosine_scores(e, Wa(A_seen), p["scale"]), col[idx])
        rec = (Dec(f) - x).pow(2).mean()
        fooled = Dis(e).squeeze(1)
        adv = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
        for k, v in (("ce", ce), ("rec", rec), ("adv", adv), ("dis", dis_loss)):
            parts[k].append(float(v.detach()))
        return ce + p["rec_weight"] * rec + p["adv_weight"] * adv

    history = train_epochs(step_loss, opt, n=Xs.shape[0], epochs=p["epochs"], batch_size=p["batch_size"], g=g, device=dev)
    net.requires_grad_(False)
    phi = Wa(A_t)

    def score(xb: torch.Tensor) -> torch.Tensor:
        return cosine_scores(E((xb - mu) / sd), phi, p["scale"])

    fitted = run.fitted(score, history)
    steps = max(1, len(parts["ce"]) // p["epochs"])
    fitted.parts_history_ = {k: [float(np.mean(v[i : i + steps])) for i in range(0, len(v), steps)] for k, v in parts.items()}
    fitted.reconstruct_ = lambda Xq: (Dec(Fr((torch.as_tensor(np.asarray(Xq, np.float32), device=dev) - mu) / sd))
                                      * sd + mu).cpu().numpy()
    return fitted
