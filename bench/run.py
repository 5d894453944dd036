"""`make bench`: load-test the quote API and the model page against the app's minimal endpoint.

Starts the app under granian (WSGI, 2 workers) on a free loopback port with a fresh, seeded SQLite
database (or DATABASE_URL when set), measures every scenario in the same run with wrk (or a Python
fallback), prints requests/s and each ratio against the minimal endpoint with its target (≥ 0.5), and
writes var/bench/results.json. Exits 0 whatever the figures; a line below its target is marked.

    uv run python bench/run.py [--duration 10] [--connections 32] [--threads 2] [--scenario quote ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import Load, Measurement, Target, find_wrk, run_python, run_wrk
from scenarios import REGISTRY, Plan, Scenario, Skip, baseline
from server import HOST, REPO_DIR, BenchSetupError, Server, bench_environment, free_port, prepare_database

TIME_BUDGET_S = 110.0  # the whole run, set-up included, stays under two minutes
WARMUP_S = 1.0


@dataclass
class Result:
    name: str
    title: str
    method: str = ""
    path: str = ""
    status: str = "ok"  # ok | skipped | failed
    note: str = ""
    requests: int = 0
    requests_per_second: float | None = None
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    non_2xx: int = 0
    socket_errors: int = 0
    ratio: float | None = None
    target_ratio: float | None = None
    meets_target: bool | None = None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of load per scenario (default 10)"
    )
    parser.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="load-generator threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes (default 2)")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted(REGISTRY),
        help="run only these (the baseline always runs)",
    )
    parser.add_argument("--all", action="store_true", help="also run the scenarios that are off by default")
    parser.add_argument(
        "--python-load", action="store_true", help="use the Python load generator even if wrk exists"
    )
    parser.add_argument("--output", type=Path, default=REPO_DIR / "var" / "bench" / "results.json")
    return parser.parse_args(argv)


def selected(args: argparse.Namespace) -> list[Scenario]:
    chosen = [
        item
        for item in REGISTRY.values()
        if item.baseline or (item.name in args.scenario if args.scenario else item.default or args.all)
    ]
    return sorted(chosen, key=lambda item: not item.baseline)


def measure(server: Server, plan: Plan, load: Load, wrk: str | None) -> Measurement:
    target = Target(HOST, server.port, plan.method, plan.path, plan.body, plan.headers, plan.lua_script)
    warmup = Load(duration_s=WARMUP_S, connections=load.connections, threads=load.threads)
    runner = (
        (lambda run_load: run_wrk(wrk, target, run_load))
        if wrk
        else (lambda run_load: run_python(target, run_load))
    )
    runner(warmup)
    return runner(load)


def check_once(server: Server, plan: Plan) -> str | None:
    answer = server.request(plan.method, plan.path, body=plan.body, headers=plan.headers)
    if answer.status != plan.expect_status:
        return f"{plan.method} {plan.path} answered {answer.status}, expected {plan.expect_status}"
    if plan.check is not None:
        try:
            return plan.check(answer.json())
        except ValueError:
            return "the response is not JSON"
    return None


def run_scenario(item: Scenario, server: Server, load: Load, wrk: str | None) -> Result:
    result = Result(name=item.name, title=item.title, target_ratio=item.target_ratio)
    try:
        plan = item.plan(server)
    except Skip as reason:
        result.status, result.note = "skipped", str(reason)
        return result
    result.method, result.path = plan.method, plan.path
    problem = check_once(server, plan)
    if problem:
        result.status, result.note = "failed", problem
        return result
    try:
        measurement = measure(server, plan, load, wrk)
    except (RuntimeError, ValueError, OSError) as error:
        result.status, result.note = "failed", str(error)
        return result
    result.requests = measurement.requests
    result.requests_per_second = measurement.requests_per_second
    result.latency_p50_ms = measurement.latency_p50_ms
    result.latency_p99_ms = measurement.latency_p99_ms
    result.non_2xx = measurement.non_2xx
    result.socket_errors = measurement.socket_errors
    if measurement.non_2xx or measurement.socket_errors:
        # Error responses are cheap: a rate that includes them overstates the endpoint.
        result.status = "failed"
        result.note = f"{measurement.non_2xx} non-2xx responses, {measurement.socket_errors} socket errors"
    return result


def apply_ratios(results: list[Result]) -> None:
    base = next((result for result in results if result.name == baseline().name), None)
    if base is None or not base.requests_per_second or base.status != "ok":
        return
    for result in results:
        if result is base or result.requests_per_second is None or result.status != "ok":
            continue
        result.ratio = result.requests_per_second / base.requests_per_second
        if result.target_ratio is not None:
            result.meets_target = result.ratio >= result.target_ratio


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def print_table(results: list[Result], header: str) -> None:
    base_name = baseline().name
    rows = [
        ("scenario", "request", "req/s", "p50 ms", "p99 ms", f"ratio vs {base_name}", "target", "verdict")
    ]
    for result in results:
        if result.name == base_name:
            verdict = "baseline" if result.status == "ok" else result.status.upper()
        elif result.status != "ok":
            verdict = result.status.upper()
        elif result.meets_target is None:
            verdict = "—"
        else:
            verdict = "ok" if result.meets_target else "BELOW TARGET"
        rows.append(
            (
                result.name,
                f"{result.method} {result.path}".strip() or "—",
                _number(result.requests_per_second),
                _number(result.latency_p50_ms, 2),
                _number(result.latency_p99_ms, 2),
                _number(result.ratio, 2),
                f"≥ {result.target_ratio:.2f}" if result.target_ratio is not None else "—",
                verdict,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    numeric = {2, 3, 4, 5}
    print()
    print(header)
    for index, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)
        ]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    for result in results:
        if result.note:
            print(f"  {result.name}: {result.note}")
    print()


def fit_load(args: argparse.Namespace, scenarios: list[Scenario], *, spent_s: float) -> Load:
    """The load per scenario, shortened when set-up was slow so the whole run stays in its time budget."""
    # Each scenario also spends its warm-up and ~2 s discovering inputs and checking one response.
    per_scenario = (TIME_BUDGET_S - spent_s - 5.0) / len(scenarios) - WARMUP_S - 2.0
    duration = max(2.0, min(args.duration, per_scenario))
    if duration < args.duration:
        print(
            f"note: set-up took {spent_s:.0f} s, so {duration:.0f} s per scenario (not {args.duration:.0f} s)"
        )
    return Load(duration_s=duration, connections=args.connections, threads=args.threads)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    cpus = os.cpu_count() or 1
    if load_before > cpus:
        print(
            f"note: this machine is busy (load {load_before:.1f} on {cpus} CPUs): absolute rates will be low "
            "and noisy; the ratios, measured in the same run, hold up better."
        )
    scenarios = selected(args)
    wrk = None if args.python_load else find_wrk(install=True)
    if wrk is None:
        print(
            "note: wrk is not available (install it with `apt-get install -y wrk`); "
            "using the Python load generator,"
        )
        print("      which is slower than wrk: the figures below are indicative only.")

    with tempfile.TemporaryDirectory(prefix="forecourt-bench-") as var_dir:
        env = bench_environment(Path(var_dir))
        database = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
        if database == "postgresql":
            env["DATABASE_URL"] = os.environ["DATABASE_URL"]
        else:
            env.pop("DATABASE_URL", None)
        print(f"preparing the bench database ({database}) …", flush=True)
        try:
            seeded_by = prepare_database(env)
        except (BenchSetupError, OSError) as error:
            print(f"bench set-up failed: {error}", file=sys.stderr)
            return 1
        server = Server(
            env=env, port=free_port(), workers=args.workers, log_path=Path(var_dir) / "granian.log"
        )
        print(f"starting granian (WSGI, {args.workers} workers) on {server.base_url} …", flush=True)
        results: list[Result] = []
        load = Load(duration_s=args.duration, connections=args.connections, threads=args.threads)
        try:
            server.start()
            load = fit_load(args, scenarios, spent_s=time.monotonic() - started)
            for item in scenarios:
                print(f"  {item.name}: {item.title} …", flush=True)
                results.append(run_scenario(item, server, load, wrk))
        except BenchSetupError as error:
            print(f"bench set-up failed: {error}", file=sys.stderr)
            log = server.log_path.read_text(errors="replace")[-3000:] if server.log_path.exists() else ""
            print(log, file=sys.stderr)
            return 1
        finally:
            server.stop()

    apply_ratios(results)
    generator = "wrk" if wrk else "python (threaded, indicative)"
    header = (
        f"Forecourt bench · granian WSGI, {args.workers} workers · {generator}, {load.threads} threads, "
        f"{load.connections} connections, {load.duration_s:.0f} s per scenario · "
        f"{database}, seeded by {seeded_by}"
    )
    print_table(results, header)
    report: dict[str, Any] = {
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "server": {"interface": "wsgi", "server": "granian", "workers": args.workers, "host": HOST},
        "load": {"generator": generator, **asdict(load)},
        "database": database,
        "seeded_by": seeded_by,
        "machine": {
            "cpus": cpus,
            "load_average_at_start": round(load_before, 2),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "baseline": baseline().name,
        "scenarios": [asdict(result) for result in results],
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"results written to {args.output} ({report['elapsed_s']} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
