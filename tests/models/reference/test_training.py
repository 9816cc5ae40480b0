import pytest
import torch

from genwatt.models.reference.training import TrainConfig, _lr_at, train


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
    assert [step for step, _ in record["direction_sensitivity_every_250"]] == [0, 1]


def test_training_moves_the_weights_and_stats_come_from_data() -> None:
    from genwatt.models.reference.pipeline import build_pipeline

    trained, _ = train(TrainConfig(steps=2, batch=2, warmup=1, threads=1), progress=False)
    fresh = build_pipeline(seed=0)
    assert not torch.equal(
        next(trained.transformer.parameters()), next(fresh.transformer.parameters())
    )
    frozen = zip(trained.text_encoder.parameters(), fresh.text_encoder.parameters(), strict=True)
    assert all(torch.equal(a, b) for a, b in frozen)  # the text encoder stays as built
    mean = trained.vae.config.latents_mean
    assert len(mean) == 48 and all(-1.0 <= m < 0.0 for m in mean)  # mostly black frames


def test_learning_rate_warms_up_then_decays() -> None:
    cfg = TrainConfig(steps=100, warmup=10, lr=1e-3)
    assert _lr_at(0, cfg) == pytest.approx(1e-4)
    assert _lr_at(9, cfg) == pytest.approx(1e-3)
    assert _lr_at(99, cfg) < _lr_at(50, cfg) < _lr_at(10, cfg)
    assert _lr_at(99, cfg) >= 0.05 * 1e-3 - 1e-12


def test_first_frame_forcing_leaves_only_the_first_frame_clean_in_the_picked_clips() -> None:
    from genwatt.models.reference.training import first_frame_forcing

    sigma = torch.linspace(0.1, 0.8, 400)
    per_frame = first_frame_forcing(sigma, 3, 0.5, torch.Generator().manual_seed(0))
    assert per_frame.shape == (400, 3)
    picked = per_frame[:, 1] != sigma
    assert 0.4 < float(picked.float().mean()) < 0.6
    later = per_frame[picked, 1:]
    assert torch.equal(later[:, 0], later[:, 1])  # every later frame shares one level
    assert bool((later >= 0.9).all()) and bool((later < 1.0).all())
    first = per_frame[picked, 0]
    assert bool((first >= 0).all()) and bool((first <= 0.5 * later[:, 0]).all())
    assert torch.equal(per_frame[~picked], sigma[~picked].view(-1, 1).repeat(1, 3))
    untouched = first_frame_forcing(sigma, 3, 0.0, torch.Generator().manual_seed(0))
    assert torch.equal(untouched, sigma.view(-1, 1).repeat(1, 3))


def test_token_timesteps_are_frame_major_and_match_a_scalar_timestep() -> None:
    """Equal per-frame levels must give the transformer what a scalar timestep gives it."""
    from genwatt.models.reference.flow import token_timesteps
    from genwatt.models.reference.pipeline import build_pipeline

    per_frame = torch.tensor([[0.2, 0.5, 0.5]])
    assert token_timesteps(per_frame, 2).tolist() == [[200.0, 200.0, 500.0, 500.0, 500.0, 500.0]]
    transformer = build_pipeline(seed=0).transformer
    x = torch.randn(1, 48, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    text = torch.randn(1, 8, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        scalar = transformer(x, torch.tensor([500.0]), text, return_dict=False)[0]
        tokens = token_timesteps(torch.full((1, 3), 0.5), 16)
        per_token = transformer(x, tokens, text, return_dict=False)[0]
    torch.testing.assert_close(per_token, scalar, atol=1e-5, rtol=1e-5)
