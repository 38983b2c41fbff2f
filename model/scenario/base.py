"""The base classes every scenario section shares.

Each section of a scenario is a small pydantic model built on :class:`_Part`:
unknown keys are errors (a misspelt key must not be silently ignored) and the
parsed object is frozen. :class:`_Shares` adds the rule for tables of shares or
probabilities that must sum to one; it is shared by origins and behaviour.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Shares(_Part):
    """A table of probabilities or shares that must sum to 1.

    A table that gives some of its keys gives the rest as 0: ``{ foot = 1.0 }``
    means all on foot. The field defaults apply only to a table given empty or not at all.
    """

    @model_validator(mode="before")
    @classmethod
    def _missing_are_zero(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw:
            return {name: 0.0 for name in cls.model_fields} | raw
        return raw

    @model_validator(mode="after")
    def _sums_to_one(self):
        names = list(type(self).model_fields)
        total = sum(getattr(self, n) for n in names)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"{' + '.join(names)} must sum to 1, got {total:.6g}")
        return self
