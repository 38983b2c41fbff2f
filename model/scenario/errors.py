"""The one-line scenario error, and how pydantic's errors are turned into it.

Whatever goes wrong with a scenario (a missing file, bad TOML, a value out of
range, a route naming an unknown crossing, a malformed ``--set``) reaches the
user as one :class:`ScenarioError` line naming the file, the field, the value
and what is allowed. Pydantic's error locations are rewritten here so that list
items are shown by name (``crossings[NAME].car``) rather than by index.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from .distributions import FAMILIES

__all__ = ["ScenarioError"]


class ScenarioError(Exception):
    """A scenario (or an override) that cannot be run, with a one-line reason.

    Not a ``ValueError`` on purpose: pydantic lets it pass through validators
    untouched, so cross-field checks keep their own field path.
    """

    def __init__(self, field: str, value: Any, allowed: str, source: str | None = None):
        self.field, self.value, self.allowed, self.source = field, value, allowed, source
        super().__init__(self.message())

    def message(self) -> str:
        where = f"{self.source}: " if self.source else ""
        field = f"{self.field}: " if self.field else ""
        value = "" if self.value is _NO_VALUE else f"got {_short(self.value)}; "
        return f"{where}{field}{value}{self.allowed}"

    def with_source(self, source: str) -> "ScenarioError":
        return ScenarioError(self.field, self.value, self.allowed, source)


_NO_VALUE = object()


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format_loc(raw: dict, loc: tuple) -> str:
    """Field path of a pydantic error, with list items named where they have a name."""
    out: list[str] = []
    node: Any = raw
    for part in loc:
        if isinstance(part, int):
            name = node[part].get("name") if isinstance(node, list) and part < len(node) and isinstance(node[part], dict) else None
            out[-1:] = [f"{out[-1] if out else ''}[{name if name else part}]"]
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            if part in FAMILIES:
                continue  # the discriminated-union tag pydantic adds to the path
            out.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(out)


def _from_validation_error(raw: dict, err: ValidationError, source: str) -> ScenarioError:
    """The first error pydantic found in ``raw``, as a one-line ScenarioError."""
    first = err.errors(include_url=False)[0]
    field = _format_loc(raw, first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown key (not a field of the scenario schema)"
    elif first["type"] == "missing":
        msg = "required field is missing"
    value = _NO_VALUE if first["type"] == "missing" else first.get("input", _NO_VALUE)
    if isinstance(value, dict):
        value = _NO_VALUE if first["type"] != "extra_forbidden" else value
    return ScenarioError(field, value, msg, source)
