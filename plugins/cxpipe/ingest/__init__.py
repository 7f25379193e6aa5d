"""Landing files -> typed Parquet in the lake, with quarantine and a load audit.

For one source and one landing date, each entity's files are decoded (declared
or detected encoding), parsed with their physical line numbers, checked against
the deployment's contract (:mod:`cxpipe.contracts`, overrides merged by
:func:`~cxpipe.ingest.contract.load_contract`) and split: rows that pass are typed, their
PII replaced by keyed hashes, and written to
``lake/<source>/<entity>/load_date=<date>/part-0.parquet``; rows that fail go to
``quarantine/…`` with their file, line number, raw content and reason. Every run
checks ``rows_in == rows_loaded + rows_quarantined`` and, by physical line,
``lines_in == lines_loaded + lines_quarantined + lines_blank``, and records both in
``lake/_load_audit``. Landing is a trust boundary (regular files inside it only,
names matched exactly) and errors never show row content (decision 0017). All
files of a source are first written beside their targets and only renamed over
them once every entity has passed, so a re-run replaces a date's partitions and a
crash leaves the previous ones.

Modules, in the order a file goes through them:

* :mod:`~cxpipe.ingest.contract`: the run's contract (the base contract with ``CX_CONTRACT_OVERRIDES``);
* :mod:`~cxpipe.ingest.landing`: where files land, whether a date is ready, reading them;
* :mod:`~cxpipe.ingest.decoding`: bytes -> text (declared, BOM, UTF-8 or detected encoding);
* :mod:`~cxpipe.ingest.parsing`: CSV and JSON Lines -> string columns with line numbers;
* :mod:`~cxpipe.ingest.validation`: typing, reasons for quarantine, duplicate keys;
* :mod:`~cxpipe.ingest.lake`: staged lake and quarantine partitions, the load audit;
* :mod:`~cxpipe.ingest.load`: one source and date end to end (:func:`ingest_source`).

PII handling (keyed hashes, redaction of free text) is :mod:`cxpipe.privacy`.
"""

from cxpipe.ingest.contract import load_contract
from cxpipe.ingest.decoding import decode
from cxpipe.ingest.lake import QUARANTINE_SCHEMA
from cxpipe.ingest.landing import landing_file, landing_files, landing_ready
from cxpipe.ingest.load import LoadResult, RowBalanceError, ingest_entity, ingest_source
from cxpipe.ingest.parsing import parse_csv, parse_jsonl

__all__ = [
    "QUARANTINE_SCHEMA",
    "LoadResult",
    "RowBalanceError",
    "decode",
    "ingest_entity",
    "ingest_source",
    "landing_file",
    "landing_files",
    "landing_ready",
    "load_contract",
    "parse_csv",
    "parse_jsonl",
]
