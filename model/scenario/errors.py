"""The one-line scenario error, and how pydantic's errors are turned into it.

Whatever goes wrong with a scenario (a missing file, bad TOML, a value out of
range, a route naming an unknown crossing, a malformed ``--set``) reaches the
user as one :class:`ScenarioError` line naming the file, the field, the value
and what is allowed. Pydantic's error locations are rewritten here so that list
items are shown by name (``crossings[NAME].car``) rather than by index, and an
unknown key gets the closest field of its section as a suggestion.

A value that is allowed but surely a unit mistake is not an error: the loader
warns with a :class:`ScenarioWarning` in the same one-line form, and the run goes on.
"""

from __future__ import annotations

import difflib
from datetime import date, time
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .distributions import FAMILIES

__all__ = ["ScenarioError", "ScenarioWarning", "one_line", "check_known"]


class ScenarioError(Exception):
    """A scenario (or an override) that cannot be run, with a one-line reason.

    Not a ``ValueError`` on purpose: pydantic lets it pass through validators
    untouched, so cross-field checks keep their own field path.
    """

    def __init__(self, field: str, value: Any, allowed: str, source: str | None = None):
        self.field, self.value, self.allowed, self.source = field, value, allowed, source
        super().__init__(self.message())

    def message(self) -> str:
        where = f"{_clip(self.source)}: " if self.source else ""
        field = f"{_clip(self.field)}: " if self.field else ""
        value = "" if self.value is _NO_VALUE else f"got {_short(self.value)}; "
        return one_line(f"{where}{field}{value}{self.allowed}")

    def with_source(self, source: str) -> "ScenarioError":
        return ScenarioError(self.field, self.value, self.allowed, source)


class ScenarioWarning(UserWarning):
    """A value the schema allows but that is surely a mistake (a unit, most often); one line.

    ``value`` is already text (``0.008``, ``mean 0.008``); ``reason`` says what is plausible.
    """

    def __init__(self, field: str, value: str, reason: str, source: str | None = None):
        self.field, self.value, self.reason, self.source = field, value, reason, source
        where = f"{source}: " if source else ""
        super().__init__(one_line(f"{where}{field}: got {value}; {reason}"))


_NO_VALUE = object()


def check_known(field: str, names, known) -> None:
    """Refuse the first of ``names`` (a list field's entries) that is not in ``known`` (the scenario's names)."""
    for name in names:
        if name not in known:
            raise ScenarioError(field, name, f"must be one of {sorted(known)}")


def one_line(text: str) -> str:
    """``text`` with every line break and other unprintable character escaped (``\\n``), so it stays one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode("ascii") for ch in text)


def _clip(text: str, limit: int = 160) -> str:
    """A file name or field path cut to ``limit`` characters (a hostile key can be megabytes)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: Any, limit: int = 80) -> str:
    text = value.isoformat() if isinstance(value, (date, time)) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format_loc(raw: dict, loc: tuple) -> str:
    """Field path of a pydantic error, with list items named where they have a name."""
    out: list[str] = []
    node: Any = raw
    for part in loc:
        if isinstance(part, int):
            name = node[part].get("name") if isinstance(node, list) and part < len(node) and isinstance(node[part], dict) else None
            name = name if isinstance(name, str) and 0 < len(name) <= 60 else None  # a name as sent, if short
            out[-1:] = [f"{out[-1] if out else ''}[{name if name else part}]"]
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            if part in FAMILIES:
                continue  # the discriminated-union tag pydantic adds to the path
            out.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(out)


def _flat(annotation: Any) -> list[Any]:
    """The types an annotation allows: Annotated, Optional and unions unwrapped, None left out."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _flat(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return [t for arg in get_args(annotation) for t in _flat(arg)]
    return [] if annotation is type(None) else [annotation]


def _keys(model: type[BaseModel]) -> dict[str, Any]:
    """The keys a section accepts (aliases as written in a scenario) and their annotations."""
    return {field.alias or name: field.annotation for name, field in model.model_fields.items()}


def _section_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class of the section at pydantic location ``loc`` (list indices, union tags), if any."""
    types: list[Any] = [root]
    for part in loc:
        models = [t for t in types if isinstance(t, type) and issubclass(t, BaseModel)]
        if isinstance(part, int):
            types = [arg for t in types if get_origin(t) in (list, tuple) for arg in _flat(get_args(t)[0])]
        elif part in FAMILIES and any("dist" in m.model_fields for m in models):
            types = [m for m in models if get_origin(m.model_fields["dist"].annotation) is Literal
                     and part in get_args(m.model_fields["dist"].annotation)]
        else:
            types = [t for m in models if part in _keys(m) for t in _flat(_keys(m)[part])]
    models = [t for t in types if isinstance(t, type) and issubclass(t, BaseModel)]
    return models[0] if len(models) == 1 else None


def _did_you_mean(root: type[BaseModel] | None, loc: tuple) -> str:
    """``; did you mean 'booths'?`` when a key of the section is close to the unknown one."""
    section = _section_at(root, loc[:-1]) if root is not None else None
    if section is None or not isinstance(loc[-1], str):
        return ""
    keys = list(_keys(section)) + (["extends"] if section is root else [])
    close = difflib.get_close_matches(loc[-1], keys, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _from_validation_error(raw: dict, err: ValidationError, source: str, root: type[BaseModel] | None = None) -> ScenarioError:
    """The first error pydantic found in ``raw``, as a one-line ScenarioError.

    ``root`` is the model ``raw`` was validated against; it lets an unknown key
    be matched against the keys of its own section.
    """
    errors = err.errors(include_url=False)
    first = errors[0]
    if first["type"] == "missing":  # a misspelt required key: report the misspelling, with the key meant
        first = next((e for e in errors if e["type"] == "extra_forbidden" and e["loc"][:-1] == first["loc"][:-1]
                      and difflib.get_close_matches(str(e["loc"][-1]), [str(first["loc"][-1])], n=1)), first)
    field = _format_loc(raw, first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown key (not a field of the scenario schema)" + _did_you_mean(root, tuple(first["loc"]))
    elif first["type"] == "missing":
        msg = "required field is missing"
    value = _NO_VALUE if first["type"] == "missing" else first.get("input", _NO_VALUE)
    if isinstance(value, dict):
        value = _NO_VALUE if first["type"] != "extra_forbidden" else value
    return ScenarioError(field, value, msg, source)
