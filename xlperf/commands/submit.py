"""Placeholder: replaced by the submit feature (it is being built now)."""

from __future__ import annotations

import click


@click.command(name="submit")
def submit() -> None:
    """（开发中）"""
    raise click.UsageError("该功能尚未完成")
