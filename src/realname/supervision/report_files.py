"""A report as a file: JSON, CSV (UTF-8 with BOM, so a spreadsheet shows the Chinese headers) or PDF with charts
(matplotlib, drawn with a CJK font when the machine has one; English labels otherwise)."""

from __future__ import annotations

import io
import json
from typing import Any

from realname.supervision.csv_files import BOM, SafeWriter
from realname.supervision.reports import CATEGORY_LABELS, Report

CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "SimHei",
             "Microsoft YaHei", "PingFang SC", "AR PL UMing CN")
TOTAL_LABELS = {"registrations": ("Registrations", "登记"), "verifications": ("Verification attempts", "核验次数"),
                "passed": ("Passed", "通过"), "failed": ("Failed", "未通过"), "review": ("Sent to review", "人工复核"),
                "cap_refusals": ("Cap refusals", "超限拒绝"), "cancellations": ("Cancellations", "销号"),
                "suspensions": ("Numbers suspended", "停机")}


def to_json(report: Report) -> bytes:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2).encode()


def to_csv(report: Report) -> bytes:
    d = report.as_dict()
    buf = io.StringIO()
    w = SafeWriter(buf)  # outlet codes and names and usernames are typed by people: no cell runs as a formula
    w.writerow(["报告/report", d["title"]])
    w.writerow(["期间/period", d["period"]["start"], d["period"]["end"]])
    w.writerow(["范围/scope", *(f"{k}={v}" for k, v in d["scope"].items() if v)])
    chain = d["audit_chain"]
    w.writerow(["审计链/audit chain", "intact 完整" if chain["ok"] else f"BROKEN 已损坏: {chain['detail']}",
                f"events={chain['events']}", f"last_hash={chain['last_hash']}"])
    w.writerow(["本报告审计事件/this report's audit event", d["audit_event"]["seq"], d["audit_event"]["hash"]])
    w.writerow([])
    w.writerow(["指标/measure", "数量/count"])
    for key, (en, zh) in TOTAL_LABELS.items():
        w.writerow([f"{zh}/{en}", d["totals"][key]])
    for key, (en, zh) in CATEGORY_LABELS.items():
        w.writerow([f"失败:{zh}/failed: {en}", d["failures_by_category"][key]])
    for status, n in d["reverifications"].items():
        w.writerow([f"复核令/re-verifications {status}", n])
    for row in d["reviews"]:
        w.writerow([f"复核人/review decided by {row['decided_by']}", f"pass={row['passed']}", f"fail={row['failed']}"])
    for title, rows in (("营业厅/by outlet", d["by_outlet"]), ("营业员/by agent", d["by_agent"]),
                        ("按日/by day", d["by_day"])):
        w.writerow([])
        w.writerow([title])
        if rows:
            w.writerow(list(rows[0]))
            w.writerows([list(r.values()) for r in rows])
    return (BOM + buf.getvalue()).encode("utf-8")


def _font() -> str | None:
    """A CJK font the machine has. matplotlib's font cache may predate the font's installation, so system font
    files that look like CJK fonts are added first."""
    from matplotlib import font_manager

    known = {f.fname for f in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        name = path.lower().rsplit("/", 1)[-1]
        if path not in known and any(k in name for k in ("wqy", "cjk", "sourcehan", "simhei", "msyh", "fallback")):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def to_pdf(report: Report) -> bytes:
    import logging

    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # CJK fonts often lack a bold face
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    cjk = _font()

    def label(en: str, zh: str) -> str:
        return f"{zh} {en}" if cjk else en

    d = report.as_dict()
    out = io.BytesIO()
    style: Any = {"font.family": [cjk, "DejaVu Sans"] if cjk else ["DejaVu Sans"], "font.size": 9,
             "axes.titlesize": 11, "axes.unicode_minus": False}
    with plt.rc_context(style), PdfPages(out, metadata={"Title": "realname report", "Creator": "realname"}) as pdf:
        _cover(pdf, plt, d, label)
        _daily(pdf, plt, d, label)
        _table_page(pdf, plt, label("Registrations by outlet", "各营业厅登记"), d["by_outlet"],
                    ("outlet", "registrations", "verifications", "failed", "cancellations", "cap_refusals",
                     "attack_suspected", "face_mismatch"), bar_key="registrations", name_key="outlet")
        agents = sorted(d["by_agent"], key=lambda r: -r["registrations"])[:40]
        _table_page(pdf, plt, label("Agents (top 40 by registrations)", "营业员（按登记量前40）"), agents,
                    ("agent", "outlet", "registrations", "verifications", "failed", "reviews", "cancellations",
                     "attack_suspected"), bar_key="registrations", name_key="agent")
    return out.getvalue()


def _cover(pdf: Any, plt: Any, d: dict[str, Any], label: Any) -> None:
    fig = plt.figure(figsize=(8.27, 11.69))  # A4
    chain = d["audit_chain"]
    y = 0.95
    fig.text(0.08, y, d["title"] if label("x", "y") != "x" else "Real-name registration report", fontsize=16,
             weight="bold")
    lines = [
        f"{label('Period', '期间')}: {d['period']['start']} – {d['period']['end']}",
        f"{label('Scope', '范围')}: " + (", ".join(f"{k} {v}" for k, v in d["scope"].items() if v) or
                                         label("all operators in view", "全部")),
        f"{label('Generated', '生成')}: {d['generated_at'][:19]} UTC, {label('by', '由')} {d['generated_by']}",
        f"{label('This report is audit event', '本报告审计事件')} #{d['audit_event']['seq']} "
        f"({d['audit_event']['hash'][:16]}…)",
    ]
    for line in lines:
        y -= 0.03
        fig.text(0.08, y, line, fontsize=10)
    y -= 0.05
    ok = chain["ok"]
    fig.text(0.08, y, (label("Audit chain intact", "审计链完整") if ok else label("AUDIT CHAIN BROKEN", "审计链已损坏"))
             + f": {chain['events']} events, {chain['events_in_period']} in the period", fontsize=11, weight="bold",
             color="#116611" if ok else "#aa0000")
    if not ok:
        y -= 0.025
        fig.text(0.08, y, chain["detail"][:110], fontsize=9, color="#aa0000")
    rows = [[label(en, zh), f"{d['totals'][k]:,}"] for k, (en, zh) in TOTAL_LABELS.items()]
    rows += [[label(f"failed: {en}", f"失败：{zh}"), f"{d['failures_by_category'][k]:,}"]
             for k, (en, zh) in CATEGORY_LABELS.items()]
    rows += [[label(f"re-verifications {k}", f"复核令 {k}"), f"{v:,}"] for k, v in d["reverifications"].items()]
    ax = fig.add_axes((0.08, 0.08, 0.84, y - 0.12))
    ax.axis("off")
    table = ax.table(cellText=rows, colLabels=[label("Measure", "指标"), label("Count", "数量")], loc="upper left",
                     colWidths=[0.7, 0.3], cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    table.scale(1, 1.5)
    pdf.savefig(fig)
    plt.close(fig)


def _daily(pdf: Any, plt: Any, d: dict[str, Any], label: Any) -> None:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8.27, 11.69), gridspec_kw={"height_ratios": [3, 2]})
    days = [r["day"][5:] for r in d["by_day"]]
    x = range(len(days))
    top.bar(x, [r["registrations"] for r in d["by_day"]], color="#2f6db3", label=label("registrations", "登记"))
    top.plot(x, [r["failed"] for r in d["by_day"]], color="#c0392b", marker=".", label=label("failed", "未通过"))
    step = max(1, len(days) // 15)
    top.set_xticks(list(x)[::step], days[::step], rotation=45)
    top.set_title(label("Registrations and failed verifications per day", "每日登记与未通过核验"))
    top.legend()
    cats = list(CATEGORY_LABELS)
    bottom.barh([label(*CATEGORY_LABELS[c]) for c in cats], [d["failures_by_category"][c] for c in cats],
                color="#c0392b")
    bottom.set_title(label("Failed verifications by category (reason occurrences)", "未通过核验原因分类"))
    fig.tight_layout()
    pdf.savefig(fig)
    plt.close(fig)


def _table_page(pdf: Any, plt: Any, title: str, rows: list[dict[str, Any]], columns: tuple[str, ...], *,
                bar_key: str, name_key: str) -> None:
    fig, (chart, tab) = plt.subplots(2, 1, figsize=(8.27, 11.69), gridspec_kw={"height_ratios": [2, 3]})
    shown = rows[:25]
    chart.bar(range(len(shown)), [r[bar_key] for r in shown], color="#2f6db3")
    chart.set_xticks(range(len(shown)), [str(r[name_key])[-12:] for r in shown], rotation=60, fontsize=7)
    chart.set_title(title)
    tab.axis("off")
    cells = [[str(r.get(c, "")) for c in columns] for r in rows[:40]]
    if cells:
        t = tab.table(cellText=cells, colLabels=list(columns), loc="upper center", cellLoc="right")
        t.auto_set_font_size(False)
        t.set_fontsize(6.5)
        t.scale(1, 1.1)
    fig.tight_layout()
    pdf.savefig(fig)
    plt.close(fig)
