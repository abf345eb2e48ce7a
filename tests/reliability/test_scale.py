"""Scale: a memory-mapped X is used in place, nothing of size N x C is ever created, the
memory-light loss equals its autograd composition, bf16 autocast trains."""

import tracemalloc
import warnings

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import szsl.training_data as train_mod
from szsl import TrainConfig, train_population
from szsl.errors import SZSLError
from szsl.losses import soft_label_nll


def many_classes(n, d, classes, unseen, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.random((classes, 6)).astype(np.float32)
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    y = rng.integers(0, classes - unseen, n)  # the last `unseen` classes have no image
    X = (A[y] @ rng.standard_normal((6, d)) + 0.3 * rng.standard_normal((n, d))).astype(np.float32)
    return X, y, A


def as_memmap(X, path):
    np.save(path, X)
    return np.load(path, mmap_mode="r")  # read-only, like a feature file opened for training


class LargestTensor(TorchDispatchMode):
    """Records the largest number of elements of any tensor an operator returns (forward and backward)."""

    largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return out


def test_memmapped_X_trains_in_place_without_warnings_and_equals_the_in_memory_result(tmp_path):
    X, y, A = many_classes(3000, 16, classes=2000, unseen=200)
    Xm = as_memmap(X, tmp_path / "X.npy")
    configs = [TrainConfig(hidden=8, batch_size=256, epochs=1, seed=s, lr=1e-3 * (s + 1)) for s in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. torch's "The given NumPy array is not writable"
        from_disk = train_population(Xm, y, A, configs, device="cpu")
    in_memory = train_population(np.array(X), y, A, configs, device="cpu")
    for a, b in zip(from_disk, in_memory):
        assert not a.diverged
        for name in a.state:
            torch.testing.assert_close(a.state[name], b.state[name], rtol=0, atol=0)


def test_no_tensor_or_array_of_n_times_c_elements_is_created(tmp_path):
    n, c = 200_000, 2_000  # N x C float32 would be 1.6 GB
    X, y, A = many_classes(n, 4, classes=c, unseen=200, seed=1)
    Xm = as_memmap(X, tmp_path / "X.npy")
    cfg = TrainConfig(hidden=4, batch_size=2048, epochs=1)
    with LargestTensor() as mode:
        (member,) = train_population(Xm, y, A, [cfg], device="cpu")
    assert not member.diverged and np.isfinite(member.final_loss)
    assert mode.largest <= cfg.batch_size * c  # one mini-batch of logits is the largest tensor
    tracemalloc.start()  # numpy's side: validation of the memmap in chunks, labels
    try:
        train_mod.as_training_data(Xm, y, A)
        _, numpy_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert numpy_peak < Xm.nbytes / 2  # neither a copy of X nor an N x D temporary


def test_a_nan_in_the_last_chunk_of_a_memmap_is_found_and_huge_finite_values_are_not_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(train_mod, "_CHUNK_BYTES", 4096)  # many chunks
    X, y, A = many_classes(2000, 16, classes=10, unseen=2)
    bad = X.copy()
    bad[-1, -1] = np.nan
    with pytest.raises(SZSLError, match="NaN or inf"):
        train_population(as_memmap(bad, tmp_path / "bad.npy"), y, A, [TrainConfig(hidden=4, epochs=1)], device="cpu")
    huge = X.copy()
    huge[:, 0] = 3e38  # finite, but a chunk's sum overflows: the exact check must accept it
    assert train_mod._all_finite(as_memmap(huge, tmp_path / "huge.npy"))


def test_memory_light_loss_equals_the_autograd_composition():
    torch.manual_seed(0)
    k, b, c = 3, 5, 7
    unseen = torch.tensor([4, 6])
    z = torch.randn(k, b, c, dtype=torch.double, requires_grad=True)
    y = torch.randint(0, 4, (k, b))
    mass = torch.rand(k, 1, dtype=torch.double)
    target = torch.softmax(torch.randn(k, b, 2, dtype=torch.double), -1)

    def reference(z):
        log_p = torch.log_softmax(z, -1)
        hard = -log_p.gather(-1, y[..., None])[..., 0]
        return (1 - mass) * hard + mass * (-(target * log_p[..., unseen]).sum(-1))

    torch.testing.assert_close(soft_label_nll(z, y, mass, target, unseen), reference(z))
    torch.testing.assert_close(soft_label_nll(z, y), -torch.log_softmax(z, -1).gather(-1, y[..., None])[..., 0])
    assert torch.autograd.gradcheck(lambda z: soft_label_nll(z, y, mass, target, unseen), (z,))
    assert torch.autograd.gradcheck(lambda z: soft_label_nll(z, y), (z,))


def test_bf16_autocast_trains_close_to_fp32_and_unknown_precision_is_refused():
    X, y, A = many_classes(600, 20, classes=8, unseen=2)
    cfg = TrainConfig(hidden=16, epochs=3, batch_size=64)
    fp32 = train_population(X, y, A, [cfg], device="cpu")[0]
    bf16 = train_population(X, y, A, [cfg], device="cpu", precision="bf16")[0]
    assert not bf16.diverged and all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in bf16.state.values())
    assert bf16.final_loss == pytest.approx(fp32.final_loss, rel=0.05)
    with pytest.raises(SZSLError, match="precision"):
        train_population(X, y, A, [cfg], device="cpu", precision="fp16")
