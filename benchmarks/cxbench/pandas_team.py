"""Baseline 3, what a team without this project writes: one pandas script for two marts.

``python -m cxbench.pandas_team <lake dir> <seeds dir> <out dir> <result.json>``

It computes ``satisfaction_index`` and ``complaint_root_causes`` the way an analyst would in a
notebook: read the Parquet lake with pandas, keep the newest row per key, map codes through
the seed CSVs, join, group, pivot. No tests, no incremental state, no documentation, no
orchestration; only what those two tables need (RFM segments for the ``segment`` dimension,
the complaint candidates and their text analysis for complaint counts and causes).

Where it starts: the **lake** that cxpipe's ingest wrote (typed, pseudonymised, bad rows
quarantined), not the landing files: starting from the landing files would mean writing
ingest's validation and quarantine again, and the marts count only the rows that passed it.
So this baseline stands beside the *transform* (``dbt build``), not the whole pipeline.

The complaint texts are analysed with the same library call as the dbt Python model
(:func:`cxpipe.complaints.analyse_texts`, the same cached fitted models): a team without
this project would need some classifier, and only the same one makes the root causes
comparable. Its CPU time is reported separately (``nlp_cpu_s``), so the comparison can be
made with and without it.

Definitions follow the marts' (docs/marts.md, macros/metrics.sql); the equality check
(:mod:`cxbench.compare`) states the float tolerance and why.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Weights of the composite index (dbt_project.yml, var cx_index_weights) and the other vars used.
WEIGHTS = {"csat": 0.3, "nps": 0.3, "ces": 0.2, "on_time": 0.2}
MIN_RESPONSES = 30
ROLLING_NPS_DAYS = 90
SURVEY_MAX_CSAT = 2
REVIEW_MAX_RATING = 2
POST_MAX_SENTIMENT = 0.05
VITAL_FEW_SHARE = 80
FREQUENCY_MIN_ORDERS = (2, 3, 5, 8)
DIMENSIONS = ("total", "segment", "region", "channel", "touchpoint", "store")


# ------------------------------------------------------------------ reading


def read_entity(lake: Path, source: str, entity: str) -> pd.DataFrame:
    """Every partition of one lake entity, with its ``load_date``."""
    frames = []
    for part in sorted((lake / source / entity).glob("load_date=*/*.parquet")):
        frame = pd.read_parquet(part)
        for column in frame.columns:  # nullable integers (scores, counts) as floats, NaN for missing
            if pd.api.types.is_integer_dtype(frame[column]) and column != "_source_row":
                frame[column] = frame[column].astype("float64")
        frame["load_date"] = pd.Timestamp(part.parent.name.removeprefix("load_date="))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def newest(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per key: the latest landing date, then the last row of its file."""
    ordered = frame.sort_values(["load_date", "_source_row"], kind="stable")
    return ordered.drop_duplicates(subset=[key], keep="last")


def read_seed(seeds: Path, name: str, **kwargs: Any) -> pd.DataFrame:
    return pd.read_csv(seeds / f"{name}.csv", keep_default_na=False, na_values=[""], **kwargs)


# ------------------------------------------------------------------ code mappings


def _trim(values: pd.Series) -> pd.Series:
    return values.str.strip(" ")


def mapping_key(values: pd.Series) -> pd.Series:
    return _trim(values).str.lower().str.replace(r"[\t\n\f\r _-]+", " ", regex=True)


def mapped(values: pd.Series, seed: pd.DataFrame, source_column: str, value_column: str) -> pd.Series:
    """A source value through a mapping seed: ``unknown`` when empty, ``unmapped`` when not in the seed."""
    lookup = dict(zip(mapping_key(seed[source_column]), seed[value_column], strict=True))
    keys = mapping_key(values)
    out = keys.map(lookup).fillna("unmapped")
    empty = _trim(values).replace("", np.nan).isna()
    return out.mask(empty, "unknown")


def normalized_code(values: pd.Series) -> pd.Series:
    code = _trim(values).str.lower().str.replace(r"[\t\n\f\r -]+", "_", regex=True)
    return code.replace("", np.nan)


def utc_date(values: pd.Series) -> pd.Series:
    return values.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()


def sql_round(values: pd.Series, decimals: int) -> pd.Series:
    """DuckDB's ``round(x, d)`` of a double: the exact binary value rounded to ``d`` decimals, halves
    away from zero (2.675 is stored as 2.67499999… -> 2.67; 3.125 is exact -> 3.13). pandas' own
    ``round`` differs both ways: it scales by 10^d first (2.675 × 100 = 267.5 -> 2.68) and sends
    halves to the even digit (3.125 -> 3.12)."""
    quantum = Decimal(1).scaleb(-decimals)

    def one(value: float) -> float:
        if math.isnan(value):
            return value
        return float(Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP))

    return values.astype("float64").map(one)


def month_start(dates: pd.Series) -> pd.Series:
    return dates.dt.to_period("M").dt.start_time


# ------------------------------------------------------------------ the model


def orders_enriched(lake: Path, seeds: Path, regions: dict[str, str]) -> pd.DataFrame:
    orders = newest(read_entity(lake, "sales", "orders"), "order_id")
    status = mapped(orders["status"], read_seed(seeds, "order_status_map"), "source_status", "lifecycle_status")
    channels = read_seed(seeds, "sales_channel_map")
    out = pd.DataFrame({"order_id": orders["order_id"], "customer_key": orders["customer_id"]})
    out["channel"] = mapped(orders["channel"], channels, "source_channel", "channel")
    out["store_id"] = orders["store_id"]
    out["country"] = _trim(orders["country"]).str.upper().replace("", np.nan)
    out["region"] = out["country"].map(regions).fillna("Other")
    total = orders["order_total"]
    cancelled = status == "cancelled"
    out["is_credit_note"] = (total < 0).fillna(False).astype(bool)
    out["is_purchase"] = ~cancelled & (total >= 0).where(total.notna(), True).astype(bool)
    out["ordered_at"] = orders["ordered_at"]
    out["order_date"] = utc_date(orders["ordered_at"])
    promised = pd.to_datetime(orders["promised_date"])
    delivered = utc_date(orders["delivered_at"])
    on_time = (delivered <= promised).astype("boolean")
    on_time = on_time.mask(promised.isna() | delivered.isna() | cancelled)
    out["is_on_time"] = on_time
    out["touchpoint"] = np.where(promised.notna(), "delivery", "store_visit")
    return out.reset_index(drop=True)


def quintile_score(values: pd.Series) -> pd.Series:
    """1 + floor(5 × (rank - 1) / (n - 1)), at most 5; every value equal: 3 (macros/metrics.sql)."""
    if values.min() == values.max():
        return pd.Series(3, index=values.index)
    rank = values.rank(method="min")
    return np.minimum(5, 1 + np.floor(5 * (rank - 1) / (len(values) - 1))).astype(int)


def frequency_score(orders: pd.Series) -> pd.Series:
    score = pd.Series(1, index=orders.index)
    for points, minimum in enumerate(FREQUENCY_MIN_ORDERS, start=2):
        score = score.mask(orders >= minimum, points)
    return score


def rfm_segment(r: pd.Series, f: pd.Series) -> pd.Series:
    conditions = [
        r.isna() | f.isna(),
        (r >= 4) & (f >= 4),
        (r >= 3) & (f >= 3),
        (r >= 4) & (f == 1),
        r >= 3,
        (r == 1) & (f >= 4),
        f >= 3,
        r == 2,
    ]
    names = ["prospect", "champions", "loyal", "new", "potential loyalists", "cannot lose", "at risk", "hibernating"]
    return pd.Series(np.select(conditions, names, default="lost"), index=r.index)


def customers_rfm(lake: Path, orders: pd.DataFrame, regions: dict[str, str]) -> pd.DataFrame:
    customers = newest(read_entity(lake, "crm", "customers"), "customer_id")
    purchases = orders[orders["customer_key"].notna() & orders["is_purchase"]]
    stats = purchases.groupby("customer_key").agg(orders=("order_id", "size"), last_order_at=("ordered_at", "max"))
    stats["recency_score"] = quintile_score(utc_date(stats["last_order_at"]))
    stats["frequency_score"] = frequency_score(stats["orders"])
    # the CRM's customers, then those known only from their orders, with their latest order's country
    crm = pd.DataFrame({"customer_key": customers["customer_id"], "country": _trim(customers["country"]).str.upper()})
    known = orders[orders["customer_key"].notna() & ~orders["customer_key"].isin(crm["customer_key"])]
    latest = known[known["country"].notna()].sort_values(["ordered_at", "order_id"]).groupby("customer_key").tail(1)
    only_orders = pd.DataFrame({"customer_key": known["customer_key"].unique()})
    only_orders = only_orders.merge(latest[["customer_key", "country"]], on="customer_key", how="left")
    out = pd.concat([crm, only_orders], ignore_index=True)
    out["region"] = out["country"].map(regions).fillna("Other")
    out = out.merge(stats[["recency_score", "frequency_score"]], left_on="customer_key", right_index=True, how="left")
    out["rfm_segment"] = rfm_segment(out["recency_score"], out["frequency_score"])
    return out[["customer_key", "rfm_segment", "region"]]


def complaint_candidates(lake: Path, seeds: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(candidates, tickets, responses, posts): the candidates are every ticket, the low-CSAT answers
    with a comment and the low-rated or unrated posts with a text."""
    tickets = newest(read_entity(lake, "crm", "tickets"), "ticket_id")
    tickets = tickets.assign(
        contact_channel=mapped(tickets["channel"], read_seed(seeds, "ticket_channel_map"), "source_channel", "channel")
    )
    responses = newest(read_entity(lake, "surveys", "responses"), "response_id")
    responses = responses.assign(
        comment=_trim(responses["comment"]).replace("", np.nan),
        touchpoint=normalized_code(responses["touchpoint"]),
        channel=mapped(responses["channel"], read_seed(seeds, "sales_channel_map"), "source_channel", "channel"),
    )
    posts = newest(read_entity(lake, "social", "posts"), "post_id")
    posts = posts.assign(platform=normalized_code(posts["platform"]))
    low = responses[(responses["csat"] <= SURVEY_MAX_CSAT) & responses["comment"].notna()]
    social = posts[(posts["rating"].isna() | (posts["rating"] <= REVIEW_MAX_RATING)) & posts["text"].notna()]
    parts = [
        pd.DataFrame(
            {
                "complaint_source": "ticket",
                "source_id": tickets["ticket_id"],
                "customer_key": tickets["customer_id"],
                "order_id": tickets["order_id"],
                "contact_channel": tickets["contact_channel"],
                "created_at": tickets["created_at"],
                "rating": pd.Series(np.nan, index=tickets.index),
                "complaint_text": tickets["text"],
            }
        ),
        pd.DataFrame(
            {
                "complaint_source": "survey",
                "source_id": low["response_id"],
                "customer_key": low["customer_id"],
                "order_id": low["order_id"],
                "contact_channel": "survey",
                "created_at": low["responded_at"],
                "rating": low["csat"].astype(float),
                "complaint_text": low["comment"],
            }
        ),
        pd.DataFrame(
            {
                "complaint_source": "social",
                "source_id": social["post_id"],
                "customer_key": social["customer_id"],
                "order_id": pd.Series(None, index=social.index, dtype=object),
                "contact_channel": social["platform"],
                "created_at": social["posted_at"],
                "rating": social["rating"].astype(float),
                "complaint_text": social["text"],
            }
        ),
    ]
    candidates = pd.concat(parts, ignore_index=True)
    candidates["complaint_id"] = candidates["complaint_source"] + ":" + candidates["source_id"]
    return candidates, tickets, responses, posts


def classify(candidates: pd.DataFrame, seeds: Path) -> tuple[pd.DataFrame, float]:
    """The candidates that are complaints, with language and root cause; and the CPU time of the text analysis."""
    from cxpipe.complaints import analyse_texts

    taxonomy = read_seed(seeds, "complaint_taxonomy", dtype={"weight": float}).to_dict("records")
    overrides = read_seed(seeds, "complaint_overrides", dtype=str)
    cache = os.environ.get("CX_MODEL_CACHE_DIR")
    started = time.process_time()
    nlp = analyse_texts(
        candidates[["complaint_id", "complaint_text"]],
        taxonomy,
        overrides=overrides.to_dict("records"),
        cache_dir=Path(cache) if cache else None,
    )
    nlp_cpu = time.process_time() - started
    joined = candidates.merge(
        nlp[["complaint_id", "language", "root_cause", "sentiment"]], on="complaint_id", how="left"
    ).merge(
        overrides[["complaint_id", "root_cause"]].rename(columns={"root_cause": "override_root_cause"}),
        on="complaint_id",
        how="left",
    )
    sentiment = joined["sentiment"]
    keep = (
        (joined["complaint_source"] != "social")
        | joined["rating"].notna()
        | (sentiment < 0)
        | ((sentiment <= POST_MAX_SENTIMENT) & joined["root_cause"].notna() & (joined["root_cause"] != "other"))
        | joined["override_root_cause"].notna()
    )
    complaints = joined[keep].copy()
    complaints["classifier_root_cause"] = complaints["root_cause"]
    complaints["root_cause"] = complaints["override_root_cause"].fillna(complaints["root_cause"]).fillna("other")
    complaints["language"] = complaints["language"].fillna("unknown")
    return complaints, nlp_cpu


def complaint_root_causes(complaints: pd.DataFrame) -> pd.DataFrame:
    month = month_start(complaints["created_at"].dt.tz_convert("UTC").dt.tz_localize(None))
    by_dimension = pd.concat(
        [
            pd.DataFrame({"month": month, "dimension": "all", "dimension_value": "all"}),
            pd.DataFrame({"month": month, "dimension": "channel", "dimension_value": complaints["contact_channel"]}),
            pd.DataFrame({"month": month, "dimension": "language", "dimension_value": complaints["language"]}),
        ]
    )
    by_dimension["root_cause"] = pd.concat([complaints["root_cause"]] * 3).to_numpy()
    by_dimension["dimension_value"] = by_dimension["dimension_value"].fillna("unknown")
    keys = ["month", "dimension", "dimension_value"]
    counted = by_dimension.groupby([*keys, "root_cause"]).size().rename("complaints").reset_index()
    ranked = counted.sort_values([*keys, "complaints", "root_cause"], ascending=[True, True, True, False, True])
    group = ranked.groupby(keys, sort=False)
    ranked["share_pct"] = 100.0 * ranked["complaints"] / group["complaints"].transform("sum")
    ranked["pareto_rank"] = group.cumcount() + 1
    ranked["cumulative_share_pct"] = ranked.groupby(keys, sort=False)["share_pct"].cumsum()
    previous = counted.assign(month=counted["month"] + pd.DateOffset(months=1)).rename(
        columns={"complaints": "previous"}
    )
    out = ranked.merge(previous, on=[*keys, "root_cause"], how="left")
    first_month = counted["month"].min()
    out["previous_month_complaints"] = out["previous"].fillna(0).where(out["month"] > first_month)
    out["change_vs_previous_month"] = out["complaints"] - out["previous_month_complaints"]
    change_pct = 100.0 * out["change_vs_previous_month"] / out["previous_month_complaints"].replace(0, np.nan)
    out["is_vital_few"] = (out["cumulative_share_pct"] - out["share_pct"]) < VITAL_FEW_SHARE
    # where the causes ranked above cover exactly 80 %, float rounding decides the flag (see compare)
    above = out.groupby(keys, sort=False)["complaints"].cumsum() - out["complaints"]
    total = out.groupby(keys, sort=False)["complaints"].transform("sum")
    out["vital_few_at_boundary"] = 100 * above == VITAL_FEW_SHARE * total
    out["share_pct"] = sql_round(out["share_pct"], 2)
    out["cumulative_share_pct"] = sql_round(out["cumulative_share_pct"], 2)
    out["change_vs_previous_month_pct"] = sql_round(change_pct, 1)
    columns = [
        *keys,
        "root_cause",
        "complaints",
        "share_pct",
        "cumulative_share_pct",
        "pareto_rank",
        "is_vital_few",
        "previous_month_complaints",
        "change_vs_previous_month",
        "change_vs_previous_month_pct",
        "vital_few_at_boundary",
    ]
    return out[columns].reset_index(drop=True)


def polarity(score: pd.Series) -> pd.Series:
    return pd.Series(np.select([score >= 4, score <= 2], [1.0, -1.0], default=0.0), index=score.index).where(
        score.notna()
    )


def cx_events(
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    responses: pd.DataFrame,
    complaints: pd.DataFrame,
    tickets: pd.DataFrame,
    posts: pd.DataFrame,
) -> pd.DataFrame:
    segment_of = customers.set_index("customer_key")["rfm_segment"]
    region_of = customers.set_index("customer_key")["region"]
    order_cols = orders.set_index("order_id")[["region", "channel", "touchpoint", "store_id"]]

    def with_order(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.join(order_cols, on="order_id", suffixes=("", "_order"))

    def segment(keys: pd.Series) -> pd.Series:
        return keys.map(segment_of).fillna("guest")

    def region(order_region: pd.Series, keys: pd.Series) -> pd.Series:
        return order_region.fillna(keys.map(region_of)).fillna("Other")

    events = []
    events.append(
        pd.DataFrame(
            {
                "event_type": "order",
                "event_date": orders["order_date"],
                "segment": segment(orders["customer_key"]),
                "region": orders["region"],
                "channel": orders["channel"],
                "touchpoint": orders["touchpoint"],
                "store": orders["store_id"],
                "is_on_time": orders["is_on_time"],
                "is_order": np.where(orders["is_credit_note"], 0, 1),
            }
        )
    )
    r = with_order(responses)
    events.append(
        pd.DataFrame(
            {
                "event_type": "response",
                "event_date": utc_date(r["responded_at"]),
                "segment": segment(r["customer_id"]),
                "region": region(r["region"], r["customer_id"]),
                "channel": r["channel"],
                "touchpoint": r["touchpoint"],
                "store": r["store_id"],
                "csat": r["csat"],
                "nps": r["nps"],
                "ces": r["ces"],
                "sentiment_polarity": polarity(r["csat"]).where(r["comment"].notna()),
            }
        )
    )
    c = with_order(complaints.drop(columns=["region"], errors="ignore"))
    events.append(
        pd.DataFrame(
            {
                "event_type": "complaint",
                "event_date": utc_date(c["created_at"]),
                "segment": segment(c["customer_key"]),
                "region": region(c["region"], c["customer_key"]),
                "channel": c["channel"],
                "touchpoint": c["touchpoint"],
                "store": c["store_id"],
                "is_complaint": 1,
            }
        )
    )
    t = with_order(tickets.rename(columns={"channel": "ticket_channel"}))
    events.append(
        pd.DataFrame(
            {
                "event_type": "ticket",
                "event_date": utc_date(t["created_at"]),
                "segment": segment(t["customer_id"]),
                "region": region(t["region"], t["customer_id"]),
                "channel": t["channel"],
                "touchpoint": "customer_service",
                "store": t["store_id"],
                "first_response_hours": (t["first_response_at"] - t["created_at"]).dt.total_seconds() / 3600.0,
                "resolution_hours": (t["resolved_at"] - t["created_at"]).dt.total_seconds() / 3600.0,
            }
        )
    )
    rated = posts[posts["rating"].notna()]
    events.append(
        pd.DataFrame(
            {
                "event_type": "post",
                "event_date": utc_date(rated["posted_at"]),
                "segment": segment(rated["customer_id"]),
                "region": region(pd.Series(np.nan, index=rated.index, dtype=object), rated["customer_id"]),
                "channel": None,
                "touchpoint": "social_media",
                "store": None,
                "sentiment_polarity": polarity(rated["rating"]),
            }
        )
    )
    unioned = pd.concat(events, ignore_index=True)
    for column in ("is_order", "is_complaint"):
        unioned[column] = unioned[column].fillna(0).astype(int)
    unioned["event_month"] = month_start(unioned["event_date"])
    unioned["total"] = "all"
    return unioned


def _share(condition: pd.Series, present: pd.Series) -> pd.Series:
    """100 × (rows meeting ``condition``) / (rows where the value is present), per group (null for 0)."""
    return 100.0 * condition / present.replace(0, np.nan)


def satisfaction_index(events: pd.DataFrame) -> pd.DataFrame:
    values = events[[*DIMENSIONS]].astype(object).where(events[[*DIMENSIONS]].notna(), "unknown")
    frames = []
    for dimension in DIMENSIONS:
        frame = events.drop(columns=list(DIMENSIONS))
        frame["dimension"] = dimension
        frame["dimension_value"] = values[dimension].astype(str).to_numpy()
        frames.append(frame)
    long = pd.concat(frames, ignore_index=True)
    long["is_on_time"] = long["is_on_time"].astype("boolean")
    on_time = long["is_on_time"]
    prepared = long.assign(
        is_response=long["event_type"] == "response",
        is_ticket=long["event_type"] == "ticket",
        csat_good=long["csat"] >= 4,
        promoter=long["nps"] >= 9,
        detractor=long["nps"] <= 6,
        positive=long["sentiment_polarity"] > 0,
        negative=long["sentiment_polarity"] < 0,
        on_time_true=on_time.fillna(False).astype(bool),
        on_time_known=on_time.notna(),
    )
    keys = ["event_month", "dimension", "dimension_value"]
    g = prepared.groupby(keys, sort=True)
    m = g.agg(
        responses=("is_response", "sum"),
        csat_responses=("csat", "count"),
        nps_responses=("nps", "count"),
        ces_responses=("ces", "count"),
        csat_good=("csat_good", "sum"),
        promoters=("promoter", "sum"),
        detractors=("detractor", "sum"),
        ces=("ces", "mean"),
        sentiment_mentions=("sentiment_polarity", "count"),
        positive=("positive", "sum"),
        negative=("negative", "sum"),
        deliveries_with_promise=("on_time_known", "sum"),
        on_time=("on_time_true", "sum"),
        orders=("is_order", "sum"),
        complaints=("is_complaint", "sum"),
        tickets=("is_ticket", "sum"),
        first_response_hours_median=("first_response_hours", "median"),
        first_response_hours_p90=("first_response_hours", lambda s: s.quantile(0.9)),
        resolution_hours_median=("resolution_hours", "median"),
        resolution_hours_p90=("resolution_hours", lambda s: s.quantile(0.9)),
    )
    m["answers"] = m["csat_responses"] + m["nps_responses"] + m["ces_responses"]
    m["csat"] = _share(m["csat_good"], m["csat_responses"])
    m["nps"] = _share(m["promoters"] - m["detractors"], m["nps_responses"])
    m["sentiment"] = _share(m["positive"] - m["negative"], m["sentiment_mentions"])
    m["on_time_rate"] = _share(m["on_time"], m["deliveries_with_promise"])
    m["complaint_rate"] = 1000.0 * m["complaints"] / m["orders"].replace(0, np.nan)
    m = m.reset_index()

    # rolling NPS: the answers of the 90 days ending on the month's last day, per dimension value
    answers = prepared[prepared["nps"].notna()]
    daily = (
        answers.assign(promoter=answers["promoter"].astype(int), detractor=answers["detractor"].astype(int))
        .groupby(["dimension", "dimension_value", "event_date"])
        .agg(n=("nps", "size"), promoters=("promoter", "sum"), detractors=("detractor", "sum"))
        .reset_index()
    )
    rolling_parts = []
    month_end = m["event_month"] + pd.offsets.MonthEnd(0)
    m["month_end"] = month_end
    for (dimension, value), days in daily.groupby(["dimension", "dimension_value"], sort=False):
        rows = m[(m["dimension"] == dimension) & (m["dimension_value"] == value)]
        dates = days["event_date"].to_numpy()
        cum = days[["n", "promoters", "detractors"]].cumsum().to_numpy()
        cum = np.vstack([np.zeros((1, 3), dtype=cum.dtype), cum])
        ends = rows["month_end"].to_numpy()
        hi = np.searchsorted(dates, ends, side="right")
        lo = np.searchsorted(dates, ends - np.timedelta64(ROLLING_NPS_DAYS, "D"), side="right")
        window = cum[hi] - cum[lo]
        rolling_parts.append(
            pd.DataFrame({"n": window[:, 0], "promoters": window[:, 1], "detractors": window[:, 2]}, index=rows.index)
        )
    rolling = pd.concat(rolling_parts).reindex(m.index) if rolling_parts else pd.DataFrame(index=m.index)
    n = rolling.get("n", pd.Series(0, index=m.index)).fillna(0).astype(int)
    m["nps_rolling_90d_responses"] = n
    m["nps_rolling_90d"] = (100.0 * (rolling["promoters"] - rolling["detractors"]) / n.replace(0, np.nan)).where(n > 0)

    parts = {
        "csat": m["csat"],
        "nps": (m["nps"] + 100) / 2.0,
        "ces": (m["ces"] - 1) / 6.0 * 100,
        "on_time": m["on_time_rate"],
    }
    numerator = sum(part.fillna(0) * WEIGHTS[name] for name, part in parts.items())
    denominator = sum(part.notna() * WEIGHTS[name] for name, part in parts.items())
    m["satisfaction_index"] = numerator / pd.Series(denominator, index=m.index).replace(0, np.nan)
    m["is_small_cell"] = m["responses"] < MIN_RESPONSES

    rounded = {
        "csat": 2,
        "nps": 2,
        "nps_rolling_90d": 2,
        "ces": 3,
        "sentiment": 2,
        "on_time_rate": 2,
        "complaint_rate": 2,
        "first_response_hours_median": 2,
        "first_response_hours_p90": 2,
        "resolution_hours_median": 2,
        "resolution_hours_p90": 2,
        "satisfaction_index": 2,
    }
    for column, decimals in rounded.items():
        m[column] = sql_round(m[column], decimals)
    m = m.rename(columns={"event_month": "month"})
    columns = [
        "month",
        "dimension",
        "dimension_value",
        "responses",
        "answers",
        "csat_responses",
        "nps_responses",
        "ces_responses",
        "csat",
        "nps",
        "nps_rolling_90d_responses",
        "nps_rolling_90d",
        "ces",
        "sentiment_mentions",
        "sentiment",
        "deliveries_with_promise",
        "on_time_rate",
        "orders",
        "complaints",
        "complaint_rate",
        "tickets",
        "first_response_hours_median",
        "first_response_hours_p90",
        "resolution_hours_median",
        "resolution_hours_p90",
        "satisfaction_index",
        "is_small_cell",
    ]
    return m[columns]


def run(lake: Path, seeds: Path, out: Path) -> dict[str, Any]:
    started = time.process_time()
    regions = dict(read_seed(seeds, "country_regions")[["country", "region"]].itertuples(index=False))
    orders = orders_enriched(lake, seeds, regions)
    customers = customers_rfm(lake, orders, regions)
    candidates, tickets, responses, posts = complaint_candidates(lake, seeds)
    complaints, nlp_cpu = classify(candidates, seeds)
    causes = complaint_root_causes(complaints)
    events = cx_events(orders, customers, responses, complaints, tickets, posts)
    index = satisfaction_index(events)
    out.mkdir(parents=True, exist_ok=True)
    index.to_parquet(out / "satisfaction_index.parquet", index=False)
    causes.to_parquet(out / "complaint_root_causes.parquet", index=False)
    return {
        "rows": {"satisfaction_index": len(index), "complaint_root_causes": len(causes)},
        "complaints": len(complaints),
        "process_cpu_s": round(time.process_time() - started, 3),
        "nlp_cpu_s": round(nlp_cpu, 3),
    }


def main(argv: list[str]) -> int:
    lake, seeds, out, result = (Path(a) for a in argv[:4])
    result.write_text(json.dumps(run(lake, seeds, out)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
