"""``embed serve``: run the application on uvicorn, in one or more worker processes."""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import shutil
import socket
import tempfile
from pathlib import Path

from .settings import API_KEY_VARIABLE, BATCH_WAIT_VARIABLE, CORS_VARIABLE, STORE_VARIABLE

REQUIRED_MODULES = ("fastapi", "uvicorn", "prometheus_client")
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
DEFAULT_WORKERS = 1
"""One process: it batches all concurrent queries and splits each product over every core;
a second one halves the batches and its products compete for the same cores (measured in
benchmarks/RESULTS.md: 26 against 10 answers/s on 1M x 300 at concurrency 16)."""


def check_installed() -> None:
    """Raise :class:`ModuleNotFoundError` naming the first module of the serve extra that is
    missing (checked without importing numpy, whose BLAS threads are not set yet)."""
    for name in REQUIRED_MODULES:
        if importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def default_workers() -> int:
    """The worker processes when ``--workers`` is not given: :data:`DEFAULT_WORKERS`."""
    return DEFAULT_WORKERS


def run_server(*, store: Path | None, host: str, port: int, workers: int | None,
               api_key: str | None, cors_origins: list[str],
               batch_wait_ms: float | None = None) -> None:
    """Serve ``store`` until interrupted. Settings reach every worker through the environment.
    BLAS runs one thread per product (unless ``OPENBLAS_NUM_THREADS`` and the like say
    otherwise): a worker runs one product at a time, for a batch of concurrent queries, and
    splits it by rows over every core itself."""
    workers = workers or default_workers()
    for variable in BLAS_VARIABLES:  # before numpy is first imported, here or in a worker
        # Split by rows over our own threads, one BLAS thread each: a multi-threaded BLAS
        # call waits for its slowest thread at every step, and beside other work on the
        # machine (or another worker's product) its time grew eightfold where split
        # products stayed within twice (benchmarks/RESULTS.md).
        os.environ.setdefault(variable, "1")
    if store is not None:
        os.environ[STORE_VARIABLE] = str(store.resolve())
    if api_key:
        os.environ[API_KEY_VARIABLE] = api_key
    os.environ[CORS_VARIABLE] = "\n".join(cors_origins)
    if batch_wait_ms is not None:
        os.environ[BATCH_WAIT_VARIABLE] = repr(batch_wait_ms)
    metrics_directory = None
    if workers > 1:  # prometheus_client adds up the workers' counts from files here
        metrics_directory = tempfile.mkdtemp(prefix="embedstore-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_directory
    import uvicorn

    config = uvicorn.Config("embedstore_server.app:app_from_environment", factory=True,
                            host=host, port=port, workers=workers, log_level="info",
                            access_log=False)
    server = uvicorn.Server(config)
    if not api_key and host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("uvicorn.error").warning(
            "serving on %s without --api-key: anyone who can reach this address can query "
            "the store", host)
    try:
        if workers == 1:
            server.run()
        else:
            from uvicorn.supervisors import Multiprocess

            listening = config.bind_socket()
            # Connections accepted by the workers inherit this; without it a response's
            # second write waits for the client's delayed acknowledgement (about 40 ms).
            listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn < 0.50
                Multiprocess(config, target=server.run,  # type: ignore[call-arg]
                             sockets=[listening]).run()
            else:
                Multiprocess(config, sockets=[listening]).run()
    finally:
        if metrics_directory is not None:
            shutil.rmtree(metrics_directory, ignore_errors=True)
