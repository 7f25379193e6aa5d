"""Command line: ``cxpipe demo | run | summary | report | status | check | contracts | contract-state | metrics |
settings | publications | rollback``.

Also ``python -m cxpipe``. Settings are parsed once per command; a bad one stops it
with exit code 2 and a message naming every bad variable.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from cxpipe.demo import DemoSpec, generate
from cxpipe.demo.profiles import DEFAULT_PROFILE, PROFILES, generate_profile
from cxpipe.publish import published_tables
from cxpipe.settings import (
    DEMO_PII_KEY,
    PiiKeyError,
    SettingsError,
    describe_settings,
    load_settings,
    render_settings_table,
    unknown_variables,
)


def _demo(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.scale is not None:
        spec = DemoSpec.at_scale(args.scale, start=args.start, days=args.days, history_days=args.history_days)
    else:
        spec = DemoSpec(start=args.start, days=args.days, history_days=args.history_days, customers=args.customers)
    if args.profile == DEFAULT_PROFILE:
        counts = generate(settings.landing_dir, spec)
    else:
        counts = generate_profile(args.profile, settings.landing_dir, spec)
    for key, rows in sorted(counts.items()):
        print(f"  {key:<20} {rows:>8} rows")
    print(f"demo landing files in {settings.landing_dir}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from cxpipe.runner import RunError, run_dates, run_through_airflow

    try:
        dates = run_dates(args.start, args.days)  # a bad --days fails before anything starts
        settings = load_settings()
        home = Path(os.environ.get("AIRFLOW_HOME") or settings.project_dir / ".airflow").resolve()
        run_through_airflow(settings, home, dates)
    except RunError as exc:
        print(f"cxpipe run: {exc}", file=sys.stderr)
        return 1
    return _summary(args)


def _complaints_review(args: argparse.Namespace) -> int:
    from cxpipe.complaints import load_taxonomy
    from cxpipe.complaints.pipeline import override_rows
    from cxpipe.complaints.review import least_certain, override_effect, review_rows, write_review
    from cxpipe.complaints.text import detect_languages
    from cxpipe.settings import REPO_ROOT
    from cxpipe.warehouse import connect_read_only

    settings = load_settings()
    if not settings.build_db.exists():
        print(f"nothing built yet: {settings.build_db} does not exist (run `cxpipe run` first)", file=sys.stderr)
        return 1
    seeds = REPO_ROOT / "dbt_project" / "seeds"
    with connect_read_only(settings.build_db) as con:
        complaints = con.execute(
            "select complaint_id, redacted_text, root_cause, confidence, classified_by from marts.complaints"
        ).df()
        texts = dict(
            con.execute("select complaint_id, complaint_text from intermediate.int_complaint_candidates").fetchall()
        )
    written = write_review(args.out, review_rows(least_certain(complaints, args.n)))
    print(
        f"{written} complaints to label: {args.out} "
        f"(fill in root_cause, copy the rows into {seeds / 'complaint_overrides.csv'})"
    )
    with (seeds / "complaint_overrides.csv").open(encoding="utf-8", newline="") as fh:
        overrides = list(csv.DictReader(fh))
    labelled = {str(r["complaint_id"]): str(t) for r in overrides if (t := texts.get(r["complaint_id"]))}
    languages = dict(
        zip(labelled.values(), (lang for lang, _ in detect_languages(list(labelled.values()))), strict=True)
    )
    rows = override_rows(overrides, labelled, languages)
    if not rows:
        print("no filled-in override rows yet: the held-out macro-F1 is unchanged")
        return 0
    effect = override_effect(load_taxonomy(seeds / "complaint_taxonomy.csv"), rows, args.corpora)
    print(f"held-out macro-F1 without -> with the {len(rows)} override rows:")
    for language, (before, after) in effect.items():
        print(f"  {language}: {before:.3f} -> {after:.3f} ({after - before:+.3f})")
    return 0


def _summary(_: argparse.Namespace) -> int:
    settings = load_settings()
    path = settings.reporting_db
    if not path.exists():
        print(f"nothing published yet: {path} does not exist", file=sys.stderr)
        return 1
    print(f"\nPublished reporting warehouse: {path}")
    for table, rows in published_tables(path).items():
        print(f"  {table:<24} {rows:>8} rows")
    print("\nOpen it with:")
    query = f"import duckdb; duckdb.connect('{path}', read_only=True).sql('show tables').show()"
    print(f'  {sys.executable} -c "{query}"')
    if settings.data_docs_index.exists():
        print(f"Quality-gate Data Docs: {settings.data_docs_index}")
    from cxpipe.report import report_files

    for report in report_files(settings):
        print(f"Report (opens offline): {report}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from cxpipe.report import ReportError, write_report

    try:
        written = write_report(load_settings(), args.out)
    except ReportError as exc:
        print(f"cxpipe report: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"report written: {path}")
    return 0


def _status(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from cxpipe.status import collect_status, render

    status = collect_status(load_settings(), args.now)
    if args.json:
        print(json.dumps(status.to_json(), indent=2, ensure_ascii=False))
    else:
        console = Console()
        if not console.is_terminal:  # a pipe or a log: wide enough for the table, no colours
            console = Console(width=120)
        render(status, console)
    return int(status.exit_code)


def _utc(text: str) -> datetime:
    """An ISO date or date-time; without a zone, UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _check(args: argparse.Namespace) -> int:
    import json

    from cxpipe.contracts import ContractError
    from cxpipe.ingest.check import check_folder, render_text

    try:
        report = check_folder(load_settings(), Path(args.folder), args.source)
    except SettingsError:
        raise
    except (ContractError, ValueError) as exc:  # bad overrides, unknown --source
        print(f"cxpipe check: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(report))
    return report.exit_code


def _contracts(args: argparse.Namespace) -> int:
    from cxpipe.contracts import render_dbt_sources, render_markdown

    sys.stdout.write(render_dbt_sources() if args.format == "dbt" else render_markdown())
    return 0


def _contract_state(args: argparse.Namespace) -> int:
    from cxpipe.warehouse.contract_state import ContractStateError, check_contracts, describe, save_reference

    project = load_settings().dbt_project_dir
    try:
        if args.action == "save":
            print(f"reference state of the reporting contracts written to {save_reference(project)}")
            return 0
        check = check_contracts(project)
    except ContractStateError as exc:
        print(f"cxpipe contract-state: {exc}", file=sys.stderr)
        return 2
    if check.ok:
        print(describe(check))
        return 0
    print(describe(check), file=sys.stderr)
    print(
        "A breaking change to a reporting table needs a new model version (docs/marts.md, 'Contracts and versions').",
        file=sys.stderr,
    )
    return 1


def _split(values: list[str] | None) -> tuple[str, ...]:
    """Comma-separated option values (``--metrics nps,csat``, also repeated) as one tuple."""
    return tuple(v.strip() for value in values or [] for v in value.split(",") if v.strip())


def _metrics(args: argparse.Namespace) -> int:
    from cxpipe.semantic_layer import MetricQuery, SemanticLayerError, query, run_mf

    settings = load_settings()
    try:
        if args.metrics_command == "query":
            request = MetricQuery(
                metrics=_split(args.metrics),
                group_by=_split(args.group_by),
                where=tuple(args.where or ()),
                order=_split(args.order),
                limit=args.limit,
                start_time=args.start_time,
                end_time=args.end_time,
                saved_query=args.saved_query,
            )
            answer = query(settings, request)
            if args.output:
                Path(args.output).write_text(answer, encoding="utf-8")
                print(f"{answer.count(chr(10)) - 1} rows written to {args.output}", file=sys.stderr)
            else:
                sys.stdout.write(answer)
            return 0
        mf_args = ["list", "metrics", "--show-all-dimensions"] if args.metrics_command == "list" else list(args.mf_args)
        done = run_mf(settings, mf_args)
    except SemanticLayerError as exc:
        print(f"cxpipe metrics: {exc}", file=sys.stderr)
        return 1
    # without a terminal, mf prints every frame of its progress spinner (braille characters): drop them
    spinner = [line for line in done.stdout.splitlines() if line.strip() and not "\u2800" <= line[0] <= "\u28ff"]
    sys.stdout.write("\n".join(spinner) + "\n")
    sys.stderr.write(done.stderr)
    return done.returncode


def _settings(args: argparse.Namespace) -> int:
    if args.format == "markdown":
        sys.stdout.write(render_settings_table())
        return 0
    for name in unknown_variables():
        print(f"warning: {name} is set but no cxpipe setting reads it (a typo?)", file=sys.stderr)
    try:
        current = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 1
    if current.pii_key == DEMO_PII_KEY and current.demo_mode:
        print("warning: CX_PII_KEY is not set; demo mode pseudonymises PII with the demo key", file=sys.stderr)
    try:
        current.pseudonymisation_key()
    except PiiKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.check:
            return 1
    if args.check:
        print("settings OK")
        return 0
    rows = describe_settings(current)
    width = max(len(variable) for variable, _ in rows)
    for variable, value in rows:
        print(f"{variable:<{width}}  {value}")
    return 0


def _publications(args: argparse.Namespace) -> int:
    from cxpipe.publish import KEEP_ENV, list_attempts, list_publications

    settings = load_settings()
    if args.attempts:
        for attempt in list_attempts(settings, args.attempts):
            when = f"{attempt['attempt_at']:%Y-%m-%d %H:%M:%S}"
            pid = attempt["publication_id"] if attempt["publication_id"] is not None else "-"
            reason = f"  {attempt['reason']}" if attempt["reason"] else ""
            print(f"{when}  {attempt['status']:<12} {attempt['target']:<9} #{pid}{reason}")
        return 0
    rows = list_publications(settings)
    if not rows:
        print("no kept publications yet", file=sys.stderr)
        return 1
    print(f"{'id':>6}  {'published at (UTC)':<26} {'gate':<8} rows")
    for row in rows:
        marker = "  <- current" if row["current"] else ""
        counts = ", ".join(f"{t}={n}" for t, n in sorted(row["row_counts"].items()))
        published = f"{row['published_at']:%Y-%m-%d %H:%M:%S}" if row["published_at"] else "?"
        print(f"{row['publication_id']:>6}  {published:<26} {row['gate_status'] or '?':<8} {counts}{marker}")
    print(f"(older publications are dropped; {KEEP_ENV} sets how many are kept)")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from cxpipe.publish import PublishError, rollback

    try:
        restored = rollback(load_settings(), args.publication_id)
    except PublishError as exc:
        print(f"rollback failed: {exc}", file=sys.stderr)
        return 1
    print(f"reporting warehouse rolled back to publication {restored}")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="cxpipe", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="write deterministic demo landing files for all four sources")
    demo.add_argument("--start", type=date.fromisoformat, default=date(2026, 11, 1))
    demo.add_argument("--days", type=int, default=1, help="landing dates to write (first one holds history)")
    demo.add_argument("--history-days", type=int, default=120)
    demo.add_argument("--customers", type=int, default=400, help="customers (ignored with --scale)")
    demo.add_argument(
        "--scale",
        type=float,
        default=None,
        metavar="SF",
        help="scale factor: SF 1 ≈ 10k customers, 100k order lines, 20k survey responses, 30k posts",
    )
    demo.add_argument(
        "--profile",
        choices=[DEFAULT_PROFILE, *PROFILES],
        default=DEFAULT_PROFILE,
        help="the business to export for (docs/sources.md, 'Demo profiles'); its configuration is in deploy/profiles/",
    )
    demo.set_defaults(func=_demo)

    run = sub.add_parser("run", help="run ingest, dbt, gate and publish through Airflow (DAG.test)")
    run.add_argument(
        "--start",
        type=date.fromisoformat,
        default=date(2026, 11, 1),
        help="first landing date (any date that has landed; CX_START_DATE does not limit it)",
    )
    run.add_argument("--days", type=int, default=1, help="landing dates to run from --start (1 or more)")
    run.set_defaults(func=_run)

    complaints = sub.add_parser("complaints", help="complaint text analytics: label what the model is unsure of")
    complaints_sub = complaints.add_subparsers(dest="complaints_command", required=True)
    review = complaints_sub.add_parser(
        "review", help="write the complaints the model is least sure about as override rows to fill in"
    )
    review.add_argument("--n", type=int, default=50, help="how many complaints (default 50)")
    review.add_argument(
        "--out", type=Path, default=Path("complaint_review.csv"), help="CSV in the override seed's format"
    )
    review.add_argument(
        "--corpora", type=Path, default=None, help="public corpora directory for sentiment (default: not used)"
    )
    review.set_defaults(func=_complaints_review)

    summary = sub.add_parser("summary", help="print the published tables and where they are")
    summary.set_defaults(func=_summary)

    report = sub.add_parser("report", help="write the offline HTML report of the published reporting warehouse")
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write the page here (default: <data>/reports/report.html and report-<publication id>.html)",
    )
    report.set_defaults(func=_report)

    status = sub.add_parser(
        "status",
        help="sources, last gate and publication, freshness; exit 0 OK, 3 nothing published, 4 last gate failed, "
        "5 stale",
    )
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.add_argument(
        "--now", type=_utc, default=None, metavar="WHEN", help="judge freshness at this ISO date-time (default: now)"
    )
    status.set_defaults(func=_status)

    check = sub.add_parser(
        "check",
        help="dry-run ingest on a folder of exports: what would load, be quarantined or block (writes nothing)",
    )
    check.add_argument("folder", help="landing layout <folder>/<source>/<date>/<files> (or, with --source, one date)")
    check.add_argument("--source", default=None, help="check only this source; the folder may hold one date's files")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(func=_check)

    contracts = sub.add_parser("contracts", help="print the source contracts as Markdown (docs/contracts.md)")
    contracts.add_argument(
        "--format",
        choices=("markdown", "dbt"),
        default="markdown",
        help="markdown: docs/contracts.md; dbt: dbt_project/models/staging/_sources.yml",
    )
    contracts.set_defaults(func=_contracts)

    metrics = sub.add_parser(
        "metrics", help="the semantic layer: MetricFlow metrics from the published reporting warehouse (read only)"
    )
    metrics_sub = metrics.add_subparsers(dest="metrics_command", required=True)
    metric_query = metrics_sub.add_parser(
        "query",
        help="answer metrics by dimensions as CSV, e.g. --metrics nps --group-by metric_time__month,event__region",
    )
    metric_query.add_argument("--metrics", action="append", help="metric names, comma-separated (cxpipe metrics list)")
    metric_query.add_argument(
        "--group-by", action="append", help="dimensions, comma-separated: metric_time__month, event__region, …"
    )
    metric_query.add_argument(
        "--where", action="append", help="filter, e.g. \"{{ Dimension('event__region') }} = 'DACH'\""
    )
    metric_query.add_argument("--order", action="append", help="order by these (prefix - for descending)")
    metric_query.add_argument("--limit", type=int, default=None)
    metric_query.add_argument("--start-time", default=None, help="ISO date: only periods from this one")
    metric_query.add_argument("--end-time", default=None, help="ISO date: only periods up to this one")
    metric_query.add_argument("--saved-query", default=None, help="a saved query of models/semantic/_saved_queries.yml")
    metric_query.add_argument("--output", "-o", default=None, help="write the CSV to this file (default: stdout)")
    metrics_sub.add_parser("list", help="list the metrics and their dimensions (mf list metrics)")
    metric_mf = metrics_sub.add_parser("mf", help="run any MetricFlow command on the published warehouse")
    metric_mf.add_argument(
        "mf_args", nargs=argparse.REMAINDER, help="arguments of mf, e.g. list dimensions --metrics nps"
    )
    metrics.set_defaults(func=_metrics)

    state = sub.add_parser(
        "contract-state",
        help="check the reporting models' dbt contracts against their reference state (breaking changes: new version)",
    )
    state.add_argument(
        "action",
        choices=("check", "save"),
        help="check: exit 1 on a breaking change; save: refresh dbt_project/contracts_state/manifest.json",
    )
    state.set_defaults(func=_contract_state)

    settings = sub.add_parser("settings", help="print the effective CX_* settings (secrets masked)")
    settings.add_argument("--check", action="store_true", help="only validate them; exit 1 listing every bad variable")
    settings.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="markdown: the configuration table of README.md (generated from the settings' metadata)",
    )
    settings.set_defaults(func=_settings)

    publications = sub.add_parser("publications", help="list the kept publications of the reporting warehouse")
    publications.add_argument(
        "--attempts",
        type=int,
        nargs="?",
        const=20,
        default=0,
        metavar="N",
        help="show the last N publication attempts (published, blocked, failed, rolled back) and why",
    )
    publications.set_defaults(func=_publications)

    back = sub.add_parser("rollback", help="put a kept publication back (default: the one before the current)")
    back.add_argument("publication_id", type=int, nargs="?", default=None)
    back.set_defaults(func=_rollback)

    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"cxpipe {args.command}: {exc}", file=sys.stderr)
        return 2
