import pytest
import torch

from genwatt.mitigate.train import TrainConfig, _lr_at, train


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def test_training_is_deterministic_given_the_seed() -> None:
    cfg = TrainConfig(steps=2, batch=2, warmup=1, threads=1)
    first, record = train(cfg, progress=False)
    second, _ = train(cfg, progress=False)
    other, _ = train(TrainConfig(steps=2, batch=2, warmup=1, threads=1, seed=1), progress=False)
    a, b, c = (dict(p.transformer.state_dict()) for p in (first, second, other))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    assert record["config"]["seed"] == 0 and len(record["loss_every_100"]) == 1


def test_training_moves_the_weights_and_stats_come_from_data() -> None:
    from genwatt.mitigate.reference import build_pipeline

    trained, _ = train(TrainConfig(steps=2, batch=2, warmup=1, threads=1), progress=False)
    fresh = build_pipeline(seed=0)
    assert not torch.equal(
        next(trained.transformer.parameters()), next(fresh.transformer.parameters())
    )
    mean = trained.vae.config.latents_mean
    assert len(mean) == 48 and all(-1.0 <= m < 0.0 for m in mean)  # mostly black frames


def test_learning_rate_warms_up_then_decays() -> None:
    cfg = TrainConfig(steps=100, warmup=10, lr=1e-3)
    assert _lr_at(0, cfg) == pytest.approx(1e-4)
    assert _lr_at(9, cfg) == pytest.approx(1e-3)
    assert _lr_at(99, cfg) < _lr_at(50, cfg) < _lr_at(10, cfg)
    assert _lr_at(99, cfg) >= 0.05 * 1e-3 - 1e-12
