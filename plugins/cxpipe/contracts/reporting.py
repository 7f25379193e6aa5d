"""The reporting contract: which tables BI tools read, and where they come from."""

from __future__ import annotations

from collections.abc import Collection

#: Reporting tables, built by dbt in the ``marts`` schema of the build warehouse.
REPORTING_TABLES: tuple[str, ...] = (
    "customer_segments",
    "segment_summary",
    "satisfaction_index",
    "expectation_gap",
    "expectation_levels",
    "complaint_root_causes",
    "complaints",
    "complaint_alerts",
    "service_recovery",
    "cx_events",
)
MARTS_SCHEMA = "marts"

#: Tables published beside the reporting tables for the semantic layer (docs/semantic-layer.md):
#: MetricFlow's time spine (a calendar, not data: no gate, no ``publication_id``).
SEMANTIC_LAYER_TABLES: tuple[str, ...] = ("metricflow_time_spine",)

_CX_EVENTS = ("sales.orders", "surveys.responses", "crm.tickets", "social.posts")
_COMPLAINT_TEXTS = ("crm.tickets", "surveys.responses", "social.posts")

#: What each reporting table needs to have rows: every group must have at least one of its
#: entities (``source.entity``) delivered. Read from the models (docs/decisions/0015-partial-deployments.md):
#: ``customer_segments`` is one row per customer, of the CRM or known only from orders
#: (docs/decisions/0045-customers-known-only-from-their-orders.md); ``segment_summary`` and ``satisfaction_index``
#: aggregate ``int_cx_events`` (orders, survey responses, complaints from any channel);
#: ``expectation_gap`` counts promises (``int_promises``: delivery, stock, price and returns of orders,
#: response times of tickets); ``expectation_levels`` joins promises to survey answers of the same
#: order; the complaint tables read tickets, low survey scores with a comment and social posts;
#: ``service_recovery`` is about complaint tickets; ``cx_events`` holds the events of ``int_cx_events``.
TABLE_SOURCES: dict[str, tuple[tuple[str, ...], ...]] = {
    "customer_segments": (("crm.customers", "sales.orders"),),
    "segment_summary": (_CX_EVENTS,),
    "satisfaction_index": (_CX_EVENTS,),
    "expectation_gap": (("sales.orders", "crm.tickets"),),
    "expectation_levels": (("sales.orders",), ("surveys.responses",)),
    "complaint_root_causes": (_COMPLAINT_TEXTS,),
    "complaints": (_COMPLAINT_TEXTS,),
    "complaint_alerts": (_COMPLAINT_TEXTS,),
    "service_recovery": (("crm.tickets",),),
    "cx_events": (_CX_EVENTS,),
}


def _describe(group: tuple[str, ...]) -> str:
    return group[0] if len(group) == 1 else "any of " + ", ".join(group)


def tables_allowed_empty(sources: Collection[str], optional: Collection[str] = ()) -> dict[str, str]:
    """Reporting tables that may be empty in a deployment, with the reason (for ``publication_log``).

    ``sources``: the deployment's sources (``CX_SOURCES``); ``optional``: its entities
    (``source.entity``) that the contract makes optional. A table cannot be fed when a group of
    :data:`TABLE_SOURCES` has no entity of a configured source; it may be empty when every such
    entity of a group is optional (delivering none is a valid delivery). Other tables must have rows.
    """
    reasons: dict[str, str] = {}
    for table, groups in TABLE_SOURCES.items():
        for group in groups:
            configured = [e for e in group if e.split(".", 1)[0] in sources]
            if not configured:
                reasons[table] = f"needs {_describe(group)}; the deployment's sources are {', '.join(sources)}"
                break
            if all(e in optional for e in configured):
                reasons[table] = f"needs {_describe(tuple(configured))}, optional in the contract and delivered none"
                break
    return reasons


#: Column names that would mean raw PII reached a reporting table.
PII_COLUMN_NAMES = frozenset({"full_name", "name", "email", "phone", "handle", "address", "customer_id"})


def dbt_model_id(manifest: dict[str, object], table: str) -> str:
    """The manifest's unique id of the dbt model that builds reporting table ``table``.

    Reporting models are versioned (docs/marts.md, "Contracts and versions"): the table is the
    model's latest version, while an older version is kept under its own alias.
    """
    nodes = manifest.get("nodes")
    if not isinstance(nodes, dict):
        raise TypeError("manifest.json has no nodes: run dbt parse or dbt build")
    for unique_id, node in nodes.items():
        if (
            node.get("resource_type") == "model"
            and node.get("name") == table
            and node.get("version") == node.get("latest_version")
        ):
            return str(unique_id)
    raise KeyError(f"reporting table {table!r} has no dbt model in the manifest: add models/marts/<domain>/{table}.sql")


#: Column added to every published reporting table: the publication its rows belong to.
PUBLICATION_ID_COLUMN = "publication_id"
