"""The service under load: requests/s and p50/p99 latency of ``similar`` over HTTP at several
concurrencies, beside the in-process floor (the same queries through the Python API, one after
another, on the same cores), and the server's own share of a request.

The floor is measured in the same run, in fresh processes, with numpy's default BLAS threads
and with one BLAS thread; the better of the two is the 1.00x the server is compared with. A
ratio means something only on a quiet machine: when the 1-minute load average is above 0.5
before the run, the script prints the load and the figures but no ratio.

The server's own share is measured apart: ``GET /healthz`` (the framework alone) and ``GET
.../vector`` (a version resolved and an item looked up, no product) at concurrency 1, and
the median of a ``similar`` request at concurrency 1 less the in-process median.

The load generator is wrk (Debian: ``apt-get install wrk``), not ours: it keeps C connections
busy for D seconds, each request a ``similar`` of the next query item (a Lua script cycles
through them), and reports its latency percentiles. The server is ``embed serve`` started
here, on 127.0.0.1, with ``--workers`` (default: the server's own default).

Usage::

    python benchmarks/bench_serve.py --store work/sbench/store --model words
    python benchmarks/bench_serve.py --store work/sbench/store --synthetic 1000000 300 \\
        --concurrency 1 16 64 --duration 20

``--synthetic N DIM`` first adds a version of N random DIM-dimensional vectors to the store
(model ``--model``, default ``synthetic``) by ``embed import`` of a .npy file written beside the
store; without it the store must already hold ``--model``. Prints a Markdown table, and with
``--json`` the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np

import embedstore

ROWS_PER_WRITE = 50_000

WRK_SCRIPT = """
local paths = {%s}
local next_path = 0
request = function()
  next_path = next_path %% #paths + 1
  return wrk.format("GET", paths[next_path])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "errors": %%d, "non2xx": %%d, "seconds": %%f, ' ..
    '"p50_ms": %%f, "p99_ms": %%f}\\n',
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
"""


def make_synthetic(store: Path, model: str, items: int, dim: int) -> None:
    """Add a version of ``items`` random unit-scale vectors to ``model`` via ``embed import``."""
    store.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="synthetic-", dir=store.parent))
    try:
        matrix = np.lib.format.open_memmap(work / "vectors.npy", mode="w+", dtype=np.float32,
                                           shape=(items, dim))
        rng = np.random.default_rng(0)
        for start in range(0, items, ROWS_PER_WRITE):
            stop = min(items, start + ROWS_PER_WRITE)
            matrix[start:stop] = rng.standard_normal((stop - start, dim), dtype=np.float32)
        matrix.flush()
        del matrix
        with (work / "vectors.vocab").open("w", encoding="utf-8") as vocab:
            for row in range(items):
                vocab.write(f"item{row}\t{items - row}\n")
        subprocess.run([sys.executable, "-m", "embedstore_cli", "--store", str(store), "import",
                        str(work / "vectors.npy"), "--vocab", str(work / "vectors.vocab"),
                        "--model", model, "--name", f"synthetic {items}x{dim}"], check=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def query_items(store: Path, model: str, count: int) -> list[str]:
    """``count`` items spread evenly over the vocabulary (a fixed choice for a version)."""
    with embedstore.open(store, model) as vectors:
        rows = np.linspace(0, len(vectors) - 1, num=min(count, len(vectors))).astype(int)
        return vectors.items_at(rows.tolist())


FLOOR = """
import json, statistics, sys, time
import embedstore
store, model, k, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
items = json.loads(sys.stdin.read())
latencies = []
with embedstore.open(store, model) as vectors:
    for item in items[:20]:
        vectors.similar(item, k=k)  # warm the page cache and the buffers
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        for item in items:
            start = time.perf_counter()
            vectors.similar(item, k=k)
            latencies.append(time.perf_counter() - start)
            if time.perf_counter() - began >= seconds:
                break
    elapsed = time.perf_counter() - began
quantiles = statistics.quantiles(latencies, n=100)
print(json.dumps({"requests_per_second": len(latencies) / elapsed, "p50_ms": quantiles[49] * 1e3,
                  "p99_ms": quantiles[98] * 1e3, "requests": len(latencies)}))
"""


def floor(store: Path, model: str, items: list[str], k: int, seconds: float,
          blas_threads: int | None) -> dict[str, float]:
    """Sequential in-process ``similar`` queries for about ``seconds`` in a fresh process with
    ``blas_threads`` BLAS threads (None: numpy's default, one per core)."""
    env = dict(os.environ)
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(variable, None)
        if blas_threads:
            env[variable] = str(blas_threads)
    output = subprocess.run([sys.executable, "-c", FLOOR, str(store), model, str(k),
                             str(seconds)], input=json.dumps(items), capture_output=True,
                            text=True, check=True, env=env).stdout
    return json.loads(output)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(store: Path, port: int, workers: int | None) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "embedstore_cli", "--store", str(store), "serve",
               "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("embed serve did not become ready")


QUIET_LOAD = 0.5
"""Above this 1-minute load average before the run, no ratio is reported."""


def load_average() -> float:
    return os.getloadavg()[0]


def blas_kernel() -> str:
    """The BLAS library and kernel numpy runs here (through threadpoolctl when installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl is not installed)"
    found = [f"{info.get('internal_api')} {info.get('version')} {info.get('architecture')}"
             for info in threadpool_info() if info.get("user_api") == "blas"]
    return ", ".join(found) or "unknown"


def run_wrk(url: str, paths: list[str], connections: int, seconds: float,
            script_dir: Path) -> dict[str, float]:
    script = script_dir / "similar.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths), encoding="utf-8")
    threads = max(1, min(connections, 2))
    output = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
         "--timeout", "30s", "-s", str(script), url],
        check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["requests_per_second"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="store to serve")
    parser.add_argument("--model", default=None,
                        help="model to query (default: synthetic with --synthetic, else default)")
    parser.add_argument("--synthetic", nargs=2, type=int, metavar=("ITEMS", "DIM"),
                        help="first import a random ITEMS x DIM version into --model")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--workers", type=int, help="embed serve --workers (default: its own)")
    parser.add_argument("--queries", type=int, default=1000, help="distinct query items")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    load_before = load_average()
    model = args.model or ("synthetic" if args.synthetic else "default")
    if args.synthetic:
        make_synthetic(args.store, model, *args.synthetic)
    items = query_items(args.store, model, args.queries)
    paths = [f"/v1/models/{quote(model)}/similar?item={quote(item)}&k={args.k}" for item in items]
    with embedstore.open(args.store, model) as vectors:
        shape = f"{len(vectors)} x {vectors.info.dim}, version {vectors.version}"
    floors = {f"floor: in-process, sequential, {threads or 'default'} BLAS threads":
              floor(args.store, model, items, args.k, args.duration, threads)
              for threads in (None, 1)}
    served, share = serve_and_measure(args, model, items, paths)
    quiet = load_before <= QUIET_LOAD
    print(f"\n{model}: {shape}; embed serve --workers {args.workers or 'default'}; k={args.k}; "
          f"{args.duration:g} s per row; {os.cpu_count()} cores; BLAS: {blas_kernel()}")
    print(f"load average (1 min) before the run: {load_before:.2f}, after: "
          f"{load_average():.2f}" + ("" if quiet else
                                     f" -- above {QUIET_LOAD}: no ratio is reported"))
    print_table(floors, served, quiet)
    print_share(share, floors, served.get(1))
    if args.json:
        print(json.dumps({"model": model, "shape": shape, "load_before": load_before,
                          "floors": floors, "served": served, "share": share}, indent=2))


def serve_and_measure(args: argparse.Namespace, model: str, items: list[str],
                      paths: list[str]) -> tuple[dict[int, dict[str, float]],
                                                 dict[str, dict[str, float]]]:
    """wrk against a fresh ``embed serve``: ``similar`` at each concurrency, then the
    server's own share (``/healthz`` and ``vector`` at concurrency 1)."""
    port = free_port()
    server = start_server(args.store, port, args.workers)
    url = f"http://127.0.0.1:{port}"
    served: dict[int, dict[str, float]] = {}
    share: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as scripts:
            run_wrk(url, paths, 4, 2, Path(scripts))  # warm up
            for connections in args.concurrency:
                served[connections] = run_wrk(url, paths, connections, args.duration,
                                              Path(scripts))
            vectors = [f"/v1/models/{quote(model)}/vector?item={quote(item)}" for item in items]
            for name, probe in (("GET /healthz", ["/healthz"]), ("GET .../vector", vectors)):
                share[name] = run_wrk(url, probe, 1, min(args.duration, 5), Path(scripts))
    finally:
        server.terminate()
        server.wait()
    return served, share


def print_table(floors: dict[str, dict[str, float]], served: dict[int, dict[str, float]],
                quiet: bool) -> None:
    base = max(floors.values(), key=lambda result: result["requests_per_second"])

    def ratio(result: dict[str, float]) -> str:
        return f"{result['requests_per_second'] / base['requests_per_second']:.2f}x" if quiet \
            else "(load)"

    print("\nThe floor is the better of the two in-process rows (measured in this run).\n")
    print("| concurrency | requests/s | vs floor | p50 ms | p99 ms | p99/p50 | errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for name, result in floors.items():
        print(f"| {name} | {result['requests_per_second']:.0f} | {ratio(result)} | "
              f"{result['p50_ms']:.2f} | {result['p99_ms']:.2f} | "
              f"{result['p99_ms'] / result['p50_ms']:.1f} | 0 |")
    for connections, result in served.items():
        print(f"| {connections} | {result['requests_per_second']:.0f} | {ratio(result)} | "
              f"{result['p50_ms']:.2f} | {result['p99_ms']:.2f} | "
              f"{result['p99_ms'] / result['p50_ms']:.1f} | "
              f"{int(result['errors'] + result['non2xx'])} |")


def print_share(share: dict[str, dict[str, float]], floors: dict[str, dict[str, float]],
                single: dict[str, float] | None) -> None:
    """The server's own cost of a request, measured apart (concurrency 1, medians)."""
    best = min(floors.values(), key=lambda result: result["p50_ms"])
    print("\nThe server's own share of a request (concurrency 1, wrk's round trip included):\n")
    print("| request | requests/s | p50 ms |")
    print("|---|---:|---:|")
    for name, result in share.items():
        print(f"| {name} | {result['requests_per_second']:.0f} | {result['p50_ms']:.3f} |")
    print(f"| in-process similar (the faster floor's median) | | {best['p50_ms']:.3f} |")
    if single is not None:
        print(f"| similar at concurrency 1, less the in-process median | | "
              f"{single['p50_ms'] - best['p50_ms']:.3f} |")


if __name__ == "__main__":
    main()
