import pytest

from szsl.errors import SZSLError
from szsl.experiments.published import TABLES, as_float, published_rows


def test_table2_rows():
    rows = published_rows("table2")
    by = {r["method"]: r for r in rows}
    assert {"ALE", "SJE"} <= set(by)
    assert as_float(by["ALE"]["CUB_H"]) == 34.4
    assert as_float(by["SJE"]["APY_U"]) == 3.7


def test_peers_after_rows():
    rows = published_rows("peers_after")
    cn = next(r for r in rows if r["method"].startswith("CN"))
    assert as_float(cn["CUB_H"]) == 50.3
    assert as_float(cn["APY_H"]) is None
    assert "0.95" in cn["note"]


def test_all_and_bad():
    assert set(TABLES) == {"table2", "peers_after"}
    assert all(published_rows(name) for name in TABLES)
    with pytest.raises(SZSLError, match="nope"):
        published_rows("nope")

