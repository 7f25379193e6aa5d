"""cxpipe: customer-experience data pipeline (ingest, dbt models, quality gate, publish)."""

__version__ = "0.1.0"
