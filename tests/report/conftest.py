"""A small synthetic results store whose every number is known, and a fake predictor.

Energies are chosen so that every mean and every phase split is exact in binary
floating point (dyadic fractions), so the tests of the figures' data can compare with
``==``. The WAN series follows an exact power law, E = 0.5 x frames x steps joules and
latency = 0.01 x sqrt(frames) x steps seconds, so its fitted slopes are known too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from genwatt.meter.result import Method, PowerTimeline, Provenance, WindowResult
from genwatt.report.predicted import Lookup, PredictedPoint
from genwatt.store.records import RunRecord, RunStatus
from genwatt.store.store import ResultsStore

H100 = "NVIDIA H100 80GB HBM3"
GPU_ENV: dict[str, Any] = {
    "host": "test",
    "cpu": {"model": "Test CPU"},
    "gpus": [{"index": 0, "name": H100}],
}
CPU_ENV: dict[str, Any] = {"host": "test", "cpu": {"model": "Test CPU"}, "gpus": []}
WAN = "wan2.1-t2v-1.3b"
WAN_FRAMES = (5, 9)
WAN_STEPS = (2, 4)
REPEAT_FACTORS = (0.75, 1.25)  # mean exactly 1
XSS = "<script>alert(1)</script>"


def wan_energy_j(frames: int, steps: int) -> float:
    return 0.5 * frames * steps


def wan_latency_s(frames: int, steps: int) -> float:
    return 0.01 * math.sqrt(frames) * steps


def _window(
    name: str,
    energy_j: float,
    *,
    measured: bool,
    duration_s: float = 1.0,
    parent: str | None = "generation",
    timeline: PowerTimeline | None = None,
) -> WindowResult:
    domain = "gpu:0" if measured else "cpu:0"
    return WindowResult(
        name=name,
        started_at=1.7e9,
        duration_s=duration_s,
        energy_j={domain: energy_j},
        provenance={domain: Provenance.MEASURED if measured else Provenance.ESTIMATED},
        method={domain: Method.COUNTER if measured else Method.ESTIMATE},
        parent=parent,
        timeline=timeline,
    )


def diffusion_windows(
    total_j: float, steps: int, *, measured: bool, latency_s: float = 1.0
) -> list[WindowResult]:
    """generation = text_encode 1/8 + steps 5/8 (equal) + vae_decode 1/8 + other 1/8."""
    windows = [
        _window("generation", total_j, measured=measured, duration_s=latency_s, parent=None),
        _window("text_encode", total_j / 8, measured=measured),
    ]
    for i in range(steps):
        windows.append(_window(f"step:{i}", total_j * 5 / 8 / steps, measured=measured))
        windows.append(
            _window("forward:cond", total_j * 5 / 16 / steps, measured=measured, parent=f"step:{i}")
        )
    windows.append(_window("vae_decode", total_j / 8, measured=measured))
    return windows


def text_windows(total_j: float, tokens: int) -> list[WindowResult]:
    """generation = prefill 1/4 + tokens 1/2 (equal) + other 1/4; estimated CPU."""
    windows = [
        _window("generation", total_j, measured=False, parent=None),
        _window("prefill", total_j / 4, measured=False),
    ]
    windows += [
        _window(f"token:{i}", total_j / 2 / tokens, measured=False) for i in range(1, tokens + 1)
    ]
    return windows


TIMELINE = PowerTimeline(t_s=[0.5, 1.0, 1.5, 2.0], power_w={"cpu:0": [10.0, 12.0, 12.0, 11.0]})


def _config(model: str, device: str, **settings: Any) -> dict[str, Any]:
    base = {
        "model": model,
        "weights": "random" if model == WAN else "tiny",
        "device": device,
        "num_frames": None,
        "height": None,
        "width": None,
        "steps": None,
        "guidance": None,
        "max_text_tokens": None,
        "max_new_tokens": None,
        "batch_size": 1,
        "prompt": "a red circle",
    }
    return base | settings


def synthetic_runs(model_name: str = WAN, sweep_name: str = "sweep-a") -> list[RunRecord]:
    """Four series (t2v measured on a GPU, t2v / t2i / text estimated on a CPU), a failed
    run, and a ``genwatt measure`` run with a power timeline."""
    runs: list[RunRecord] = []
    for frames in WAN_FRAMES:
        for steps in WAN_STEPS:
            config = _config(
                model_name,
                "cuda",
                num_frames=frames,
                height=32,
                width=32,
                steps=steps,
                guidance=5.0,
                max_text_tokens=16,
            )
            for repeat, factor in enumerate(REPEAT_FACTORS):
                runs.append(
                    RunRecord(
                        kind="sweep",
                        started_at=1.7e9,
                        duration_s=1.0,
                        config=config,
                        windows=diffusion_windows(
                            wan_energy_j(frames, steps) * factor,
                            steps,
                            measured=True,
                            latency_s=wan_latency_s(frames, steps) * factor,
                        ),
                        environment=GPU_ENV,
                        sweep=sweep_name,
                        config_key=f"wan-{frames}-{steps}",
                        repeat=repeat,
                    )
                )
    cog_windows = diffusion_windows(64.0, 2, measured=False)
    cog_windows[0] = _window(
        "generation", 64.0, measured=False, parent=None, timeline=TIMELINE, duration_s=2.0
    )
    runs.append(
        RunRecord(
            kind="sweep",
            started_at=1.7e9,
            duration_s=2.0,
            config=_config("cogvideox-tiny", "cpu", num_frames=9, height=32, width=32, steps=2),
            windows=cog_windows,
            environment=CPU_ENV,
            sweep="sweep-b",
            config_key="cog-9-2",
        )
    )
    for side, energy_j in ((16, 0.25), (32, 1.0)):
        runs.append(
            RunRecord(
                kind="sweep",
                started_at=1.7e9,
                duration_s=1.0,
                config=_config("sd-tiny", "cpu", height=side, width=side, steps=1),
                windows=diffusion_windows(energy_j, 1, measured=False),
                environment=CPU_ENV,
                sweep="sweep-b",
                config_key=f"sd-{side}",
            )
        )
    runs.append(
        RunRecord(
            kind="sweep",
            status=RunStatus.FAILED,
            started_at=1.7e9,
            duration_s=0.1,
            config=_config("sd-tiny", "cpu", height=32, width=32, steps=1),
            environment=CPU_ENV,
            error="out of memory",
            sweep="sweep-b",
            config_key="sd-32",
            repeat=1,
        )
    )
    runs.append(
        RunRecord(
            kind="sweep",
            started_at=1.7e9,
            duration_s=1.0,
            config=_config("llama-tiny", "cpu", max_text_tokens=16, max_new_tokens=4),
            windows=text_windows(2.0, 4),
            environment=CPU_ENV,
            sweep="sweep-b",
            config_key="llama-16-4",
        )
    )
    measure_window = _window(
        "run", 22.5, measured=False, duration_s=2.0, parent=None, timeline=TIMELINE
    )
    runs.append(
        RunRecord(
            kind="measure",
            started_at=1.7e9,
            duration_s=2.0,
            config={"command": "python3 train.py"},
            windows=[measure_window],
            environment=CPU_ENV,
            extra={"exit_code": 0},
        )
    )
    return runs


# (name, kind, FLOPs ratio, energy ratio, mean PSNR, min PSNR, share >= 30 dB, SSIM,
# adherence); the frontier is unmitigated, fbcache-0.1, magcache-0.2, semantic-reuse.
STRATEGIES: tuple[tuple[str, str, float, float, float, float, float, float, float], ...] = (
    ("fbcache-0.1", "cache", 1.6, 1.25, 38.0, 33.0, 1.0, 0.97, 1.0),
    ("pab-2", "cache", 1.4, 1.1, 33.0, 29.0, 0.75, 0.93, 1.0),  # below fbcache-0.1
    ("magcache-0.2", "cache", 2.5, 1.75, 31.0, 26.0, 0.5, 0.9, 0.75),
    ("fewer-steps-10", "baseline", 2.0, 2.0, 24.0, 20.0, 0.0, 0.8, 0.75),  # below magcache
    ("semantic-reuse", "reuse", 4.0, 3.5, 18.0, 12.0, 0.0, 0.625, 0.5),
)
FAILED_STRATEGY = ("taylorseer-3", "cache", "RuntimeError: TaylorSeer does not fit <WanModel>")
REFERENCE_FLOPS = 8e12
REFERENCE_ENERGY_J = 400.0  # over all the cases


def _mitigation_record(
    summary: dict[str, Any], *, model: str, sweep: str, started_at: float, measured: bool
) -> RunRecord:
    """A run shaped as ``genwatt.mitigate.comparison.record`` stores one strategy."""
    ok = summary["ok"]
    window = (
        _window(
            "run",
            summary["energy_j"],
            measured=measured,
            duration_s=summary["seconds"],
            parent=None,
        )
        if ok
        else None
    )
    return RunRecord(
        kind="mitigation",
        status=RunStatus.OK if ok else RunStatus.FAILED,
        started_at=started_at,
        duration_s=summary["seconds"],
        config={
            "model": model,
            "strategy": summary["name"],
            "strategy_kind": summary["kind"],
            "n_cases": 4,
            "call_num_inference_steps": 20,
            "call_num_frames": 9,
        },
        windows=[window] if window is not None else [],
        environment=GPU_ENV if measured else CPU_ENV,
        error=summary["error"],
        sweep=sweep,
        config_key=summary["name"],
        extra={"mitigation": summary},
    )


def _summary(name: str, kind: str, **values: Any) -> dict[str, Any]:
    """``StrategyResult.as_dict(with_cases=True)``, every key present."""
    base: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "description": f"{name} for the tests",
        "ok": True,
        "error": None,
        "flops": 0,
        "flops_ratio": None,
        "seconds": 10.0,
        "latency_ratio": None,
        "energy_j": None,
        "energy_provenance": None,
        "energy_ratio": None,
        "psnr_db": None,
        "psnr_db_min": None,
        "share_psnr_at_least_30db": None,
        "ssim": None,
        "adherence": None,
        "adherence_rates": None,
        "cases": [],
    }
    return base | values


def mitigation_runs(
    model: str = WAN,
    sweep: str = "mitigate-wan-20240101T000000",
    *,
    started_at: float = 1.7e9 + 3600,
    measured: bool = False,
    adherence: bool = True,
    failed: bool = True,
) -> list[RunRecord]:
    """One comparison as ``genwatt mitigate`` stores it: the unmitigated reference, the
    five ``STRATEGIES`` and, if ``failed``, a strategy that raised."""
    provenance = "measured" if measured else "estimated"
    case = {"prompt": "a red circle moving left", "seed": 0, "decision": None}
    summaries = [
        _summary(
            "unmitigated",
            "baseline",
            flops=int(REFERENCE_FLOPS),
            seconds=40.0,
            energy_j=REFERENCE_ENERGY_J,
            energy_provenance=provenance,
            psnr_db=100.0,
            psnr_db_min=100.0,
            share_psnr_at_least_30db=1.0,
            ssim=1.0,
            adherence=0.75 if adherence else None,
            cases=[case] * 4,
        )
    ]
    for name, kind, flops, energy, psnr, low, share, ssim, adheres in STRATEGIES:
        summaries.append(
            _summary(
                name,
                kind,
                flops=int(REFERENCE_FLOPS / flops),
                flops_ratio=flops,
                seconds=40.0 / energy,
                latency_ratio=energy,
                energy_j=REFERENCE_ENERGY_J / energy,
                energy_provenance=provenance,
                energy_ratio=energy,
                psnr_db=psnr,
                psnr_db_min=low,
                share_psnr_at_least_30db=share,
                ssim=ssim,
                adherence=adheres if adherence else None,
                cases=[case] * 4,
            )
        )
    if failed:
        name, kind, error = FAILED_STRATEGY
        summaries.append(_summary(name, kind, ok=False, error=error, seconds=0.5))
    return [
        _mitigation_record(s, model=model, sweep=sweep, started_at=started_at, measured=measured)
        for s in summaries
    ]


def write_store(path: Path, runs: list[RunRecord]) -> Path:
    with ResultsStore(path) as store:
        for run in runs:
            store.add(run)
    return path


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """The synthetic store, written to disk."""
    return write_store(tmp_path / "synthetic.db", synthetic_runs())


@pytest.fixture
def records(store_path: Path) -> list[RunRecord]:
    """The synthetic runs as the store gives them back (ids set)."""
    with ResultsStore(store_path) as store:
        return store.runs()


@dataclass
class FakePredictor:
    """Predicts GPU runs only: energy = frames x steps J, latency = frames s, floor = E/16."""

    calls: int = 0

    def __call__(self, config: Mapping[str, Any], environment: Mapping[str, Any]) -> Lookup:
        self.calls += 1
        if not str(config.get("device", "")).startswith("cuda"):
            return Lookup(None, "no GPU in this run")
        energy_j = float(config["num_frames"] * config["steps"])
        return Lookup(
            PredictedPoint(
                energy_j=energy_j,
                latency_s=float(config["num_frames"]),
                floor_j=energy_j / 16,
                gpu=H100,
                phases_j={
                    "text_encode": energy_j / 4,
                    "denoise": energy_j / 2,
                    "vae_decode": energy_j / 4,
                },
            )
        )


# ------------------------------------------------------------------ genwatt suite runs

SUITE_QUERIES = 8


def _suite_window(name: str, gpu_j: float | None, cpu_j: float, duration_s: float) -> WindowResult:
    """GPU measured; the CPU's energy estimated, 3/4 package and 1/4 DRAM."""
    energy = {"cpu:0": cpu_j * 3 / 4, "dram:0": cpu_j / 4}
    provenance = {"cpu:0": Provenance.ESTIMATED, "dram:0": Provenance.ESTIMATED}
    method = {"cpu:0": Method.ESTIMATE, "dram:0": Method.ESTIMATE}
    if gpu_j is not None:
        energy["gpu:0"] = gpu_j
        provenance["gpu:0"] = Provenance.MEASURED
        method["gpu:0"] = Method.COUNTER
    return WindowResult(
        name=name,
        started_at=1.7e9,
        duration_s=duration_s,
        energy_j=energy,
        provenance=provenance,
        method=method,
        parent=None if name == "generation" else "generation",
    )


# Each phase's share of every domain; what is left (1/4) is "other".
SUITE_PHASES = {"preprocess": 1 / 8, "forward": 1 / 2, "postprocess": 1 / 8}


def suite_run(
    task: str,
    model: str,
    gpu_j: float | None,
    cpu_j: float,
    *,
    kind: str = "task-specific",
    batch: int = 1,
    queries: int = SUITE_QUERIES,
    params: int | None = None,
    protocol: str = "genwatt",
    weights: str = "random",
    tokens: int = 0,
    quality: dict[str, Any] | None = None,
    error: str | None = None,
    suite: str = "suite-a",
) -> RunRecord:
    """A run as ``genwatt suite`` stores one configuration: on an H100 when ``gpu_j`` is
    given, else on a CPU. With ``tokens``, ``forward`` becomes ``prefill`` (1/4) and
    ``tokens`` equal ``token:i`` windows (1/4 between them)."""
    device = "cpu" if gpu_j is None else "cuda"
    config = {
        "task": task,
        "model": model,
        "repo_id": f"org/{model}",
        "kind": kind,
        "family": "test",
        "params": params,
        "batch_size": batch,
        "weights": weights,
        "device": device,
        "dtype": None,
        "queries": queries,
        "warmup": 0,
        "new_tokens": tokens or None,
        "steps": None,
        "data": "builtin",
        "seed": 0,
        "protocol": protocol,
    }
    key = f"{task}|{model}|b{batch}|{weights}|{device}|{protocol}"
    environment = CPU_ENV if gpu_j is None else GPU_ENV
    if error is not None:
        return RunRecord(
            kind="suite",
            status=RunStatus.FAILED,
            started_at=1.7e9,
            duration_s=0.5,
            config=config,
            environment=environment,
            error=error,
            sweep=suite,
            config_key=key,
        )
    windows = [_suite_window("generation", gpu_j, cpu_j, duration_s=2.0)]
    shares = dict(SUITE_PHASES)
    if tokens:
        shares = {"preprocess": 1 / 8, "prefill": 1 / 4, "postprocess": 1 / 8}
    for name, share in shares.items():
        g = None if gpu_j is None else gpu_j * share
        windows.append(_suite_window(name, g, cpu_j * share, duration_s=2.0 * share))
    for i in range(1, tokens + 1):
        g = None if gpu_j is None else gpu_j / 4 / tokens
        windows.append(_suite_window(f"token:{i}", g, cpu_j / 4 / tokens, 0.5 / tokens))
    return RunRecord(
        kind="suite",
        started_at=1.7e9,
        duration_s=2.0,
        config=config,
        windows=windows,
        environment=environment,
        sweep=suite,
        config_key=key,
        extra={"queries_run": queries, "quality": quality or {"reason": "random weights"}},
    )


SUITE_QUALITY = {
    "metric": "squad-f1",
    "value": 0.75,
    "n": 8,
    "correct": 6,
    "higher_is_better": True,
}


def suite_runs() -> list[RunRecord]:
    """A suite on an H100: text classification (three task-specific models, one of them
    at three batch sizes, and T5 zero-shot), question answering (one of each kind), text
    generation (two models, ten tokens) and a summarization model that failed."""
    tc = "text-classification"
    return [
        suite_run(tc, "small", 4.0, 12.0),
        suite_run(tc, "small", 8.0, 32.0, batch=4),
        suite_run(tc, "small", 16.0, 48.0, batch=16),
        suite_run(tc, "medium", 16.0, 16.0),
        suite_run(tc, "large", 64.0, 64.0),
        suite_run(tc, "t5-base", 256.0, 256.0, kind="multi-purpose"),
        suite_run("question-answering", "qa", 8.0, 8.0, quality=SUITE_QUALITY),
        suite_run("question-answering", "flan", 128.0, 64.0, kind="multi-purpose"),
        suite_run("text-generation", "gen-small", 32.0, 32.0, params=10**8, tokens=10),
        suite_run("text-generation", "gen-big", 512.0, 128.0, params=7 * 10**9, tokens=10),
        suite_run("summarization", "bart", 1.0, 1.0, error="RuntimeError: out of memory\nmore"),
    ]


@pytest.fixture
def fake_predictor() -> Callable[..., Lookup]:
    return FakePredictor()


@pytest.fixture(scope="session")
def synth() -> Any:
    """The helpers above, for tests (which cannot import this module)."""
    import types

    return types.SimpleNamespace(
        runs=synthetic_runs,
        mitigation_runs=mitigation_runs,
        summary=_summary,
        STRATEGIES=STRATEGIES,
        FAILED_STRATEGY=FAILED_STRATEGY,
        write_store=write_store,
        wan_energy_j=wan_energy_j,
        wan_latency_s=wan_latency_s,
        WAN=WAN,
        WAN_FRAMES=WAN_FRAMES,
        WAN_STEPS=WAN_STEPS,
        H100=H100,
        XSS=XSS,
        FakePredictor=FakePredictor,
        suite_run=suite_run,
        suite_runs=suite_runs,
        SUITE_QUERIES=SUITE_QUERIES,
    )


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The synthetic store's report, built once (drawing takes a second or two)."""
    from genwatt.report import build_report

    path = write_store(tmp_path_factory.mktemp("built") / "s.db", synthetic_runs())
    with ResultsStore(path) as store:
        runs = store.runs()
    return build_report(runs, predictor=FakePredictor(), store=str(path))


@pytest.fixture(scope="session")
def xss_runs() -> list[RunRecord]:
    """The synthetic runs with a script as model, sweep, command, prompt and GPU name."""
    runs = synthetic_runs(model_name=XSS, sweep_name=f'"><img src=x onerror=alert(2)>{XSS}')
    hostile = []
    for run in runs:
        config = dict(run.config)
        if "prompt" in config:
            config["prompt"] = XSS
        if "command" in config:
            config["command"] = f"</code>{XSS}<!-- --> $x^2$"
        environment = {
            **run.environment,
            "cpu": {"model": XSS},
            "gpus": [{"index": 0, "name": f"NVIDIA H100 {XSS}"}] if run.environment["gpus"] else [],
        }
        hostile.append(replace(run, config=config, environment=environment))
    return hostile
