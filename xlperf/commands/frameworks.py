"""``xlperf frameworks``: the bundled scoring frameworks, one line each."""

from __future__ import annotations

import click


@click.command()
def frameworks() -> None:
    """列出内置的评分框架。"""
    from xlperf.core.framework import bundled_ids, get_framework

    for fid in bundled_ids():
        fw = get_framework(fid)
        parts = "、".join(f"{s.name} {s.full}" for s in fw.sections)
        click.echo(f"{fid}\t{fw.name}（{parts}；{len(fw.indicators())} 个三级指标）")
