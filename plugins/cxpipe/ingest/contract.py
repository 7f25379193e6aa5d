"""The contract of a run: the base contract with the deployment's overrides (``CX_CONTRACT_OVERRIDES``).

:mod:`cxpipe.contracts` cannot read settings (it is the lowest layer); this module
combines the two for ingest. The result is cached per override file and version, so
a run reads and validates the file once, and an edited file is read again.
"""

from __future__ import annotations

import functools
from pathlib import Path

from cxpipe.contracts import BASE_CONTRACT, CONTRACT_FILE, Contract, ContractError, read_contract
from cxpipe.settings import Settings


@functools.lru_cache(maxsize=8)
def _read(path: str, _version: tuple[int, int]) -> Contract:
    return read_contract(CONTRACT_FILE, Path(path))


def load_contract(settings: Settings) -> Contract:
    """The contract ingest enforces: the base contract, with ``settings.ingest.contract_overrides`` merged over it.

    Raises :class:`~cxpipe.contracts.ContractError` naming the override file, the path
    inside it and what is expected there.
    """
    path = settings.ingest.contract_overrides
    if path is None:
        return BASE_CONTRACT
    try:
        stat = path.stat()
    except OSError as exc:
        raise ContractError(
            str(path), f"cannot read the contract overrides ({exc.strerror or exc})", "Fix CX_CONTRACT_OVERRIDES."
        ) from None
    return _read(str(path), (stat.st_mtime_ns, stat.st_size))
