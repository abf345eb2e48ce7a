"""The paper's Table 2 layout: published rows matched to registry methods, placed by dataset, honest part alongside."""

import csv
import io

import pytest

from szsl.experiments import table2
from szsl.experiments.published import published_rows
from szsl.methods import ABLATIONS, method_names

SETTINGS = dict(methods=[], trials=7, seeds=3, seed=0, epochs=4, hidden=None, params={"tf-vaegan": {"epochs": 20}}, device="cpu")


def fake(method, h, *, epochs=None):
    """A summary as MethodResult.summary() gives it (plus the selected epochs)."""
    out = {"method": method, "seconds_per_model": 1.25, "seeds": 3, "epochs": epochs}
    for i, k in enumerate(table2.HONEST):
        out[k], out[k + "_std"] = (h / 100 if k == "AUSUC" else h + i), 0.5
    return out


# every method of `--methods all` (the built-ins), each with a distinct H so rows cannot be swapped unseen
ALL = [n for n in method_names() if n not in ABLATIONS]
RESULTS = [fake(n, 10.0 * (i + 1), epochs=5 if n in ("ale", "szsl") else None) for i, n in enumerate(ALL)]
H = {r["method"]: r["H"] for r in RESULTS}


def test_the_mapping_names_real_published_rows_with_their_family():
    families = {r["method"]: r["family"] for r in published_rows("table2")}
    families.update({r["method"]: "later" for r in published_rows("peers_after")})
    for name, (pub, family) in table2.METHODS.items():
        assert family in table2.FAMILIES
        if pub is not None:
            assert families[pub] == family, name
    assert set(method_names()) <= set(table2.METHODS)  # no built-in method falls into "other"
    mapped = {pub for pub, _ in table2.METHODS.values() if pub}
    assert mapped == {"ALE", "SJE", "DeViSE", "ConSE", "DCN", "f-CLSWGAN", "CN (class normalization)", "tf-VAEGAN", "SZSL",
                      "SYNC", "CMT", "ZSKL", "CRnet",
                      "cycle-UWGAN", "SE-GZSL", "COSMO", "SP-AEN"}


@pytest.mark.parametrize("name, prefix", [("CUB", "CUB"), ("cub", "CUB"), ("aPY", "APY"), ("AWA1", "AWA1"), ("AwA2", "AWA2"),
                                          ("SUN", "SUN"), ("digits", None), ("my-own-data", None)])
def test_dataset_prefix(name, prefix):
    assert table2.dataset_prefix(name) == prefix


def test_cub_rows_place_published_and_honest_numbers():
    rows = table2.table2_rows("CUB", RESULTS)
    published = published_rows("table2") + published_rows("peers_after")
    unmatched = [n for n in ALL if table2.METHODS[n][0] is None]
    assert len(rows) == len(published) + len(unmatched)  # every published row once, every compared method once
    assert sorted(r["registry"] for r in rows if r["registry"]) == sorted(ALL)
    by = {r["method"]: r for r in rows}

    ale = by["ALE"]  # table2.csv: CUB 23.7 / 62.8 / 34.4
    assert (ale["family"], ale["registry"], ale["reference"]) == ("embedding", "ale", "Akata et al. 2013")
    assert (ale["published_U"], ale["published_S"], ale["published_H"]) == (23.7, 62.8, 34.4)
    assert ale["H"] == H["ale"] and ale["H_std"] == 0.5 and ale["epochs"] == 5 and ale["seeds"] == 3

    ours = by["SZSL"]
    assert (ours["family"], ours["registry"]) == ("ours", "szsl")
    assert (ours["published_U"], ours["published_S"], ours["published_H"]) == (47.1, 52.5, 49.6)
    assert ours["H"] == H["szsl"]

    cn = by["CN (class normalization)"]  # peers_after.csv, with its protocol note
    assert (cn["family"], cn["registry"], cn["published_H"], cn["H"]) == ("later", "cn", 50.3, H["cn"])
    assert "validation" in cn["published_note"] and cn["published_table"] == "peers_after"
    assert by["tf-VAEGAN"]["published_H"] == 58.1 and by["tf-VAEGAN"]["H"] == H["tf-vaegan"]
    assert by["f-CLSWGAN"]["family"] == "generative" and by["f-CLSWGAN"]["published_H"] == 49.7
    assert by["DCN"]["registry"] == "dcn" and by["DCN"]["published_H"] == 38.7

    ce = by["CE-GZSL"]  # published, not in the registry: numbers, empty honest part
    assert (ce["published_U"], ce["published_S"], ce["published_H"]) == (52.4, 60.9, 56.4)
    assert ce["registry"] == "" and ce["H"] is None and ce["seeds"] is None
    spaen = by["SP-AEN"]  # every Table 2 row is in the registry now (sp-aen: its feature-level variant)
    assert (spaen["published_H"], spaen["registry"], spaen["H"]) == (46.6, "sp-aen", H["sp-aen"])
    assert (by["COSMO"]["published_H"], by["COSMO"]["registry"], by["COSMO"]["H"]) == (50.2, "cosmo", H["cosmo"])
    assert not [r["method"] for r in rows if r["published_table"] == "table2" and not r["registry"]]
    sync = by["SYNC"]  # published and in the registry
    assert (sync["published_H"], sync["registry"], sync["H"]) == (19.8, "sync", H["sync"])

    eszsl = by["eszsl"]  # in the registry, no published row
    assert eszsl["family"] == "embedding" and eszsl["published_H"] is None and eszsl["H"] == H["eszsl"]
    assert by["cn-soft"]["family"] == "ours"

    order = [table2.FAMILIES.index(r["family"]) for r in rows]
    assert order == sorted(order)  # grouped by family, in FAMILIES order
    embedding = [r["method"] for r in rows if r["family"] == "embedding"]
    assert embedding[:6] == ["ALE", "SJE", "ConSE", "SYNC", "DeViSE", "CMT"]  # the CSV's order, then the unpublished ones
    assert embedding[6:] == ["eszsl", "sae"]


def test_a_dataset_without_a_published_number_gives_dash_not_a_guess():
    by = {r["method"]: r for r in table2.table2_rows("AWA2", RESULTS)}
    assert by["f-CLSWGAN"]["published_H"] is None and by["f-CLSWGAN"]["H"] == H["f-clswgan"]  # Table 2: no AWA2 number
    assert by["ALE"]["published_H"] == 23.9
    apy = {r["method"]: r for r in table2.table2_rows("APY", RESULTS)}
    assert apy["CN (class normalization)"]["published_H"] is None and apy["SZSL"]["published_H"] == 48.7


def test_markdown_states_budget_and_protocols_and_shows_both_parts():
    md = table2.table2_markdown("CUB", table2.table2_rows("CUB", RESULTS), SETTINGS)
    assert "7 random-search trials per method" in md and "3 seeds" in md and "epochs of the network methods 4" in md
    assert "per-method settings: tf-vaegan: epochs=20" in md
    assert "other protocols" in md and "select epochs or constants on the test split" in md
    lines = md.splitlines()
    ale = next(line for line in lines if line.startswith("| embedding | ALE (`ale`) |"))
    cells = [c.strip() for c in ale.strip("|").split("|")]
    assert cells[2:6] == ["Akata et al. 2013", "23.7", "62.8", "34.4"]
    assert cells[8] == f"{H['ale']:.1f} ± 0.5" and cells[11] == "5" and cells[12] == "1.25"
    ce = next(line for line in lines if line.startswith("| later | CE-GZSL ["))
    assert [c.strip() for c in ce.strip("|").split("|")][3:] == ["52.4", "60.9", "56.4"] + [""] * 7
    eszsl = next(line for line in lines if line.startswith("| embedding | eszsl |"))
    assert [c.strip() for c in eszsl.strip("|").split("|")][3:6] == ["-", "-", "-"]
    tf = next(line for line in lines if line.startswith("| later | tf-VAEGAN (`tf-vaegan`) ["))
    note = int(tf.split("[", 1)[1].split("]", 1)[0])
    assert f"{note}. tf-VAEGAN: best epoch picked on test H" in md


def test_csv_has_every_row_with_empty_cells_for_none():
    rows = list(csv.DictReader(io.StringIO(table2.table2_csv(table2.table2_rows("CUB", RESULTS)))))
    by = {r["method"]: r for r in rows}
    assert list(rows[0]) == list(table2.COLUMNS)
    assert by["ALE"]["published_H"] == "34.4" and float(by["ALE"]["H"]) == H["ale"]
    assert by["CE-GZSL"]["H"] == "" and by["eszsl"]["published_H"] == ""


def test_other_datasets_have_an_empty_published_part():
    rows = table2.table2_rows("digits", RESULTS[:3] + [fake("ridge", 5.0)])
    assert [r["registry"] for r in rows] == ["eszsl", "dcn", "szsl", "ridge"]  # embedding, generative, ours, other
    assert all(r["published_H"] is None and r["published_note"] == "" for r in rows)
    assert rows[-1]["family"] == "other"
    md = table2.table2_markdown("digits", rows, SETTINGS)
    assert "No published numbers for digits" in md and "| other | ridge |  | - | - | - | 5.0 ± 0.5 |" in md


def test_one_trial_and_one_seed_are_singular():
    assert table2.plural(1, "seed") == "1 seed" and table2.plural(0, "seed") == "0 seeds" and table2.plural(3, "seed") == "3 seeds"
    md = table2.table2_markdown("CUB", table2.table2_rows("CUB", []), {**SETTINGS, "trials": 1, "seeds": 1})
    assert "1 random-search trial per method" in md and "1 seed on the test split" in md
    assert "1 seeds" not in md and "1 random-search trials" not in md
    md = table2.table2_markdown("CUB", table2.table2_rows("CUB", []), SETTINGS)
    assert "7 random-search trials per method" in md and "3 seeds on the test split" in md


def test_one_seed_prints_its_numbers_alone_not_plus_minus_zero():
    md = table2.table2_markdown("CUB", table2.table2_rows("CUB", RESULTS), {**SETTINGS, "seeds": 1})
    ale = next(line for line in md.splitlines() if line.startswith("| embedding | ALE (`ale`) |"))
    assert [c.strip() for c in ale.strip("|").split("|")][8] == f"{H['ale']:.1f}"
    assert "±" not in md and "1 seed on the test split;" in md
