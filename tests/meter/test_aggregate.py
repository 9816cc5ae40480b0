import pytest

from genwatt.meter.aggregate import combine, remainder
from genwatt.meter.result import Method, Provenance, WindowResult

M, E = Provenance.MEASURED, Provenance.ESTIMATED


def window(name: str, duration_s: float, **energy: tuple[float, Provenance]) -> WindowResult:
    return WindowResult(
        name=name,
        started_at=100.0 + duration_s,
        duration_s=duration_s,
        energy_j={d: v for d, (v, _) in energy.items()},
        provenance={d: p for d, (_, p) in energy.items()},
        method={d: Method.COUNTER for d in energy},
    )


def test_combine_sums_and_keeps_weakest_provenance() -> None:
    a = window("step:0", 1.0, gpu=(10.0, M), cpu=(1.0, E))
    b = window("step:1", 2.0, gpu=(5.0, E), cpu=(2.0, E))
    total = combine("denoise", [a, b], parent="generation")
    assert total.duration_s == pytest.approx(3.0)
    assert total.energy_j == pytest.approx({"gpu": 15.0, "cpu": 3.0})
    assert total.provenance == {"gpu": E, "cpu": E}
    assert total.parent == "generation" and total.started_at == a.started_at


def test_combine_turns_a_failed_part_into_an_error_of_the_sum() -> None:
    a = window("step:0", 1.0, gpu=(10.0, M))
    b = WindowResult("step:1", 0, 1.0, {}, {}, {}, errors={"gpu": "NVML lost the GPU"})
    total = combine("denoise", [a, b])
    assert "gpu" not in total.energy_j
    assert "NVML lost the GPU" in total.errors["gpu"] and "step:1" in total.errors["gpu"]


def test_remainder_is_whole_minus_parts_and_may_be_negative() -> None:
    whole = window("generation", 10.0, gpu=(100.0, M))
    parts = window("phases", 9.0, gpu=(101.0, M))
    rest = remainder("other", whole, parts)
    assert rest.energy_j["gpu"] == pytest.approx(-1.0)
    assert rest.duration_s == pytest.approx(1.0)


def test_weakest_of_a_list_is_its_least_trustworthy_and_none_for_nothing() -> None:
    from genwatt.meter.aggregate import weakest_of

    assert weakest_of([]) is None
    assert weakest_of([Provenance.MEASURED]) is Provenance.MEASURED
    kinds = [Provenance.MEASURED, Provenance.PREDICTED, Provenance.ESTIMATED]
    assert weakest_of(kinds) is Provenance.PREDICTED
