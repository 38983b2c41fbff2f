"""CSV text written column by column is byte for byte what pandas' ``to_csv`` gives; fast reads equal plain ones."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from model.analysis import iso_strings
from model.report import run_tables
from model.report.table_files import _pandas_csv_text, csv_text

ZONES = ["Europe/Kyiv", "UTC", "America/St_Johns", "Asia/Kathmandu"]


def _floats(rng: np.random.Generator, n: int) -> np.ndarray:
    pool = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-300, 1.5e300, 0.1, 1 / 3, 123456789.123, -7.0, 2.0**60])
    values = np.where(rng.random(n) < 0.5, rng.choice(pool, n), rng.normal(0, 10.0 ** rng.integers(-8, 12, n)))
    return np.round(values, rng.integers(0, 4)) if rng.random() < 0.3 else values


def _times(rng: np.random.Generator, n: int, zone: str) -> pd.Series:
    start = pd.Timestamp("2030-03-20", tz="UTC")
    minutes = rng.integers(0, 60 * 24 * 300, n) if rng.random() < 0.5 else rng.integers(0, 50, n) * 60
    stamps = pd.Series(start + pd.to_timedelta(minutes, unit="min") + pd.to_timedelta(rng.integers(0, 2, n), unit="s"))
    stamps = stamps.dt.tz_convert(zone).astype(f"datetime64[{rng.choice(['s', 'ms', 'us', 'ns'])}, {zone}]")
    return stamps.where(rng.random(n) > 0.1) if rng.random() < 0.5 else stamps


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    names = np.array(["Gate", "Shebekino", "a b", "", "Ünïcode", "x'y", "NA", "nan", "1", "True"])
    stamp = pd.Timestamp("2030-05-01 12:00", tz="Europe/Kyiv")
    columns = {
        "f": _floats(rng, n),
        "f32": np.clip(_floats(rng, n), -1e30, 1e30).astype(np.float32),
        "i": rng.integers(-(2**62), 2**62, n) if rng.random() < 0.3 else rng.integers(0, 5, n),
        "u8": rng.integers(0, 255, n).astype(np.uint8),
        "b": rng.random(n) < 0.5,
        "s": pd.Series(rng.choice(names, n), dtype="str").where(rng.random(n) > 0.1).array,
        "t": _times(rng, n, str(rng.choice(ZONES))).array,
        "o": pd.Series([[stamp, 1.5, np.float64(2.25), None, np.nan, pd.NaT, "text", 3, True][k] for k in rng.integers(0, 9, n)],
                       dtype=object),
        "d": pd.Series([pd.Timestamp("2030-05-01").date()] * n, dtype=object),
    }
    keep = [c for c in columns if rng.random() < 0.7] or ["f", "i"]
    return pd.DataFrame({c: columns[c] for c in keep})


@pytest.mark.parametrize("seed", range(60))
def test_csv_text_is_to_csv(seed):
    rng = np.random.default_rng(seed)
    frame = _frame(rng, int(rng.choice([0, 1, 5, 199, 200, 450])))
    for header in (True, False):
        assert csv_text(frame, header=header) == _pandas_csv_text(frame, header)


@pytest.mark.parametrize("seed", range(20))
def test_iso_strings_as_each_time_on_its_own(seed):
    rng = np.random.default_rng(seed)
    stamps = _times(rng, int(rng.choice([0, 1, 300])), str(rng.choice(ZONES)))  # whole seconds, some missing
    assert iso_strings(stamps).tolist() == ["" if t is pd.NaT else t.isoformat() for t in stamps]


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": [1.5, np.nan]}),  # one column: a row of one empty field is quoted
    pd.DataFrame({"a": ["x,y", "z"], "b": [1, 2]}),  # fields the csv module quotes
    pd.DataFrame({"a": ['say "hi"', "z"], "b": [1, 2]}),
    pd.DataFrame({"a": ["two\nlines", "z"], "b": [1.0, 2.0]}),
    pd.DataFrame({"a,b": [1], "c": [2]}),
    pd.DataFrame({0: [1], 1: [2]}),
    pd.DataFrame({"a": pd.Categorical(["x", "y"]), "b": [0.5, 1.0]}),
    pd.DataFrame({"a": pd.to_datetime(["2030-01-01", None]), "b": [1, 2]}),
    pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [1, 2]}),
    pd.DataFrame({"a": [0.1, -0.0] * 150, "b": [1.0, 2.0] * 150}),
    pd.DataFrame({"a": pd.Series(dtype=float), "b": pd.Series(dtype="datetime64[us, UTC]")}),
], ids=range(11))
def test_csv_text_special_tables(frame):
    for header in (True, False):
        assert csv_text(frame, header=header) == _pandas_csv_text(frame, header)


@pytest.mark.parametrize("seed", range(20))
def test_local_times_as_all_at_once(seed):
    rng = np.random.default_rng(seed)
    n, zone = int(rng.choice([0, 1, 300])), str(rng.choice(ZONES))
    text = pd.Series(csv_text(pd.DataFrame({"t": _times(rng, n, str(rng.choice(ZONES))), "x": 1})).splitlines()[1:],
                     dtype=str, name="t").str.split(",").str[0]
    for column in (text, text.replace("", np.nan), text.where(text != "", "not a time")):
        try:
            expected = pd.to_datetime(column, format="ISO8601", utc=True).dt.tz_convert(zone).dt.tz_localize(None)
        except ValueError as err:
            with pytest.raises(ValueError, match=re.escape(str(err).splitlines()[0])):
                run_tables._local_times(column, zone)
            continue
        pd.testing.assert_series_equal(run_tables._local_times(column, zone), expected, check_exact=True)


@pytest.mark.parametrize("text", [
    "crossing,channel,people\nGate,car,3\nGate,bus,4\n",
    "crossing,channel,people\n1,2,3\n4,5,6\n",  # names that look like numbers stay text
    "crossing,channel,people\nTrue,False,3\n",
    "crossing,channel,people\n",
    "crossing,channel,people\nGate,,3\n,NA,4\n",
    "crossing,people\nGate,3\n",
    "crossing,channel,people\nGate,car,x\n",
])
def test_read_csv_as_typed(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    for options in ({"dtype": {"crossing": str, "channel": str, "people": "int64"}, "keep_default_na": False},
                    {"dtype": {"crossing": str, "channel": str}}):
        try:
            expected = pd.read_csv(path, **options)
        except ValueError as err:
            with pytest.raises(type(err)):
                run_tables._read_csv(path, **options)
            continue
        pd.testing.assert_frame_equal(run_tables._read_csv(path, **options), expected, check_exact=True)
