"""What the page's controls mean: ``--set`` overrides, the scenario they give, and the settings file that keeps them.

The page holds the settings; this module turns them into :class:`Change`
items, each a dotted path and a value exactly as ``--set path=text`` would
give them (a box's text is read by the same parser). Applying them follows
``load_scenario`` step by step (the loaded file's dict, the overrides, the
schema, the size check before a run), so a bad value gets the very line
``python -m model run FILE --set ...`` prints. :func:`settings_toml` writes
the changes as a scenario file that ``extends`` the loaded one and holds only
what changed; :func:`command_line` writes them as the equivalent command.
"""

from __future__ import annotations

import json
import math
import shlex
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import tomli_w

from ..experiments.estimate import check_resources
from ..experiments.studies import parse_value
from ..scenario import Scenario, ScenarioError, ScenarioWarning, apply_overrides, read_scenario_dict, scenario_from_dict
from ..scenario.plausibility import implausible_values
from ..scenario.schema import nobody_leaves
from .controls import Control, build_controls

__all__ = ["Loaded", "Change", "load", "changes_from", "resolve", "settings_toml", "command_line", "set_texts", "inline_toml"]


@dataclass(frozen=True)
class Loaded:
    """The scenario the app was started on: its file, the command's own ``--set``, and the page's controls."""

    source: str
    overrides: tuple[str, ...]
    raw: dict = field(repr=False)  # the file with its extends, before any override
    scenario: Scenario = field(repr=False)
    controls: tuple[Control, ...] = field(repr=False)

    @property
    def base_raw(self) -> dict:
        return apply_overrides(self.raw, list(self.overrides)) if self.overrides else self.raw


@dataclass(frozen=True)
class Change:
    """One override: the dotted path, the value as ``--set`` reads it, and the text ``--set`` is given."""

    path: str
    value: Any
    text: str


def load(source: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Loaded:
    """Read ``source`` with the app command's ``--set`` ``overrides``; build its controls.

    Raises the one-line :class:`ScenarioError` the ``run`` command would; the
    loader's warnings are left to the caller (the CLI prints them).
    """
    from ..scenario import load_scenario

    scenario = load_scenario(source, list(overrides))
    raw = read_scenario_dict(source)
    base = apply_overrides(raw, list(overrides)) if overrides else raw
    return Loaded(str(source), tuple(overrides), raw, scenario, tuple(build_controls(scenario, base)))


def _text(value: Any) -> str:
    """A box's value as ``--set`` text: numbers as typed, an empty box as nothing."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _same(value: Any, initial: Any) -> bool:
    if isinstance(value, str) and not isinstance(initial, str):
        value = value.strip() or None
    if value is None or initial is None:
        return value is None and initial is None
    if isinstance(initial, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return math.isclose(float(value), float(initial), rel_tol=0, abs_tol=1e-12)
    return str(value).strip() == str(initial).strip()


def changes_from(loaded: Loaded, values: dict[str, Any]) -> list[Change]:
    """The overrides the page's boxes ask for: one per box that differs from the loaded scenario.

    ``values`` maps :attr:`Control.key` to the box's value (a number, text or
    None). Boxes that build one list (departure timing, a new booth step, a
    new closure) become one change of that list. A box of those with no
    meaning (a stretch of 0) raises :class:`ScenarioError` naming it.
    """
    out: list[Change] = []
    parts: dict[str, dict[str, Any]] = {}
    for c in loaded.controls:
        value = values.get(c.key, c.value)
        if c.part:
            parts.setdefault(c.path, {})[c.part] = value
            continue
        if _same(value, c.value):
            continue
        text = _text(value)
        parsed = None if (c.optional and text == "") else parse_value(text)
        out.append(Change(c.path, parsed, text))
    for path, given in parts.items():
        change = _composite(loaded, path, given)
        if change is not None:
            out.append(change)
    return out


def _composite(loaded: Loaded, path: str, given: dict[str, Any]) -> Change | None:
    """The one change a group of boxes makes to a list, or None when they ask for nothing."""
    s = loaded.scenario
    if "shift_h" in given:
        shift = _number(loaded, f"{path} (shift, h)", given["shift_h"], *_limits(loaded, path, "shift_h"))
        stretch = _number(loaded, f"{path} (stretch)", given["stretch"], *_limits(loaded, path, "stretch"))
        if shift == 0 and stretch == 1:
            return None
        origin = s.origin(_named(s.origins, path.split(".")[1]).name)
        first = origin.departures[0].at
        points = [{"at": first + timedelta(hours=shift) + (p.at - first) * stretch, "people_per_h": p.people_per_h / stretch}
                  for p in origin.departures]
        return _list_change(path, points)
    empty = all(_text(v) == "" for v in given.values())
    if empty:
        return None
    crossing = s.crossing(_named(s.crossings, path.split(".")[1]).name)
    if path.endswith(".booth_schedule"):
        channel = crossing.channel(path.split(".")[2])
        items = [{"at": b.at, "booths": b.booths} for b in channel.booth_schedule]
        items.append({"at": parse_value(_text(given.get("at"))), "booths": parse_value(_text(given.get("booths")))})
    else:
        items = [{"starts": w.starts, "ends": w.ends, **({"reason": w.reason} if w.reason else {})} for w in crossing.closures]
        items.append({"starts": parse_value(_text(given.get("starts"))), "ends": parse_value(_text(given.get("ends"))),
                      "reason": "what-if"})
    return _list_change(path, items)


def _named(items: list, key: str):
    return next((x for x in items if x.name == key), None) or items[int(key)]


def _limits(loaded: Loaded, path: str, part: str) -> tuple[float, float]:
    c = next(c for c in loaded.controls if c.path == path and c.part == part)
    return c.low, c.high


def _number(loaded: Loaded, where: str, value: Any, low: float, high: float) -> float:
    """A box of the page's own (not a schema field) read as a number within its range, or a one-line error."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ScenarioError(where, _text(value), "a number is needed", loaded.source)
    if not low <= value <= high:
        raise ScenarioError(where, value, f"must be from {low:g} to {high:g}", loaded.source)
    return float(value)


def _list_change(path: str, items: list[dict]) -> Change:
    return Change(path, items, inline_toml(items))


def resolve(loaded: Loaded, changes: list[Change], workers: int = 1) -> tuple[Scenario, list[str]]:
    """The scenario of the loaded one with ``changes``, checked as ``run`` checks it; and its warning lines.

    Raises the :class:`ScenarioError` whose text ``python -m model run
    SOURCE --set ...`` prints after ``error:``: a bad value, and a run too big
    for this machine's memory.
    """
    try:
        raw = apply_overrides(loaded.base_raw, {c.path: c.value for c in changes})
    except ScenarioError as err:
        raise err.with_source(loaded.source) from None
    scenario = scenario_from_dict(raw, loaded.source)
    notes = [str(ScenarioWarning(f, v, why, loaded.source))
             for f, v, why in [*implausible_values(scenario), *filter(None, [nobody_leaves(scenario)])]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, note = check_resources(scenario, scenario.replications, 1, workers, True, loaded.source)
    if note:
        notes.append(f"{loaded.source}: {note}")
    return scenario, notes


# --- keeping the settings ------------------------------------------------------------------------


def _difference(old: Any, new: Any) -> Any:
    """What a scenario file extending ``old`` must say to give ``new`` (as ``extends`` merges them).

    Tables merge key by key and lists of named tables item by item, so only
    what changed is written; a distribution, and a list of unnamed tables
    (``routes``, ``closures``), is written whole, since merging replaces those.
    """
    out = {}
    for key, value in new.items():
        before = old.get(key) if isinstance(old, dict) else None
        if key in old and before == value:
            continue
        if isinstance(before, dict) and isinstance(value, dict) and "dist" not in value and set(before) <= set(value):
            out[key] = _difference(before, value)
        elif _named_list(before) and _named_list(value) and [x["name"] for x in before] == [x["name"] for x in value[: len(before)]]:
            items = []
            for was, now in zip(before, value):
                if was != now:
                    if not set(was) <= set(now):
                        raise ValueError(f"{key}: an item lost a key, which extends cannot express")
                    items.append({"name": now["name"], **_difference(was, now)})
            out[key] = items + value[len(before):]
        else:
            out[key] = _without_none(value)
    if any(key not in new for key in old):
        raise ValueError("a key was removed, which extends cannot express")
    return out


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value)


def _without_none(value: Any) -> Any:
    """TOML has no null: a key whose value is None is left out (the schema's default, None, applies)."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def settings_toml(loaded: Loaded, changes: list[Change]) -> str:
    """The current settings as a scenario file: ``extends`` the loaded file (by its absolute path) with only what changed.

    The app command's own ``--set`` overrides count as changes of the file.
    ``python -m model run`` on the text reproduces the page's run exactly.
    """
    new = apply_overrides(loaded.base_raw, {c.path: c.value for c in changes})
    document = {"extends": str(Path(loaded.source).resolve()), **_difference(loaded.raw, new)}
    sets = set_texts(loaded, changes)
    header = ["# What-if settings written by the border-surge app (python -m model app).",
              f"# They extend {loaded.source} and change only:"]
    header += [f"#   --set {line}" for line in sets] or ["#   nothing"]
    header += ["# Rerun them with: .venv/bin/python -m model run THIS_FILE.toml", ""]
    return "\n".join(header) + tomli_w.dumps(document)


def set_texts(loaded: Loaded, changes: list[Change]) -> list[str]:
    """The ``--set`` arguments of the settings: the app command's own, then one per change.

    ``--set`` cannot remove a field, so an emptied optional box (a road no
    longer closed) sets the whole table that holds it, without the field.
    """
    new = apply_overrides(loaded.base_raw, {c.path: c.value for c in changes})
    out = list(loaded.overrides)
    for c in changes:
        if c.value is None:
            parent = c.path.rsplit(".", 1)[0]
            out.append(f"{parent}={inline_toml(_value_at(new, parent))}")
        else:
            out.append(f"{c.path}={c.text}")
    return out


def _value_at(raw: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(raw, list):
            raw = next((x for x in raw if isinstance(x, dict) and x.get("name") == part), None) or raw[int(part)]
        else:
            raw = raw[part]
    return raw


def command_line(loaded: Loaded, changes: list[Change]) -> str:
    """The ``run`` command that runs the current settings."""
    sets = set_texts(loaded, changes)
    words = [".venv/bin/python", "-m", "model", "run", loaded.source, *(w for s in sets for w in ("--set", s))]
    return " ".join(shlex.quote(w) for w in words)


def inline_toml(value: Any) -> str:
    """``value`` as one line of TOML, as ``--set`` reads it: numbers, text, date-times, arrays and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, int) or not value.is_integer() else f"{value:.1f}"
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(inline_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {inline_toml(v)}" for k, v in value.items() if v is not None) + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def _key(key: str) -> str:
    return key if key and all(ch.isalnum() or ch in "_-" for ch in key) else json.dumps(key)
