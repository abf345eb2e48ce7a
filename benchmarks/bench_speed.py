"""Speed of szsl's training loop against the hardware floor, a plain PyTorch loop, and itself.

One run, on the machine it runs on, reports:
  1. seconds per epoch of ONE model at AwA2 shapes (2048 features, hidden 1500, batch 256, 85
     attributes, 50 classes of which 10 unseen) next to the GEMM floor (the same matrix
     multiplications alone, same shapes, same run) and a plain PyTorch implementation
     (benchmarks/plain_torch_reference.py), as ratios; repeats interleaved, medians reported;
  2. a population of K = 8, 32, 128 members trained as one batched computation vs the same
     members trained one after another: throughput ratio;
  3. a whole ``szsl tune`` study end to end on synthetic AwA2-scale data (xlsa17 format);
  4. peak memory of each.

    python benchmarks/bench_speed.py            # CI-friendly sizes (< 2 minutes on 2 cores)
    python benchmarks/bench_speed.py --full     # full sizes (AwA2's 23,527 training images, ...)
    python benchmarks/bench_speed.py --device cuda --full   # on a GPU

Timing notes: seconds per epoch are the training loop's own wall time (``train_seconds`` /
epochs: no data validation, weight init or copying back); the GEMM floor and the plain loop are
timed the same way. Other processes on the machine add noise: each row repeats and reports the
median and the spread of the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import GemmFloor, PeakMemory, machine, median, spread, synthetic  # noqa: E402
from plain_torch_reference import train_plain  # noqa: E402
from szsl import TrainConfig  # noqa: E402
from szsl.train import train_population  # noqa: E402

D, HIDDEN, BATCH, ATTRS, CLASSES, UNSEEN = 2048, 1500, 256, 85, 50, 10
AWA2_TRAIN = 23527


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def row_single(n, reps, device, precision):
    X, y, A = synthetic(n, D, CLASSES, UNSEEN, ATTRS)
    floor = GemmFloor(n, D, HIDDEN, ATTRS, CLASSES, BATCH, device)
    cfg = TrainConfig(hidden=HIDDEN, batch_size=BATCH, epochs=1)
    floor.epoch()  # warm up every path once
    train_population(X[: 4 * BATCH], y[: 4 * BATCH], A, [cfg], device=device, precision=precision)
    train_plain(X[: 4 * BATCH], y[: 4 * BATCH], A, hidden=HIDDEN, batch_size=BATCH, epochs=1, device=device)
    t_floor, t_szsl, t_plain, t_call = [], [], [], []
    mem_szsl = mem_plain = None
    for _ in range(reps):
        t_floor.append(floor.epoch())
        with PeakMemory() as m1:
            start = time.perf_counter()
            (member,) = train_population(X, y, A, [cfg], device=device, precision=precision)
            sync(device)
            t_call.append(time.perf_counter() - start)
        t_szsl.append(member.train_seconds)
        with PeakMemory() as m2:
            _, times = train_plain(X, y, A, hidden=HIDDEN, batch_size=BATCH, epochs=1, device=device)
        t_plain.append(times[0])
        mem_szsl = m1 if mem_szsl is None or m1.rss_mb > mem_szsl.rss_mb else mem_szsl
        mem_plain = m2 if mem_plain is None or m2.rss_mb > mem_plain.rss_mb else mem_plain
    ratios_floor = [s / f for s, f in zip(t_szsl, t_floor)]  # per interleaved repeat
    ratios_plain = [p / s for s, p in zip(t_szsl, t_plain)]
    return {
        "n": n, "reps": reps,
        "floor_s": median(t_floor), "floor_spread": spread(t_floor),
        "szsl_s": median(t_szsl), "szsl_spread": spread(t_szsl), "szsl_call_s": median(t_call),
        "plain_s": median(t_plain), "plain_spread": spread(t_plain),
        "szsl_over_floor": median(ratios_floor), "szsl_over_floor_all": [round(r, 2) for r in ratios_floor],
        "plain_over_szsl": median(ratios_plain), "plain_over_szsl_all": [round(r, 2) for r in ratios_plain],
        "szsl_peak_rss_mb": mem_szsl.rss_mb, "plain_peak_rss_mb": mem_plain.rss_mb,
        "data_mb": X.nbytes / 2**20,
    }


def population_configs(k, hidden, epochs=1):
    rng = np.random.default_rng(k)
    return [
        TrainConfig(hidden=hidden, batch_size=BATCH, epochs=epochs, seed=i, lr=float(10 ** rng.uniform(-4, -2)),
                    q=float(rng.uniform(0, 1)), alpha=float(rng.uniform(0, 1)), tau=float(10 ** rng.uniform(-2, 1)),
                    l2=float(10 ** rng.uniform(-7, -2)))
        for i in range(k)
    ]


def row_population(n, k, hidden, singles, device, precision):
    X, y, A = synthetic(n, D, CLASSES, UNSEEN, ATTRS)
    configs = population_configs(k, hidden)
    train_population(X[: 2 * BATCH], y[: 2 * BATCH], A, configs[:2], device=device, precision=precision)  # warm-up
    with PeakMemory() as mem_pop:
        pop = train_population(X, y, A, configs, device=device, precision=precision, max_group=None)  # one stacked group
    t_pop = pop[0].train_seconds
    t_single = []
    with PeakMemory() as mem_one:
        for cfg in configs[:singles]:
            t_single.append(train_population(X, y, A, [cfg], device=device, precision=precision)[0].train_seconds)
    t_seq = median(t_single) * k
    return {
        "k": k, "hidden": hidden, "n": n, "pop_s": t_pop, "seq_s": t_seq, "singles_timed": len(t_single),
        "single_spread": spread(t_single), "throughput_ratio": t_seq / t_pop,
        "pop_peak_rss_mb": mem_pop.rss_mb, "single_peak_rss_mb": mem_one.rss_mb,
    }


def row_activations(n, k, hidden, device, precision):
    """K members, the four activations in turn: one mixed group vs one group per activation (szsl <= 0.3)."""
    from szsl.config import ACTIVATIONS

    X, y, A = synthetic(n, D, CLASSES, UNSEEN, ATTRS)
    configs = [c.replace(activation=ACTIVATIONS[i % len(ACTIVATIONS)]) for i, c in enumerate(population_configs(k, hidden))]
    train_population(X[: 2 * BATCH], y[: 2 * BATCH], A, configs[:2], device=device, precision=precision)  # warm-up
    t_mixed = train_population(X, y, A, configs, device=device, precision=precision, max_group=None)[0].train_seconds
    t_split = sum(
        train_population(X, y, A, [c for c in configs if c.activation == act], device=device, precision=precision, max_group=None)[
            0
        ].train_seconds
        for act in ACTIVATIONS
    )
    return {"k": k, "hidden": hidden, "n": n, "mixed_s": t_mixed, "per_activation_s": t_split, "ratio": t_split / t_mixed}


def row_tune(trials, epochs, batch, device, workdir):
    root = Path("/work/shared/xlsa17")
    if not (root / "AWA2" / "att_splits.mat").is_file():
        return {"skipped": f"{root}/AWA2/att_splits.mat not found (needed to synthesize AwA2 in xlsa17 format)"}
    data = Path(workdir) / "synth"
    if not (data / "AWA2" / "res101.mat").is_file():
        from szsl.data.synth import synthesize_xlsa17

        t0 = time.perf_counter()
        synthesize_xlsa17(root, "AWA2", data, seed=0, feature_dim=2048)
        print(f"  (synthesized AwA2 in {time.perf_counter() - t0:.0f} s)", flush=True)
    out = Path(workdir) / f"tune-{time.time_ns()}"
    cmd = [sys.executable, "-m", "szsl", "tune", "--dataset", "AWA2", "--root", str(data), "--trials", str(trials),
           "--epochs", str(epochs), "--batch", str(batch), "--device", device, "--quiet",
           "--out", str(out / "best.json"), "--storage", f"sqlite:///{out}/tune.db"]
    out.mkdir(parents=True)
    # Peak memory of the study process: GNU time's %M when present, else RUSAGE_CHILDREN (max over children).
    gnu_time = Path("/usr/bin/time")
    wrapped = [str(gnu_time), "-f", "MAXRSS_KB=%M"] + cmd if gnu_time.exists() else cmd
    start = time.perf_counter()
    proc = subprocess.run(wrapped, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        return {"skipped": f"szsl tune failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}"}
    peak = None
    for line in proc.stderr.splitlines():
        if line.startswith("MAXRSS_KB="):
            peak = int(line.split("=")[1]) / 1024
    if peak is None:
        import resource

        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"trials": trials, "epochs": epochs, "batch": batch, "seconds": seconds, "peak_rss_mb": peak,
            "command": " ".join(cmd[1:]), "stdout_tail": proc.stdout.strip().splitlines()[-3:]}


def main() -> int:
    p = argparse.ArgumentParser(description="szsl training speed benchmarks (see the module docstring)")
    p.add_argument("--full", action="store_true", help="full sizes (minutes; default: CI-friendly sizes)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"), help="szsl's precision (the floor and plain loop stay fp32)")
    p.add_argument("--rows", default="single,population,activations,tune", help="comma-separated subset of those four")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's default, the number of cores)")
    p.add_argument("--json", metavar="OUT", help="also write the results as JSON here")
    p.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "szsl-bench"), help="synthetic data and tune studies (default "
                                                                                                "/tmp/szsl-bench)")
    a = p.parse_args()
    rows = set(a.rows.split(","))
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    result = {"machine": machine(), "full": a.full, "device": a.device, "precision": a.precision}
    print(json.dumps(result["machine"]), flush=True)

    if "single" in rows:
        n, reps = (AWA2_TRAIN, 5) if a.full else (6144, 5)
        print(f"[1] one model, AwA2 shapes, N={n}, {reps} interleaved repeats ...", flush=True)
        r = result["single"] = row_single(n, reps, a.device, a.precision)
        print(
            f"    szsl {r['szsl_s']:.3f} s/epoch ({r['szsl_spread']})  GEMM floor {r['floor_s']:.3f} s ({r['floor_spread']})  "
            f"plain PyTorch {r['plain_s']:.3f} s ({r['plain_spread']})",
            flush=True,
        )
        print(
            f"    szsl / floor = {r['szsl_over_floor']:.2f} {r['szsl_over_floor_all']}   plain / szsl = {r['plain_over_szsl']:.2f} "
            f"{r['plain_over_szsl_all']}",
            flush=True,
        )
        print(
            f"    peak RSS: szsl {r['szsl_peak_rss_mb']:.0f} MB, plain {r['plain_peak_rss_mb']:.0f} MB (data {r['data_mb']:.0f} MB)",
            flush=True,
        )

    if "population" in rows:
        on_gpu = torch.device(a.device).type == "cuda"
        if a.full:
            plan = [(23527, 8, 1500, 3), (23527, 32, 1500, 3), (23527, 128, 1500 if on_gpu else 256, 3)]
        else:
            plan = [(2048, 8, 256, 3), (2048, 32, 256, 3), (2048, 128, 256 if on_gpu else 64, 3)]
        result["population"] = []
        for n, k, hidden, singles in plan:
            print(f"[2] population K={k} hidden={hidden} N={n} vs {singles} members alone (x K) ...", flush=True)
            r = row_population(n, k, hidden, singles, a.device, a.precision)
            result["population"].append(r)
            print(
                f"    population {r['pop_s']:.2f} s/epoch, one after another {r['seq_s']:.2f} s -> throughput "
                f"x{r['throughput_ratio']:.2f}  "
                f"(peak RSS {r['pop_peak_rss_mb']:.0f} MB vs {r['single_peak_rss_mb']:.0f} MB)",
                flush=True,
            )

    if "activations" in rows:
        n, k, hidden = (23527, 32, 512) if a.full else (2048, 16, 256)
        print(f"[2b] K={k} members, four activations, hidden={hidden} N={n}: one group vs one group per activation ...", flush=True)
        r = result["activations"] = row_activations(n, k, hidden, a.device, a.precision)
        mixed, split = r["mixed_s"], r["per_activation_s"]
        print(f"    one mixed group {mixed:.2f} s/epoch, a group per activation {split:.2f} s -> x{r['ratio']:.2f}", flush=True)

    if "tune" in rows:
        trials, epochs, batch = (16, 3, 8) if a.full else (2, 1, 2)
        print(f"[3] szsl tune on synthetic AwA2 (xlsa17 format): {trials} trials, {epochs} epochs, batch {batch} ...", flush=True)
        r = result["tune"] = row_tune(trials, epochs, batch, a.device, a.workdir)
        if "skipped" in r:
            print(f"    skipped: {r['skipped']}", flush=True)
        else:
            print(f"    {r['seconds']:.1f} s end to end, peak RSS {r['peak_rss_mb']:.0f} MB  ({r['command']})", flush=True)

    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
