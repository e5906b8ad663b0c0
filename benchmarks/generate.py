"""生成 N 个有效的合成部门自评工作簿（供 xlperf batch 的基准测试和压力测试使用）。

每个工作簿从内置示例（白云区科工商信局 2023）出发，换掉部门名称、年度、产出/效益指标
（每个工作簿 5–60 行、较长的中文文字）、支出进度等，再用 ``build_workbook`` + ``save_workbook``
写出。生成的数据都能通过校验（没有错误类问题），总分各不相同。同一个种子总得到同样的文件。

用法::

    python benchmarks/generate.py --n 200 -o benchmarks/out/inputs [--seed 7] [--check]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

from xlperf.core.evaluation import Evaluation, Grade, IndicatorRow, Kind
from xlperf.core.quantity import Direction
from xlperf.examples import example_evaluation

DISTRICTS = (
    "白云区",
    "天河区",
    "越秀区",
    "海珠区",
    "荔湾区",
    "黄埔区",
    "番禺区",
    "花都区",
    "南沙区",
    "从化区",
    "增城区",
)
AGENCIES = (
    "科技工业商务和信息化局",
    "教育局",
    "民政局",
    "司法局",
    "财政局",
    "人力资源和社会保障局",
    "住房和城乡建设局",
    "交通运输局",
    "水务局",
    "农业农村局",
    "文化广电旅游体育局",
    "卫生健康局",
    "退役军人事务局",
    "应急管理局",
    "审计局",
    "市场监督管理局",
    "统计局",
    "医疗保障局",
    "城市管理和综合执法局",
    "规划和自然资源分局",
)
VERBS = (
    "组织开展",
    "推进落实",
    "完成",
    "指导督促",
    "统筹推动",
    "牵头实施",
    "配合上级部门开展",
    "持续深化",
    "全面推进",
)
OBJECTS = (
    "辖区重点企业走访服务",
    "中小企业数字化转型诊断",
    "安全生产专项检查",
    "政策宣讲和业务培训",
    "重点项目入库储备",
    "社区养老服务设施改造",
    "老旧小区供水管网更新",
    "公共文化服务进基层",
    "农村人居环境整治",
    "消费帮扶产品采购",
    "高新技术企业培育认定",
    "科技成果转化对接活动",
    "招商引资项目洽谈",
    "政务服务事项标准化梳理",
    "应急物资储备点建设",
)
QUALIFIERS = (
    "，覆盖全区各镇街并形成工作台账",
    "，确保按季度报送进展情况",
    "，重点围绕制造业高质量发展",
    "，并开展满意度回访",
    "，形成问题清单和整改清单",
    "，建立跟踪服务和动态调整机制",
    "",
)
UNITS = ("个", "家", "场", "次", "项", "份", "人次", "户")
REASONS = (
    "受项目前期手续办理周期较长影响，部分工作推进慢于预期，已列入下一年度重点督办事项，明确责任人和完成时限。",
    "因上级政策调整，相关工作延后启动，年内完成的数量少于年初目标，下一步将加强与上级部门的沟通衔接。",
    "部分企业生产经营情况发生变化，实际参与数量不及预期，后续将优化服务方式、扩大覆盖面。",
)


def _phrase(rng: random.Random) -> str:
    return rng.choice(VERBS) + rng.choice(OBJECTS) + rng.choice(QUALIFIERS)


def _row(rng: random.Random, seq: int, problems: list[str], low: float) -> IndicatorRow:
    """One valid indicator row: a 定量 ≥ row (one number in its target text) or a 定性 row."""
    name = f"{_phrase(rng)}（第{_cn(seq)}项）"
    if rng.random() < 0.15:
        grade = rng.choice((Grade.DONE, Grade.DONE, Grade.MOSTLY, Grade.PARTLY))
        short = grade is not Grade.DONE
        if short:
            problems.append(f"“{name}”未完全完成。")
        return IndicatorRow(
            seq=seq,
            name=name,
            kind=Kind.QUAL,
            grade=grade,
            target_text=f"{_phrase(rng)}，{_phrase(rng)}，按期完成年度工作任务",
            actual_text=f"{_phrase(rng)}，取得阶段性成效" + ("。" if not short else "，部分工作尚未完成。"),
            shortfall_reason=rng.choice(REASONS) if short else "",
        )
    unit = rng.choice(UNITS)
    target = rng.randint(5, 500)
    ratio = 1.0 if rng.random() < 0.4 else rng.uniform(low, 1.45)
    actual = (Decimal(target) * Decimal(str(round(ratio, 3)))).quantize(Decimal("0.01"))
    short = actual < target
    if short:
        problems.append(f"“{name}”未达到年度目标。")
    return IndicatorRow(
        seq=seq,
        name=name,
        kind=Kind.QUANT,
        direction=Direction.GE,
        target_value=Decimal(target),
        unit=unit,
        target_text=f"{_phrase(rng)}，不少于{target}{unit}",
        actual_value=actual,
        actual_text=f"{_phrase(rng)}，实际完成{actual}{unit}",
        shortfall_reason=rng.choice(REASONS) if short else "",
    )


_DIGITS = "〇一二三四五六七八九"


def _cn(n: int) -> str:
    """Chinese numerals for a sequence number: no Arabic digit may appear in names (V16 counts numbers)."""
    return "".join(_DIGITS[int(d)] for d in str(n))


def synthetic_evaluation(i: int, seed: int = 7) -> Evaluation:
    """The ``i``-th synthetic department: valid, 5–60 indicator rows, long Chinese texts."""
    rng = random.Random(seed * 100_003 + i)
    ev = example_evaluation().model_copy(deep=True)
    district, agency = rng.choice(DISTRICTS), rng.choice(AGENCIES)
    dep = ev.department
    dep.name = f"广州市{district}{agency}（合成样本{_cn(i + 1)}）"
    dep.short_name = f"区{agency[:4]}"
    dep.year = rng.choice((2022, 2023, 2024))
    dep.intro = (
        f"广州市{district}{agency}是区政府工作部门，" + "，".join(_phrase(rng) for _ in range(6)) + "。"
    )
    dep.duties = "\n".join(_phrase(rng) + "。" for _ in range(rng.randint(6, 14)))
    dep.performance_goal = "；".join(_phrase(rng) for _ in range(8)) + "。"
    n_rows = rng.randint(5, 60)
    n_benefits = max(1, n_rows // 5)
    low = rng.choice(
        (0.1, 0.3, 0.55, 0.55, 0.8)
    )  # how far short a row can fall: spreads totals over 优/良/中
    problems: list[str] = []
    ev.outputs = [_row(rng, k + 1, problems, low) for k in range(n_rows - n_benefits)]
    ev.benefits = [_row(rng, k + 1, problems, low) for k in range(n_benefits)]
    ev.problems = [*problems[:40], *ev.problems[:1]] if problems else ev.problems[:1]
    ev.spending.monthly = [Decimal(rng.randint(70, 100)) for _ in range(12)]
    ev.spending.monthly[0] = Decimal(100)  # never strictly increasing (V21 would warn of cumulative rates)
    ev.claims.total = None
    ev.claims.rating = ""
    return ev


def generate(n: int, out_dir: Path, seed: int = 7) -> list[Path]:
    """Write ``n`` workbooks into ``out_dir`` (部门_0001.xlsx …) and return their paths."""
    from xlperf.core.framework import get_framework
    from xlperf.workbook.template import build_workbook, save_workbook

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        ev = synthetic_evaluation(i, seed)
        path = out_dir / f"部门_{i + 1:04d}.xlsx"
        save_workbook(build_workbook(get_framework(ev.framework), ev), path)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成 N 个有效的合成部门自评工作簿。")
    parser.add_argument("--n", type=int, default=200, help="生成的工作簿个数（默认 200）")
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        default=Path(__file__).parent / "out" / "inputs",
        help="输出文件夹（默认 benchmarks/out/inputs）",
    )
    parser.add_argument("--seed", type=int, default=7, help="随机种子（同一种子生成同样的数据）")
    parser.add_argument("--check", action="store_true", help="生成后逐个校验，确认没有错误类问题")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    paths = generate(args.n, args.out, args.seed)
    print(f"已生成 {len(paths)} 个工作簿到 {args.out}（{time.perf_counter() - t0:.1f} 秒）")
    if args.check:
        from xlperf.pipeline import assess, load_input

        bad = 0
        for p in paths:
            result = assess(load_input(p))
            if result.errors:
                bad += 1
                print(f"{p.name}: {[f.code + ' ' + f.message for f in result.errors][:3]}")
        print("全部通过校验" if not bad else f"{bad} 个有错误")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
