"""``docs/benchmarks.md`` and its plot, regenerated from every ``bench_sf*.json`` of the results folder
(and, for the peak-RSS target, every ``*/peak_rss_sf100.json``: SF 100 measured outside the harness).

Ratios first (each stage over its baseline, per repeat, then the median and the minimum over
the repeats), then where the project stands against each target of issue #16 and the plot,
then the hand-written reading of the figures (``benchmarks/notes.md``, copied in), then the
absolute figures with the machine and its load, the equality checks and the method.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

GENERATE = "generate"
INGEST = "ingest"
INGEST_FLOOR = "ingest floor (DuckDB)"
DBT_FULL = "dbt build (full)"
TRANSFORM_FLOOR = "transform floor (compiled SQL in DuckDB)"
PANDAS = "pandas script (2 marts)"
NLP = "complaint text analysis"
GATE = "gate"
PUBLISH = "publish"
INGEST_DAY = "ingest (one new day)"
DBT_INCREMENTAL = "dbt build (incremental, one new day)"
AIRFLOW = "whole pipeline through Airflow (cxpipe run)"
STAGES = [
    GENERATE,
    INGEST,
    INGEST_FLOOR,
    DBT_FULL,
    TRANSFORM_FLOOR,
    PANDAS,
    NLP,
    GATE,
    PUBLISH,
    INGEST_DAY,
    DBT_INCREMENTAL,
    AIRFLOW,
]
BASELINES = [INGEST_FLOOR, TRANSFORM_FLOOR, PANDAS]
NOTES = Path(__file__).resolve().parent.parent / "notes.md"
TRANSFORM_DAG = "cx_transform_publish"
GB = 1024.0
#: Peak RSS measured at SF 100 outside the harness (which is not run at SF 100 here): every
#: ``<results>/*/peak_rss_sf100.json`` lists stages (``stage``, ``max_rss_mb`` of the largest process,
#: ``settings``: ``defaults`` or the variables set, ``measured``: the date, ISO 8601, with the time of day
#: (``2026-12-03T11:17``) when a stage and settings are measured again on the same day, ``source``: the raw result).
SF100_PEAKS = "peak_rss_sf100.json"
#: The ``settings`` of a measurement with every setting at its default, as a deployment gets it.
DEFAULTS = "defaults"

Run = dict[str, dict[str, Any]]  # stage -> record, for one (sf, repeat)


def load(results: Path) -> list[dict[str, Any]]:
    files = sorted(
        (p for p in results.glob("bench_sf*.json") if re.fullmatch(r"bench_sf[0-9.]+\.json", p.name)),
        key=lambda p: float(p.stem.removeprefix("bench_sf")),
    )
    return [json.loads(p.read_text(encoding="utf-8")) for p in files]


def _runs(scale: dict[str, Any]) -> list[Run]:
    by_repeat: dict[int, Run] = {}
    for record in scale["runs"]:
        if record.get("returncode") == 0:
            by_repeat.setdefault(int(record["repeat"]), {})[record["stage"]] = record
    generate = by_repeat.get(0, {}).get(GENERATE)
    runs = [by_repeat[r] for r in sorted(by_repeat)]
    for run in runs[1:]:
        if generate is not None:
            run.setdefault(GENERATE, generate)  # generated once per scale factor
    return runs


def _cpu(run: Run, stage: str) -> float | None:
    return float(run[stage]["cpu_s"]) if stage in run else None


def _wall(run: Run, stage: str) -> float | None:
    return float(run[stage]["wall_s"]) if stage in run else None


def _airflow_part(run: Run, measure: str, which: Callable[[str], bool]) -> float | None:
    record = run.get(AIRFLOW)
    if record is None:
        return None
    commands = record.get("result", {}).get("commands", [])
    picked = [c for c in commands if which(c["command"])]
    return sum(float(c[measure]) for c in picked) if picked else None


def _transform_dag(run: Run, measure: str) -> float | None:
    return _airflow_part(run, measure, lambda c: c.startswith("dbt parse") or TRANSFORM_DAG in c)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return a / b


def _sum(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _sql_part(run: Run, measure: str) -> float | None:
    """dbt build over the floor with the Python model's CPU (measured in the floor run) taken from both."""
    if measure != "cpu_s" or TRANSFORM_FLOOR not in run or DBT_FULL not in run:
        return None
    python = float(run[TRANSFORM_FLOOR].get("result", {}).get("python_model_cpu_s", 0.0))
    return _ratio(_cpu(run, DBT_FULL) - python, _cpu(run, TRANSFORM_FLOOR) - python)  # type: ignore[operator]


def _pipeline(run: Run, get: Callable[[Run, str], float | None]) -> float | None:
    return _sum(get(run, INGEST), get(run, DBT_FULL), get(run, GATE), get(run, PUBLISH))


#: (label, what it compares, ratio of one run for a measure "cpu_s" or "wall_s")
RATIOS: list[tuple[str, str, Callable[[Run, str], float | None]]] = [
    (
        "ingest / ingest floor",
        "cxpipe ingest of the history date over DuckDB `read_csv`/`read_json` → Parquet of the same files",
        lambda r, m: _ratio(r.get(INGEST, {}).get(m), r.get(INGEST_FLOOR, {}).get(m)),
    ),
    (
        "dbt build (full) / transform floor",
        "`dbt build` (seeds, snapshot, models and data tests; unit tests left to CI, as in production) over "
        "the compiled SQL and the Python model run directly",
        lambda r, m: _ratio(r.get(DBT_FULL, {}).get(m), r.get(TRANSFORM_FLOOR, {}).get(m)),
    ),
    (
        "dbt build (full) / transform floor, SQL part only",
        "the same with the complaint model's CPU (as measured in the floor run) subtracted from both sides",
        _sql_part,
    ),
    (
        "dbt build (full) / pandas script",
        "the whole warehouse with its tests over a pandas script computing only `satisfaction_index` "
        "and `complaint_root_causes`",
        lambda r, m: _ratio(r.get(DBT_FULL, {}).get(m), r.get(PANDAS, {}).get(m)),
    ),
    (
        "transform floor / pandas script",
        "the project's SQL run directly (every relation of the warehouse) over the pandas script (2 marts)",
        lambda r, m: _ratio(r.get(TRANSFORM_FLOOR, {}).get(m), r.get(PANDAS, {}).get(m)),
    ),
    (
        "transform through Airflow / transform floor",
        "`dbt parse` + the transform DAG run by Airflow (dbt as `CX_DBT_TASKS` says: one `dbt build` task "
        "by default, then gate and publish) over the transform floor",
        lambda r, m: _ratio(_transform_dag(r, m), r.get(TRANSFORM_FLOOR, {}).get(m)),
    ),
    (
        "whole pipeline through Airflow / floors",
        "`cxpipe run` (migrate, parse, 4 ingest DAGs, transform DAG) over ingest floor + transform floor",
        lambda r, m: _ratio(
            r.get(AIRFLOW, {}).get(m), _sum(r.get(INGEST_FLOOR, {}).get(m), r.get(TRANSFORM_FLOOR, {}).get(m))
        ),
    ),
    (
        "whole pipeline through Airflow / the same stages run directly",
        "`cxpipe run` over ingest + dbt build + gate + publish, each run as a plain process",
        lambda r, m: _ratio(r.get(AIRFLOW, {}).get(m), _pipeline(r, lambda run, s: run.get(s, {}).get(m))),
    ),
    (
        "dbt build incremental (one new day) / full",
        "target ≤ 0.25 at SF 10",
        lambda r, m: _ratio(r.get(DBT_INCREMENTAL, {}).get(m), r.get(DBT_FULL, {}).get(m)),
    ),
    (
        "gate / pipeline",
        "gate over ingest + dbt build + gate + publish (run directly); target ≤ 0.10",
        lambda r, m: _ratio(r.get(GATE, {}).get(m), _pipeline(r, lambda run, s: run.get(s, {}).get(m))),
    ),
    (
        "complaint text analysis / dbt build (full)",
        "the text analysis alone over the whole build that runs it",
        lambda r, m: _ratio(r.get(NLP, {}).get(m), r.get(DBT_FULL, {}).get(m)),
    ),
]


def _stats(values: Iterable[float | None]) -> tuple[float, float, int] | None:
    present = [v for v in values if v is not None and not math.isnan(v)]
    if not present:
        return None
    return statistics.median(present), min(present), len(present)


def _fmt_ratio(stats: tuple[float, float, int] | None, percent: bool = False) -> str:
    if stats is None:
        return "–"
    median, low, _ = stats
    if percent:
        return f"{100 * median:.1f} % ({100 * low:.1f} %)"
    return f"{median:.2f}× ({low:.2f}×)"


def ratio_stats(scale: dict[str, Any]) -> dict[str, dict[str, tuple[float, float, int] | None]]:
    runs = _runs(scale)
    return {
        label: {measure: _stats(fn(run, measure) for run in runs) for measure in ("cpu_s", "wall_s")}
        for label, _, fn in RATIOS
    }


def stage_stats(scale: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    records = [r for r in scale["runs"] if r.get("returncode") == 0]
    for stage in STAGES:
        mine = [r for r in records if r["stage"] == stage]
        if not mine:
            continue
        out[stage] = {
            "n": len(mine),
            "cpu": _stats(r["cpu_s"] for r in mine),
            "wall": _stats(r["wall_s"] for r in mine),
            "max_rss_mb": max(r["max_rss_mb"] for r in mine),
            "tree_peak_rss_mb": max(r["tree_peak_rss_mb"] for r in mine),
        }
    return out


def _failures(scale: dict[str, Any]) -> list[str]:
    out = []
    for r in scale["runs"]:
        if r.get("returncode") != 0:
            nodes = r.get("result", {}).get("failed_nodes") if isinstance(r.get("result"), dict) else None
            out.append(
                f"SF {scale['sf']:g} repeat {r['repeat']}: {r['stage']} exited with {r['returncode']}"
                + (f" (failed: {', '.join(nodes)})" if nodes else "")
            )
    return out


# ------------------------------------------------------------------ targets


def load_sf100_peaks(results: Path) -> list[dict[str, Any]]:
    """Every SF 100 peak-RSS measurement of ``results/*/peak_rss_sf100.json``, with the file it came from."""
    entries: list[dict[str, Any]] = []
    for path in sorted(results.glob(f"*/{SF100_PEAKS}")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["stages"]:
            entries.append({**entry, "file": f"{path.parent.name}/{path.name}"})
    return entries


def sf100_peak_verdict(entries: list[dict[str, Any]]) -> str | None:
    """The 4 GB target judged on SF 100 measurements (None without any): the latest per stage and settings.

    Met only when every stage measured with the defaults (a deployment's settings) peaks at 4 GB or less;
    measurements with other settings are shown beside, each settings' largest stage named.
    """
    if not entries:
        return None
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in sorted(entries, key=lambda e: str(e["measured"])):
        latest[(entry["stage"], entry["settings"])] = entry
    by_settings: dict[str, dict[str, float]] = {}
    for (stage, settings), entry in latest.items():
        by_settings.setdefault(settings, {})[stage] = float(entry["max_rss_mb"])
    files = ", ".join(sorted({f"`{e.get('file', e['source'])}`" for e in latest.values()}))
    parts = []
    for settings in sorted(by_settings, key=lambda s: (s != DEFAULTS, s)):
        stages = sorted(by_settings[settings].items(), key=lambda kv: -kv[1])
        over = [s for s, mb in stages if mb > 4 * GB]
        shown = ", ".join(f"{s} {mb / GB:.2f} GB" for s, mb in stages)
        judged = f"{len(over)} of {len(stages)} stages over 4 GB" if over else "every stage measured within 4 GB"
        parts.append(f"with {'the defaults' if settings == DEFAULTS else settings}: {shown} ({judged})")
    defaults = by_settings.get(DEFAULTS, {})
    if not defaults:
        verdict = "not measured at SF 100 with the defaults"
    elif any(mb > 4 * GB for mb in defaults.values()):
        verdict = "not met at SF 100 with the defaults"
    else:
        verdict = "met at SF 100 with the defaults for every stage measured"
    return f"{verdict}: measured at SF 100 (largest process; {files}) " + "; ".join(parts)


def _median(scale: dict[str, Any], label: str, measure: str = "cpu_s") -> float | None:
    stats = ratio_stats(scale)[label][measure]
    return stats[0] if stats else None


def _slopes(scales: list[dict[str, Any]]) -> dict[str, float]:
    """log-log slope of the median CPU time of each stage between the smallest and largest SF."""
    if len(scales) < 2:
        return {}
    low, high = scales[0], scales[-1]
    a, b = stage_stats(low), stage_stats(high)
    out = {}
    for stage in STAGES:
        if stage in a and stage in b and a[stage]["cpu"] and b[stage]["cpu"]:
            out[stage] = math.log(b[stage]["cpu"][0] / a[stage]["cpu"][0]) / math.log(high["sf"] / low["sf"])
    return out


def targets(
    scales: list[dict[str, Any]], sf100_peaks: list[dict[str, Any]] | None = None
) -> list[tuple[str, dict[float, str], str]]:
    """(target, measured value per SF, verdict) for each target of the issue; the peak-RSS target is
    judged on ``sf100_peaks`` (:func:`load_sf100_peaks`) when there are any, else on the harness's trend."""
    rows: list[tuple[str, dict[float, str], str]] = []

    def per_sf(label: str, limit: float, percent: bool = False) -> tuple[dict[float, str], str]:
        values = {s["sf"]: _median(s, label) for s in scales}
        shown = {
            sf: ("–" if v is None else (f"{100 * v:.1f} %" if percent else f"{v:.2f}×")) for sf, v in values.items()
        }
        judged = {sf: v for sf, v in values.items() if v is not None}
        if not judged:
            return shown, "not measured"
        largest = max(judged)
        verdict = "met" if judged[largest] <= limit else "not met"
        return shown, f"{verdict} at SF {largest:g} (the largest SF measured)"

    for target, label, limit, percent in [
        ("Ingest ≤ 2× the DuckDB floor (CPU)", "ingest / ingest floor", 2.0, False),
        ("`dbt build` ≤ 1.5× the compiled-SQL floor (CPU)", "dbt build (full) / transform floor", 1.5, False),
        ("Transform through Airflow ≤ 2× the floor (CPU)", "transform through Airflow / transform floor", 2.0, False),
        ("Incremental one-day build ≤ 25 % of a full (CPU)", "dbt build incremental (one new day) / full", 0.25, True),
        ("Gate ≤ 10 % of the pipeline (CPU)", "gate / pipeline", 0.10, True),
    ]:
        shown, verdict = per_sf(label, limit, percent)
        rows.append((target, shown, verdict))

    peaks: dict[float, str] = {}
    per_scale = {scale["sf"]: stage_stats(scale) for scale in scales}
    for sf, stats in per_scale.items():
        pipeline = {s: v for s, v in stats.items() if s not in BASELINES}
        if pipeline:
            stage, values = max(pipeline.items(), key=lambda kv: kv[1]["max_rss_mb"])
            peaks[sf] = f"{values['max_rss_mb'] / GB:.2f} GB ({stage})"
    verdict = "not measured at SF 100"
    if len(per_scale) >= 2:
        (sf1, low), (sf2, high) = sorted(per_scale.items())[-2:]
        projected = {
            stage: high[stage]["max_rss_mb"]
            + (high[stage]["max_rss_mb"] - low[stage]["max_rss_mb"]) / (sf2 - sf1) * (100 - sf2)
            for stage in high
            if stage in low and stage not in BASELINES
        }
        over = {s: mb for s, mb in projected.items() if mb > 4 * GB}
        verdict += f"; a straight line through SF {sf1:g} and SF {sf2:g} puts " + (
            ", ".join(f"{s} at {mb / GB:.1f} GB" for s, mb in sorted(over.items(), key=lambda kv: -kv[1]))
            + " at SF 100: not met on that trend"
            if over
            else f"every stage under 4 GB at SF 100 (largest: {max(projected.values()) / GB:.1f} GB)"
        )
    rows.append(("Peak RSS ≤ 4 GB at SF 100 for every stage", peaks, sf100_peak_verdict(sf100_peaks or []) or verdict))

    slopes = _slopes(scales)
    if slopes:
        steep = {s: v for s, v in slopes.items() if v > 1.1 and s not in BASELINES}
        shown = {scales[-1]["sf"]: ", ".join(f"{s}: {v:.2f}" for s, v in slopes.items() if s not in BASELINES)}
        span = f"between SF {scales[0]['sf']:g} and SF {scales[-1]['sf']:g}"
        verdict = (
            f"met {span}: every stage's CPU time grows with a log-log slope ≤ 1.1 (below 1 where fixed "
            "costs dominate the smaller SF); not measured beyond"
            if not steep
            else f"not met {span}: " + ", ".join(f"{s} {v:.2f}" for s, v in steep.items())
        )
    else:
        shown, verdict = {}, "needs two scale factors"
    rows.append(("Cost grows linearly or better with SF (log-log slope of CPU time)", shown, verdict))
    return rows


# ------------------------------------------------------------------ dbt and Airflow breakdowns


def _dbt_breakdown(scale: dict[str, Any], stage: str) -> dict[str, float] | None:
    mine = [r for r in scale["runs"] if r["stage"] == stage and r.get("result", {}).get("seconds_by_type")]
    if not mine:
        return None
    keys = sorted({k for r in mine for k in r["result"]["seconds_by_type"]})
    return {k: statistics.median(r["result"]["seconds_by_type"].get(k, 0.0) for r in mine) for k in keys}


def _airflow_breakdown(scale: dict[str, Any]) -> list[tuple[str, float, float]]:
    mine = [r for r in scale["runs"] if r["stage"] == AIRFLOW and r.get("result", {}).get("commands")]
    if not mine:
        return []
    names = [c["command"] for c in mine[0]["result"]["commands"]]
    out = []
    for i, name in enumerate(names):
        cpu = [r["result"]["commands"][i]["cpu_s"] for r in mine if len(r["result"]["commands"]) > i]
        wall = [r["result"]["commands"][i]["wall_s"] for r in mine if len(r["result"]["commands"]) > i]
        out.append((name, statistics.median(cpu), statistics.median(wall)))
    return out


# ------------------------------------------------------------------ checks


def _check_lines(scale: dict[str, Any]) -> list[str]:
    """One line per check, the repeats that gave the same outcome folded into one."""
    outcomes: dict[str, list[int]] = {}
    for check in scale.get("checks", []):
        for line in _check_outcomes(check):
            outcomes.setdefault(line, []).append(int(check["repeat"]))
    lines = []
    for line, repeats in outcomes.items():
        which = f"repeat {repeats[0]}" if len(repeats) == 1 else "repeats " + ", ".join(map(str, repeats))
        lines.append(f"- SF {scale['sf']:g}, {which}, {line}")
    return lines


def _check_outcomes(check: dict[str, Any]) -> list[str]:
    lines = []
    floor = check.get("floor_vs_dbt", {})
    relations = floor.get("relations", {})
    if relations:
        statuses = [v["status"] for v in relations.values()]
        different = [k for k, v in relations.items() if v["status"] == "different"]
        lines.append(
            f"transform floor vs dbt: {len(statuses)} relations, "
            f"{statuses.count('equal')} with equal row counts and row hashes, "
            f"{statuses.count('equal_within_tolerance')} equal with doubles within a relative "
            f"{floor.get('float_rtol_on_hash_mismatch')}, {len(different)} different"
            + (f" ({', '.join(different)})" if different else "")
            + (
                "; rounding ties (one unit of the rounded decimal): "
                + ", ".join(
                    f"{relation.split('.')[-1].strip(chr(34))}.{column} {n}"
                    for relation, v in relations.items()
                    for column, n in v.get("rounding_ties", {}).items()
                )
                if any(v.get("rounding_ties") for v in relations.values())
                else ""
            )
            + f" → **{'passed' if floor.get('passed') else 'FAILED'}**"
        )
    else:
        lines.append(f"transform floor vs dbt: **FAILED** ({floor.get('reason')})")
    for table in ("satisfaction_index", "complaint_root_causes"):
        result = check.get(f"pandas_vs_{table}", {})
        if "columns" not in result:
            lines.append(f"pandas vs `{table}`: **FAILED** ({result.get('reason')})")
            continue
        near = [
            f"{c} (max |Δ| {e['max_abs_diff']:.3g} in {e['cells_differing']} cells, tolerance {e['tolerance']})"
            for c, e in result["columns"].items()
            if "tolerance" in e and e["cells_differing"]
        ]
        boundary = [
            f"{c} ({e['differs_at_boundary']} of {e['rows_at_boundary']} rows at the threshold differ)"
            for c, e in result["columns"].items()
            if e.get("differs_at_boundary")
        ]
        failed = [c for c, e in result["columns"].items() if not e["passed"]]
        lines.append(
            f"pandas vs `{table}`: {result['rows_mart']} rows, same keys; "
            + ("every column exactly equal" if not (near or boundary) else "exact except " + "; ".join(near + boundary))
            + (f"; outside tolerance: {', '.join(failed)}" if failed else "")
            + f" → **{'passed' if result.get('passed') else 'FAILED'}**"
        )
    return lines


# ------------------------------------------------------------------ the plot


def plot(scales: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    shown = [INGEST, INGEST_FLOOR, DBT_FULL, TRANSFORM_FLOOR, PANDAS, NLP, GATE, PUBLISH, DBT_INCREMENTAL, AIRFLOW]
    styles = {INGEST_FLOOR: "--", TRANSFORM_FLOOR: "--", PANDAS: ":"}
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.5))
    stats = [stage_stats(s) for s in scales]
    sfs = [s["sf"] for s in scales]
    for stage in shown:
        for ax, key, scale_by in (
            (axes[0], "cpu", 1.0),
            (axes[1], "wall", 1.0),
            (axes[2], "max_rss_mb", 1 / GB),
        ):
            points = []
            for sf, st in zip(sfs, stats, strict=True):
                if stage in st and st[stage].get(key) is not None:
                    value = st[stage][key][0] if isinstance(st[stage][key], tuple) else st[stage][key]
                    points.append((sf, value * scale_by))
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, styles.get(stage, "-"), marker="o", label=stage)
    if len(sfs) > 1:
        for ax in axes[:2]:
            low = min(st[s]["cpu"][0] for st in stats[:1] for s in shown if s in st and st[s]["cpu"] is not None)
            ax.plot(sfs, [low * sf / sfs[0] for sf in sfs], color="grey", linewidth=0.8, label="linear growth")
    for ax, title, unit in (
        (axes[0], "CPU time (user + sys of the process tree), median", "CPU seconds"),
        (axes[1], "Wall time, median (shared 2-core machine)", "seconds"),
        (axes[2], "Peak RSS of the largest process", "GB"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log" if ax is not axes[2] else "linear")
        ax.set_xlabel("scale factor (SF 1 ≈ 100 k order lines)")
        ax.set_ylabel(unit)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(sfs)
        ax.set_xticklabels([f"{sf:g}" for sf in sfs])
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.grid(True, which="both", alpha=0.3)
    target = axes[2].axhline(4.0, color="red", linewidth=0.8, linestyle="--", label="4 GB target (at SF 100)")
    axes[2].set_ylim(0, 4.5)
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(target)
    labels.append(str(target.get_label()))
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------ the document


def _rel(path: Path, start: Path) -> str:
    try:
        return str(path.resolve().relative_to(start.resolve()))
    except ValueError:
        import os

        return os.path.relpath(path.resolve(), start.resolve())


def render(scales: list[dict[str, Any]], doc: Path, plot_path: Path, results: Path) -> str:
    sfs = [s["sf"] for s in scales]
    header = " | ".join(f"SF {sf:g} CPU | SF {sf:g} wall" for sf in sfs)
    out = [
        "# Benchmarks",
        "",
        "<!-- Generated by benchmarks/harness.py (make bench) from "
        f"{_rel(results, doc.parent.parent)}/bench_sf*.json: edit benchmarks/cxbench/report.py "
        "or benchmarks/notes.md, not this file. -->",
        "",
        "Each stage of the pipeline measured beside a baseline on the same demo data in the same run "
        '(issue #16). Reproduce with `make bench SF="1 10" REPEATS=3`; the raw results are in '
        f"`{_rel(results, doc.parent.parent)}/bench_sf<SF>.json`. "
        "CPU time is user + system time of the stage's whole process tree; the machine is shared, so "
        "**CPU ratios are the figures to read** and wall times are noisy.",
        "",
        "## Ratios",
        "",
        "Stage over baseline, per repeat; shown as **median (minimum)** over the repeats. "
        "Below 1× the stage is cheaper than its baseline.",
        "",
        f"| comparison | {header} | what is compared |",
        "|---|" + "---:|" * (2 * len(sfs)) + "---|",
    ]
    all_ratios = [ratio_stats(s) for s in scales]
    for label, meaning, _ in RATIOS:
        percent = "/ pipeline" in label or "incremental" in label or "text analysis" in label
        cells = " | ".join(
            f"{_fmt_ratio(r[label]['cpu_s'], percent)} | {_fmt_ratio(r[label]['wall_s'], percent)}" for r in all_ratios
        )
        out.append(f"| {label} | {cells} | {meaning} |")
    repeats = ", ".join(f"SF {s['sf']:g}: {len(_runs(s))}" for s in scales)
    out += ["", f"Repeats: {repeats}.", ""]

    out += [
        "## Where the project stands against the targets of issue #16",
        "",
        "The targets are CPU ratios at SF 10 and SF 100; a smaller SF shows the direction only.",
        "",
        "| target | " + " | ".join(f"SF {sf:g}" for sf in sfs) + " | verdict |",
        "|---|" + "---:|" * len(sfs) + "---|",
    ]
    for target, values, verdict in targets(scales, load_sf100_peaks(results)):
        cells = " | ".join(values.get(sf, "–") for sf in sfs)
        out.append(f"| {target} | {cells} | {verdict} |")
    out.append("")

    out += [
        f"![CPU time, wall time and peak memory against scale factor]({_rel(plot_path, doc.parent)})",
        "",
    ]
    if NOTES.exists():
        out += ["## Reading the figures", "", NOTES.read_text(encoding="utf-8").strip(), ""]
    out += ["## Absolute figures", ""]
    for scale in scales:
        machine = scale["machine"]
        load = scale["load_1m"]
        rows = scale.get("landing_rows", {})
        out += [
            f"### SF {scale['sf']:g}",
            "",
            f"Measured {scale['started_at']} – {scale['finished_at']} (UTC) "
            f"on {machine['cpu_model'] or 'an unknown CPU'}, "
            f"{machine['logical_cpus']} logical CPUs ({machine['physical_cores']} physical cores), "
            f"{machine['ram_gb']} GB RAM, {machine['os']}, Python {machine['python']}; "
            + ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items())
            + ".",
            f"**Load average (1 min) during the run: median {load['median']:.1f}, min {load['min']:.1f}, "
            f"max {load['max']:.1f}** on {machine['logical_cpus']} CPUs (sampled before and after every stage): "
            "other work shared the machine, which stretches wall times far more than CPU times.",
            f"Generated rows over both landing dates: {', '.join(f'{entity} {n:,}' for entity, n in rows.items())} "
            f"({scale['landing_mb']} MB of files, {scale['history_days']} days of history in the first date). "
            f"Complaint models fitted (or loaded from `--model-cache`) before anything was timed: "
            f"{scale['model_fitting'].get('cpu_s', 0):.1f} CPU-s.",
            "",
            "| stage | n | CPU s median (min) | wall s median (min) | peak RSS, largest process (MB) "
            "| peak RSS, whole tree (MB) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for stage, st in stage_stats(scale).items():
            name = f"*{stage}* (baseline)" if stage in BASELINES else stage
            cpu = f"{st['cpu'][0]:.1f} ({st['cpu'][1]:.1f})" if st["cpu"] else "–"
            wall = f"{st['wall'][0]:.1f} ({st['wall'][1]:.1f})" if st["wall"] else "–"
            out.append(
                f"| {name} | {st['n']} | {cpu} | {wall} | {st['max_rss_mb']:,.0f} | {st['tree_peak_rss_mb']:,.0f} |"
            )
        failures = _failures(scale)
        if failures:
            out += ["", "Failed runs (left out of every figure): " + "; ".join(failures) + "."]
        extra = _stage_results(scale)
        if extra:
            out += ["", *extra]
        breakdown = _dbt_breakdown(scale, DBT_FULL)
        if breakdown:
            out += [
                "",
                "Inside `dbt build (full)`, dbt's own timing of its nodes (seconds, median; wall time of one "
                "thread): " + ", ".join(f"{k} {v:.1f}" for k, v in breakdown.items()) + ".",
            ]
        incremental = _dbt_breakdown(scale, DBT_INCREMENTAL)
        if incremental:
            out += ["Inside the incremental build: " + ", ".join(f"{k} {v:.1f}" for k, v in incremental.items()) + "."]
        airflow = _airflow_breakdown(scale)
        if airflow:
            out += [
                "",
                "Inside `cxpipe run` (median CPU s / wall s of each Airflow command): "
                + "; ".join(f"`{name}` {cpu:.1f} / {wall:.1f}" for name, cpu, wall in airflow)
                + ".",
            ]
        out.append("")

    out += ["## Equality checks", ""]
    for scale in scales:
        out += _check_lines(scale)
    out += [
        "",
        "The transform floor is compared relation by relation (every seed, view, table, the snapshot and the "
        "Python model's table): row count and an order-independent hash of the rows, computed in each "
        "database file; where the hashes differ, both sides are sorted by every column and compared row by "
        "row, every column exactly but doubles, which may differ by a relative 1e-9 (a sum of many doubles "
        "depends on the order DuckDB's threads add them in: `revenue` and the shares built on it differ in "
        "their last bits from one build to the next) or, in a column rounded to 1–4 decimals, by one unit "
        "of that decimal (such a sum, rounded, can fall on either side of a tie). "
        "The pandas tables are compared with the marts by key; "
        "integers, text, dates and booleans exactly, each float column within one unit of the last decimal "
        "the mart rounds it to (0.01, `ces` 0.001, `change_vs_previous_month_pct` 0.1). Why not exactly:",
        "",
        "- **medians and 90th percentiles** (`first_response_hours_*`, `resolution_hours_*`): pandas "
        "interpolates as b − (b − a)(1 − t) for t ≥ ½, DuckDB's `quantile_cont` as a + (b − a)t; one ulp "
        "apart, the two can round to either side of a tie (x.xx5), one unit of the last decimal apart;",
        "- **`is_vital_few`**: a cause is in the vital few when the causes ranked above it hold less than "
        "80 % of the month's complaints. Where they hold exactly 80 % (e.g. 308 of 385), the floating-point "
        "sum of their shares (each 100 × count / total as a double) decides: DuckDB's window sum lands "
        "just below 80 (true), pandas' "
        "running sum on 80 or above (false). The script marks those rows from the integer counts "
        "(100 × above = 80 × total); a difference there is counted, not failed — any other fails;",
        "- rounding itself is not a reason: the script rounds as DuckDB's `round` does (the exact binary "
        "value, halves away from zero; `sql_round`), where pandas' own `round` would give 2.68 for 2.675 "
        "(stored as 2.67499…, the mart says 2.67) and 3.12 for 3.125 (the mart says 3.13).",
        "",
    ]

    out += [
        "## Method",
        "",
        "- **Stages** run as the deployment runs them, each in a fresh child process: `cxpipe demo --scale SF` "
        "(two landing dates: the history, then one new day); `cxpipe.ingest.ingest_source` for the four "
        "sources; `dbt build` (the production command: seeds, snapshot, models and data tests; dbt's unit "
        "tests are left out, `DBT_EXCLUDE_RESOURCE_TYPES=unit_test`, and run in CI) into an empty warehouse "
        "after `prepare_build`; the complaint text analysis alone "
        "(`analyse_texts` on every complaint candidate, as the dbt Python model calls it); the gate "
        "(`check_gate` on that build's dbt results); `publish`; the new day's ingest; an incremental "
        "`dbt build`; and `cxpipe run` (`DAG.test()` of the four ingest DAGs and the transform DAG in one "
        "Airflow process, "
        "one Cosmos task per dbt node, on a data folder of its own, from a migrated Airflow database).",
        "- **Baselines**: the ingest floor (`benchmarks/cxbench/floor_ingest.py`: DuckDB's `read_csv` / "
        "`read_json` with its own type detection → one Parquet file per entity, no checks; the GBK and "
        "CP1251 point-of-sale parts are transcoded in Python first, since DuckDB's `encodings` extension is "
        "not installed offline); the transform floor (`floor_transform.py`: the SQL dbt compiled for that "
        "very build, from its `run_results.json`, run in DuckDB in dbt's execution order as `create "
        "view|table … as`, seeds read with `read_csv` and cast to dbt's column types, the snapshot's first "
        "`create table`, the Python model's `model()` called directly; no tests, no hooks, no comments); "
        "the pandas script (`pandas_team.py`: `satisfaction_index` and `complaint_root_causes` from the "
        "lake ingest wrote, with the same `analyse_texts` call for the complaint texts, since a team "
        "without this project would need a classifier too and only the same one gives the same causes).",
        "- **Pairing**: in each repeat a stage and its baseline run back to back, stage first in even "
        "repeats and baseline first in odd ones; ratios are taken within a repeat, then summarised.",
        "- **Measurement** (`benchmarks/cxbench/measure.py`): `getrusage(RUSAGE_CHILDREN)` of a wrapper "
        "process that runs only the one command: user + system CPU of every descendant it waited for "
        "(Airflow's, dbt's and DuckDB's threads included); peak RSS as `ru_maxrss`, i.e. the largest single "
        "process of the tree, and as the sum over the live tree sampled every 0.2 s with psutil.",
        "- The complaint models are fitted once before anything is timed (every build then loads them from "
        "`CX_MODEL_CACHE_DIR`, as a deployment does after its first build); the fitting is shown once.",
        "",
    ]
    return "\n".join(out)


def _stage_results(scale: dict[str, Any]) -> list[str]:
    """What the stages reported doing in the first repeat (rows, checks, the gate's verdict)."""
    first = {r["stage"]: r.get("result", {}) for r in scale["runs"] if r["repeat"] == 0 and r.get("result")}
    lines = []
    if INGEST in first:
        i = first[INGEST]
        floor_rows = first.get(INGEST_FLOOR, {}).get("rows_total", 0)
        lines.append(
            f"Ingest of the history date: {i['rows_in']:,} rows in, {i['rows_loaded']:,} loaded, "
            f"{i['rows_quarantined']:,} quarantined; the floor wrote {floor_rows:,} rows"
            + (
                f" (read as text: {', '.join(first[INGEST_FLOOR]['all_varchar'])})"
                if first.get(INGEST_FLOOR, {}).get("all_varchar")
                else ""
            )
            + "."
        )
    if NLP in first:
        n = first[NLP]
        lines.append(f"Complaint candidates analysed: {n['rows']:,} ({n['distinct_texts']:,} distinct texts).")
    if GATE in first:
        g = first[GATE]
        verdict = "passed" if g.get("passed") else "**blocked**: " + "; ".join(g.get("failures", [])[:5])
        lines.append(f"Gate: {g.get('checks_run')} checks, {verdict}.")
    if PANDAS in first:
        p = first[PANDAS]
        lines.append(
            f"pandas script: {p['process_cpu_s']:.1f} CPU-s in its process, of which {p['nlp_cpu_s']:.1f} in "
            "the complaint text analysis."
        )
    if TRANSFORM_FLOOR in first:
        f = first[TRANSFORM_FLOOR]
        lines.append(
            f"Transform floor: {f['steps']} steps; the Python model (complaint text analysis) took "
            f"{f['python_model_cpu_s']:.1f} CPU-s of it."
        )
    return lines


def write(results: Path, doc: Path, plot_path: Path) -> None:
    scales = load(results)
    if not scales:
        raise FileNotFoundError(f"no bench_sf*.json in {results}")
    plot(scales, plot_path)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render(scales, doc, plot_path, results), encoding="utf-8")
