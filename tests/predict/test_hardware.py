import re

import pytest

from genwatt.errors import ConfigError
from genwatt.predict.hardware import PROFILES, get_profile, list_profiles, profile_for_device

REQUIRED = {"h100-sxm", "h100-pcie", "h200", "a100-sxm-80gb", "l40s", "rtx-4090", "b200"}


def test_every_required_profile_exists_and_a_cpu_one() -> None:
    names = {p.name for p in PROFILES}
    assert names >= REQUIRED
    assert any(p.kind == "cpu" for p in PROFILES)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_profiles_are_well_formed_with_a_dated_citation(profile) -> None:
    assert profile.peak_bf16_flops > 0
    assert profile.peak_fp32_flops > 0
    assert profile.peak_tf32_flops >= profile.peak_fp32_flops
    assert profile.memory_bandwidth_bps > 0
    assert profile.tdp_w > 0
    assert re.search(r"\b20[12]\d\b", profile.citation), "citation needs the document's year"
    if profile.kind == "gpu":
        # Tensor cores: bf16 beats plain fp32 on every GPU listed.
        assert profile.peak_bf16_flops > profile.peak_fp32_flops
        assert profile.peak_bf16_flops > 1e14


def test_peaks_are_dense_not_sparse() -> None:
    # The datasheets' headline "with sparsity" figures are twice these.
    assert get_profile("h100-sxm").peak_bf16_flops == pytest.approx(989.4e12, rel=0.01)
    assert get_profile("a100-sxm-80gb").peak_bf16_flops == pytest.approx(312e12, rel=0.01)
    assert get_profile("b200").peak_bf16_flops == pytest.approx(2.25e15, rel=0.01)


def test_lookup_by_alias_and_unknown_names() -> None:
    assert get_profile("H100").name == "h100-sxm"
    assert get_profile("nvidia a100-sxm4-80gb").name == "a100-sxm-80gb"
    with pytest.raises(ConfigError, match="Did you mean: h100"):
        get_profile("h100-sxn")


def test_nvml_names_map_to_profiles() -> None:
    assert profile_for_device("NVIDIA H100 80GB HBM3").name == "h100-sxm"
    assert profile_for_device("NVIDIA H100 PCIe").name == "h100-pcie"
    assert profile_for_device("NVIDIA A100-SXM4-80GB").name == "a100-sxm-80gb"
    assert profile_for_device("Tesla T4") is None


def test_list_puts_gpus_first() -> None:
    kinds = [p.kind for p in list_profiles()]
    assert kinds == sorted(kinds, key=lambda k: k != "gpu")


def test_suggestions_name_each_profile_and_model_once() -> None:
    with pytest.raises(ConfigError) as info:
        get_profile("rtx-4080")  # close to three keys of one profile
    assert "Did you mean: rtx-4090?" in str(info.value)
    from genwatt.models import get_model

    with pytest.raises(ConfigError) as info:
        get_model("cogvideo")  # close to short names and repo ids of the same models
    hint = str(info.value).split("Did you mean: ")[1].split("?")[0].split(", ")
    assert len(hint) == len(set(hint)) and "THUDM/CogVideoX-5b" not in hint
