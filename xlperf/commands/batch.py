"""Placeholder: replaced by the batch feature (it is being built now)."""

from __future__ import annotations

import click


@click.command(name="batch")
def batch() -> None:
    """（开发中）"""
    raise click.UsageError("该功能尚未完成")
