"""Tiny random-weight builds of diffusers families outside genwatt's registry.

Each builder returns a ``TinyFamily``: the real diffusers pipeline class with random
weights small enough to run on a CPU in a fraction of a second, the call arguments,
and what a correct instrumentation must find (the steps of each stage, the phases and
the sub-phases). Tokenizers are built in code (``genwatt.models.tokenizer``), so
nothing is downloaded. Configs follow the ones diffusers' own tests use for these
pipelines, shrunk further where that kept them working.

Any test that takes a ``family`` argument runs once per family (``pytest_generate_tests``);
``build_family`` builds one by name.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from genwatt.meter.meter import Meter
from genwatt.meter.sources.estimate import EstimateSource
from genwatt.models.tokenizer import build_tokenizer, token_id, vocab_size

PROMPT = "a red circle moves left"
TEXT_DIM = 32
# Enough steps that the per-call work outside every phase (input checks, latents and
# timesteps set-up, post-processing) stays a small share of these millisecond calls.
STEPS = 8
PRIOR_STEPS = 16  # the tiny prior's steps are the cheapest of all


@dataclass
class TinyFamily:
    """A tiny pipeline, how to call it, and what its instrumentation must report."""

    name: str
    pipe: Any
    make_kwargs: Callable[[], dict[str, Any]]  # fresh arguments, seeded generator included
    steps: dict[str, int]  # stage label -> scheduler steps run in one call
    phases: set[str]
    subphases: set[str] = field(default_factory=set)
    step_boundaries: str = "callback"


# ----------------------------------------------------------------- shared parts


def clip_text(*, projection: bool = False) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        vocab_size=vocab_size("clip"),
        hidden_size=TEXT_DIM,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        projection_dim=TEXT_DIM,
        bos_token_id=token_id("clip", "bos"),
        eos_token_id=token_id("clip", "eos"),
        pad_token_id=token_id("clip", "pad"),
    )
    return (CLIPTextModelWithProjection if projection else CLIPTextModel)(config).eval()


def t5_text(*, umt5: bool = False) -> Any:
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    kwargs = {
        "vocab_size": vocab_size("t5"),
        "d_model": TEXT_DIM,
        "d_kv": 8,
        "d_ff": 37,
        "num_layers": 2,
        "num_heads": 4,
        "relative_attention_num_buckets": 8,
        "pad_token_id": token_id("t5", "pad"),
        "eos_token_id": token_id("t5", "eos"),
    }
    if umt5:
        return UMT5EncoderModel(UMT5Config(**kwargs)).eval()
    return T5EncoderModel(T5Config(**kwargs)).eval()


def sd_vae(latent_channels: int = 4, **extra: Any) -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=latent_channels,
        norm_num_groups=16,
        sample_size=32,
        **extra,
    ).eval()


def sd_unet(in_channels: int = 4, **extra: Any) -> Any:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=16,
        in_channels=in_channels,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_DIM,
        attention_head_dim=8,
        norm_num_groups=16,
        **extra,
    ).eval()


def ddim() -> Any:
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )


def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def sd_kwargs(**extra: Any) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        return {
            "prompt": PROMPT,
            "num_inference_steps": STEPS,
            "guidance_scale": 6.0,
            "generator": generator(),
            "output_type": "np",
            **extra,
        }

    return make


def sd_parts(unet: Any) -> dict[str, Any]:
    return {
        "vae": sd_vae(),
        "text_encoder": clip_text(),
        "tokenizer": build_tokenizer("clip", 77),
        "unet": unet,
        "scheduler": ddim(),
        "safety_checker": None,
        "feature_extractor": None,
        "requires_safety_checker": False,
    }


def image(size: int = 32, *, seed: int = 1) -> torch.Tensor:
    return torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------- Kandinsky 2.2


def kandinsky_prior_parts() -> dict[str, Any]:
    from diffusers import PriorTransformer, UnCLIPScheduler
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    prior = PriorTransformer(
        num_attention_heads=2, attention_head_dim=12, embedding_dim=TEXT_DIM, num_layers=1
    ).eval()
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=TEXT_DIM,
            image_size=28,
            projection_dim=TEXT_DIM,
            intermediate_size=37,
            num_attention_heads=4,
            num_channels=3,
            num_hidden_layers=2,
            patch_size=14,
        )
    ).eval()
    processor = CLIPImageProcessor(crop_size=28, size=28, do_resize=True, do_center_crop=True)
    scheduler = UnCLIPScheduler(
        variance_type="fixed_small_log",
        prediction_type="sample",
        num_train_timesteps=1000,
        clip_sample=True,
        clip_sample_range=10.0,
    )
    return {
        "prior": prior,
        "image_encoder": image_encoder,
        "text_encoder": clip_text(projection=True),
        "tokenizer": build_tokenizer("clip", 77),
        "scheduler": scheduler,
        "image_processor": processor,
    }


def kandinsky_decoder_parts() -> dict[str, Any]:
    from diffusers import DDIMScheduler, UNet2DConditionModel, VQModel

    unet = UNet2DConditionModel(
        in_channels=4,
        out_channels=8,
        addition_embed_type="image",
        down_block_types=("ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"),
        up_block_types=("SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"),
        mid_block_type="UNetMidBlock2DSimpleCrossAttn",
        block_out_channels=(32, 64),
        layers_per_block=1,
        encoder_hid_dim=TEXT_DIM,
        encoder_hid_dim_type="image_proj",
        cross_attention_dim=TEXT_DIM,
        attention_head_dim=4,
        resnet_time_scale_shift="scale_shift",
        class_embed_type=None,
        norm_num_groups=16,
    ).eval()
    movq = VQModel(
        block_out_channels=[32, 64],
        down_block_types=["DownEncoderBlock2D", "AttnDownEncoderBlock2D"],
        in_channels=3,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=8,
        norm_type="spatial",
        num_vq_embeddings=12,
        out_channels=3,
        up_block_types=["AttnUpDecoderBlock2D", "UpDecoderBlock2D"],
        vq_embed_dim=4,
    ).eval()
    scheduler = DDIMScheduler(
        num_train_timesteps=1000,
        beta_schedule="linear",
        beta_start=0.00085,
        beta_end=0.012,
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
        prediction_type="epsilon",
        thresholding=False,
    )
    return {"unet": unet, "scheduler": scheduler, "movq": movq}


def kandinsky22_prior() -> TinyFamily:
    from diffusers import KandinskyV22PriorPipeline

    pipe = KandinskyV22PriorPipeline(**kandinsky_prior_parts())
    return TinyFamily(
        "kandinsky2.2-prior",
        pipe,
        lambda: {
            "prompt": PROMPT,
            "num_inference_steps": PRIOR_STEPS,
            "guidance_scale": 4.0,
            "generator": generator(),
            "output_type": "pt",
        },
        steps={"main": PRIOR_STEPS},
        phases={"text_encode", "denoise", "image_encode"},
    )


def kandinsky22_decoder() -> TinyFamily:
    from diffusers import KandinskyV22Pipeline

    pipe = KandinskyV22Pipeline(**kandinsky_decoder_parts())
    embeds = torch.randn(1, TEXT_DIM, generator=torch.Generator().manual_seed(2))

    return TinyFamily(
        "kandinsky2.2-decoder",
        pipe,
        lambda: {
            "image_embeds": embeds,
            "negative_image_embeds": torch.zeros_like(embeds),
            "height": 32,
            "width": 32,
            "num_inference_steps": STEPS,
            "guidance_scale": 4.0,
            "generator": generator(),
            "output_type": "np",
        },
        steps={"main": STEPS},
        phases={"denoise", "vae_decode"},
    )


def kandinsky22_combined() -> TinyFamily:
    from diffusers import KandinskyV22CombinedPipeline

    prior = kandinsky_prior_parts()
    pipe = KandinskyV22CombinedPipeline(
        **kandinsky_decoder_parts(), **{f"prior_{k}": v for k, v in prior.items()}
    )
    return TinyFamily(
        "kandinsky2.2-combined",
        pipe,
        lambda: {
            "prompt": PROMPT,
            "height": 32,
            "width": 32,
            "num_inference_steps": STEPS,
            "prior_num_inference_steps": 4,
            "guidance_scale": 4.0,
            "prior_guidance_scale": 4.0,
            "generator": generator(),
            "output_type": "np",
        },
        steps={"prior": 4, "main": STEPS},
        phases={"text_encode", "denoise", "image_encode", "vae_decode"},
    )


# ----------------------------------------------------------------- Stable Diffusion


def sd_controlnet() -> TinyFamily:
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline

    controlnet = ControlNetModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        in_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        cross_attention_dim=TEXT_DIM,
        conditioning_embedding_out_channels=(16, 32),
        attention_head_dim=8,
        norm_num_groups=16,
    ).eval()
    pipe = StableDiffusionControlNetPipeline(**sd_parts(sd_unet()), controlnet=controlnet)
    return TinyFamily(
        "sd-controlnet",
        pipe,
        sd_kwargs(image=image(32), height=32, width=32),
        steps={"main": STEPS},
        phases={"text_encode", "denoise", "vae_decode"},
        subphases={"controlnet"},
    )


def sd_img2img() -> TinyFamily:
    from diffusers import StableDiffusionImg2ImgPipeline

    pipe = StableDiffusionImg2ImgPipeline(**sd_parts(sd_unet()))
    return TinyFamily(
        "sd-img2img",
        pipe,
        sd_kwargs(image=image(32), strength=0.75, num_inference_steps=12),
        steps={"main": 9},  # strength 0.75 of 12 steps
        phases={"text_encode", "vae_encode", "denoise", "vae_decode"},
    )


def sd_inpaint() -> TinyFamily:
    from diffusers import StableDiffusionInpaintPipeline

    pipe = StableDiffusionInpaintPipeline(**sd_parts(sd_unet(in_channels=9)))
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 8:24, 8:24] = 1.0
    return TinyFamily(
        "sd-inpaint",
        pipe,
        sd_kwargs(image=image(32), mask_image=mask, height=32, width=32, strength=1.0),
        steps={"main": STEPS},
        phases={"text_encode", "vae_encode", "denoise", "vae_decode"},
    )


def sd_upscale() -> TinyFamily:
    from diffusers import DDPMScheduler, StableDiffusionUpscalePipeline

    unet = sd_unet(in_channels=7, num_class_embeds=100)
    parts = sd_parts(unet)
    for unused in ("safety_checker", "feature_extractor", "requires_safety_checker"):
        parts.pop(unused)
    pipe = StableDiffusionUpscalePipeline(
        **parts, low_res_scheduler=DDPMScheduler(), max_noise_level=350
    )
    return TinyFamily(
        "sd-x4-upscaler",
        pipe,
        sd_kwargs(image=image(16)),
        steps={"main": STEPS},
        phases={"text_encode", "denoise", "vae_decode"},
        step_boundaries="scheduler",  # its __call__ takes no step-end callback
    )


# ----------------------------------------------------------------- transformers


# PixArt's transformer blocks, which Latte reuses frame by frame: one tiny setting for both.
PIXART_BLOCKS: dict[str, Any] = {
    "sample_size": 16,
    "patch_size": 2,
    "attention_head_dim": 8,
    "num_attention_heads": 3,
    "caption_channels": TEXT_DIM,
    "in_channels": 4,
    "cross_attention_dim": 24,
    "out_channels": 8,
    "attention_bias": True,
    "activation_fn": "gelu-approximate",
    "num_embeds_ada_norm": 1000,
    "norm_type": "ada_norm_single",
    "norm_elementwise_affine": False,
    "norm_eps": 1e-6,
}


def pixart_sigma() -> TinyFamily:
    from diffusers import PixArtSigmaPipeline, PixArtTransformer2DModel

    transformer = PixArtTransformer2DModel(num_layers=2, **PIXART_BLOCKS).eval()
    pipe = PixArtSigmaPipeline(
        tokenizer=build_tokenizer("t5", 300),
        text_encoder=t5_text(),
        vae=sd_vae(),
        transformer=transformer,
        scheduler=ddim(),
    )
    return TinyFamily(
        "pixart-sigma",
        pipe,
        sd_kwargs(
            height=32,
            width=32,
            max_sequence_length=16,
            use_resolution_binning=False,
            clean_caption=False,
        ),
        steps={"main": STEPS},
        phases={"text_encode", "denoise", "vae_decode"},
        step_boundaries="scheduler",  # PixArt's __call__ takes no step-end callback
    )


def latte() -> TinyFamily:
    from diffusers import LattePipeline, LatteTransformer3DModel

    transformer = LatteTransformer3DModel(num_layers=1, video_length=2, **PIXART_BLOCKS).eval()
    pipe = LattePipeline(
        tokenizer=build_tokenizer("t5", 120),
        text_encoder=t5_text(),
        vae=sd_vae(),
        transformer=transformer,
        scheduler=ddim(),
    )
    return TinyFamily(
        "latte",
        pipe,
        sd_kwargs(
            height=32,
            width=32,
            video_length=2,
            clean_caption=False,
            mask_feature=False,
            output_type="pt",
        ),
        steps={"main": STEPS},
        phases={"text_encode", "denoise", "vae_decode"},
    )


def auraflow() -> TinyFamily:
    from diffusers import (
        AuraFlowPipeline,
        AuraFlowTransformer2DModel,
        FlowMatchEulerDiscreteScheduler,
    )

    transformer = AuraFlowTransformer2DModel(
        sample_size=16,
        patch_size=2,
        in_channels=4,
        num_mmdit_layers=1,
        num_single_dit_layers=1,
        attention_head_dim=8,
        num_attention_heads=4,
        caption_projection_dim=TEXT_DIM,
        joint_attention_dim=TEXT_DIM,
        out_channels=4,
        pos_embed_max_size=64,
    ).eval()
    pipe = AuraFlowPipeline(
        tokenizer=build_tokenizer("t5", 256),
        text_encoder=t5_text(umt5=True),
        vae=sd_vae(),
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(),
    )
    return TinyFamily(
        "auraflow",
        pipe,
        sd_kwargs(height=32, width=32, max_sequence_length=16, guidance_scale=3.5),
        steps={"main": STEPS},
        phases={"text_encode", "denoise", "vae_decode"},
    )


def lumina2() -> TinyFamily:
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        Lumina2Pipeline,
        Lumina2Transformer2DModel,
    )
    from transformers import Gemma2Config, Gemma2Model

    transformer = Lumina2Transformer2DModel(
        sample_size=16,
        patch_size=2,
        in_channels=4,
        hidden_size=16,
        num_layers=2,
        num_refiner_layers=1,
        num_attention_heads=2,
        num_kv_heads=2,
        multiple_of=16,
        ffn_dim_multiplier=None,
        norm_eps=1e-5,
        scaling_factor=1.0,
        axes_dim_rope=(4, 2, 2),
        cap_feat_dim=16,
    ).eval()
    text_encoder = Gemma2Model(
        Gemma2Config(
            vocab_size=vocab_size("llama3"),
            head_dim=4,
            hidden_size=16,
            intermediate_size=16,
            num_attention_heads=2,
            num_hidden_layers=2,
            num_key_value_heads=2,
            sliding_window=2,
            pad_token_id=token_id("llama3", "pad"),
            bos_token_id=token_id("llama3", "bos"),
            eos_token_id=token_id("llama3", "eos"),
        )
    ).eval()
    pipe = Lumina2Pipeline(
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=sd_vae(shift_factor=0.0),
        text_encoder=text_encoder,
        tokenizer=build_tokenizer("llama3", 256),
    )
    return TinyFamily(
        "lumina2",
        pipe,
        sd_kwargs(height=32, width=32, max_sequence_length=16, guidance_scale=4.0),
        steps={"main": STEPS},
        phases={"text_encode", "denoise", "vae_decode"},
    )


BUILDERS: dict[str, Callable[[], TinyFamily]] = {
    "kandinsky2.2-prior": kandinsky22_prior,
    "kandinsky2.2-decoder": kandinsky22_decoder,
    "kandinsky2.2-combined": kandinsky22_combined,
    "sd-controlnet": sd_controlnet,
    "sd-img2img": sd_img2img,
    "sd-inpaint": sd_inpaint,
    "sd-x4-upscaler": sd_upscale,
    "pixart-sigma": pixart_sigma,
    "latte": latte,
    "auraflow": auraflow,
    "lumina2": lumina2,
}


def build(name: str) -> TinyFamily:
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notes of the pipelines' constructors
        family = BUILDERS[name]()
    family.pipe.set_progress_bar_config(disable=True)
    return family


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "family" in metafunc.fixturenames:
        metafunc.parametrize("family", list(BUILDERS), indirect=True)


@pytest.fixture
def family(request: pytest.FixtureRequest) -> Iterator[TinyFamily]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # idle workers spinning would blur the CPU-time estimate
    try:
        yield build(request.param)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def cpu_time_meter() -> Iterator[Meter]:
    """Energy from this process's CPU time only: no DRAM sampling between windows."""
    meter = Meter([EstimateSource(cpu=True, dram=False)])
    yield meter
    meter.close()


@pytest.fixture
def build_family() -> Callable[[str], TinyFamily]:
    return build
