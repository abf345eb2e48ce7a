"""The training loop: loss against a hand computation, frozen attribute head, alpha*q,
population members equal to training alone, determinism, divergence."""

import math

import numpy as np
import pytest
import torch

from szsl import TrainConfig, soft_labels, train_population
from szsl.errors import SZSLError
from szsl.losses import MemberSettings, batch_loss
from szsl.model import init_member, stack_members
from tests.helpers.train import toy_problem


def test_loss_matches_hand_computation_on_tiny_example():
    # 2 samples, 3 features, hidden 2, 2 attributes, 3 classes (class 2 unseen), tanh.
    W1 = torch.tensor([[0.1, -0.2], [0.3, 0.0], [-0.1, 0.2]])
    b1 = torch.tensor([0.05, -0.05])
    W2 = torch.tensor([[0.5, -0.3], [0.2, 0.4]])
    b2 = torch.tensor([0.1, 0.0])
    A = torch.tensor([[0.6, 0.8], [1.0, 0.0], [0.8, 0.6]])
    x = torch.tensor([[1.0, 2.0, 0.5], [0.0, 1.0, 3.0]])
    y = torch.tensor([0, 1])
    q, tau, alpha, l2, l1 = 0.3, 0.5, 0.7, 0.01, 0.002
    cfg = TrainConfig(q=q, tau=tau, alpha=alpha, l2=l2, l1=l1, hidden=2, activation="tanh")
    params = stack_members([{"W1": W1, "b1": b1, "W2": W2, "b2": b2}], torch.device("cpu"))
    got = batch_loss(params, x, y, A, torch.tensor([2]), MemberSettings.of([cfg], "cpu"), "tanh").item()

    # By hand, in float64 and plain Python: p = softmax(A g(x)), L = alpha CE(soft) + (1-alpha) CE(hard).
    soft = soft_labels(A.double().numpy(), [0, 1], [2], q=q, tau=tau)  # one unseen class: it gets all of q
    assert soft[0].tolist() == pytest.approx([1 - q, 0, q])
    total = 0.0
    for i in range(2):
        h = [math.tanh(sum(float(x[i, d]) * float(W1[d, j]) for d in range(3)) + float(b1[j])) for j in range(2)]
        g = [sum(h[j] * float(W2[j, a]) for j in range(2)) + float(b2[a]) for a in range(2)]
        z = [sum(g[a] * float(A[c, a]) for a in range(2)) for c in range(3)]
        log_p = [zc - math.log(sum(math.exp(v) for v in z)) for zc in z]
        ce_soft = -sum(soft[int(y[i])][c] * log_p[c] for c in range(3))
        ce_hard = -log_p[int(y[i])]
        total += alpha * ce_soft + (1 - alpha) * ce_hard
    weights = [float(v) for W in (W1, W2) for v in W.flatten()]
    expected = total / 2 + l2 * sum(v * v for v in weights) + l1 * sum(abs(v) for v in weights)
    assert got == pytest.approx(expected, rel=1e-6)


def test_no_gradient_reaches_the_attribute_matrix_and_it_is_not_modified():
    X, y, A = toy_problem()
    A_before = A.copy()
    members = train_population(X, y, A, [TrainConfig(hidden=16, epochs=2)], device="cpu")
    np.testing.assert_array_equal(A, A_before)
    assert set(members[0].state) == {"W1", "b1", "W2", "b2"}  # A is not a trainable parameter

    A_t = torch.tensor(A, requires_grad=True)
    params = stack_members([init_member(0, X.shape[1], 16, A.shape[1])], torch.device("cpu"))
    for p in params.values():
        p.requires_grad_(True)
    loss = batch_loss(
        params,
        torch.tensor(X[:32]),
        torch.tensor(y[:32]),
        A_t.detach(),
        torch.tensor([6, 7]),
        MemberSettings.of([TrainConfig(hidden=16)], "cpu"),
        "relu",
    )
    loss.sum().backward()
    assert A_t.grad is None
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params.values())


def test_data_term_depends_on_alpha_and_q_only_through_their_product():
    X, y, A = toy_problem()
    pairs = [(0.5, 0.4), (1.0, 0.2), (0.25, 0.8)]  # alpha * q = 0.2 for all three
    members = train_population(X, y, A, [TrainConfig(alpha=a, q=q, hidden=16, epochs=3, tau=0.3) for a, q in pairs], device="cpu")
    for m in members[1:]:
        for name in m.state:
            torch.testing.assert_close(m.state[name], members[0].state[name], rtol=0, atol=0)
    # ... while a different product trains a different model.
    other = train_population(X, y, A, [TrainConfig(alpha=0.5, q=0.6, hidden=16, epochs=3, tau=0.3)], device="cpu")[0]
    assert not torch.equal(other.state["W2"], members[0].state["W2"])


def test_each_population_member_matches_training_it_alone():
    X, y, A = toy_problem()
    configs = [
        TrainConfig(q=0.1, tau=0.05, lr=1e-3, l2=0.0, seed=0, hidden=24, epochs=3, batch_size=64),
        TrainConfig(q=0.7, tau=2.0, lr=3e-3, l2=1e-3, seed=1, hidden=24, epochs=3, batch_size=64),
        TrainConfig(q=0.4, alpha=1.0, l1=1e-4, seed=2, hidden=24, epochs=3, batch_size=64, soft_label="nearest"),
        TrainConfig(q=0.4, seed=3, hidden=24, epochs=3, batch_size=64, soft_label="uniform"),
        TrainConfig(q=0.2, seed=4, hidden=12, epochs=2, batch_size=100, activation="tanh"),  # another group
        TrainConfig(q=0.3, seed=5, hidden=24, epochs=3, batch_size=64, lr_schedule="cosine"),  # another schedule, another group
    ]
    together = train_population(X, y, A, configs, device="cpu")
    for cfg, member in zip(configs, together):
        alone = train_population(X, y, A, [cfg], device="cpu")[0]
        assert member.config == cfg
        for name in alone.state:
            torch.testing.assert_close(member.state[name], alone.state[name], rtol=1e-5, atol=1e-6)
        assert member.final_loss == pytest.approx(alone.final_loss, rel=1e-5)


def test_members_with_different_activations_train_as_one_group_and_match_training_alone():
    from szsl.config import ACTIVATIONS
    from szsl.methods.szsl import NetworkFit, scorer
    from szsl.train import Population

    X, y, A = toy_problem()
    configs = [TrainConfig(q=0.3, seed=0, hidden=16, epochs=2, batch_size=64, activation=a) for a in ACTIVATIONS]
    configs.append(configs[0].replace(seed=1))
    population = Population(X, y, A, configs, device="cpu", max_group=None)
    assert len(population.groups) == 1  # one stacked group although the activations differ
    population.train_to(2)
    together = population.members()
    for cfg, member in zip(configs, together):
        alone = train_population(X, y, A, [cfg], device="cpu")[0]
        for name in alone.state:
            torch.testing.assert_close(member.state[name], alone.state[name], rtol=1e-5, atol=1e-6)
    # ... and so do their scores, computed as one batch.
    fits = [NetworkFit(m, A, device="cpu") for m in together]
    from szsl.model import predict_scores

    for fit, block in zip(fits, scorer(fits)(X[:50])):
        alone = predict_scores([fit.member.state], fit.config.activation, X[:50], A, device="cpu")[0]
        np.testing.assert_allclose(block, alone, rtol=1e-5, atol=1e-5)
    # Each member did train with its own activation: same seed, another activation, another model.
    for other in together[1 : len(ACTIVATIONS)]:
        assert not torch.equal(other.state["W1"], together[0].state["W1"])


def test_on_a_cpu_groups_hold_at_most_cpu_max_group_members_and_members_still_match_alone():
    from szsl.train import CPU_MAX_GROUP, Population

    X, y, A = toy_problem()
    configs = [TrainConfig(q=0.3, seed=i, hidden=16, epochs=2, batch_size=64) for i in range(2 * CPU_MAX_GROUP + 1)]
    sizes = [len(g.index) for g in Population(X, y, A, configs, device="cpu").groups]
    assert sizes == [CPU_MAX_GROUP, CPU_MAX_GROUP, 1]
    assert [len(g.index) for g in Population(X, y, A, configs, device="cpu", max_group=3).groups] == [3, 3, 3]
    assert [len(g.index) for g in Population(X, y, A, configs, device="cpu", max_group=None).groups] == [len(configs)]
    chunked = train_population(X, y, A, configs, device="cpu")
    whole = train_population(X, y, A, configs, device="cpu", max_group=None)
    for a, b in zip(chunked, whole):
        for name in a.state:
            torch.testing.assert_close(a.state[name], b.state[name], rtol=1e-5, atol=1e-6)
    with pytest.raises(SZSLError, match="max_group=0"):
        Population(X, y, A, configs, device="cpu", max_group=0)


def test_same_seed_gives_identical_weights_and_other_seed_does_not():
    X, y, A = toy_problem()
    cfg = TrainConfig(hidden=16, epochs=2, seed=7)
    a, b = (train_population(X, y, A, [cfg], device="cpu")[0] for _ in range(2))
    c = train_population(X, y, A, [cfg.replace(seed=8)], device="cpu")[0]
    assert all(torch.equal(a.state[k], b.state[k]) for k in a.state)
    assert not torch.equal(a.state["W1"], c.state["W1"])


def test_a_diverging_member_is_reported_failed_without_harming_the_others():
    X, y, A = toy_problem()
    good, bad = train_population(
        X, y, A, [TrainConfig(hidden=16, epochs=3), TrainConfig(hidden=16, epochs=3, lr=1e6, optimizer="sgd")], device="cpu"
    )
    assert bad.diverged and "diverged at epoch 1" in bad.message and math.isnan(bad.final_loss)
    assert not good.diverged and good.message == "" and np.isfinite(good.final_loss)
    alone = train_population(X, y, A, [TrainConfig(hidden=16, epochs=3)], device="cpu")[0]
    torch.testing.assert_close(good.state["W1"], alone.state["W1"], rtol=1e-5, atol=1e-6)


def test_a_tau_too_small_for_float32_is_named_not_the_learning_rate():
    """tau=1e-300 is 0 in float32: the soft labels are NaN at once. The message says tau is too small (and the
    smallest usable one), not that lr may be too large; a member with a sound tau in the same group is unharmed."""
    X, y, A = toy_problem()
    configs = [TrainConfig(hidden=16, epochs=2, tau=1e-300), TrainConfig(hidden=16, epochs=2)]
    tiny, good, fast = train_population(X, y, A, configs + [TrainConfig(hidden=16, epochs=2, lr=1e6, optimizer="sgd")], device="cpu")
    assert tiny.diverged and "tau=1e-300 is too small" in tiny.message and "overflows float32" in tiny.message, tiny.message
    assert "lr=" not in tiny.message and "use tau >= 1.2e-38" in tiny.message
    assert not good.diverged
    assert fast.diverged and "lr=1e+06 may be too large" in fast.message and "tau" not in fast.message  # the lr, when it is the lr


@pytest.mark.parametrize(
    "edge", [dict(tau=1e-3), dict(tau=100.0), dict(q=0.0), dict(q=1.0), dict(alpha=0.0), dict(alpha=1.0), dict(batch_size=10_000)]
)
def test_edges_of_the_search_space_train_to_finite_weights(edge):
    X, y, A = toy_problem()
    m = train_population(X, y, A, [TrainConfig(hidden=8, epochs=2, **edge)], device="cpu")[0]
    assert not m.diverged and all(torch.isfinite(v).all() for v in m.state.values())


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_optimizer_fallback_without_private_torch_kernels_matches(optimizer, monkeypatch):
    """torch._fused_adam_ / torch._foreach_* are private: without them the per-tensor path gives the same weights."""
    import szsl.optim

    X, y, A = toy_problem(n=200)
    cfgs = [
        TrainConfig(hidden=8, epochs=3, batch_size=32, lr=lr, l2=1e-4, l1=1e-4, optimizer=optimizer, seed=s, lr_schedule=schedule)
        for s, lr in ((0, 1e-3), (1, 3e-3))
        for schedule in ("constant", "cosine")
    ]
    fast = train_population(X, y, A, cfgs, device="cpu")
    monkeypatch.setattr(szsl.optim, "HAS_FUSED_ADAM", False)
    monkeypatch.setattr(szsl.optim, "HAS_FOREACH", False)
    calls = []
    original = szsl.optim.PopulationOptimizer._step_per_tensor
    monkeypatch.setattr(szsl.optim.PopulationOptimizer, "_step_per_tensor", staticmethod(lambda *a: calls.append(1) or original(*a)))
    slow = train_population(X, y, A, cfgs, device="cpu")
    assert calls  # the fallback ran
    for a, b in zip(fast, slow):
        for name in a.state:
            torch.testing.assert_close(a.state[name], b.state[name], rtol=1e-4, atol=1e-6)


def test_a_stopped_member_keeps_its_weights_and_the_others_train_on_as_if_alone():
    """Population.stop (multi-fidelity pruning): the stopped member is its alone-trained self at that
    epoch; the members that go on end exactly where they would have without it."""
    from szsl.train import Population

    X, y, A = toy_problem()
    configs = [TrainConfig(hidden=16, epochs=4, batch_size=64, seed=s, q=0.2 * (s + 1), lr=1e-3 * (s + 1)) for s in range(3)]
    pop = Population(X, y, A, configs, device="cpu")
    pop.train_to(2)
    assert pop.running() == [0, 1, 2]
    pop.stop([1])
    assert pop.running() == [0, 2]
    pop.train_to(4)
    assert pop.running() == []
    members = pop.members()
    assert [m.epochs_run for m in members] == [4, 2, 4]
    expected = [configs[0], configs[1].replace(epochs=2), configs[2]]
    for cfg, member in zip(expected, members):
        alone = train_population(X, y, A, [cfg], device="cpu")[0]
        for name in alone.state:
            torch.testing.assert_close(member.state[name], alone.state[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fused", [True, False])
def test_cosine_schedule_scales_every_step_from_lr_down_to_near_zero(fused, monkeypatch):
    """With a constant gradient Adam moves each weight by lr per step (m_hat / sqrt(v_hat) = 1); the cosine
    schedule makes step t move it by lr (1 + cos(pi (t - 1) / T)) / 2, two members with their own lr."""
    import szsl.optim
    from szsl.model import PARAM_NAMES
    from szsl.optim import PopulationOptimizer

    if not fused:
        monkeypatch.setattr(szsl.optim, "HAS_FUSED_ADAM", False)
    T = 8
    params = {name: torch.zeros(2, 3, dtype=torch.float64) for name in PARAM_NAMES}
    cfgs = [TrainConfig(lr=1e-2, lr_schedule="cosine"), TrainConfig(lr=4e-2, lr_schedule="cosine")]
    opt = PopulationOptimizer(params, cfgs, "adam", "cosine", T)
    grads = [torch.ones(2, 3, dtype=torch.float64) for _ in PARAM_NAMES]
    before = params["W1"].clone()
    moved = []
    for _ in range(T):
        opt.step(grads)
        moved.append((before - params["W1"])[:, 0].clone())
        before = params["W1"].clone()
    factors = [0.5 * (1 + math.cos(math.pi * t / T)) for t in range(T)]
    for t in range(T):
        torch.testing.assert_close(moved[t], torch.tensor([1e-2, 4e-2], dtype=torch.float64) * factors[t], rtol=1e-5, atol=1e-9)
    assert factors[0] == 1.0 and factors[-1] < 0.05  # full lr first, nearly none at the end
    constant = PopulationOptimizer(params, cfgs, "adam")
    assert all(constant.lr_factor(t) == 1.0 for t in range(1, T + 1))


def test_cosine_schedule_anneals_over_the_whole_run_and_changes_the_result():
    X, y, A = toy_problem()
    cfg = TrainConfig(hidden=16, epochs=3, batch_size=64, lr=3e-3)
    const, cos = train_population(X, y, A, [cfg, cfg.replace(lr_schedule="cosine")], device="cpu")
    assert not torch.equal(const.state["W1"], cos.state["W1"])
    assert np.isfinite(cos.final_loss)
    with pytest.raises(Exception, match="lr_schedule"):
        TrainConfig(lr_schedule="linear")
