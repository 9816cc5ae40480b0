"""Fixtures for runner tests: a meter over a fake CPU-time counter, so figures are exact."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from genwatt.meter.meter import Meter
from genwatt.meter.sources.estimate import EstimateSource


@pytest.fixture
def cpu_meter() -> Meter:
    """A real estimate-only meter (what this machine has), without NVML/RAPL probing."""
    meter = Meter([EstimateSource(cpu=True, dram=True)])
    yield meter
    meter.close()


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster for the whole test session (starting one costs seconds).

    A head node with 2 CPUs and 2 declared GPUs: Ray schedules against the declared
    GPUs (setting each worker's CUDA_VISIBLE_DEVICES) while the tiny configurations run
    on the CPU. Node failures are detected within about a second, so a test can remove
    a node. Yields the cluster, with this process connected as its driver.
    """
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 2,
            "num_gpus": 2,
            "include_dashboard": False,
            "_system_config": {
                "health_check_initial_delay_ms": 0,
                "health_check_period_ms": 200,
                "health_check_failure_threshold": 3,
            },
        },
    )
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="session")
def ray_fakes(ray_cluster) -> ModuleType:
    """``ray_fakes.py`` as a module that Ray ships to its workers by value (the test
    tree is not importable there)."""
    import ray

    name = "genwatt_tests_ray_fakes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("ray_fakes.py")
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        ray.cloudpickle.register_pickle_by_value(module)
    return sys.modules[name]
