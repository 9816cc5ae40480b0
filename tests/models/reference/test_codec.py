import pytest
import torch

from genwatt.errors import ConfigError
from genwatt.models.reference.codec import PatchCodec


def _video(seed: int = 0) -> torch.Tensor:
    return torch.rand((2, 3, 5, 32, 32), generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_encode_decode_is_exact() -> None:
    codec = PatchCodec()
    video = _video()
    latents = codec.encode(video)
    assert latents.shape == (2, 48, 5, 8, 8)
    (decoded,) = codec.decode(latents, return_dict=False)
    assert torch.equal(decoded, video)


def test_normalize_is_inverted_by_denormalize() -> None:
    codec = PatchCodec(latents_mean=[0.5] * 48, latents_std=[2.0] * 48)
    raw = codec.encode(_video(1))
    assert torch.allclose(codec.denormalize(codec.normalize(raw)), raw, atol=1e-6)
    assert torch.allclose(codec.normalize(raw), (raw - 0.5) / 2.0)


def test_pipeline_denormalisation_matches_ours() -> None:
    """WanPipeline divides by 1/std and adds mean before decoding; that is denormalize."""
    codec = PatchCodec(latents_mean=[0.1 * i for i in range(48)], latents_std=[1.5] * 48)
    z = torch.randn(1, 48, 2, 4, 4)
    mean = torch.tensor(codec.config.latents_mean).view(1, 48, 1, 1, 1)
    inv_std = 1.0 / torch.tensor(codec.config.latents_std).view(1, 48, 1, 1, 1)
    assert torch.allclose(z / inv_std + mean, codec.denormalize(z), atol=1e-6)


def test_exposes_the_vae_interface_wan_reads() -> None:
    codec = PatchCodec()
    assert codec.config.z_dim == 48
    assert codec.config.scale_factor_spatial == 4
    assert codec.config.scale_factor_temporal == 1
    assert codec.dtype == torch.float32


def test_decode_clamps_to_pixel_range() -> None:
    codec = PatchCodec()
    (video,) = codec.decode(torch.full((1, 48, 1, 2, 2), 5.0), return_dict=False)
    assert video.max() == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [{"z_dim": 16}, {"scale_factor_temporal": 4}, {"latents_mean": [0.0] * 3}],
)
def test_bad_configs_are_refused(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        PatchCodec(**kwargs)


def test_bad_shapes_are_refused() -> None:
    codec = PatchCodec()
    with pytest.raises(ConfigError, match="multiples of 4"):
        codec.encode(torch.zeros(1, 3, 1, 30, 32))
    with pytest.raises(ConfigError, match="latent channels"):
        codec.decode(torch.zeros(1, 16, 1, 4, 4))
