"""What duet costs: the default ``szsl reproduce`` with duet (the default) against ``--no-duet``, on one data set,
from scratch, one after the other in one process (so on the same machine under the same load).

    python benchmarks/duet_cost.py --root /tmp/robust/twin-APY-1 --dataset APY --out benchmarks/results/duet_cost_APY.json

Prints and writes the seconds of each run and their ratio (the issue asks for at most 2).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402
from szsl.atomic import write_json  # noqa: E402


def main(argv=None) -> int:
    from szsl.experiments.reproduce import ReproduceOptions, reproduce

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=None, help="xlsa17 root (none: the embedded digits)")
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    seconds = {}
    for label, duet in (("no duet", False), ("duet", True)):
        work = Path(tempfile.mkdtemp(prefix="duet_cost_"))
        try:
            start = time.perf_counter()
            reproduce(args.root, [args.dataset], work, ReproduceOptions(sweeps=False, progress=False, duet=duet))
            seconds[label] = round(time.perf_counter() - start, 1)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"{label}: {seconds[label]} s", flush=True)
    ratio = seconds["duet"] / seconds["no duet"]
    print(f"duet / no duet: {ratio:.2f}")
    write_json(Path(args.out), {"dataset": args.dataset, "root": args.root, "seconds": seconds, "ratio": round(ratio, 3),
                                "seeds": "reproduce's default (0-4)", "machine": machine()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
