"""Issue "The rest of Table 2": every method of ``szsl compare --methods all`` on realistic twins, ranked, and the
honest ordering compared with the published one (Spearman rank correlation per dataset, who moves most).

    python benchmarks/compare_twins.py run --root /tmp/robust/twin-APY-1 --dataset APY --work /tmp/cmp_twins/APY \\
        --trials 5 --seeds 0 1 --epochs 20 --param f-clswgan.epochs=4 ...
    python benchmarks/compare_twins.py report --work /tmp/cmp_twins/APY /tmp/cmp_twins/CUB --md table.md \\
        --save benchmarks/results/compare_twins

``run`` is ``szsl compare`` one method at a time, each into its own folder ``WORK/<method>/`` (its compare.json,
tables and studies.db): a method that finished is skipped on a rerun, so an interrupted run loses at most the
method it was on (whose finished trials its studies.db keeps). The selection never reads the test split
(``szsl compare``'s protocol: random search on the class folds, calibration gamma from the folds).

``report`` merges the per-method results of each dataset: the ranked table by test H with calibrated stacking
(the number compare's default protocol selects on; plain H and AUSUC beside it) and, over the methods that have a
published H for the dataset (the paper's Table 2 and the later methods' CSV, as shipped in
``szsl.experiments.paper_data``), the Spearman correlation of the honest ranking with the published one and each
method's change of rank. ``--save`` copies each dataset's merged summary (JSON) to a folder that can be committed.
Twins are SYNTHETIC: only the ordering is compared, never the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def run(args) -> None:
    import szsl
    from szsl.experiments.compare import compare, parse_method_params, resolve_methods

    bench = szsl.load_xlsa17(args.root, args.dataset)
    params = parse_method_params(args.param or [])
    names = resolve_methods(args.methods or "all")
    work = Path(args.work)
    for name in names:
        out = work / name
        if (out / "compare.json").exists():
            print(f"{name}: done before, skipped", flush=True)
            continue
        t0 = time.perf_counter()
        print(f"{name}: start {time.strftime('%H:%M:%S')}", flush=True)
        res = compare(
            bench, [name], trials=args.trials, timeout=args.timeout, seeds=args.seeds, seed=args.seed, epochs=args.epochs,
            params={name: params[name]} if name in params else None, out=out, device="cpu", progress=False,
            log=lambda line: print(line, flush=True),
        )
        r = res.rows()[0]
        print(f"{name}: H {r['H']:.1f} in {time.perf_counter() - t0:.0f} s", flush=True)


def _load(work: Path) -> tuple[str, dict, list[dict]]:
    rows, settings, dataset = [], {}, None
    for path in sorted(work.glob("*/compare.json")):
        d = json.loads(path.read_text())
        dataset = d["dataset"]
        s = d["summary"][0]
        s["epochs"] = d["methods"][0]["selected_params"].get("epochs")
        rows.append(s)
        settings[s["method"]] = d["settings"]
    return dataset, settings, rows


def _published_h(dataset: str, rows: list[dict]) -> dict[str, float]:
    from szsl.experiments import table2

    out = {}
    for row in table2.table2_rows(dataset, rows):
        if row["registry"] and row["published_H"] is not None and row["H"] is not None:
            out[row["registry"]] = row["published_H"]
    return out


def _ranks(values: dict[str, float]) -> dict[str, float]:
    from scipy.stats import rankdata

    names = list(values)
    r = rankdata([-values[n] for n in names])  # 1 = best; ties share the mean rank
    return dict(zip(names, (float(x) for x in r)))


def _timeouts(settings: dict) -> str:
    """Which methods ran under a --timeout (the runs of one dataset may have been restarted with one)."""
    timed = {m: s["timeout"] for m, s in settings.items() if s.get("timeout")}
    if not timed:
        return ""
    values = sorted(set(timed.values()))
    return f" (no new trial after {'/'.join(f'{v:g}' for v in values)} s of tuning for: {', '.join(timed)})"


def _table2(dataset: str, settings: dict, rows: list[dict]) -> str:
    """The Table 2 layout (``szsl compare``'s compare_table2.md) of the merged per-method runs of one dataset."""
    from szsl.experiments import table2

    one = dict(next(iter(settings.values())))
    one["params"] = {m: s["params"][m] for m, s in settings.items() if s["params"].get(m)}
    one["seeds"] = len(one["seeds"])
    timeouts = {s.get("timeout") for s in settings.values()}
    one["timeout"] = timeouts.pop() if len(timeouts) == 1 else None
    head = (f"Merged from one `szsl compare` run per method (`benchmarks/compare_twins.py`) on a SYNTHETIC twin of {dataset}: "
            "its honest numbers are never comparable with the published ones; only the orderings are (docs/compare_twins.md)."
            + (_timeouts(settings) and f" Tuning bound per method:{_timeouts(settings)}." if one["timeout"] is None else ""))
    return head + "\n\n" + table2.table2_markdown(dataset, table2.table2_rows(dataset, rows), one)


def report(args) -> None:
    from scipy.stats import spearmanr

    from szsl.experiments import table2

    lines = []
    for work in map(Path, args.work):
        dataset, settings, rows = _load(work)
        if not rows:
            print(f"{work}: no finished method", file=sys.stderr)
            continue
        # Ranked by H with calibrated stacking: what compare's default protocol selects on (the calibrated objective:
        # each trial's fold H at its own fold-chosen gamma), so a seen-biased method is judged as it was chosen.
        rows.sort(key=lambda r: -r["H_cs"])
        pub = _published_h(dataset, rows)
        honest = {r["method"]: r["H_cs"] for r in rows if r["method"] in pub}
        plain = {r["method"]: r["H"] for r in rows if r["method"] in pub}
        hr, pr = _ranks(honest), _ranks(pub)
        fam = {r["registry"]: r["family"] for r in table2.table2_rows(dataset, rows) if r["registry"]}
        one = next(iter(settings.values()))
        lines += [
            f"### {dataset} twin ({len(rows)} methods)",
            "",
            f"Budget: {one['trials']} random-search trials per method on the class folds"
            + _timeouts(settings)
            + ", model seeds "
            f"{' '.join(map(str, one['seeds']))}, szsl-family epochs {one['epochs']}; per-method overrides: "
            + ("; ".join(f"{m}: {', '.join(f'{k}={v}' for k, v in s['params'].get(m, {}).items())}"
                         for m, s in settings.items() if s["params"].get(m)) or "none"),
            "",
            "| rank | method | family | validation H (CS) | U (CS) | S (CS) | **H (CS)** | H (plain) | T1 | AUSUC | tuning s "
            "| s / model | published H | rank (published) |",
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for i, r in enumerate(rows, 1):
            m = r["method"]
            p = f"{pub[m]:.1f}" if m in pub else "-"
            rk = f"{hr[m]:.0f} ({pr[m]:.0f})" if m in pub else "-"
            lines.append(
                f"| {i} | `{m}` | {fam.get(m, 'other')} | {r['cv_H_cs']:.1f} | {r['U_cs']:.1f} | {r['S_cs']:.1f} | "
                f"**{r['H_cs']:.1f} ± {r['H_cs_std']:.1f}** | {r['H']:.1f} | {r['T1']:.1f} | {r['AUSUC']:.3f} | "
                f"{r['tune_seconds']:.0f} | {r['seconds_per_model']:.1f} | {p} | {rk} |"
            )
        if len(honest) >= 3:
            names = list(honest)
            rho = spearmanr([honest[m] for m in names], [pub[m] for m in names]).statistic
            rho_plain = spearmanr([plain[m] for m in names], [pub[m] for m in names]).statistic
            moves = sorted(names, key=lambda m: (-abs(hr[m] - pr[m]), m))[:4]
            lines += [
                "",
                f"Spearman rank correlation with the published H over the {len(names)} methods that have both: "
                f"**{rho:.2f}** (honest H with calibrated stacking), {rho_plain:.2f} (honest plain H). Moved most "
                "(published rank -> honest rank among them): " + ", ".join(f"`{m}` {pr[m]:.0f} -> {hr[m]:.0f}" for m in moves) + ".",
            ]
        lines.append("")
        if args.save:
            dest = Path(args.save)
            dest.mkdir(parents=True, exist_ok=True)
            (dest / f"{dataset}.json").write_text(json.dumps({"dataset": dataset, "settings": settings, "summary": rows}, indent=1))
            (dest / f"{dataset}_table2.md").write_text(_table2(dataset, settings, rows))
    text = "\n".join(lines)
    if args.md:
        Path(args.md).write_text(text)
    print(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--root", required=True)
    r.add_argument("--dataset", required=True)
    r.add_argument("--work", required=True)
    r.add_argument("--methods", nargs="+")
    r.add_argument("--trials", type=int, default=5)
    r.add_argument("--timeout", type=float, default=None, help="per method: no new trial after this many seconds of tuning")
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--epochs", type=int, default=20)
    r.add_argument("--param", action="append")
    p = sub.add_parser("report")
    p.add_argument("--work", nargs="+", required=True)
    p.add_argument("--md")
    p.add_argument("--save")
    args = ap.parse_args()
    run(args) if args.cmd == "run" else report(args)


if __name__ == "__main__":
    main()
