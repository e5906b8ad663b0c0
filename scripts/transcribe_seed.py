# Transcribes ../shared/seed/000_418889d02e89c928.txt into xlperf/data/example_baiyun_2023.json.
# Run once by hand (python scripts/transcribe_seed.py); the JSON is the committed fixture.
# Choices: reasons the seed states only in 三、存在的主要问题 (产出 ③ ⑤, the 广交会 target change)
# are entered in the row's reason column; gaps the seed leaves (㉒'s reason, which measure of
# ⑤/⑥ is scored, the 150 % reasons) stay empty, so xlperf reports them.

import re
from pathlib import Path

from xlperf.core.evaluation import Evaluation

HERE = Path(__file__).resolve().parent
seed = (HERE.parents[1] / "shared/seed/000_418889d02e89c928.txt").read_text(encoding="utf-8")


def between(a, b):
    i = seed.index(a) + len(a)
    j = seed.index(b, i)
    return seed[i:j]


def clean(t):
    # join page-break splits (paragraphs broken across pages in the published PDF)
    t = t.strip()
    t = re.sub(r"\n\n(?=[^\n]{0,200})", "\n\n", t)
    return t


duties_block = between("主要职责是：\n\n", "\n\n下属事业单位")
# the PDF split duty 4 across a page: "负责推进制造\n\n业与服务业" — rejoin
duties_block = duties_block.replace("负责推进制造\n\n业与服务业", "负责推进制造业与服务业")
duties = [d.strip() for d in duties_block.split("\n\n") if d.strip()]
duties = [re.sub(r"^\d+\.", "", d) for d in duties]


def fix_breaks(t):
    for a, b in [
        ("印发《广\n\n州市", "印发《广州市"),
        ("多措\n\n并举", "多措并举"),
        ("2.14亿元，\n\n吸纳", "2.14亿元，吸纳"),
        ("2022 年度产业人才\n\n项目", "2022 年度产业人才项目"),
        ("重新布放\n\n线缆", "重新布放线缆"),
        ("工\n\n程、服务", "工程、服务"),
        ("预算绩效管\n\n理办法", "预算绩效管理办法"),
        ("准确，\n\n核实性", "准确，核实性"),
        ("产出指标完成\n\n情况", "产出指标完成情况"),
        ("财政部门通报的\n\n部门", "财政部门通报的部门"),
    ]:
        t = t.replace(a, b)
    return t


seed = fix_breaks(seed)

tasks_raw = between("具体内容及完成情况如下：\n\n", "\n\n（三）部门整体支出绩效目标")
parts = re.split(r"\n\n(?=\d\.\s?[^\d])", "\n\n" + tasks_raw)
tasks = []
for p in parts:
    p = p.strip()
    if not p:
        continue
    m = re.match(r"\d\.\s?(.+?)\n\n主要内容：(.+?)\n\n实际完成情况：(.+)$", p, re.S)
    assert m, p[:80]
    tasks.append(
        {
            "name": m.group(1).strip(),
            "content": m.group(2).strip(),
            "completion": m.group(3).strip().replace("\n\n", ""),
        }
    )
assert len(tasks) == 6

goal = between("2023 年度我局整体支出绩效目标是：", "\n\n（四）").strip()
pm = between("（五）部门整体绩效管理情况\n\n", "\n\n二、绩效自评情况").strip()

# 产出 rows: (name, kind, dir, target, unit, target_text, actual, actual_text)
outs_block = between("具体情况如下：\n\n①新增孵化育成平台数量", "(2) 部门整体绩效目标效益指标完成情况")
outs_block = "①新增孵化育成平台数量" + outs_block
items = re.split(r"\n\n(?=[①-㉓])", outs_block.strip())
assert len(items) == 23, len(items)
parsed = []
for it in items:
    m = re.match(r"([①-㉓])(.+?)\n\n年度目标值：(.+?)\n\n年度实际值：(.+)$", it.strip(), re.S)
    assert m, it[:60]
    parsed.append((m.group(2).strip(), m.group(3).strip(), m.group(4).strip().replace("\n\n", "")))

spec = [
    # kind, dir, target, unit, actual, extra
    ("定量", "≥", "8", "个", "11", {}),
    ("定量", "≥", "4", "场", "5", {}),
    (
        "定量",
        "≥",
        "2",
        "个",
        "1",
        {"shortfall_reason": "区科技产业人才扶持政策目前仍在征集意见阶段，未正式出台。"},
    ),
    ("定量", "≥", "100", "家", "119", {}),
    (
        "定量",
        "≥",
        "10",
        "个",
        "6",
        {
            "shortfall_reason": "因相关政策未出台，2023 年未开展 2022 年度产业人才项目评选工作，"
            "实际完成中期考核数量为 6 个团队。"
        },
    ),
    ("定量", "≥", "60", "家", "60", {}),
    ("定量", "≥", "180", "家", "206", {}),
    ("定量", "≥", "2", "场", "3", {}),
    ("定量", "≥", "30", "家", "40", {}),
    ("定量", "≥", "4", "份", "4", {}),
    ("定量", "≥", "24", "次", "30", {}),
    (
        "定量",
        "≥",
        "150",
        "家",
        "160",
        {
            "approved_target_text": "不少于 100 家",
            "target_change_note": "2023 年度广交会分两届举行，原目标值未明确为每届的展位数量，"
            "且设定的目标值明显偏低，经研究将目标值修改为“每届不少于 150 家”。",
        },
    ),
    ("定量", "≥", "200", "家", "200", {}),
    ("定量", "≥", "4", "场", "5", {}),
    ("定量", "≥", "1700", "个", "1957", {}),
    ("定量", "≥", "2", "份", "2", {}),
    ("定量", "≥", "100", "个", "160", {}),
    ("定量", "≥", "400", "项", "426", {}),
    ("定量", "≥", "100", "家", "100", {}),
    ("定量", "≥", "300", "家", "300", {}),
    ("定量", "≥", "300", "家", "451", {}),
    ("定性", None, None, "", None, {"grade": "部分完成"}),
    ("定量", "≥", "100", "%", "100", {}),
]
outputs = []
for i, ((name, tt, at), (kind, d, tv, unit, av, extra)) in enumerate(zip(parsed, spec, strict=True), 1):
    row = {
        "seq": i,
        "name": name,
        "kind": kind,
        "direction": d,
        "target_value": tv,
        "unit": unit,
        "target_text": tt.rstrip("。"),
        "actual_value": av,
        "actual_text": at,
    }
    row.update(extra)
    outputs.append(row)
# ⑥ names two targets (60 家 / 20 家): scored on 60 家充电桩企业 走访


ben_block = between("自评得分19.78分。具体情况如下：\n\n", "\n\n（3）部门预算资金支出率")
bitems = re.split(r"\n\n(?=[①-⑥])", ben_block.strip())
assert len(bitems) == 6
bparsed = []
for it in bitems:
    m = re.match(
        r"([①-⑥])(.+?)\n\n年度目标值：(.+?)\n\n年度实际值：(.+?)(?:\n\n(未达标原因|完成率在150%以上的原因)：(.+))?$",
        it.strip(),
        re.S,
    )
    assert m, it[:80]
    bparsed.append(
        (
            m.group(2).strip(),
            m.group(3).strip(),
            m.group(4).strip().replace("\n\n", ""),
            m.group(5),
            m.group(6),
        )
    )
bspec = [
    ("定量", "≥", "7", "%", "7.1", {}),
    ("定量", "≥", "110", "亿元", "102.59", {}),
    ("定量", "≥", "7", "%", "8.6", {}),
    ("定量", "≥", "5", "%", "12.7", {}),
    ("定性", None, None, "", None, {"grade": "完成"}),
    ("定性", None, None, "", None, {"grade": "完成"}),
]
benefits = []
for i, ((name, tt, at, rk, rv), (kind, d, tv, unit, av, extra)) in enumerate(
    zip(bparsed, bspec, strict=True), 1
):
    row = {
        "seq": i,
        "name": name,
        "kind": kind,
        "direction": d,
        "target_value": tv,
        "unit": unit,
        "target_text": tt.rstrip("。"),
        "actual_value": av,
        "actual_text": at.rstrip("。") if kind == "定量" else at,
    }
    if rk == "未达标原因":
        row["shortfall_reason"] = rv.strip()
    if rk and rk.startswith("完成率"):
        row["excess_reason"] = rv.strip()
    row.update(extra)
    benefits.append(row)


# management evidence texts
mg = between("具体情况如下：\n\n1. 预算编制", "\n\n三、存在的主要问题")


def ev(title, nxt):
    i = mg.index(title) + len(title)
    j = mg.index(nxt, i) if nxt else len(mg)
    block = mg[i:j].strip()
    paras = [p.strip() for p in block.split("\n\n") if p.strip()]
    # first paragraph is "该指标主要考核…。指标分值…" — generated by xlperf; keep the rest as evidence
    return paras


titles = [
    "新增预算项目事前绩效评估。",
    "（1）结转结余率。",
    "（2）财务管理合规性。",
    "(1) 预决算公开合规性。",
    "(2) 绩效信息公开情况。",
    "(1) 绩效管理制度建设。",
    "（2）绩效结果应用。",
    "（3）绩效管理制度执行。",
    "（1）采购意向公开合规性。",
    "（2）采购内控制度建设。",
    "（3）采购活动合规性。",
    "（4）采购合同签订时效性。",
    "（5）合同备案时效性。",
    "（6）采购政策效能。",
    "（1）资产配置合规性。",
    "（2）资产收益上缴的及时性。",
    "（3）资产盘点情况。",
    "（4）数据质量。",
    "（5）资产管理合规性。",
    "（6）固定资产利用率。",
    "（1）公用经费控制率。",
    "（2）“三公”经费控制情况。",
]
stops = [
    "2. 预算执行",
    None,
    "3. 信息公开",
    None,
    "4. 绩效管理",
    None,
    None,
    "5. 采购管理。",
    None,
    None,
    None,
    None,
    None,
    "6. 资产管理。",
    None,
    None,
    None,
    None,
    None,
    "7. 运行成本。",
    None,
    None,
]
evid = []
for k, t in enumerate(titles):
    nxt = stops[k] or (titles[k + 1] if k + 1 < len(titles) else None)
    paras = ev(t, nxt)
    first = paras[0]
    if k == 0:
        # "该指标…。指标分值3分，我局本年度没有应当实施立项预算评估的项目，评价得分3分，得分率100%。"
        body = ["我局本年度没有应当实施立项预算评估的项目。"]
    else:
        assert first.startswith("该指标主要考核"), first
        body = paras[1:]
    evid.append(body)
answers = [
    ["不适用"],
    [],
    ["是"],
    ["是", "是"],
    ["是", "是"],
    ["是", "是"],
    ["是", "是", "是"],
    ["是", "是", "是"],
    ["是", "是"],
    ["是"],
    ["是"],
    ["是"],
    ["是"],
    ["是"],
    ["是", "是"],
    ["不适用"],
    ["是"],
    ["是"],
    ["是", "是"],
    [],
    [],
    [],
]
management = []
for k in range(22):
    body = evid[k]
    explanation = ""
    if k == 21:
        # 三公: the last paragraph holds the problem and the improvement
        explanation = body[-1]
        body = body[:-1]
    entry = {
        "indicator": f"M{k + 1:02d}",
        "answers": answers[k],
        "evidence": "\n".join(body),
        "explanation": explanation,
    }
    if k == 0:
        entry.update(count_total="0", count_done="0")
    management.append(entry)

problems_block = between("三、存在的主要问题\n\n", "\n\n四、下一步改进措施")
problems = [
    re.sub(r"^[一二三四五六七八九十]+是", "", p.strip()) for p in problems_block.split("\n\n") if p.strip()
]
impr_block = seed[seed.index("四、下一步改进措施\n\n") + len("四、下一步改进措施\n\n") :]
improvements = [
    re.sub(r"^[一二三四五六七八九十]+是", "", p.strip()) for p in impr_block.split("\n\n") if p.strip()
]

ev_ = {
    "framework": "guangzhou-2023",
    "department": {
        "name": "广州市白云区科技工业商务和信息化局",
        "short_name": "区科工商信局",
        "self_ref": "我局",
        "year": 2023,
        "intro": "广州市白云区科技工业商务和信息化局（简称区科工商信局）是区政府工作部门，为正处级，"
        "负责贯彻落实党中央、省委、市委关于科技、工业、商务、信息化和经济协作工作中的集中统一领导",
        "duties": "\n".join(duties),
        "subordinate_units": "广州市白云区企业服务中心\n广州市白云区科技馆",
        "staffing": "事业编制 13 名",
        "performance_goal": goal,
        "performance_management": pm,
    },
    "tasks": tasks,
    "budget": {
        "total_budget": "79776.38",
        "income_current": "79766.65",
        "carryover_prior": "9.73",
        "executed": "76740.31",
        "spend_general": "73899.57",
        "spend_fund": "2840.74",
        "spend_basic": "3247.7",
        "spend_project": "73492.61",
        "year_end_balance": "12.37",
        "opening_balance": "9.73",
        "final_general": "73898.42",
        "final_fund": "2840.74",
        "final_other": "3.78",
        "closing_balance": "12.37",
        "public_funds_actual": "143.34",
        "public_funds_budget": "171.79",
        "three_public_actual": "17.45",
        "three_public_budget": "29.64",
        "fixed_assets_total": "742.91",
        "fixed_assets_in_use": "742.91",
    },
    "outputs": outputs,
    "benefits": benefits,
    "spending": {"monthly": ["100"] * 12},
    "management": management,
    "problems": problems,
    "improvements": improvements,
    "claims": {"total": "98.57", "rating": "优"},
}
e = Evaluation.model_validate(ev_)
(HERE.parent / "xlperf/data/example_baiyun_2023.json").write_text(e.to_json() + "\n", encoding="utf-8")
print(len(outputs), len(benefits), len(management), len(problems), len(improvements))
