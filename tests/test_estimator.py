import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import balanced_accuracy_score

from szsl import SZSLClassifier, SZSLEnsemble, SZSLError
from szsl.metrics import per_class_accuracy
from tests.helpers.train import toy_problem


@pytest.fixture(scope="module")
def fitted():
    X, y, A = toy_problem()
    return (
        SZSLClassifier(hidden=16, epochs=40, batch_size=64, q=0.3, alpha=0.5, device="cpu").fit(
            X, y, class_attributes=A, class_names=list("abcdefgh")
        ),
        X,
        y,
        A,
    )


def test_predictions_cover_all_classes_and_restriction_works(fitted):
    clf, X, y, A = fitted
    assert clf.unseen_.tolist() == [6, 7] and clf.seen_.tolist() == list(range(6))
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 8)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), clf.decision_function(X).argmax(axis=1))
    assert set(np.unique(clf.predict(X, among=clf.unseen_))) <= {6, 7}
    assert clf.score(X, y) > 0.5  # learnable toy problem, trained 40 epochs


def test_save_load_round_trip(fitted, tmp_path):
    clf = fitted[0]
    X = fitted[1]
    clf.save(tmp_path / "m.pt")
    back = SZSLClassifier.load(tmp_path / "m.pt")
    assert back.get_params() == clf.get_params()
    assert back.class_names_ == list("abcdefgh")
    np.testing.assert_array_equal(back.decision_function(X), clf.decision_function(X))
    np.testing.assert_array_equal(back.unseen_, clf.unseen_)


def test_tampered_or_foreign_model_files_are_rejected(fitted, tmp_path):
    clf = fitted[0]
    path = tmp_path / "m.pt"
    clf.save(path)
    data = bytearray(path.read_bytes())
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(SZSLError, match=r"trunc.pt: not a valid szsl model file"):
        SZSLClassifier.load(tmp_path / "trunc.pt")
    torch.save({"format": "szsl-model-v1", "params": "{}", "state": {}}, tmp_path / "bad.pt")
    with pytest.raises(SZSLError, match=r"bad.pt: not a valid szsl model file"):
        SZSLClassifier.load(tmp_path / "bad.pt")

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(SZSLError, match=r"evil.pt: not a valid szsl model file \(UnpicklingError"):
        SZSLClassifier.load(tmp_path / "evil.pt")
    with pytest.raises(SZSLError, match=r"missing.pt: model file not found"):
        SZSLClassifier.load(tmp_path / "missing.pt")


def test_input_validation_messages():
    """X and y are checked by scikit-learn's helpers, in its words, each error one line (an SZSLError: a ValueError)."""
    X, y, A = toy_problem(n=50)
    clf = SZSLClassifier(hidden=4, epochs=1, device="cpu")
    with pytest.raises(SZSLError, match=r"^Found input variables with inconsistent numbers of samples: \[50, 49\]$"):
        clf.fit(X, y[:-1], A)
    with pytest.raises(SZSLError, match=r"y: label 9 outside 0..7"):
        clf.fit(X, np.full(50, 9), A)
    Xn = X.copy()
    Xn[3, 2] = np.nan
    with pytest.raises(SZSLError, match=r"^Input X contains NaN\. SZSLClassifier does not accept missing values"):
        clf.fit(Xn, y, A)
    Xn[3, 2] = np.inf
    with pytest.raises(SZSLError, match=r"^Input X contains infinity or a value too large for dtype\('float32'\).$"):
        clf.fit(Xn, y, A)
    with pytest.raises(SZSLError, match=r"^Expected 2D array, got 1D array instead: Reshape your data") as err:
        clf.fit(X[:, 0], y, A)
    assert "array=" not in str(err.value) and "\n" not in str(err.value)  # the echoed array is left out
    with pytest.raises(SZSLError, match="not fitted yet"):
        clf.predict(X)
    with pytest.raises(SZSLError, match=r"q=-0.1: expected a number in \[0, 1\]"):
        SZSLClassifier(q=-0.1).fit(X, y, A)
    with pytest.raises(SZSLError, match=r"activation='gelu': expected one of relu, tanh, sigmoid, hard-sigmoid"):
        SZSLClassifier(activation="gelu").fit(X, y, A)
    fitted = clf.fit(X, y, A)
    with pytest.raises(SZSLError, match=r"^X has 3 features, but SZSLClassifier is expecting 20 features as input.$"):
        fitted.predict(np.zeros((5, 3)))
    with pytest.raises(SZSLError, match=r"among: expected class indices in 0..7"):
        fitted.predict(X, among=[9])
    assert fitted.predict(X[:0]).shape == (0,)  # no rows: no predictions, as before


@pytest.mark.parametrize("kind", ["classifier", "ensemble"])
def test_fit_rejects_what_scikit_learn_rejects_in_its_words(kind):
    from scipy import sparse

    from szsl.errors import SZSLTypeError

    X, y, A = toy_problem(n=50)
    model = SMALL_MODELS[kind]()
    name = type(model).__name__
    cases = [
        (X[:0], y[:0], rf"^Found array with 0 sample\(s\) \(shape=\(0, 20\)\) while a minimum of 1 is required by {name}.$"),
        (X[:, :0], y, rf"^Found array with 0 feature\(s\) \(shape=\(50, 0\)\) while a minimum of 1 is required by {name}.$"),
        (X, y + 0.5, r"^Unknown label type: continuous."),
        (X, None, rf"^This {name} estimator requires y to be passed, but the target y is None.$"),
        (X, np.stack([y, y], axis=1), r"^y should be a 1d array, got an array of shape \(50, 2\) instead.$"),
        (X.astype(np.complex128), y, r"^Complex data not supported"),
    ]
    for X_bad, y_bad, message in cases:
        with pytest.raises(SZSLError, match=message) as err:
            model.fit(X_bad, y_bad, A)
        assert "\n" not in str(err.value)
    with pytest.raises(SZSLTypeError, match="Sparse data was passed for X, but dense data is required") as err:
        model.fit(sparse.csr_matrix(X), y, A)
    assert isinstance(err.value, TypeError) and isinstance(err.value, SZSLError)  # scikit-learn's type, our one line
    fitted = model.fit(torch.as_tensor(X), torch.as_tensor(y), A)  # tensors are read as NumPy arrays
    with pytest.raises(SZSLError, match=rf"^X has 3 features, but {name} is expecting 20 features as input.$"):
        fitted.predict_proba(np.zeros((5, 3)))
    with pytest.raises(SZSLError, match=r"^Input X contains NaN\."):
        fitted.predict(np.full((2, 20), np.nan))


def test_sklearn_clone_and_divergence_error():
    X, y, A = toy_problem(n=200)
    clf = clone(SZSLClassifier(hidden=8, epochs=2, lr=1e6, optimizer="sgd", device="cpu"))
    with pytest.raises(SZSLError, match=r"training diverged at epoch \d+ \(loss NaN/inf"):
        clf.fit(X, y, A)


def test_unfitted_raises_sklearns_not_fitted_error():
    from sklearn.exceptions import NotFittedError

    clf = SZSLClassifier(hidden=4, epochs=1, device="cpu")
    for call in (lambda: clf.predict(np.zeros((2, 3))), lambda: clf.decision_function(np.zeros((2, 3))), lambda: clf.save("never.pt")):
        with pytest.raises(NotFittedError, match="unfitted|not fitted") as info:
            call()
        assert isinstance(info.value, SZSLError)  # still one line + exit 2 in the CLI


def test_init_and_train_config_cannot_drift_apart():
    import inspect
    from dataclasses import fields

    from szsl.config import TrainConfig

    init = {name: p.default for name, p in inspect.signature(SZSLClassifier.__init__).parameters.items() if name != "self"}
    config = {f.name: f.default for f in fields(TrainConfig)}
    assert {k: v for k, v in init.items() if k not in ("device", "verbose", "method_params")} == config
    assert list(init)[: len(config)] == list(config)


def test_load_restores_every_fitted_attribute(fitted, tmp_path):
    clf = fitted[0]
    clf.save(tmp_path / "m.pt")
    back = SZSLClassifier.load(tmp_path / "m.pt")
    fitted_attrs = sorted(k for k in vars(clf) if k.endswith("_") and not k.startswith("_"))
    assert fitted_attrs == sorted(k for k in vars(back) if k.endswith("_") and not k.startswith("_"))
    for k in fitted_attrs:
        a, b = getattr(clf, k), getattr(back, k)
        if k == "state_":
            assert a.keys() == b.keys() and all(torch.equal(a[n], b[n]) for n in a)
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b, k


def test_an_ensemble_averages_its_calibrated_members_and_survives_save_and_load(tmp_path):
    from scipy.special import softmax

    from szsl import SZSLEnsemble, load_model

    X, y, A = toy_problem()
    members = [dict(hidden=16, epochs=20, batch_size=64, q=0.3), dict(hidden=8, epochs=20, batch_size=64, q=0.6, tau=0.5)]
    gammas = [0.5, -0.2]
    ens = SZSLEnsemble(members=members, gammas=gammas, seed=3, device="cpu").fit(X, y, A, class_names=list("abcdefgh"))
    assert [e.seed for e in ens.estimators_] == [3, 3] and ens.unseen_.tolist() == [6, 7]
    # Each member alone, trained with the same seed, gives the same logits: the ensemble is their calibrated softmax mean.
    probs = []
    for m, g in zip(members, gammas):
        logits = SZSLClassifier(**m, seed=3, device="cpu").fit(X, y, A).decision_function(X).astype(np.float64)
        logits[:, :6] -= g
        probs.append(softmax(logits, axis=1))
    np.testing.assert_allclose(ens.predict_proba(X), (probs[0] + probs[1]) / 2, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(ens.predict(X), ens.predict_proba(X).argmax(1))
    assert set(np.unique(ens.predict(X, among=ens.unseen_))) <= {6, 7}
    ens.save(tmp_path / "e.pt")
    back = load_model(tmp_path / "e.pt")
    assert isinstance(back, SZSLEnsemble) and back.gammas == gammas and back.class_names_ == list("abcdefgh")
    np.testing.assert_array_equal(back.predict_proba(X), ens.predict_proba(X))
    with pytest.raises(SZSLError, match=r"e.pt: an ensemble of 2 models, not one model"):
        SZSLClassifier.load(tmp_path / "e.pt")
    with pytest.raises(SZSLError, match=r"gammas=\[0.1\]: expected one finite number per member \(2\)"):
        SZSLEnsemble(members=members, gammas=[0.1], device="cpu").fit(X, y, A)
    with pytest.raises(SZSLError, match="not fitted yet"):
        SZSLEnsemble(members=members).predict(X)
    # Weighted (an anchor's share): the weighted mean of the same calibrated softmaxes, kept by save and load.
    heavy = SZSLEnsemble(members=members, gammas=gammas, weights=[0.25, 0.75], seed=3, device="cpu").fit(X, y, A)
    np.testing.assert_allclose(heavy.predict_proba(X), 0.25 * probs[0] + 0.75 * probs[1], rtol=1e-5, atol=1e-7)
    heavy.save(tmp_path / "w.pt")
    back = load_model(tmp_path / "w.pt")
    assert back.weights == [0.25, 0.75]
    np.testing.assert_array_equal(back.predict_proba(X), heavy.predict_proba(X))
    for bad in ([0.5], [0.5, 0.6], [1.0, 0.0]):
        with pytest.raises(SZSLError, match=r"weights=.*expected one positive number per member \(2\), summing to 1"):
            SZSLEnsemble(members=members, weights=bad, device="cpu").fit(X, y, A)


def test_an_ensemble_from_a_tuning_result_follows_the_reproduce_rule():
    from szsl import SZSLEnsemble

    top = [
        {"value": 50.0, "config": {"q": 0.1}, "gamma": 0.3},
        {"value": 48.5, "config": {"q": 0.2}, "gamma": -0.1},
        {"value": 46.0, "config": {"q": 0.3}, "gamma": 0.0},
    ]
    from szsl.config import TrainConfig

    ens = SZSLEnsemble.from_tune({"top": top})
    assert ens.members == [{"q": 0.1}, {"q": 0.2}]  # within 3 points
    assert ens.gammas == [0.3, 0.0]  # the default "seen": a seen bias is corrected, an unseen one is not
    assert SZSLEnsemble.from_tune({"top": top}, calibrate="full").gammas == [0.3, -0.1]
    assert SZSLEnsemble.from_tune({"top": top}, k=1, calibrate="none").gammas is None
    assert len(SZSLEnsemble.from_tune({"top": top}, margin=10).members) == 3
    anchored = SZSLEnsemble.from_tune({"top": top}, anchor=True)  # then szsl's untuned setting, uncalibrated
    assert anchored.members == [{"q": 0.1}, {"q": 0.2}, TrainConfig().to_dict()] and anchored.gammas == [0.3, 0.0, 0.0]
    assert anchored.weights is None  # one member among the others
    heavy = SZSLEnsemble.from_tune({"top": top}, anchor=True, anchor_weight=2 / 3)  # folds of few classes: its share
    assert heavy.weights == pytest.approx([1 / 6, 1 / 6, 2 / 3])
    with pytest.raises(SZSLError, match="recorded no calibration gammas"):
        SZSLEnsemble.from_tune({"top": [{"value": 1.0, "config": {}}]})
    with pytest.raises(SZSLError, match="calibrate='yes': expected one of none, seen, full"):
        SZSLEnsemble.from_tune({"top": top}, calibrate="yes")
    with pytest.raises(SZSLError, match="no complete trials"):
        SZSLEnsemble.from_tune({})


SMALL_MODELS = {
    "classifier": lambda: SZSLClassifier(hidden=8, epochs=2, device="cpu"),
    "ensemble": lambda: SZSLEnsemble(members=[dict(hidden=8, epochs=2)], device="cpu"),
}


@pytest.mark.parametrize("kind", sorted(SMALL_MODELS))
def test_fitting_x_without_features_is_one_clear_error(kind):
    _, y, A = toy_problem(n=50)
    with pytest.raises(SZSLError, match=r"Found array with 0 feature\(s\) \(shape=\(50, 0\)\) while a minimum of 1 is required"):
        SMALL_MODELS[kind]().fit(np.zeros((50, 0), dtype=np.float32), y, A)


@pytest.mark.parametrize("kind", sorted(SMALL_MODELS))
def test_a_column_y_is_raveled_with_sklearns_data_conversion_warning(kind):
    X, y, A = toy_problem(n=120)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = SMALL_MODELS[kind]().fit(X, y[:, None], A)
    flat = SMALL_MODELS[kind]().fit(X, y, A)  # the same model as from the 1-D labels
    np.testing.assert_array_equal(column.predict_proba(X), flat.predict_proba(X))
    assert column.seen_.tolist() == flat.seen_.tolist() == list(range(6))
    with pytest.warns(DataConversionWarning):
        assert column.score(X, torch.as_tensor(y[:, None])) == column.score(X, y)


def test_score_is_the_per_class_mean_top1_accuracy_not_plain_accuracy(fitted):
    clf = SZSLClassifier()
    clf.predict = lambda X, among=None: np.array([0, 0, 0, 0, 1, 1])  # given predictions: what does score make of them?
    # per class: 4/4, 1/1, 0/1 -> 2/3; plain accuracy would be 5/6. Classes absent from y (3..7) do not count.
    assert clf.score(np.zeros((6, 1)), np.array([0, 0, 0, 0, 1, 2])) == pytest.approx(2 / 3)
    trained, X, y, _ = fitted
    predictions = trained.predict(X)
    assert trained.score(X, y) == pytest.approx(per_class_accuracy(y, predictions, np.unique(y)) / 100)
    assert trained.score(X, y) == pytest.approx(balanced_accuracy_score(y, predictions))


def test_an_ensemble_scores_the_per_class_mean_top1_accuracy():
    X, y, A = toy_problem(n=300)
    ens = SZSLEnsemble(members=[dict(hidden=8, epochs=5, batch_size=64)], device="cpu").fit(X, y, A)
    ens.predict = lambda X, among=None: np.array([0, 0, 0, 0, 1, 1])
    assert ens.score(X[:6], np.array([0, 0, 0, 0, 1, 2])) == pytest.approx(2 / 3)
    del ens.predict
    assert ens.score(X, y) == pytest.approx(balanced_accuracy_score(y, ens.predict(X)))


def _tampered(payload, change):
    import copy

    p = copy.deepcopy(payload)
    change(p)
    return p


def _set_attr(p, value):
    p["class_attributes"] = value


DEEP = "[" * 100_000 + "]" * 100_000
TAMPERINGS = {
    "nan attribute": (lambda p: p["class_attributes"].__setitem__((0, 0), float("nan")), r"class_attributes contains NaN or inf"),
    "inf attribute": (lambda p: p["class_attributes"].__setitem__((1, 2), float("inf")), r"class_attributes contains NaN or inf"),
    "0 classes": (lambda p: (_set_attr(p, p["class_attributes"][:0]), p.__setitem__("seen", p["seen"][:0])), r"at least 2 classes"),
    "1 class": (lambda p: (_set_attr(p, p["class_attributes"][:1]), p.__setitem__("seen", p["seen"][:1])), r"at least 2 classes"),
    "1-D attributes": (lambda p: _set_attr(p, p["class_attributes"][0]), r"class_attributes has shape \(\d+,\), expected a 2-D tensor"),
    "attributes not a tensor": (lambda p: _set_attr(p, p["class_attributes"].tolist()), r"class_attributes is list, expected a tensor"),
    "complex attributes": (lambda p: _set_attr(p, p["class_attributes"].to(torch.complex64)), r"class_attributes has dtype"),
    "W2 vs attributes": (lambda p: _set_attr(p, p["class_attributes"][:, :-1]), r"state W2 has shape"),
    "W1 vs b1": (lambda p: p["state"].__setitem__("b1", p["state"]["b1"][:-1]), r"state b1 has shape"),
    "b2 2-D": (lambda p: p["state"].__setitem__("b2", p["state"]["b2"][None]), r"state b2 has shape"),
    "W1 1-D": (lambda p: p["state"].__setitem__("W1", p["state"]["W1"][0]), r"state W1 has shape"),
    "nan weight": (lambda p: p["state"]["W2"].__setitem__((0, 0), float("nan")), r"state W2 contains NaN or inf"),
    "no features": (lambda p: (p.__setitem__("n_features_in", 0), p["state"].__setitem__("W1", p["state"]["W1"][:0])), r"n_features_in"),
    "state not a dict": (lambda p: p.__setitem__("state", [1, 2]), r"state is list, expected"),
    "seen 2-D": (lambda p: p.__setitem__("seen", p["seen"][None]), r"seen has shape"),
    "seen floats": (lambda p: p.__setitem__("seen", p["seen"].double()), r"seen has dtype"),
    "seen repeated": (lambda p: p.__setitem__("seen", torch.zeros(3, dtype=torch.int64)), r"seen lists class 0 twice"),
    "class names not strings": (lambda p: p.__setitem__("class_names", "[1, 2, 3, 4, 5, 6, 7, 8]"), r"class_names"),
    "deeply nested params": (lambda p: p.__setitem__("params", DEEP), r"nested too deeply"),
    "deeply nested names": (lambda p: p.__setitem__("class_names", DEEP), r"nested too deeply"),
}


@pytest.mark.parametrize("case", list(TAMPERINGS))
def test_every_tensor_and_shape_of_a_loaded_model_is_checked(fitted, tmp_path, case):
    from szsl import load_model

    change, message = TAMPERINGS[case]
    torch.save(_tampered(fitted[0]._payload(), change), tmp_path / "m.pt")
    with pytest.raises(SZSLError, match=r"m.pt: not a valid szsl model file \(.*" + message) as err:
        load_model(tmp_path / "m.pt")
    assert "\n" not in str(err.value)
    # the same member inside an ensemble file is rejected the same way
    members = [fitted[0]._payload(), _tampered(fitted[0]._payload(), change)]
    ens = {"format": "szsl-ensemble-v1", "gammas": "null", "seed": 0, "members": members}
    torch.save(ens, tmp_path / "e.pt")
    with pytest.raises(SZSLError, match=r"e.pt: not a valid szsl model file \(members\[1\]: .*" + message):
        load_model(tmp_path / "e.pt")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda e: e.__setitem__("members", {"a": 1}), r"members is dict, expected a list"),
        (lambda e: e.__setitem__("members", []), r"an ensemble without members"),
        (lambda e: e.__setitem__("gammas", DEEP), r"gammas is nested too deeply"),
    ],
)
def test_a_malformed_ensemble_file_is_one_line(fitted, tmp_path, change, message):
    from szsl import load_model

    ens = {"format": "szsl-ensemble-v1", "gammas": "null", "seed": 0, "members": [fitted[0]._payload()]}
    change(ens)
    torch.save(ens, tmp_path / "e.pt")
    with pytest.raises(SZSLError, match=r"e.pt: not a valid szsl model file \(" + message):
        load_model(tmp_path / "e.pt")


def test_estimator_hyperparameters_are_keyword_only():
    """scikit-learn's convention: hyperparameters by name only (a positional 0.3 cannot silently land on q)."""
    from szsl.ensemble import SZSLEnsemble
    from szsl.estimator import SZSLClassifier

    with pytest.raises(TypeError):
        SZSLClassifier(0.3)
    with pytest.raises(TypeError):
        SZSLEnsemble([{"q": 0.3}])
    assert SZSLClassifier(q=0.3).q == 0.3


def test_scikit_learns_checks_read_a_float32_memmap_in_place(tmp_path):
    """validate_data neither copies a float32 memmap X (fit and predict) nor builds an N x D temporary."""
    import tracemalloc

    from szsl.estimator import check_fit_input, check_predict_input

    rng = np.random.default_rng(0)
    np.save(tmp_path / "X.npy", rng.standard_normal((20_000, 16)).astype(np.float32))
    X = np.load(tmp_path / "X.npy", mmap_mode="r")
    y = rng.integers(0, 5, len(X))
    clf = SZSLClassifier()
    tracemalloc.start()
    try:
        checked, _ = check_fit_input(clf, X, y)
        clf.state_ = {}  # fitted, as far as check_predict_input can tell
        for_predict = check_predict_input(clf, X, "state_")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.shares_memory(checked, X) and np.shares_memory(for_predict, X)
    assert peak < X.nbytes / 4


def test_a_model_saved_when_trainconfig_held_dcns_hyperparameters_still_loads(fitted, tmp_path):
    """Files written before DCN's hyperparameters moved to methods/dcn.py list them among the params: ignored on load."""
    import json

    clf, X = fitted[0], fitted[1]
    payload = clf._payload()
    payload["params"] = json.dumps({**clf.get_params(), "dcn_temperature": 1.0, "dcn_entropy": 0.1})
    torch.save(payload, tmp_path / "old.pt")
    back = SZSLClassifier.load(tmp_path / "old.pt")
    assert back.get_params() == clf.get_params()
    np.testing.assert_array_equal(back.decision_function(X), clf.decision_function(X))


def test_a_dcn_member_makes_a_classifier_that_saves_and_loads(tmp_path):
    """DCN's own hyperparameters are not the classifier's: a DCN member's classifier predicts as the member, and loads."""
    from szsl import train_population
    from szsl.methods import get_method

    X, y, A = toy_problem(n=120)
    config = get_method("dcn").config(dcn_temperature=0.5, hidden=8, epochs=2, batch_size=64)
    (member,) = train_population(X, y, A, [config], device="cpu")
    clf = SZSLClassifier.from_member(member, A, np.unique(y), device="cpu")
    assert clf.method == "dcn" and clf.get_params()["method_params"] == {
        "dcn_temperature": 0.5, "dcn_entropy": 0.1, "dcn_unseen_scale": 0.03}
    assert clf._config() == config
    clf.save(tmp_path / "dcn.pt")
    back = SZSLClassifier.load(tmp_path / "dcn.pt")
    np.testing.assert_array_equal(back.decision_function(X), clf.decision_function(X))
    assert back._config() == config  # the file keeps DCN's own values: a refit trains the same setting
    refit = clone(back).set_params(device="cpu").fit(X, y, A)
    np.testing.assert_array_equal(refit.decision_function(X), clf.decision_function(X))


def test_a_dcn_model_saved_before_method_params_keeps_its_values(tmp_path):
    """A DCN file written when TrainConfig held DCN's values lists them among the params: they become method_params."""
    import json

    from szsl import train_population
    from szsl.methods import get_method

    X, y, A = toy_problem(n=120)
    config = get_method("dcn").config(dcn_temperature=0.5, dcn_entropy=0.3, hidden=8, epochs=2, batch_size=64)
    (member,) = train_population(X, y, A, [config], device="cpu")
    clf = SZSLClassifier.from_member(member, A, np.unique(y), device="cpu")
    payload = clf._payload()
    old = {k: v for k, v in clf.get_params().items() if k != "method_params"}
    payload["params"] = json.dumps({**old, "dcn_temperature": 0.5, "dcn_entropy": 0.3})
    torch.save(payload, tmp_path / "old.pt")
    assert SZSLClassifier.load(tmp_path / "old.pt")._config() == config


def test_method_params_are_checked_against_the_method():
    X, y, A = toy_problem(n=60)
    for bad, words in (({"dcn_temperature": 0.5}, "unknown hyperparameter"), ({"q": 0.1}, "arguments of their own"),
                       ([1], "expected None or a dict"), ({"dcn_temperature": -1.0}, "dcn_temperature")):
        with pytest.raises(SZSLError, match=words):
            SZSLClassifier(method_params=bad, method="szsl" if "unknown" in words else "dcn", epochs=1).fit(X, y, A)
