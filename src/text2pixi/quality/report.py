"""Reports on evaluation runs: summary statistics, plain-text tables, a comparison of two runs, and the
quality section of ``docs/performance.md`` (IO-free: ``eval/run.py`` reads and writes the files).

:func:`replace_section` swaps a marked section of a Markdown text; ``bench/scale.py`` uses it too.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from text2pixi.quality.cases import CASE_CATEGORIES, DIFFICULTIES, Outcome
from text2pixi.quality.check_base import CATEGORIES


def _rate(passed: int, total: int) -> float | None:
    return round(passed / total, 4) if total else None


def _case_order(category: str) -> int:
    return CASE_CATEGORIES.index(category) if category in CASE_CATEGORIES else len(CASE_CATEGORIES)


def summarize(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Validity rate, per-check and per-category pass rates, retries, tokens and time."""
    n = len(outcomes)
    checks = [c for o in outcomes for c in o.checks]
    by_category: dict[str, list[bool]] = defaultdict(list)
    for c in checks:
        by_category[c.category].append(c.passed)
    by_type: dict[str, list[bool]] = defaultdict(list)
    for c in checks:
        by_type[c.type or c.category].append(c.passed)
    by_difficulty: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        by_difficulty[o.difficulty].extend(c.passed for c in o.checks)
    by_case: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        by_case[o.category or "uncategorised"].extend(c.passed for c in o.checks)
    walls = [o.wall_s for o in outcomes]
    tokens = [o.output_tokens for o in outcomes]
    return {
        "prompts": n,
        "valid": sum(o.valid for o in outcomes),
        "validity_rate": _rate(sum(o.valid for o in outcomes), n),
        "checks": len(checks),
        "checks_passed": sum(c.passed for c in checks),
        "check_pass_rate": _rate(sum(c.passed for c in checks), len(checks)),
        "prompts_all_checks_passed": sum(bool(o.checks) and o.passed == len(o.checks) for o in outcomes),
        "by_category": {k: {"passed": sum(v), "total": len(v), "rate": _rate(sum(v), len(v))}
                        for k, v in sorted(by_category.items(), key=lambda kv: CATEGORIES.index(kv[0]))},
        "by_check": {k: {"passed": sum(v), "total": len(v), "rate": _rate(sum(v), len(v))}
                     for k, v in sorted(by_type.items())},
        "by_difficulty": {k: {"passed": sum(v), "total": len(v), "rate": _rate(sum(v), len(v))}
                          for k, v in sorted(by_difficulty.items(), key=lambda kv: DIFFICULTIES.index(kv[0]))},
        "by_case_category": {k: {"passed": sum(v), "total": len(v), "rate": _rate(sum(v), len(v))}
                             for k, v in sorted(by_case.items(), key=lambda kv: _case_order(kv[0]))},
        "retries": sum(o.retries for o in outcomes),
        "prompts_with_retries": sum(o.retries > 0 for o in outcomes),
        "output_tokens_mean": round(statistics.fmean(tokens), 1) if tokens else None,
        "wall_s_mean": round(statistics.fmean(walls), 2) if walls else None,
        "wall_s_median": round(statistics.median(walls), 2) if walls else None,
        "wall_s_total": round(sum(walls), 1),
    }


def table(outcomes: Sequence[Outcome]) -> str:
    """A fixed-width table, one prompt per line, then the failed checks."""
    lines = [f"{'id':28s} {'diff':6s} {'valid':5s} {'tries':5s} {'tokens':>6s} {'time':>7s} {'checks':>7s}"]
    for o in outcomes:
        lines.append(f"{o.id[:28]:28s} {o.difficulty:6s} {'yes' if o.valid else 'NO':5s} {o.attempts:5d} "
                     f"{o.output_tokens:6d} {o.wall_s:6.1f}s {o.passed:3d}/{len(o.checks):<3d}")
    failed = [(o.id, c) for o in outcomes for c in o.checks if not c.passed]
    rates = summarize(outcomes)["by_case_category"]
    if any(o.category for o in outcomes):
        lines.append("")
        lines.append("pass rate per case category: " + ", ".join(
            f"{k} {_pct(v['rate'])} ({v['passed']}/{v['total']})" for k, v in rates.items()))
    if failed:
        lines.append("")
        lines.append("failed checks:")
        lines.extend(f"  {i}: {c.check} -- {c.detail}" for i, c in failed)
    return "\n".join(lines)


def compare(a: Sequence[Outcome], b: Sequence[Outcome]) -> dict[str, Any]:
    """Two runs side by side: summary figures, categories, and the prompts whose checks changed."""
    sa, sb = summarize(a), summarize(b)
    figures = ("validity_rate", "check_pass_rate", "prompts_all_checks_passed", "retries", "output_tokens_mean",
               "wall_s_mean", "wall_s_median")
    categories = sorted(set(sa["by_category"]) | set(sb["by_category"]), key=CATEGORIES.index)
    index_b = {o.id: o for o in b}
    changed = []
    for o in a:
        other = index_b.get(o.id)
        if other is not None and (o.passed, o.valid) != (other.passed, other.valid):
            changed.append({"id": o.id, "a": f"{o.passed}/{len(o.checks)}", "b": f"{other.passed}/{len(other.checks)}",
                            "delta": other.passed - o.passed})
    return {
        "figures": {k: {"a": sa[k], "b": sb[k]} for k in figures},
        "categories": {k: {"a": sa["by_category"].get(k, {}).get("rate"), "b": sb["by_category"].get(k, {}).get("rate")}
                       for k in categories},
        "changed": changed,
        "only_in_a": sorted({o.id for o in a} - set(index_b)),
        "only_in_b": sorted(set(index_b) - {o.id for o in a}),
    }


def compare_table(result: dict[str, Any], name_a: str = "A", name_b: str = "B") -> str:
    lines = [f"{'figure':28s} {name_a[:18]:>18s} {name_b[:18]:>18s}"]
    for k, v in result["figures"].items():
        lines.append(f"{k:28s} {v['a']!s:>18s} {v['b']!s:>18s}")
    lines.append("")
    lines.append(f"{'category pass rate':28s} {name_a[:18]:>18s} {name_b[:18]:>18s}")
    for k, v in result["categories"].items():
        lines.append(f"{k:28s} {v['a']!s:>18s} {v['b']!s:>18s}")
    if result["changed"]:
        lines.append("")
        lines.append("prompts whose checks changed:")
        lines.extend(f"  {c['id']:28s} {c['a']:>6s} -> {c['b']:<6s} ({c['delta']:+d})" for c in result["changed"])
    return "\n".join(lines)


DOC_BEGIN, DOC_END = "<!-- eval:begin -->", "<!-- eval:end -->"


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def _rate_table(name: str, rates: dict[str, dict[str, Any]]) -> list[str]:
    """A Markdown table of pass rates, a column per key of ``rates`` (as :func:`summarize` groups them)."""
    return [
        f"| {name} | " + " | ".join(rates) + " |",
        "|---|" + "---|" * len(rates),
        "| pass rate | " + " | ".join(f"{_pct(v['rate'])} ({v['passed']}/{v['total']})" for v in rates.values())
        + " |",
        "",
    ]


def markdown(record: dict[str, Any], outcomes: Sequence[Outcome], raw_link: str) -> str:
    """The quality section of ``docs/performance.md`` for one stored run (``record`` as run.py writes it)."""
    s = summarize(outcomes)
    lines = [
        DOC_BEGIN,
        "## Quality (issue: performance lab)",
        "",
        f"Command ({len(outcomes)} prompts of `eval/prompts.toml`, each with machine-checkable expectations; "
        "the engine alone, in one process):",
        "",
        "```bash",
        str(record.get("command", "")),
        "```",
        "",
        f"Run of {record.get('started', '?')}, model `{record.get('model')}`, {record.get('threads')} thread(s), "
        f"max_tokens {record.get('max_tokens')}, {record.get('max_retries')} re-asks allowed "
        f"(raw JSON with every scene: [`{raw_link.rsplit('/', 1)[-1]}`]({raw_link})):",
        "",
        "| figure | measured |",
        "|---|---|",
        f"| valid scenes | {s['valid']}/{s['prompts']} ({_pct(s['validity_rate'])}) |",
        f"| checks passed | {s['checks_passed']}/{s['checks']} ({_pct(s['check_pass_rate'])}) |",
        f"| prompts with every check passed | {s['prompts_all_checks_passed']}/{s['prompts']} |",
        f"| re-asks used (prompts needing one) | {s['retries']} ({s['prompts_with_retries']}) |",
        f"| output tokens per prompt, mean | {s['output_tokens_mean']} |",
        f"| time per prompt, mean / median | {s['wall_s_mean']} s / {s['wall_s_median']} s |",
        "",
        *_rate_table("case category", s["by_case_category"]),
        *_rate_table("check category", s["by_category"]),
        *_rate_table("check", s["by_check"]),
        *_rate_table("difficulty", s["by_difficulty"]),
        "<details><summary>Per prompt</summary>",
        "",
        "| id | difficulty | valid | attempts | tokens | time | checks | failed checks |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        if o.valid:
            failed = "; ".join(f"{c.check} ({c.detail})" if c.detail else c.check for c in o.checks if not c.passed)
        else:
            failed = f"all: no valid scene ({o.error_message or o.error})"
        lines.append(f"| {o.id} | {o.difficulty} | {'yes' if o.valid else o.error or 'no'} | {o.attempts} | "
                     f"{o.output_tokens} | {o.wall_s:.1f} s | {o.passed}/{len(o.checks)} | "
                     f"{failed.replace('|', '/') or '—'} |")
    lines += ["", "</details>", DOC_END]
    return "\n".join(lines) + "\n"


def replace_section(text: str, section: str, begin: str = DOC_BEGIN, end: str = DOC_END) -> str:
    """``text`` with the part between ``begin`` and ``end`` replaced by ``section`` (appended when absent)."""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + section.rstrip("\n") + rest.split(end, 1)[1]
    return (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
