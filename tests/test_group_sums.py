"""The numpy group sums give pandas' groupby numbers bit for bit (model.analysis.group_sums)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.analysis.group_sums import added_up, group_ids, group_moments


def _frames(seed: int, same_keys: bool, with_nan: bool) -> list[pd.DataFrame]:
    """Seven replications' pieces: every (crossing, hour) once in the same order (as the cumulative chart table has
    them; text as objects), or keys drawn at random, repeated and missing in some (text as pandas' strings)."""
    rng = np.random.default_rng(seed)
    names = np.array(["Shebekino", "Logachevka", "Nekhoteevka"], dtype=object)
    frames = []
    for _ in range(7):
        n = 39 if same_keys else int(rng.integers(1, 60))
        crossing = names[np.arange(n) // 13] if same_keys else names[rng.integers(0, 3, n)]
        hour = np.arange(n) % 13 if same_keys else rng.integers(0, 13, n)
        km = rng.lognormal(0.0, 2.0, n) * 1e3
        if with_nan:
            km[rng.random(n) < 0.2] = np.nan
        frames.append(pd.DataFrame({"crossing": pd.Series(crossing, dtype=object if same_keys else "str"), "hour": hour,
                                    "people": rng.integers(0, 9, n), "km": km}))
    return frames


@pytest.mark.parametrize("same_keys", [True, False])
@pytest.mark.parametrize("with_nan", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_added_up_is_concat_then_groupby_sum(seed, same_keys, with_nan):
    frames = _frames(seed, same_keys, with_nan)
    keys = ["crossing", "hour"]
    expected = pd.concat(frames, ignore_index=True).groupby(keys, sort=True, dropna=False)[["people", "km"]].sum().reset_index()
    pd.testing.assert_frame_equal(added_up(frames, keys), expected, check_exact=True)


def test_a_missing_key_is_left_to_pandas():
    frames = [pd.DataFrame({"crossing": ["A", None, "B"], "x": [1.5, 2.5, 3.5]}), pd.DataFrame({"crossing": ["B"], "x": [0.25]})]
    expected = pd.concat(frames, ignore_index=True).groupby(["crossing"], sort=True, dropna=False)[["x"]].sum().reset_index()
    pd.testing.assert_frame_equal(added_up(frames, ["crossing"]), expected, check_exact=True)


@pytest.mark.parametrize("seed", [1, 2])
def test_group_moments_are_groupby_mean_std_and_count(seed):
    rng = np.random.default_rng(seed)
    n = 300
    frame = pd.DataFrame({"crossing": np.array(["B", "A", "C"], dtype=object)[rng.integers(0, 3, n)], "day": rng.integers(0, 5, n),
                          "wait_h": rng.lognormal(1.0, 1.5, n), "people": rng.integers(0, 50, n).astype(float)})
    frame.loc[rng.random(n) < 0.1, "wait_h"] = np.nan
    by, columns = ["crossing", "day"], ["wait_h", "people"]
    ids, keys = group_ids(frame, by)
    mean, sd, count = group_moments(ids, len(keys["crossing"]), frame[columns].to_numpy(dtype=float))
    g = frame.groupby(by, sort=False)[columns]
    expected_keys = g.mean().reset_index()[by]
    for c in by:
        assert list(keys[c]) == list(expected_keys[c])
    np.testing.assert_array_equal(mean, g.mean().to_numpy())
    np.testing.assert_array_equal(sd, g.std(ddof=1).to_numpy())
    np.testing.assert_array_equal(count, g.count().to_numpy())
