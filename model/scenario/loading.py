"""Loading a scenario: TOML file, ``extends``, ``--set`` overrides, then validation.

A scenario file may name a parent with ``extends``; the two are deep-merged,
lists of named tables item by item, so a variant file states only what differs.
Overrides (``--set dotted.key=value`` on the command line, or a dict from a
study) are applied to the raw dict before validation, so they obey the same
schema and give the same one-line errors as the file itself. A scenario loaded
from a file is then checked for values that are allowed but implausible
(:mod:`.plausibility`); each becomes a :class:`ScenarioWarning`, and the
caller decides how to show it.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
import warnings
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import _NO_VALUE, ScenarioError, ScenarioWarning, _from_validation_error
from .plausibility import implausible_values
from .schema import Scenario, nobody_leaves

__all__ = ["read_scenario_dict", "merge_scenarios", "apply_overrides", "scenario_from_dict", "load_scenario", "MAX_DEPTH"]

#: How deep values may nest (a scenario needs about 6 levels); checked before anything recurses into them.
MAX_DEPTH = 32
#: How many files a chain of ``extends`` may hold.
MAX_EXTENDS = 16
#: The largest scenario file read (the default scenario is about 20 kB).
MAX_FILE_BYTES = 10_000_000


def read_scenario_dict(path: str | Path) -> dict:
    """Read a scenario TOML into a dict, following ``extends`` (path relative to the file).

    A chain of ``extends`` that comes back to a file already in it (a file
    extending itself) or is longer than :data:`MAX_EXTENDS` is refused.
    """
    return _read_chain(Path(path), [])


def _read_chain(path: Path, chain: list[Path]) -> dict:
    source = str(path)
    raw = _read_toml(path, source)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError("extends", parent, "must be a path to another scenario file", source)
    here = Path(os.path.realpath(path))
    target = path.parent / parent
    seen = [*chain, here]
    if Path(os.path.realpath(target)) in seen:
        cycle = seen[seen.index(Path(os.path.realpath(target))):]
        names = " extends ".join(p.name for p in [*cycle, cycle[0]])
        raise ScenarioError("extends", parent, f"makes a cycle ({names}); a scenario cannot extend itself, "
                            "directly or through others", source)
    if len(seen) >= MAX_EXTENDS:
        raise ScenarioError("extends", parent, f"a chain of extends may hold at most {MAX_EXTENDS} files", source)
    if not target.is_file():
        raise ScenarioError("extends", parent, f"file not found ({target})", source)
    return merge_scenarios(_read_chain(target, seen), raw)


def _read_toml(path: Path, source: str) -> dict:
    """One TOML file as a dict: one-line errors for a missing, unreadable, huge, binary, bad or too deep file."""
    if not path.is_file():
        raise ScenarioError("", _NO_VALUE, "file not found" if not path.exists() else "not a regular file", source)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ScenarioError("", _NO_VALUE, f"cannot read the file: {err.strerror or err}", source) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError("", _NO_VALUE, f"larger than {MAX_FILE_BYTES:,} bytes; a scenario file is far smaller", source)
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError("", _NO_VALUE, f"TOML syntax error: {err}", source) from None
    except UnicodeDecodeError:
        raise ScenarioError("", _NO_VALUE, "not a UTF-8 text file", source) from None
    except RecursionError:
        raise ScenarioError("", _NO_VALUE, f"values nested too deeply; a scenario nests at most {MAX_DEPTH} levels", source) from None
    _check_depth(raw, source)
    return raw


def _check_depth(raw: Any, source: str | None = None, field: str = "") -> None:
    """Refuse values nested more than :data:`MAX_DEPTH` levels, before pydantic, merging or copying recurse into them.

    Iterative, so it cannot itself run out of stack (a value may even contain itself).
    """
    stack = [(raw, 0, field)]
    while stack:
        node, depth, top = stack.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError(top, _NO_VALUE, f"nested more than {MAX_DEPTH} levels deep; no field of a scenario is", source)
        if isinstance(node, dict):
            stack.extend((v, depth + 1, top or str(k)) for k, v in node.items())
        elif isinstance(node, (list, tuple)):
            stack.extend((v, depth + 1, top) for v in node)


def merge_scenarios(base: dict, override: dict) -> dict:
    """Deep-merge ``override`` into ``base``; lists of named tables merge item by item by name."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and "dist" not in value:
            merged[key] = merge_scenarios(old, value)  # a distribution is replaced whole, never mixed
        elif _named_list(old) and _named_list(value):
            by_name = {item["name"]: i for i, item in enumerate(old)}
            result = list(old)
            for item in value:
                if item["name"] in by_name:
                    idx = by_name[item["name"]]
                    result[idx] = merge_scenarios(result[idx], item)
                else:
                    result.append(item)
            merged[key] = result
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value)


#: A date-time written without seconds (``2022-09-06 08:00``), which TOML 1.0 does not accept.
_NO_SECONDS = re.compile(r"(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2})(?![:\d])")


def _parse_value(text: str) -> Any:
    """Read an override's value as TOML (numbers, booleans, dates, arrays, tables), else as a string.

    A date-time without seconds inside an array or a table is given its
    ``:00``; alone it stays a string, which the date-time fields read themselves.
    """
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        pass
    with_seconds = _NO_SECONDS.sub(r"\1:00", text)
    try:
        value = tomllib.loads(f"v = {with_seconds}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    return value if isinstance(value, (list, dict)) else text


def apply_overrides(raw: dict, overrides: list[str] | dict[str, Any]) -> dict:
    """Apply ``dotted.key=value`` overrides to a raw scenario dict.

    List items are addressed by index or by their ``name``:
    ``crossings.NAME.car.booths=5`` or ``routes.0.road_km=60``.
    """
    _check_depth(raw)
    result = copy.deepcopy(raw)
    items = overrides.items() if isinstance(overrides, dict) else (_split_override(o) for o in overrides)
    for dotted, value in items:
        if not isinstance(dotted, str):
            raise ScenarioError("--set", dotted, "a key is a dotted path, e.g. crossings.NAME.car.booths")
        if isinstance(value, str) and not isinstance(overrides, dict):
            try:
                value = _parse_value(value)
            except RecursionError:
                raise ScenarioError(f"--set {dotted}", _NO_VALUE, f"value nested more than {MAX_DEPTH} levels deep; "
                                    "no field of a scenario is") from None
        if dotted.count(".") >= MAX_DEPTH:
            raise ScenarioError(f"--set {dotted}", _NO_VALUE, f"a key has at most {MAX_DEPTH} parts")
        _check_depth(value, None, f"--set {dotted}")
        _set_path(result, dotted, value)
    return result


def _split_override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError("--set", text, "use dotted.key=value, e.g. crossings.NAME.car.booths=8")
    return key.strip(), value.strip()


def _set_path(node: Any, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            idx = _list_index(node, part, here)
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ScenarioError(f"--set {dotted}", value, f"{'.'.join(parts[:depth])} is a value, not a table")


def _list_index(items: list, part: str, here: str) -> int:
    if re.fullmatch(r"-?[0-9]+", part):
        idx = int(part)
        if not -len(items) <= idx < len(items):
            raise ScenarioError(f"--set {here}", idx, f"index must be below {len(items)}")
        return idx
    names = [item.get("name") for item in items if isinstance(item, dict)]
    if part not in names:
        raise ScenarioError(f"--set {here}", part, f"must be an index or one of {names}")
    return names.index(part)


def scenario_from_dict(raw: dict, source: str = "<scenario>") -> Scenario:
    """Validate a raw dict into a frozen Scenario, or raise a one-line ScenarioError."""
    try:
        _check_depth(raw)
        return Scenario.model_validate(raw)
    except ScenarioError as err:
        raise err.with_source(source) from None
    except ValidationError as err:
        raise _from_validation_error(raw, err, source, Scenario) from None


def load_scenario(path: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> Scenario:
    """Read, merge (``extends``), override (``--set``) and validate a scenario file.

    Each implausible value (:func:`.plausibility.implausible_values`), and a
    period in which nobody is expected to leave (:func:`.schema.nobody_leaves`), is
    reported with ``warnings.warn(ScenarioWarning(...))``; the scenario is returned all the same.
    """
    raw = read_scenario_dict(path)
    if overrides:
        try:
            raw = apply_overrides(raw, overrides)
        except ScenarioError as err:
            raise err.with_source(str(path)) from None
    scenario = scenario_from_dict(raw, str(path))
    for field, value, reason in [*implausible_values(scenario), *filter(None, [nobody_leaves(scenario)])]:
        warnings.warn(ScenarioWarning(field, value, reason, str(path)), stacklevel=2)
    return scenario
