"""Contracts: what each source must deliver (:mod:`.sources`) and what BI tools read (:mod:`.reporting`).

The source contract is data, ``dbt_project/contracts/sources.yml``, read and validated by
:mod:`.contract_file` (also a deployment's overrides of it) into the classes of :mod:`.model`.

The lowest layer of cxpipe: every other package may import it; it imports none of them.
"""

from __future__ import annotations

from cxpipe.contracts.contract_file import CONTRACT_FILE, SCHEMA_FILE, read_contract
from cxpipe.contracts.model import STANDARDS, Contract, country_code, standard_codes
from cxpipe.contracts.reporting import (
    MARTS_SCHEMA,
    PII_COLUMN_NAMES,
    PUBLICATION_ID_COLUMN,
    REPORTING_TABLES,
    dbt_model_id,
)
from cxpipe.contracts.sources import (
    BASE_CONTRACT,
    CATEGORIES,
    CHANNELS,
    CUSTOMERS,
    DBT_DATA_TYPES,
    ENTITIES,
    LAKE_COLUMNS,
    MEMBERSHIP_TIERS,
    ORDER_LINES,
    ORDERS,
    PLATFORMS,
    POSTS,
    RESPONSES,
    RETURN_STATUSES,
    RETURNS,
    ROOT_CAUSES,
    SOURCES,
    STORES,
    TICKET_CHANNELS,
    TICKETS,
    TOUCHPOINTS,
    Column,
    ColumnType,
    ContractError,
    Entity,
    FileFormat,
    entities_of,
    render_dbt_sources,
    render_markdown,
)

__all__ = [
    "BASE_CONTRACT",
    "CATEGORIES",
    "CHANNELS",
    "CONTRACT_FILE",
    "CUSTOMERS",
    "DBT_DATA_TYPES",
    "ENTITIES",
    "LAKE_COLUMNS",
    "MARTS_SCHEMA",
    "MEMBERSHIP_TIERS",
    "ORDERS",
    "ORDER_LINES",
    "PII_COLUMN_NAMES",
    "PLATFORMS",
    "POSTS",
    "PUBLICATION_ID_COLUMN",
    "REPORTING_TABLES",
    "RESPONSES",
    "RETURNS",
    "RETURN_STATUSES",
    "ROOT_CAUSES",
    "SCHEMA_FILE",
    "SOURCES",
    "STANDARDS",
    "STORES",
    "TICKETS",
    "TICKET_CHANNELS",
    "TOUCHPOINTS",
    "Column",
    "ColumnType",
    "Contract",
    "ContractError",
    "Entity",
    "FileFormat",
    "country_code",
    "dbt_model_id",
    "entities_of",
    "read_contract",
    "render_dbt_sources",
    "render_markdown",
    "standard_codes",
]
