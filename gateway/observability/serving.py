"""What ``guichet serve`` hands uvicorn: the logging configuration, and the workers' shared metrics folder."""

from __future__ import annotations

import logging.config
from typing import Any

from gateway.observability.logs import logging_config
from gateway.observability.metrics import prepare_multiprocess_dir
from gateway.settings import Settings


def serving_options(settings: Settings, *, port: int, workers: int) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``; configures this process's logging and, for workers, their metrics.

    The metrics folder is ``<data_dir>/metrics/<port>``: emptied here, before any
    worker starts, and one per port, so two gateways sharing a data folder on one
    machine never empty each other's.
    """
    config = logging_config(settings.logging.format, settings.logging.level, access_log=settings.logging.access_log)
    logging.config.dictConfig(config)
    if workers > 1:
        prepare_multiprocess_dir(settings.data_dir / "metrics" / str(port))
    return {"log_config": config}
