"""The project form's score card in the terminal (``xlperf run`` on a 项目支出绩效自评表)."""

from __future__ import annotations

from xlperf.commands.terminal import shown
from xlperf.core.project.result import ProjectResult


def print_project_scorecard(result: ProjectResult) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    info = result.evaluation.project
    title = Text(
        f"{shown(info.name or '（未填写项目名称）')} {shown(info.year or '')} 年度 项目支出绩效自评"
        f"（{shown(info.department or '未填写主管部门')}）"
    )
    table = Table(title=title)
    table.add_column("指标")
    table.add_column("分值", justify="right")
    table.add_column("得分", justify="right")
    b = result.budget
    rate = "无法计算" if b.rate is None else f"{b.rate:.2f}%"
    table.add_row(f"预算执行率（{rate}）", f"{b.full}", f"{b.score:.2f}")
    for lv in result.levels:
        table.add_row(f"{lv.name}（{len(lv.rows)} 个指标）", f"{lv.full}", f"{lv.score:.2f}")
    rating = f"（{result.rating}）" if result.rating else ""
    table.add_row(
        "[bold]总分[/bold]", f"{result.framework.total}", f"[bold]{result.total:.2f}{rating}[/bold]"
    )
    console.print(table)
    below = [r for r in result.rows if r.below_full]
    if below:
        lost = Table(title="未得满分的指标")
        lost.add_column("三级指标")
        lost.add_column("分值", justify="right")
        lost.add_column("得分", justify="right")
        lost.add_column("偏差原因")
        for r in below:
            lost.add_row(
                Text(shown(r.name)), f"{r.full}", f"{r.score:.2f}", Text(shown(r.reason or "（未填写）"))
            )
        console.print(lost)
