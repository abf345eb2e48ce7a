import json

import numpy as np
import torch

from szsl.cli import main
from szsl.methods import crnet, get_method, method_names

FAST = {"epochs": 40, "hidden": 64, "lr": 3e-3, "batch_size": 32}


def test_defaults():
    assert crnet.NAME == "crnet"
    assert crnet.DEFAULTS == {"experts": 5, "assignment": "soft", "temperature": 0.1, "hidden": 1200, "lr": 1e-4,
                              "weight_decay": 1e-5, "epochs": 30, "batch_size": 32, "minmax": True,
                              "episode_classes": "batch"}
    assert "crnet" in method_names() and get_method("crnet").defaults == crnet.DEFAULTS


def test_space(checks):
    checks.space_keys(crnet)
    assert set(crnet.SPACE) == {"lr", "weight_decay", "experts"}


def test_kmeans_finds_separated_clusters_and_the_assignments():
    rng = np.random.default_rng(0)
    P = np.concatenate([rng.normal(c, 0.01, size=(5, 2)) for c in ([0, 0], [5, 0], [0, 5])])
    C = crnet.kmeans(P, 3, torch.Generator().manual_seed(0))
    assert sorted(np.round(C).astype(int).tolist()) == [[0, 0], [0, 5], [5, 0]]
    soft = crnet.assignments(P, C, kind="soft", temperature=1.0, scale=1.0)
    hard = crnet.assignments(P, C, kind="hard", temperature=1.0, scale=1.0)
    np.testing.assert_allclose(soft.sum(1), 1.0)
    assert set(hard.sum(1)) == {1.0} and (soft.argmax(1) == hard.argmax(1)).all()
    np.testing.assert_allclose(crnet.assignments(P, C, kind="soft", temperature=1e-6, scale=1.0), hard, atol=1e-12)
    assert crnet.kmeans(P[:2], 5, torch.Generator().manual_seed(0)).shape == (2, 2)  # K capped at the points


def test_relation_logits_are_the_mlp_on_the_concatenation():
    x, r = torch.rand(3, 4, dtype=torch.float64), torch.rand(5, 4, dtype=torch.float64)
    W1, b1, w2, b2 = torch.rand(6, 8, dtype=torch.float64), torch.rand(6, dtype=torch.float64), \
        torch.rand(6, dtype=torch.float64), torch.tensor(0.3, dtype=torch.float64)
    got = crnet.relation_logits(x @ W1[:, :4].T + b1, r @ W1[:, 4:].T, w2, b2)
    want = [[float(torch.relu(W1 @ torch.cat([x[i], r[c]]) + b1) @ w2 + b2) for c in range(5)] for i in range(3)]
    torch.testing.assert_close(got, torch.tensor(want, dtype=torch.float64))


def test_trains_scores_and_transfers_to_the_unseen_classes(checks):
    for assignment, episodes in (("soft", "batch"), ("hard", "batch"), ("soft", "all")):
        fitted, s = checks.shape_and_loss(crnet, {**FAST, "assignment": assignment, "episode_classes": episodes})
        unseen = checks.y_test >= 8
        assert (s[unseen][:, 8:].argmax(1) + 8 == checks.y_test[unseen]).mean() > 0.5  # ZSL among the 2 unseen
        assert fitted.assignments_.shape == (10, 5) and fitted.representations_.shape == (10, checks.X.shape[1])


def test_an_episode_scores_the_images_against_their_batch_classes_only(checks, monkeypatch):
    """episode_classes "batch": each step's relation module sees the classes of its minibatch (sorted), the targets
    re-indexed into them; "all": every seen class, every step."""
    seen_per_step = {"batch": [], "all": []}
    original = crnet.relation_logits

    for episodes in seen_per_step:
        def spy(x_part, r_part, w2, b2, episodes=episodes):
            if torch.is_grad_enabled():  # a training step (scoring runs under no_grad)
                seen_per_step[episodes].append(r_part.shape[0])
            return original(x_part, r_part, w2, b2)

        monkeypatch.setattr(crnet, "relation_logits", spy)
        crnet.fit(checks.X, checks.y, checks.A, {**FAST, "epochs": 1, "batch_size": 4, "episode_classes": episodes},
                  seed=0, device="cpu")
    n_seen = np.unique(checks.y).size
    assert set(seen_per_step["all"]) == {n_seen}
    assert max(seen_per_step["batch"]) <= 4 and min(seen_per_step["batch"]) >= 1 and max(seen_per_step["batch"]) < n_seen


def test_deterministic_given_the_seed(checks):
    a = checks.deterministic(crnet, {**FAST, "epochs": 2})
    b = crnet.fit(checks.X, checks.y, checks.A, {**FAST, "epochs": 2}, seed=4, device="cpu").scores(checks.X_test)
    assert not np.array_equal(a, b)


def test_bad_params(checks):
    checks.bad_params(crnet, {"experts": 0, "assignment": "fuzzy", "temperature": 0.0, "lr": -1.0, "weight_decay": -1.0,
                              "minmax": 1, "episode_classes": "some"})


def test_cli_train_on_digits(tmp_path, capsys):
    out = tmp_path / "train.json"
    assert main(["train", "--method", "crnet", "--param", "epochs=1", "--param", "hidden=32", "--json", str(out),
                 "--device", "cpu"]) == 0
    res = json.loads(out.read_text())
    assert res["method"] == "crnet" and res["params"]["epochs"] == 1 and 0 <= res["H"] <= 100
    assert "digits: U=" in capsys.readouterr().out
