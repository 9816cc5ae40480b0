"""An exact, parameter-free latent codec for the reference model: pixel patches as channels.

Why not a trained VAE: the reference model exists to judge mitigation strategies, so
every difference between two outputs must come from the denoiser, not from a lossy
autoencoder. Why not a PCA of patches to 16 channels (the WAN VAE's width): the toy
videos' 4x4 RGB patches span all 48 dimensions (shape edges cut patches anywhere), so a
16-channel linear code loses detail (about 28 dB at 32 px). Folding each 4x4x3 patch into
48 channels (``pixel_unshuffle``) is lossless, costs nothing, and still compresses space
4x per side, as WAN's VAE does 8x; the transformer simply takes 48 input channels.

The class wears the interface ``WanPipeline`` reads from its VAE: ``config.z_dim``,
``config.scale_factor_spatial``, ``config.scale_factor_temporal``, ``config.latents_mean``
and ``config.latents_std``, ``dtype`` and ``decode(latents, return_dict=False)`` returning
pixels in ``[-1, 1]``. Time is not compressed (``scale_factor_temporal = 1``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812 (the conventional alias)
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.autoencoders.vae import DecoderOutput
from diffusers.models.modeling_utils import ModelMixin

from genwatt.errors import ConfigError


class PatchCodec(ModelMixin, ConfigMixin):
    """Pixels ``(B, 3, F, H, W)`` in ``[-1, 1]`` <-> latents ``(B, 3*p*p, F, H/p, W/p)``.

    ``latents_mean`` and ``latents_std`` are the per-channel statistics of the training
    latents; ``normalize`` and ``denormalize`` apply them exactly as ``WanPipeline`` does
    before decoding, so training and sampling see the same latent scale.
    """

    @register_to_config
    def __init__(
        self,
        patch_px: int = 4,
        z_dim: int = 48,
        scale_factor_temporal: int = 1,
        latents_mean: Sequence[float] | None = None,
        latents_std: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        if z_dim != 3 * patch_px * patch_px:
            raise ConfigError(f"z_dim must be 3 * patch_px**2 = {3 * patch_px**2}; got {z_dim}")
        if scale_factor_temporal != 1:
            raise ConfigError("PatchCodec does not compress time; scale_factor_temporal is 1")
        self.register_to_config(
            scale_factor_spatial=patch_px,
            latents_mean=list(latents_mean) if latents_mean is not None else [0.0] * z_dim,
            latents_std=list(latents_std) if latents_std is not None else [1.0] * z_dim,
        )
        for name in ("latents_mean", "latents_std"):
            if len(self.config[name]) != z_dim:
                raise ConfigError(f"{name} needs {z_dim} values; got {len(self.config[name])}")
        # An empty parameter so ``dtype`` and ``device`` work like any diffusers model's.
        self.anchor = torch.nn.Parameter(torch.zeros(0), requires_grad=False)

    def _stats(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (1, self.config.z_dim, 1, 1, 1)
        mean = torch.tensor(self.config.latents_mean, dtype=like.dtype, device=like.device)
        std = torch.tensor(self.config.latents_std, dtype=like.dtype, device=like.device)
        return mean.view(shape), std.view(shape)

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """Raw (unnormalised) latents of ``video`` ``(B, 3, F, H, W)`` in ``[-1, 1]``."""
        if video.ndim != 5 or video.shape[1] != 3:
            raise ConfigError(f"expected (B, 3, F, H, W) pixels; got {tuple(video.shape)}")
        b, c, f, h, w = video.shape
        p = self.config.patch_px
        if h % p or w % p:
            raise ConfigError(f"height and width must be multiples of {p}; got {h}x{w}")
        frames = video.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)
        z = F.pixel_unshuffle(frames, p)
        return z.reshape(b, f, -1, h // p, w // p).permute(0, 2, 1, 3, 4)

    def decode(
        self, latents: torch.Tensor, return_dict: bool = True
    ) -> DecoderOutput | tuple[torch.Tensor]:
        """Pixels in ``[-1, 1]`` from raw latents; the exact inverse of ``encode``."""
        b, z, f, h, w = latents.shape
        if z != self.config.z_dim:
            raise ConfigError(f"expected {self.config.z_dim} latent channels; got {z}")
        frames = latents.permute(0, 2, 1, 3, 4).reshape(b * f, z, h, w)
        pixels = F.pixel_shuffle(frames, self.config.patch_px).clamp(-1.0, 1.0)
        video = pixels.reshape(b, f, 3, h * self.config.patch_px, -1).permute(0, 2, 1, 3, 4)
        return DecoderOutput(sample=video) if return_dict else (video,)

    def normalize(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw latents to the unit-scale latents the transformer is trained on."""
        mean, std = self._stats(raw)
        return (raw - mean) / std

    def denormalize(self, latents: torch.Tensor) -> torch.Tensor:
        """Inverse of ``normalize``: what ``WanPipeline`` does before ``decode``."""
        mean, std = self._stats(latents)
        return latents * std + mean
