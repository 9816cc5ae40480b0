"""Energy per request under concurrent load, and what the middleware costs a server.

Two uvicorn servers run the same app (``examples/serve_energy.py``: a tiny GPT-2 on
``/generate`` and an empty ``/ping``), each in its own process on a free loopback port:
one behind ``EnergyMiddleware`` with the machine's meter, one without. Separate
processes keep each server's CPU to itself (the CPU estimate charges the process tree)
and keep the load generator's CPU out of both. In rounds, alternating which server goes
first so that drift in machine load hits both alike, ``--clients`` concurrent clients
(HTTP/1.1 keep-alive, httpx) each send ``--requests`` requests to one endpoint of one
server. The run is bounded (rounds x clients x requests) and stops by itself.

Checks and measures:

- Energy adds up: the metered server reads its meter itself at lifespan startup and
  shutdown, outside the middleware. The sum of every ``X-Energy-Domains`` figure the
  clients received, plus the energy the middleware left unattributed (idle time,
  including the other server's rounds), must equal that meter total within 2 %, per
  domain. The clients' sum must also equal what the server says it attributed.
- Overhead: per endpoint, the time per request of a round with the middleware over
  the same round without it (median of the rounds' ratios, and their range), the
  median latency ratio, and each server's process CPU seconds per request.

A real server over TCP rather than ``httpx.ASGITransport``: the transport runs the app
in the client's process and event loop, with no sockets, HTTP parsing or thread pool,
so neither the overhead ratio nor the meter's process-wide CPU estimate would be those
of a deployed server.

    .venv/bin/python benchmarks/serve_load.py [--clients 8] [--rounds 16] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "serve_energy.py"
RESULT = ROOT / "benchmarks" / "results" / "serve-load-cpu.json"
TOLERANCE = 0.02
# endpoint name -> (path, query, requests per client per round)
ENDPOINTS: dict[str, tuple[str, dict[str, Any], int]] = {
    "ping": ("/ping", {}, 25),
    "generate": ("/generate", {"prompt": "hello world", "max_new_tokens": 8}, 3),
}

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[..., Awaitable[None]]], Awaitable[None]
]


# ------------------------------------------------------------------ the server process
def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("serve_energy_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ReportAtShutdown:
    """Outermost ASGI wrapper: reads the meter and the process CPU clock when lifespan
    startup arrives (before the middleware opens) and when the app has completed its
    shutdown (after the middleware closed), and writes them with the ledger's totals."""

    def __init__(self, app: ASGIApp, meter: Any, ledger: Any, path: Path) -> None:
        self.app, self.meter, self.ledger, self.path = app, meter, ledger, path
        self.start: dict[str, Any] = {}

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def watched_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start = self._clocks()
            return message

        async def watched_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                self._write(self._clocks())
            await send(message)

        await self.app(scope, watched_receive, watched_send)

    def _clocks(self) -> dict[str, Any]:
        reading = self.meter.read_j() if self.meter is not None else {}
        return {"cpu_s": time.process_time(), "wall_s": time.perf_counter(), "meter_j": reading}

    def _read_cost_us(self, reads: int = 200) -> float:
        """One meter reading in this process, as the middleware pays it at every event
        (with the server's threads alive: the CPU estimate walks every thread's children)."""
        started = time.perf_counter()
        for _ in range(reads):
            self.meter.read_j()
        return (time.perf_counter() - started) / reads * 1e6

    def _write(self, end: dict[str, Any]) -> None:
        report: dict[str, Any] = {
            "energy": self.meter is not None,
            "cpu_s": end["cpu_s"] - self.start["cpu_s"],
            "wall_s": end["wall_s"] - self.start["wall_s"],
        }
        if self.meter is not None:
            report["meter_j"] = {
                d: end["meter_j"][d] - self.start["meter_j"][d] for d in end["meter_j"]
            }
            report["provenance"] = {d.name: str(d.provenance) for d in self.meter.domains}
            report["ledger"] = asdict(self.ledger.totals())
            report["ledger"]["readings"] = self.ledger.readings
            report["ledger"]["active_at_end"] = self.ledger.active
            report["meter_read_us"] = self._read_cost_us()
        self.path.write_text(json.dumps(report, indent=2))


def serve(port: int, energy: bool, report: Path) -> None:
    import torch
    import uvicorn

    from genwatt.meter.meter import Meter
    from genwatt.serve import EnergyLedger

    torch.set_num_threads(1)
    example = load_example()
    meter = Meter(synchronize=False) if energy else None
    ledger = EnergyLedger() if energy else None
    app = ReportAtShutdown(example.build_app(meter, ledger=ledger), meter, ledger, report)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ------------------------------------------------------------------- the load generator
@dataclass
class Tally:
    """What the clients saw of one server."""

    requests: int = 0
    charged_j: dict[str, float] = field(default_factory=dict)
    provenance: set[str] = field(default_factory=set)
    seconds_per_request: dict[str, list[float]] = field(default_factory=dict)
    latencies_s: dict[str, list[float]] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_listening(port: int, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not listen within {timeout_s:.0f} s")


async def one_round(
    client: Any, endpoint: str, clients: int, tally: Tally, *, record: bool
) -> None:
    from genwatt.serve.headers import parse_domains

    path, query, per_client = ENDPOINTS[endpoint]
    latencies: list[float] = []

    async def one_client() -> None:
        for _ in range(per_client):
            sent = time.perf_counter()
            response = await client.get(path, params=query)
            latencies.append(time.perf_counter() - sent)
            response.raise_for_status()
            tally.requests += 1
            if "x-energy-domains" in response.headers:
                for domain, (joules, kind) in parse_domains(
                    response.headers["x-energy-domains"]
                ).items():
                    tally.charged_j[domain] = tally.charged_j.get(domain, 0.0) + joules
                    tally.provenance.add(kind)

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    wall_s = time.perf_counter() - started
    if record:
        tally.seconds_per_request.setdefault(endpoint, []).append(wall_s / len(latencies))
        tally.latencies_s.setdefault(endpoint, []).extend(latencies)


async def load(ports: dict[str, int], clients: int, rounds: int) -> dict[str, Tally]:
    import httpx

    tallies = {name: Tally() for name in ports}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    http = {
        name: httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60.0)
        for name, port in ports.items()
    }
    try:
        for endpoint in ENDPOINTS:  # warm-up: first calls, connections; not timed
            for name in ports:
                await one_round(http[name], endpoint, clients, tallies[name], record=False)
        for index in range(rounds):
            order = ["metered", "plain"] if index % 2 == 0 else ["plain", "metered"]
            for endpoint in ENDPOINTS:
                for name in order:
                    await one_round(http[name], endpoint, clients, tallies[name], record=True)
    finally:
        for client in http.values():
            await client.aclose()
    return tallies


def stop(process: subprocess.Popen[bytes]) -> None:
    """uvicorn's graceful shutdown (lifespan shutdown writes the report)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------------------- results
def ratio_summary(on: list[float], off: list[float]) -> dict[str, float]:
    ratios = [a / b for a, b in zip(on, off, strict=True)]
    return {
        "median_ratio": statistics.median(ratios),
        "min_ratio": min(ratios),
        "max_ratio": max(ratios),
        "metered_s_per_request_median": statistics.median(on),
        "plain_s_per_request_median": statistics.median(off),
        "added_us_per_request_median": (statistics.median(on) - statistics.median(off)) * 1e6,
    }


def energy_check(tally: Tally, report: dict[str, Any]) -> dict[str, Any]:
    ledger = report["ledger"]
    per_domain: dict[str, dict[str, float]] = {}
    for domain, meter_j in report["meter_j"].items():
        charged = tally.charged_j.get(domain, 0.0)
        accounted = charged + math.fsum(
            ledger[part].get(domain, 0.0) for part in ("unattributed_j", "unsplit_j", "partial_j")
        )
        per_domain[domain] = {
            "meter_j": meter_j,
            "charged_to_requests_j": charged,
            "unattributed_j": ledger["unattributed_j"].get(domain, 0.0),
            "accounted_j": accounted,
            "relative_difference": (accounted - meter_j) / meter_j if meter_j else 0.0,
            "server_attributed_j": ledger["attributed_j"].get(domain, 0.0),
        }
    meter_total = math.fsum(d["meter_j"] for d in per_domain.values())
    accounted_total = math.fsum(d["accounted_j"] for d in per_domain.values())
    worst = max(abs(d["relative_difference"]) for d in per_domain.values())
    # Every figure the server attributed reached a client, once.
    headers_match = all(
        math.isclose(d["charged_to_requests_j"], d["server_attributed_j"], rel_tol=1e-9)
        for d in per_domain.values()
    )
    return {
        "per_domain": per_domain,
        "meter_total_j": meter_total,
        "charged_total_j": math.fsum(tally.charged_j.values()),
        "accounted_total_j": accounted_total,
        "relative_difference": (accounted_total - meter_total) / meter_total,
        "worst_domain_relative_difference": worst,
        "tolerance": TOLERANCE,
        "headers_match_server_attributed": headers_match,
        "passed": worst <= TOLERANCE and headers_match and ledger["active_at_end"] == 0,
        "provenance": sorted(tally.provenance),
        "meter_readings": ledger["readings"],
        "meter_read_us_in_server": report["meter_read_us"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=16, help="timed rounds per server")
    parser.add_argument("--json", type=Path, default=RESULT, help=f"default: {RESULT}")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--energy", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.energy, args.report)
        return

    with tempfile.TemporaryDirectory(prefix="genwatt-serve-load-") as folder:
        ports = {"metered": free_port(), "plain": free_port()}
        reports = {name: Path(folder) / f"{name}.json" for name in ports}
        logs = {name: (Path(folder) / f"{name}.log").open("wb") for name in ports}
        processes = {
            name: subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--serve",
                    "--port",
                    str(port),
                    "--report",
                    str(reports[name]),
                    *(["--energy"] if name == "metered" else []),
                ],
                stdout=logs[name],
                stderr=subprocess.STDOUT,
            )
            for name, port in ports.items()
        }
        try:
            for name, port in ports.items():
                wait_until_listening(port, processes[name], timeout_s=180)
            started = time.perf_counter()
            tallies = asyncio.run(load(ports, args.clients, args.rounds))
            load_s = time.perf_counter() - started
        finally:
            for process in processes.values():
                stop(process)
            for log in logs.values():
                log.close()
        missing = [name for name, path in reports.items() if not path.exists()]
        if missing:
            for name in missing:
                print((Path(folder) / f"{name}.log").read_text()[-3000:], file=sys.stderr)
            raise SystemExit(f"no shutdown report from the {', '.join(missing)} server")
        report = {name: json.loads(path.read_text()) for name, path in reports.items()}

    metered, plain = tallies["metered"], tallies["plain"]
    result: dict[str, Any] = {
        "clients": args.clients,
        "rounds": args.rounds,
        "endpoints": {
            name: {"path": path, "query": query, "requests_per_client_per_round": n}
            for name, (path, query, n) in ENDPOINTS.items()
        },
        "requests": {"metered": metered.requests, "plain": plain.requests},
        "load_s": load_s,
        "energy": energy_check(metered, report["metered"]),
        "overhead": {
            endpoint: {
                **ratio_summary(
                    metered.seconds_per_request[endpoint], plain.seconds_per_request[endpoint]
                ),
                "latency_median_ratio": statistics.median(metered.latencies_s[endpoint])
                / statistics.median(plain.latencies_s[endpoint]),
            }
            for endpoint in ENDPOINTS
        },
        "server_cpu": {
            name: {
                "cpu_s": report[name]["cpu_s"],
                "cpu_ms_per_request": report[name]["cpu_s"] / tallies[name].requests * 1e3,
            }
            for name in report
        },
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
        },
    }
    cpu = result["server_cpu"]
    result["server_cpu"]["ratio"] = (
        cpu["metered"]["cpu_ms_per_request"] / cpu["plain"]["cpu_ms_per_request"]
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")

    check = result["energy"]
    print(
        f"{metered.requests + plain.requests} requests in {load_s:.1f} s, "
        f"{args.clients} clients. Energy: requests {check['charged_total_j']:.4g} J + "
        f"unattributed = {check['accounted_total_j']:.4g} J vs meter "
        f"{check['meter_total_j']:.4g} J ({check['relative_difference'] * 100:+.3f} %, "
        f"{'/'.join(check['provenance'])}): {'ok' if check['passed'] else 'FAILED'}"
    )
    for endpoint, summary in result["overhead"].items():
        print(
            f"  {endpoint}: time per request x{summary['median_ratio']:.3f} with the "
            f"middleware (rounds {summary['min_ratio']:.3f}-{summary['max_ratio']:.3f}, "
            f"{summary['added_us_per_request_median']:+.0f} us)"
        )
    print(
        f"  server CPU per request x{cpu['ratio']:.3f}; one meter reading in the server: "
        f"{check['meter_read_us_in_server']:.0f} us, {check['meter_readings']} readings; "
        f"written to {args.json}"
    )
    if not check["passed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
