"""Needs: the burden of waiting multiplied by the standards of ``[needs]``, per crossing and day.

For each replication, crossing and local date, every item of the scenario's
standards and user items is ``quantity / per_people`` times its basis (see
:mod:`model.scenario.needs`): person-days waiting for what is consumed,
the most people waiting at once for what is installed, people waiting
overnight for what is handed out per night, people in reception centres for
beds. Items in whole units are rounded up per crossing and day; an item with
``below_c`` counts only on nights colder than that (or with no low given).

All crossings together is the sum of the crossings: supplies and toilets are
placed at each crossing, not shared between them. Two more periods per
crossing: the **peak day** (each figure's largest day, within each
replication) and the **whole run** (consumables summed over the days;
installed items at their largest day, per crossing and then summed; beds at
the largest night of all crossings together, since reception centres are
shared). Across replications each figure is a mean with a 95% interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario import Scenario
from ..scenario.needs import CAPACITY_BASES, NeedItem
from .burden import ALL, WHOLE_RUN, summarise_burden, summarise_columns

__all__ = ["queue_needs", "needs_by_replication", "summarise_needs", "BASIS_COLUMNS", "PEAK_DAY"]

#: The ``period`` of the rows with each figure's largest day.
PEAK_DAY = "peak day"
#: What the items were multiplied by, shown next to them in needs.csv.
BASIS_COLUMNS = ["person_days_waiting", "people_waiting_peak", "people_waiting_overnight", "people_in_reception_overnight"]

_BASIS = {  # (basis, who) -> column of the burden's daily table (person-days are hours / 24)
    ("person_days", "all"): "person_hours_waiting_h", ("person_days", "on_foot"): "person_hours_on_foot_h",
    ("peak_people", "all"): "people_waiting_peak", ("peak_people", "on_foot"): "people_waiting_peak_on_foot",
    ("people_overnight", "all"): "people_waiting_overnight",
    ("people_overnight", "on_foot"): "people_waiting_overnight_on_foot",
    ("people_in_reception", "all"): "people_in_reception_overnight",
    ("people_in_reception", "on_foot"): "people_in_reception_overnight",
}


def _item(scenario: Scenario, item: NeedItem, daily: pd.DataFrame) -> np.ndarray:
    """The item's quantity on each row of ``daily`` (one crossing's or all crossings' rows)."""
    base = daily[_BASIS[item.basis, item.who]].to_numpy(dtype=float)
    if item.basis == "person_days":
        base = base / 24.0
    amount = base * item.quantity / item.per_people
    if item.below_c is not None:
        lows = [scenario.needs.night_low(pd.Timestamp(d).date()) for d in daily["date"]]
        amount = amount * np.array([low is None or low < item.below_c for low in lows], dtype=float)
    return np.ceil(amount - 1e-9) if item.round_up else amount


def needs_by_replication(scenario: Scenario, daily: pd.DataFrame) -> pd.DataFrame:
    """Needs per replication, crossing (and ``all``) and period (each date, ``peak day``, ``whole run``).

    ``daily`` is the burden's per-replication daily table (every crossing and ``all``).
    """
    items = scenario.needs.all_items
    columns = [i.column for i in items]
    d = daily.copy()
    d["person_days_waiting"] = d["person_hours_waiting_h"] / 24.0
    sites = d[d["crossing"] != ALL].copy()
    for item in items:
        sites[item.column] = _item(scenario, item, sites)
    everyone = d[d["crossing"] == ALL].set_index(["replication", "date"])
    summed = sites.groupby(["replication", "date"], sort=True)[columns].sum()
    everyone = everyone[["crossing", *BASIS_COLUMNS]].join(summed).reset_index()
    by_day = pd.concat([sites[["replication", "crossing", "date", *BASIS_COLUMNS, *columns]], everyone], ignore_index=True)

    g = by_day.groupby(["replication", "crossing"], sort=False)
    peak = g[[*BASIS_COLUMNS, *columns]].max().reset_index().assign(date=PEAK_DAY)
    capacity = [i.column for i in items if i.basis in CAPACITY_BASES] + ["people_waiting_peak", "people_in_reception_overnight"]
    consumed = [c for c in [*BASIS_COLUMNS, *columns] if c not in capacity and c != "people_waiting_overnight"]
    whole = pd.concat([g[consumed].sum(), g[capacity].max()], axis=1).reset_index().assign(date=WHOLE_RUN)
    installed = [i.column for i in items if i.basis == "peak_people"]
    if installed:  # all crossings: each crossing's installations, added up
        site_totals = whole[whole["crossing"] != ALL].groupby("replication")[installed].sum()
        here = whole["crossing"] == ALL
        whole.loc[here, installed] = site_totals.reindex(whole.loc[here, "replication"]).to_numpy()
    out = pd.concat([by_day, peak, whole], ignore_index=True)
    return out.rename(columns={"date": "period"})


def summarise_needs(scenario: Scenario, per_rep: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% interval of every need across replications, per crossing and period, crossings in scenario order."""
    columns = [*BASIS_COLUMNS, *[i.column for i in scenario.needs.all_items]]
    out = summarise_columns(per_rep, ["crossing", "period"], columns)
    order = {c: i for i, c in enumerate([c.name for c in scenario.crossings] + [ALL])}
    rank = out["period"].map({PEAK_DAY: 1, WHOLE_RUN: 2}).fillna(0)
    out = out.assign(_c=out["crossing"].map(order), _p=rank).sort_values(["_c", "_p", "period"], kind="stable")
    return out.drop(columns=["_c", "_p"]).reset_index(drop=True)


def queue_needs(scenario: Scenario, parts: list) -> dict[str, pd.DataFrame]:
    """The burden and needs tables of a run from its replications' :class:`ReplicationBurden` s (in order):
    ``burden``, ``burden_hourly`` (time as local date-times), ``needs``, ``needs_by_replication``."""
    burden, hourly, daily = summarise_burden(scenario, parts)
    start = pd.Timestamp(scenario.start).tz_convert(scenario.timezone)
    hourly["time"] = start + pd.to_timedelta(hourly["time"].to_numpy(dtype=float) * 60.0, unit="s").round("s")
    per_rep = needs_by_replication(scenario, daily)
    return {"burden": burden, "burden_hourly": hourly, "needs": summarise_needs(scenario, per_rep),
            "needs_by_replication": per_rep}
