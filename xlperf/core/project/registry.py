"""The registry of the project form's rule kinds, by name (as :mod:`xlperf.core.registry` for the
department form): the kinds in :mod:`xlperf.core.project.rules` register themselves on import, the
framework looks a kind up by the name its TOML gives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xlperf.core.project.rules import BlockKind, RowKind

#: row kinds (正向, 等于, 反向, 定性), by name
ROW_KINDS: dict[str, RowKind] = {}
#: block kinds (the 项目资金 block), by name
BLOCK_KINDS: dict[str, BlockKind] = {}


def register_row(cls: type[Any]) -> type[Any]:
    ROW_KINDS[cls.name] = cls()
    return cls


def register_block(cls: type[Any]) -> type[Any]:
    BLOCK_KINDS[cls.name] = cls()
    return cls
