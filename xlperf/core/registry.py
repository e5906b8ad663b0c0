"""The registry of rule kinds, by name.

The kinds in :mod:`xlperf.core.rules` register themselves here when the core is imported (the
package imports them); the framework looks a kind up by the name its TOML gives. Kept apart from
both, so that the framework does not import the rules that build on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xlperf.core.rules import RuleKind

#: the registered kinds, by name
RULES: dict[str, RuleKind] = {}


def register(cls: type[RuleKind]) -> type[RuleKind]:
    """Class decorator: make a rule kind available to frameworks under its ``name``."""
    RULES[cls.name] = cls()
    return cls
