"""The layout of the SZSL paper's Table 2: published U / S / H next to ``szsl compare``'s own numbers.

One row per method, grouped by family (embedding, generative, later, ours; "other" for methods
registered by the user). Each row has two parts:

* **published**: U, S, H as their authors report them for this dataset, from the shipped tables
  (``published.py``: ``table2.csv`` = the paper's Table 2, ``peers_after.csv`` = later methods);
  "-" where a registry method has no published row or the paper reports nothing for the dataset;
* **honest** (this library, one protocol for every method, nothing chosen on test data): U, S,
  H as mean ± std over the seeds, H with calibrated stacking, AUSUC, the epochs of the selected
  setting and the seconds per model; empty for published methods the registry lacks or that were
  not run.

Registry methods are matched to published rows by ``METHODS`` (explicit, no fuzzy matching).
The dataset name picks the CSV columns through ``dataset_prefix`` (AWA1, AWA2, APY, CUB, SUN in
any case); other datasets (e.g. the embedded ``digits``) have no published part and list only the
methods that were run.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any, Mapping, Sequence

from szsl.experiments.published import as_float, published_rows

FAMILIES = ("embedding", "generative", "later", "ours", "other")

# registry method -> (the "method" cell of its published row, or None when there is none; its family).
# A method with a published row takes the family of that row (table2.csv's column; peers_after.csv: "later").
METHODS: dict[str, tuple[str | None, str]] = {
    "ale": ("ALE", "embedding"),
    "sje": ("SJE", "embedding"),
    "devise": ("DeViSE", "embedding"),
    "conse": ("ConSE", "embedding"),
    "sync": ("SYNC", "embedding"),
    "cmt": ("CMT", "embedding"),
    "eszsl": (None, "embedding"),  # not in the paper's Table 2
    "sae": (None, "embedding"),  # not in the paper's Table 2
    "dcn": ("DCN", "generative"),  # Table 2 lists DCN with the generative methods
    "f-clswgan": ("f-CLSWGAN", "generative"),
    "zskl": ("ZSKL", "generative"),  # Table 2 lists ZSKL with the generative methods
    "crnet": ("CRnet", "generative"),  # Table 2 lists CRnet with the generative methods
    "cycle-wgan": ("cycle-UWGAN", "generative"),  # Table 2's cycle-(U)WGAN: unseen_cycle on (the default)
    "se-gzsl": ("SE-GZSL", "generative"),
    "sp-aen": ("SP-AEN", "generative"),  # the feature-level variant (docs/peers.md); Table 2 lists SP-AEN with the generative methods
    "cosmo": ("COSMO", "generative"),  # Table 2 lists COSMO with the generative methods
    "cn": ("CN (class normalization)", "later"),
    "tf-vaegan": ("tf-VAEGAN", "later"),
    "szsl": ("SZSL", "ours"),
    "cn-soft": (None, "ours"),  # cn with szsl's soft labels
    "duet": (None, "ours"),  # szsl and cn blended (methods/duet.py)
    "hard": (None, "ours"),  # the ablations, when asked for explicitly
    "uniform": (None, "ours"),
    "nearest": (None, "ours"),
    "soft-only": (None, "ours"),
}

# benchmark name (upper case) -> column prefix in the published CSVs
PREFIXES = {"AWA1": "AWA1", "AWA2": "AWA2", "APY": "APY", "CUB": "CUB", "SUN": "SUN"}

HONEST = ("U", "S", "H", "H_cs", "AUSUC")
COLUMNS = (
    ["family", "method", "registry", "reference", "published_U", "published_S", "published_H"]
    + [k + s for k in HONEST for s in ("", "_std")]
    + ["epochs", "seconds_per_model", "seeds", "published_table", "published_note"]
)


def dataset_prefix(dataset: str) -> str | None:
    """The published CSVs' column prefix of ``dataset`` (AWA1, AWA2, APY, CUB, SUN, any case), or None."""
    return PREFIXES.get(str(dataset).strip().upper())


def _published() -> list[dict[str, str]]:
    """Every published row, with its family ("later" for peers_after.csv) and its table."""
    out = [{**r, "table": "table2"} for r in published_rows("table2")]
    out += [{**r, "family": "later", "reference": r.get("venue", ""), "table": "peers_after"} for r in published_rows("peers_after")]
    return out


def table2_rows(dataset: str, summaries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the table for ``dataset``: every published row (when the dataset has published numbers)
    and every compared method, grouped by ``FAMILIES``.

    ``summaries``: one dict per compared method with ``method`` (registry name), ``U``, ``U_std``, ...
    for ``HONEST``, ``seconds_per_model``, ``seeds`` and optionally ``epochs`` (``MethodResult.summary()``).
    Within a family: the published rows in their CSV order (table2.csv, then peers_after.csv), then the
    compared methods without a published row in the order given.
    """
    prefix = dataset_prefix(dataset)
    by_method = {s["method"]: s for s in summaries}
    published_of = {pub: name for name, (pub, _) in METHODS.items() if pub is not None}
    rows: list[dict[str, Any]] = []
    matched: set[str] = set()
    for pub in _published() if prefix is not None else []:
        registry = published_of.get(pub["method"])
        row = _empty(pub["family"] if pub["family"] in FAMILIES else "other", pub["method"], registry or "")
        row.update(
            reference=pub.get("reference", ""),
            published_table=pub["table"],
            published_note=pub.get("note", ""),
            **{f"published_{k}": as_float(pub.get(f"{prefix}_{k}")) for k in ("U", "S", "H")},
        )
        if registry in by_method:
            _fill(row, by_method[registry])
            matched.add(registry)
        rows.append(row)
    for s in summaries:
        name = s["method"]
        if name in matched:
            continue
        pub, family = METHODS.get(name, (None, "other"))
        row = _empty(family, pub or name, name)
        _fill(row, s)
        rows.append(row)
    order = {f: i for i, f in enumerate(FAMILIES)}
    return sorted(rows, key=lambda r: order[r["family"]])  # stable: keeps the order within a family


def _empty(family: str, method: str, registry: str) -> dict[str, Any]:
    row: dict[str, Any] = {k: None for k in COLUMNS}
    row.update(family=family, method=method, registry=registry, reference="", published_table="", published_note="")
    return row


def _fill(row: dict[str, Any], s: Mapping[str, Any]) -> None:
    for k in HONEST:
        row[k], row[k + "_std"] = s[k], s[k + "_std"]
    row.update(epochs=s.get("epochs"), seconds_per_model=s["seconds_per_model"], seeds=s["seeds"])


def plural(n: int, word: str) -> str:
    """``n`` and ``word``, with an "s" unless n is 1: "1 seed", "3 seeds"."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def params_text(params: Mapping[str, Mapping[str, Any]] | None) -> str:
    """``; per-method settings: f-clswgan: epochs=10, ...`` for the budget lines ("" when none)."""
    if not params:
        return ""
    return "; per-method settings: " + "; ".join(f"{m}: " + ", ".join(f"{k}={v}" for k, v in p.items()) for m, p in params.items())


def _num(v: float | None, digits: int = 1) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def timeout_text(timeout) -> str:
    return f" (at most, within {timeout:g} s of tuning)" if timeout else ""


def table2_markdown(dataset: str, rows: Sequence[Mapping[str, Any]], settings: Mapping[str, Any]) -> str:
    """The table as markdown, with the budget and where the published numbers come from."""
    s = settings
    spread_note = " (mean ± std)" if int(s["seeds"]) > 1 else ""
    lines = [
        f"Dataset **{dataset}**, the layout of the SZSL paper's Table 2 (GZSL, per-class mean top-1 in %).",
        "",
        f"**Honest** (this run, one protocol for every method): {plural(s['trials'], 'random-search trial')}"
        f"{timeout_text(s.get('timeout'))} per method on the "
        f"validation folds (mean H; test data never read), {plural(s['seeds'], 'seed')} on the test split{spread_note}; epochs of the "
        f"network methods {s.get('epochs') or 'as their space (30)'}, hidden {s.get('hidden') or 'as their space'}; the other "
        "methods train the epochs of their own space (searched or their authors' default: column 'epochs', the selected value)"
        + params_text(s.get("params"))
        + f"; device {s.get('device', 'auto')}. H (CS) = H with calibrated stacking (gamma chosen on the validation folds); "
        "AUSUC in [0, 1]; s / model = training seconds per model.",
        "",
    ]
    if dataset_prefix(dataset) is None:
        lines += [f"No published numbers for {dataset}: the published columns are empty.", ""]
    else:
        lines += [
            "**Published**: as their authors report them, from other protocols and budgets than the honest part: "
            "Table 2 of the SZSL paper (`table2.csv`) and later methods (`peers_after.csv`); several of these select epochs "
            "or constants on the test split (notes below, from peers_after.csv). '-' = not published for this dataset, or no "
            "published row for the method; an empty honest part = the method is not in szsl's registry or was not run.",
            "",
        ]
    lines += [
        "Columns: pub. U / S / H = published; U, S, H, H (CS), AUSUC, epochs, s / model = honest (this run).",
        "",
        "| family | method | reference | pub. U | pub. S | pub. H | U | S | H | H (CS) | AUSUC | epochs | s / model |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for r in rows:
        name = r["method"] + (f" (`{r['registry']}`)" if r["registry"] and r["registry"] != r["method"] else "")
        if r["published_note"]:
            notes.append(f"{r['method']}: {r['published_note']}")
            name += f" [{len(notes)}]"
        pub = [_num(r[f"published_{k}"]) for k in ("U", "S", "H")]
        if r["seeds"] is None:
            honest = [""] * 7
        else:
            spread = int(s["seeds"]) > 1  # one seed has no spread: its numbers alone, not "± 0.0"
            pm = lambda k, d=1: f"{r[k]:.{d}f} ± {r[k + '_std']:.{d}f}" if spread else f"{r[k]:.{d}f}"  # noqa: E731
            epochs = "-" if r["epochs"] is None else str(r["epochs"])
            honest = [pm("U"), pm("S"), pm("H"), pm("H_cs"), pm("AUSUC", 3), epochs, f"{r['seconds_per_model']:.2f}"]
        lines.append("| " + " | ".join([r["family"], name, r["reference"] or "", *pub, *honest]) + " |")
    if notes:
        lines += ["", "Notes on the published protocols (peers_after.csv):", ""]
        lines += [f"{i}. {n}" for i, n in enumerate(notes, 1)]
    return "\n".join(lines) + "\n"


def table2_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The table as CSV (``COLUMNS``; empty cell = none)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r[k] is None else f"{r[k]:.6g}" if isinstance(r[k], float) else r[k]) for k in COLUMNS})
    return buf.getvalue()
