"""``genwatt env`` end to end: the real console script in a subprocess."""

from __future__ import annotations

import json


def test_env_json_without_counters_lists_estimates_and_why(genwatt) -> None:
    done = genwatt("env", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    domains = {d["domain"]: d for d in report["domains"]}
    assert list(domains) == ["cpu:0", "dram:0"]
    for name in ("cpu:0", "dram:0"):
        assert domains[name]["source"] == "estimate"
        assert domains[name]["method"] == "estimate"
        assert domains[name]["provenance"] == "estimated"
        assert domains[name]["assumptions"]["model"]
    assert domains["dram:0"]["assumptions"]["watts_per_gb"] == 0.375
    missing = {m["source"]: m for m in report["missing"]}
    assert {"nvml", "rapl"} <= set(missing)
    assert missing["nvml"]["reason"]
    assert "no powercap folder" in missing["rapl"]["reason"]
    assert "GENWATT_POWERCAP_ROOT" in missing["rapl"]["fix"]
    assert report["all_measured"] is False


def test_env_json_with_a_powercap_tree_measures_the_cpu(genwatt, two_socket_powercap) -> None:
    done = genwatt("env", "--json", env={"GENWATT_POWERCAP_ROOT": str(two_socket_powercap.root)})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    domains = {d["domain"]: d for d in report["domains"]}
    assert list(domains) == ["cpu:0", "dram:0", "cpu:1", "dram:1"]
    assert domains["cpu:0"]["source"] == "rapl"
    assert domains["cpu:0"]["method"] == "counter"
    assert domains["cpu:0"]["provenance"] == "measured"
    assert domains["cpu:0"]["resolution_s"] == 0.001
    assert "rapl" not in {m["source"] for m in report["missing"]}


def test_env_table(genwatt) -> None:
    done = genwatt("env")
    assert done.returncode == 0, done.stderr
    assert "Energy domains on this machine" in done.stdout
    assert "cpu:0" in done.stdout and "dram:0" in done.stdout
    assert "Counters not available" in done.stdout
    assert "their figures are estimates" in done.stdout
