"""Soft labels (paper eq. 1) against an independent computation on the REAL attributes."""

import numpy as np
import pytest
import scipy.io as sio

from szsl import SZSLError, soft_labels
from tests.helpers.shared_data import DATASETS


def real_classes(root, ds):
    m = sio.loadmat(root / ds / "att_splits.mat")
    names = [str(n[0][0]) for n in m["allclasses_names"]]
    att = m["att"].T.astype(np.float64)
    index = {n: i for i, n in enumerate(names)}

    def read(f):
        return sorted(index[line.strip()] for line in open(root / ds / f) if line.strip())

    return att, np.array(read("trainvalclasses.txt")), np.array(read("testclasses.txt"))


def independent(att, seen, unseen, q, tau):
    """Eq. 1 written out directly: exp of shifted similarities, normalised per row."""
    out = np.zeros((len(seen), att.shape[0]))
    for r, i in enumerate(seen):
        s = np.array([att[i] @ att[k] for k in unseen]) / tau
        e = np.exp(s - s.max())
        out[r, i] = 1 - q
        out[r, unseen] = q * e / e.sum()
    return out


@pytest.mark.parametrize("ds", DATASETS)
@pytest.mark.parametrize("tau", [1e-3, 0.2, 1.0, 100.0])
def test_matches_independent_computation_on_real_attributes(shared_root, ds, tau):
    att, seen, unseen = real_classes(shared_root, ds)
    got = soft_labels(att, seen, unseen, q=0.3, tau=tau)
    assert got.shape == (len(seen), att.shape[0])
    np.testing.assert_allclose(got, independent(att, seen, unseen, 0.3, tau), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(got >= 0) and np.all(np.isfinite(got))
    # nothing on other seen classes
    others = np.ones_like(got, dtype=bool)
    others[np.arange(len(seen)), seen] = False
    others[:, unseen] = False
    assert np.all(got[others] == 0)


@pytest.mark.parametrize("ds", DATASETS)
def test_small_tau_is_nearest_unseen_class_large_tau_is_uniform(shared_root, ds):
    att, seen, unseen = real_classes(shared_root, ds)
    q = 0.4
    sharp = soft_labels(att, seen, unseen, q=q, tau=1e-3)
    nearest = unseen[np.argmax(att[seen] @ att[unseen].T, axis=1)]
    np.testing.assert_array_equal(unseen[np.argmax(sharp[:, unseen], axis=1)], nearest)
    # Exactly the "nearest" variant unless two unseen classes are within ~1e-2 of each other.
    sims = np.sort(att[seen] @ att[unseen].T, axis=1)
    clear = sims[:, -1] - sims[:, -2] > 0.03
    hard = soft_labels(att, seen, unseen, q=q, tau=1.0, variant="nearest")
    np.testing.assert_allclose(sharp[clear], hard[clear], atol=1e-6)
    flat = soft_labels(att, seen, unseen, q=q, tau=100.0)
    # |<a_i, a_k>| <= 1, so at tau = 100 every weight is within a factor e^(2/100) of q/U.
    np.testing.assert_allclose(flat[:, unseen], q / len(unseen), rtol=0.021)
    np.testing.assert_allclose(soft_labels(att, seen, unseen, q=q, tau=1.0, variant="uniform")[:, unseen], q / len(unseen))


@pytest.mark.parametrize("ds", DATASETS)
def test_q_zero_is_one_hot_and_q_one_puts_nothing_on_the_true_class(shared_root, ds):
    att, seen, unseen = real_classes(shared_root, ds)
    one_hot = soft_labels(att, seen, unseen, q=0.0, tau=0.2)
    expected = np.zeros_like(one_hot)
    expected[np.arange(len(seen)), seen] = 1
    np.testing.assert_array_equal(one_hot, expected)
    all_soft = soft_labels(att, seen, unseen, q=1.0, tau=0.2)
    assert np.all(all_soft[np.arange(len(seen)), seen] == 0)
    np.testing.assert_allclose(all_soft[:, unseen].sum(axis=1), 1.0)


def test_bad_arguments_have_precise_messages():
    att = np.eye(4)
    with pytest.raises(SZSLError, match=r"q=1.5: expected a number in \[0, 1\]"):
        soft_labels(att, [0, 1], [2, 3], q=1.5, tau=1)
    with pytest.raises(SZSLError, match=r"tau=0: expected a number > 0"):
        soft_labels(att, [0, 1], [2, 3], q=0.5, tau=0)
    with pytest.raises(SZSLError, match=r"unseen: class index 7 outside 0..3"):
        soft_labels(att, [0, 1], [2, 7], q=0.5, tau=1)
    with pytest.raises(SZSLError, match=r"seen and unseen share classes \[1\]"):
        soft_labels(att, [0, 1], [1, 3], q=0.5, tau=1)
    with pytest.raises(SZSLError, match=r"attributes: contains NaN or inf"):
        soft_labels(np.full((4, 4), np.nan), [0, 1], [2, 3], q=0.5, tau=1)
