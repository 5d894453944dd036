"""Load generators: wrk when it is installed (or installable), else a multi-process Python fallback."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Load:
    duration_s: float
    connections: int
    threads: int


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    lua_script: str | None = None


@dataclass
class Measurement:
    requests: int
    requests_per_second: float
    non_2xx: int = 0
    socket_errors: int = 0
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None


def find_wrk(*, install: bool) -> str | None:
    """wrk on PATH; as root on Debian, install it once (`apt-get install -y wrk`) when asked to."""
    found = shutil.which("wrk")
    if found or not install:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    print("wrk is missing: installing it with `apt-get install -y wrk` …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        installed = subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"], env=env, capture_output=True, timeout=120, check=False
        )
        if installed.returncode != 0:
            subprocess.run(
                ["apt-get", "update", "-q"], env=env, capture_output=True, timeout=120, check=False
            )
            subprocess.run(
                ["apt-get", "install", "-y", "-q", "wrk"],
                env=env,
                capture_output=True,
                timeout=120,
                check=False,
            )
    except subprocess.TimeoutExpired:
        return None
    return shutil.which("wrk")


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _duration_ms(text: str) -> float | None:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(match.group(1)) * _UNITS_MS[match.group(2)] if match else None


def parse_wrk(output: str) -> Measurement:
    """Read requests, requests/s, errors and latency percentiles from `wrk --latency` output."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rate is None or total is None:
        raise ValueError(f"unexpected wrk output:\n{output}")
    measurement = Measurement(requests=int(total.group(1)), requests_per_second=float(rate.group(1)))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    measurement.non_2xx = int(non_2xx.group(1)) if non_2xx else 0
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    measurement.socket_errors = sum(int(n) for n in sockets.groups()) if sockets else 0
    for percentile, attribute in (("50", "latency_p50_ms"), ("99", "latency_p99_ms")):
        line = re.search(rf"^\s+{percentile}%\s+(\S+)", output, re.MULTILINE)
        if line:
            setattr(measurement, attribute, _duration_ms(line.group(1)))
    return measurement


def run_wrk(wrk: str, target: Target, load: Load) -> Measurement:
    script = target.lua_script or "request.lua"
    env = dict(os.environ)
    env["FORECOURT_BENCH_METHOD"] = target.method
    env["FORECOURT_BENCH_BODY"] = target.body.decode("utf-8") if target.body else ""
    env["FORECOURT_BENCH_CONTENT_TYPE"] = target.headers.get("Content-Type", "")
    command = [
        wrk,
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{max(1, round(load.duration_s))}s",
        "--timeout", "10s",
        "--latency",
        "-s", str(BENCH_DIR / script),
        f"http://{target.host}:{target.port}{target.path}",
    ]  # fmt: skip
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=load.duration_s + 30, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"wrk failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}"
        )
    return parse_wrk(result.stdout)


def _python_worker(target: Target, connections: int, duration_s: float, queue: multiprocessing.Queue) -> None:
    deadline = time.monotonic() + duration_s
    lock = threading.Lock()
    totals = {"ok": 0, "non_2xx": 0, "errors": 0}
    latencies: list[float] = []

    def client() -> None:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=10)
        ok = non_2xx = errors = 0
        mine: list[float] = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                connection.request(target.method, target.path, body=target.body, headers=target.headers)
                answer = connection.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection(target.host, target.port, timeout=10)
                continue
            mine.append((time.perf_counter() - started) * 1000)
            if 200 <= answer.status < 400:
                ok += 1
            else:
                non_2xx += 1
        connection.close()
        with lock:
            totals["ok"] += ok
            totals["non_2xx"] += non_2xx
            totals["errors"] += errors
            latencies.extend(mine)

    clients = [threading.Thread(target=client) for _ in range(connections)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    queue.put((totals, latencies))


def run_python(target: Target, load: Load) -> Measurement:
    """A threaded client in `load.threads` processes: slower than wrk, so its ratios are only indicative."""
    processes = max(1, load.threads)
    per_process = max(1, load.connections // processes)
    queue: multiprocessing.Queue = multiprocessing.Queue()
    started = time.monotonic()
    workers = [
        multiprocessing.Process(target=_python_worker, args=(target, per_process, load.duration_s, queue))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=load.duration_s + 30) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    elapsed = time.monotonic() - started
    ok = sum(totals["ok"] for totals, _ in results)
    non_2xx = sum(totals["non_2xx"] for totals, _ in results)
    errors = sum(totals["errors"] for totals, _ in results)
    latencies = sorted(value for _, values in results for value in values)

    def percentile(share: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] if latencies else None

    return Measurement(
        requests=ok + non_2xx,
        requests_per_second=(ok + non_2xx) / elapsed if elapsed else 0.0,
        non_2xx=non_2xx,
        socket_errors=errors,
        latency_p50_ms=percentile(0.50),
        latency_p99_ms=percentile(0.99),
    )
