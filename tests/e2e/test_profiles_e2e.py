"""The demo profiles publish through real Airflow, onboarded by their configuration alone.

For each profile: ``cxpipe demo --profile <profile>`` into a temporary data folder, the
profile's ``deploy/profiles/<profile>/cxpipe.env`` applied (``CX_SOURCES``, contract overrides,
reporting currency), ``cxpipe run`` (every DAG through ``airflow dags test``), then the published
``reporting.duckdb`` against figures computed here, independently, from the landing files.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from configured import profile_env
from conftest import cxpipe_run_env

from cxpipe.settings import REPO_ROOT

# each `cxpipe run` takes several minutes on a loaded 2-core machine; a hang guard well above
pytestmark = pytest.mark.timeout(30 * 60)

#: Small: 30 days of history and one landing date.
DEMO_ARGS = ("--history-days", "30", "--customers", "80")
#: Ticket channels as the service desk names them -> the business's contact channel (written out
#: here, not read from the seed, so the test checks the seed too).
TICKET_CHANNELS = {
    "Web": "web",
    "Referral": "referral",
    "Postal mail": "postal",
    "Phone": "phone",
    "Fax": "fax",
    "E-mail": "email",
}


def _publish(profile: str, root: Path, airflow_db: Path) -> Path:
    env = {
        **cxpipe_run_env(root, airflow_db),
        **profile_env(profile),
        # dbt as one task: the profiles' data is under test here, not the task graph, which
        # test_e2e_airflow runs a task per seed and model
        "CX_DBT_TASKS": "build",
    }
    cxpipe = [sys.executable, "-m", "cxpipe"]
    subprocess.run([*cxpipe, "demo", "--profile", profile, *DEMO_ARGS], env=env, cwd=REPO_ROOT, check=True)
    run = subprocess.run([*cxpipe, "run"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if run.returncode != 0:  # name the failed tasks: the tail of Airflow's output is dbt's log
        with sqlite3.connect(root / "airflow" / "airflow.db") as db:
            failed = db.execute(
                "select dag_id, task_id, state from task_instance where state not in ('success', 'skipped')"
            ).fetchall()
        pytest.fail(f"cxpipe run failed; tasks {failed}\n" + run.stdout[-3000:] + run.stderr[-3000:])
    # dbt parses the whole project once, in `cxpipe run`'s `dbt parse`: the build task starts from that parse
    assert (run.stdout + run.stderr).count("Unable to do partial parsing") == 1, run.stdout[-3000:]
    return root / "data"


def _landed(data: Path, source: str, entity: str, key: str) -> pd.DataFrame:
    """Every landing file of an entity, the last row of each key (exact duplicates are in the files)."""
    files = sorted((data / "landing" / source).glob(f"*/{entity}.*"))
    if files[0].suffix == ".jsonl":
        frame = pd.concat([pd.read_json(f, lines=True, dtype=False) for f in files])
    else:
        frame = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files])
    return frame.drop_duplicates(key, keep="last")


def _utc_month(local: pd.Series, zone: str) -> pd.Series:
    """Naive local times (``YYYY-MM-DD HH:MM:SS`` or day-first ``DD/MM/YYYY HH:MM``) -> UTC month start."""
    day_first = local.str.contains("/")
    parsed = pd.Series(pd.NaT, index=local.index, dtype="datetime64[ns]")
    parsed[~day_first] = pd.to_datetime(local[~day_first], format="%Y-%m-%d %H:%M:%S")
    parsed[day_first] = pd.to_datetime(local[day_first], format="%d/%m/%Y %H:%M")
    utc = parsed.dt.tz_localize(zone).dt.tz_convert("UTC").dt.tz_localize(None)
    months: pd.Series = utc.dt.to_period("M").dt.to_timestamp().dt.date
    return months


@pytest.fixture(scope="module")
def marketplace(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path) -> Path:
    return _publish("marketplace", tmp_path_factory.mktemp("marketplace"), airflow_db)


@pytest.fixture(scope="module")
def service_desk(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path) -> Path:
    return _publish("service_desk", tmp_path_factory.mktemp("service_desk"), airflow_db)


def _reporting(data: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(data / "warehouse" / "reporting.duckdb"), read_only=True)


def test_marketplace_net_revenue_in_brl_per_month(marketplace: Path) -> None:
    """Net revenue = order totals of orders not cancelled (credit notes negative), by UTC month."""
    orders = _landed(marketplace, "sales", "orders", "order_id")
    kept = orders[~orders.status.isin(["canceled", "unavailable"])]
    assert (kept.order_total.astype(float) < 0).any(), "the demo has credit notes"
    assert len(kept) < len(orders), "the demo has cancellations"
    expected = kept.order_total.astype(float).groupby(_utc_month(kept.ordered_at, "America/Sao_Paulo")).sum()
    with _reporting(marketplace) as con:
        got = con.execute(
            "select month, sum(revenue), min(reporting_currency), max(reporting_currency), count(*) "
            "from segment_summary group by month order by month"
        ).fetchall()
    assert {row[2] for row in got} == {"BRL"} and {row[3] for row in got} == {"BRL"}
    published = {row[0]: row[1] for row in got}
    assert sorted(published) == sorted(expected.index)
    for month, revenue in expected.items():
        cells = next(row[4] for row in got if row[0] == month)  # each cell is rounded to cents
        assert published[month] == pytest.approx(revenue, abs=0.006 * cells), month


def test_marketplace_survey_responses_and_nps_per_month(marketplace: Path) -> None:
    responses = _landed(marketplace, "surveys", "responses", "response_id")
    responses = responses.assign(month=_utc_month(responses.responded_at, "America/Sao_Paulo"))
    nps = responses.nps.astype(int)
    responses = responses.assign(promoter=nps >= 9, detractor=nps <= 6)
    by_month = responses.groupby("month")
    expected_count = by_month.size()
    expected_nps = 100 * (by_month.promoter.mean() - by_month.detractor.mean())
    with _reporting(marketplace) as con:
        counts = dict(con.execute("select month, sum(survey_responses) from segment_summary group by month").fetchall())
        nps_total = dict(
            con.execute(
                "select month, nps from satisfaction_index where dimension = 'total' and nps is not null"
            ).fetchall()
        )
    assert {m: c for m, c in counts.items() if c} == expected_count.to_dict()
    assert sorted(nps_total) == sorted(expected_nps.index)
    for month, value in expected_nps.items():
        assert nps_total[month] == pytest.approx(value, abs=0.006), month


def test_marketplace_publication_names_what_it_cannot_feed(marketplace: Path) -> None:
    with _reporting(marketplace) as con:
        log = con.execute("select gate_status, skipped_tables from publication_log").fetchall()
    assert [row[0] for row in log] == ["passed"]
    assert set(json.loads(log[0][1])) == {"service_recovery"}  # no CRM tickets


def test_marketplace_segments_the_customers_of_its_orders(marketplace: Path) -> None:
    """No CRM: every customer of an order has a row (RFM scored), with the orders' country and no CRM values."""
    orders = _landed(marketplace, "sales", "orders", "order_id")
    customers = orders.customer_id[orders.customer_id != ""].nunique()
    with _reporting(marketplace) as con:
        segments = con.execute(
            "select count(*), count(distinct customer_key), count(membership_tier), count(city), "
            "list(distinct country), list(distinct region), list(distinct age_band), "
            "count(*) filter (where orders > 0 and recency_score is null) from customer_segments"
        ).fetchone()
        summary = {row[0] for row in con.execute("select distinct segment from segment_summary").fetchall()}
    assert customers > 0
    assert segments == (customers, customers, 0, 0, ["BR"], ["Latin America and the Caribbean"], ["unknown"], 0)
    assert "guest" not in summary  # every order of the marketplace has a customer


def test_service_desk_tickets_per_canonical_channel(service_desk: Path) -> None:
    tickets = _landed(service_desk, "crm", "tickets", "ticket_id")
    assert set(tickets.channel) == set(TICKET_CHANNELS)
    expected = tickets.channel.map(TICKET_CHANNELS).value_counts().to_dict()
    with _reporting(service_desk) as con:
        got = dict(
            con.execute(
                "select channel, count(*) from complaints where complaint_source = 'ticket' group by channel"
            ).fetchall()
        )
        log = con.execute("select gate_status from publication_log").fetchall()
    assert got == expected
    assert log == [("passed",)]
    assert json.dumps(sorted(got)) == json.dumps(sorted(TICKET_CHANNELS.values()))
