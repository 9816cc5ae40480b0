"""Vision models of the suite: image classification, object detection and captioning.

Each entry is the checkpoint's real ``config.json`` (cited), its exact parameter count
(rebuilt on the meta device by a test) and the image processor of its
``preprocessor_config.json``, built in code, so that a real-size model with random
weights sees the image size, and so does the compute, of the trained one. The tiny
forms keep the classes and shrink widths, depths and images (32 to 96 pixels).

Where the entries depart from the checkpoints' own files, compute does not change:

- ImageNet heads predict ``LABEL_0`` ... ``LABEL_999`` (``num_labels=1000``) rather than
  the class names; pretrained weights load their own config and names.
- DETR is built on transformers' own ResNet (``use_timm_backbone=False`` with a
  ``backbone_config``), as the checkpoints' ``no_timm`` branch is, so timm is not
  needed; pretrained weights load from that branch (``revision``). transformers' ResNet
  has timm's and torchvision's layers to the parameter (microsoft/resnet-50 counts
  torchvision's 25,557,032), and DETR freezes the batch norms of either backbone into
  buffers, so the count is the timm form's.
- Captioning runs through genwatt's ``ImageCaptioningPipeline``
  (``pipelines/captioning.py``): transformers v5 has no image-to-text pipeline, and its
  image-text-to-text pipeline refuses an image without a text prompt.

Generation windows: the encoder is each captioner's image tower, run once per batch;
the decoder is the module called once per new token: BLIP's ``text_decoder``, BLIP-2's
``language_model``, and GIT's whole model (GIT feeds the image tokens through its
decoder at the prefill and keeps them in the cache, so ``git.image_encoder`` also runs
once). BLIP-2's Q-Former runs between its encode window and the prefill.

transformers' object-detection pipeline stacks a batch's pixels, and DETR and YOLOS
resize an image to its own aspect: a batch must hold images of one shape.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.tasks.spec import ProcessorSpec, TaskModelSpec, TokenizerScheme
from genwatt.models.tasks.tokenizer_schemes import BERT

CAPTIONING_PIPELINE = "genwatt.models.tasks.pipelines.captioning:ImageCaptioningPipeline"

# Normalisation constants as transformers names them (image_utils.IMAGENET_DEFAULT_*,
# OPENAI_CLIP_*), and as the checkpoints' preprocessor_config.json files spell them out.
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
HALF = [0.5, 0.5, 0.5]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
BILINEAR = 2  # PIL resample codes, as the processor configs store them
BICUBIC = 3

IMAGENET_CLASSES = 1000
# COCO detection heads: ids 0..90 with the unused ones named "N/A" (91 entries), as in
# the id2label of facebook/detr-resnet-50 and hustvl/yolos-*.
COCO_DETECTION_LABELS = 91

TINY_IMAGE = 32  # side of a tiny classifier's or captioner's input
TINY_VOCAB = 512  # the built-in word list with its specials fits (420 ids)


def _vit_processor(side: int) -> ProcessorSpec:
    return ProcessorSpec(
        "ViTImageProcessor",
        {
            "do_resize": True,
            "size": {"height": side, "width": side},
            "resample": BILINEAR,
            "do_normalize": True,
            "image_mean": HALF,
            "image_std": HALF,
        },
        source=f"preprocessor_config.json of google/vit-*-{side} (size {side}, mean/std 0.5)",
    )


def _convnext_processor(side: int, source: str) -> ProcessorSpec:
    # Below 384 pixels ConvNextImageProcessor resizes the short side to side/crop_pct
    # and centre-crops; at 384 and above it warps to side x side.
    return ProcessorSpec(
        "ConvNextImageProcessor",
        {
            "do_resize": True,
            "size": {"shortest_edge": side},
            "crop_pct": 0.875,
            "resample": BICUBIC,
            "do_normalize": True,
            "image_mean": IMAGENET_MEAN,
            "image_std": IMAGENET_STD,
        },
        source=source,
    )


def _detection_processor(class_name: str, short: int, long: int, source: str) -> ProcessorSpec:
    return ProcessorSpec(
        class_name,
        {
            "format": "coco_detection",
            "do_resize": True,
            "size": {"shortest_edge": short, "longest_edge": long},
            "do_normalize": True,
            "image_mean": IMAGENET_MEAN,
            "image_std": IMAGENET_STD,
            "do_pad": True,
        },
        source=source,
    )


def _clip_normalised(class_name: str, source: str, **resize: Any) -> ProcessorSpec:
    """A captioner's processor: bicubic resize, CLIP's mean and std (BLIP, BLIP-2, GIT)."""
    return ProcessorSpec(
        class_name,
        {
            "do_resize": True,
            "resample": BICUBIC,
            "do_normalize": True,
            "image_mean": CLIP_MEAN,
            "image_std": CLIP_STD,
            "do_convert_rgb": True,
            **resize,
        },
        source=source,
    )


def _blip_processor(side: int, source: str) -> ProcessorSpec:
    """BLIP and BLIP-2: the image squeezed to ``side`` x ``side``."""
    return _clip_normalised("BlipImageProcessor", source, size={"height": side, "width": side})


def _git_processor(side: int, source: str) -> ProcessorSpec:
    """GIT (CLIP's own processor): the short side to ``side``, then a centre crop."""
    return _clip_normalised(
        "CLIPImageProcessor",
        source,
        size={"shortest_edge": side},
        do_center_crop=True,
        crop_size={"height": side, "width": side},
    )


# ---------------------------------------------------------------- image classification

# Tiny ViT: 2 layers of 32 wide, 16 patches of 8 pixels.
TINY_VIT: dict[str, Any] = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "image_size": TINY_IMAGE,
    "patch_size": 8,
}
TINY_VIT_PROCESSOR = _vit_processor(TINY_IMAGE)


def _vit(
    repo_id: str,
    *,
    hidden: int,
    layers: int,
    heads: int,
    patch: int,
    side: int,
    params: int,
    tiny_params: int,
    published: float,
    published_source: str,
    alias: str,
) -> TaskModelSpec:
    return TaskModelSpec(
        repo_id=repo_id,
        tasks=("image-classification",),
        family="vit",
        class_name="ViTForImageClassification",
        config_class="ViTConfig",
        config={
            "hidden_size": hidden,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "intermediate_size": 4 * hidden,
            "hidden_act": "gelu",
            "image_size": side,
            "patch_size": patch,
            "num_channels": 3,
            "qkv_bias": True,
            "layer_norm_eps": 1e-12,
            "num_labels": IMAGENET_CLASSES,
        },
        source=f"config.json of {repo_id}",
        params=params,
        tiny_params=tiny_params,
        published_params=published,
        published_source=published_source,
        processor=_vit_processor(side),
        tiny_config=TINY_VIT,
        tiny_processor=TINY_VIT_PROCESSOR,
        aliases=(alias,),
    )


# Dosovitskiy et al. 2021 (arXiv 2010.11929), Table 1: ViT-Base 86M, ViT-Large 307M.
VIT_PAPER = "Dosovitskiy et al. 2021, 'An Image is Worth 16x16 Words', Table 1"

VIT_BASE_224 = _vit(
    "google/vit-base-patch16-224",
    hidden=768,
    layers=12,
    heads=12,
    patch=16,
    side=224,
    params=86_567_656,
    tiny_params=56_904,
    published=86e6,
    published_source=f"{VIT_PAPER}: ViT-Base 86M",
    alias="vit-base-224",
)
VIT_BASE_384 = _vit(
    "google/vit-base-patch16-384",
    hidden=768,
    layers=12,
    heads=12,
    patch=16,
    side=384,
    params=86_859_496,
    tiny_params=56_904,
    published=86e6,
    published_source=f"{VIT_PAPER}: ViT-Base 86M",
    alias="vit-base-384",
)
VIT_LARGE_32_384 = _vit(
    "google/vit-large-patch32-384",
    hidden=1024,
    layers=24,
    heads=16,
    patch=32,
    side=384,
    params=306_632_680,
    tiny_params=56_904,
    published=307e6,
    published_source=f"{VIT_PAPER}: ViT-Large 307M",
    alias="vit-large-32-384",
)

# preprocessor_config.json of microsoft/resnet-18 and -50 and facebook/convnext-*-224:
# ConvNextImageProcessor, size 224, crop_pct 0.875, bicubic, ImageNet mean and std.
RESNET_PROCESSOR = _convnext_processor(
    224, "preprocessor_config.json of microsoft/resnet-50 (ConvNext processor, 224, crop 0.875)"
)
TINY_CONVNET_PROCESSOR = _convnext_processor(TINY_IMAGE, "tiny form: 32 pixels")


def _resnet(
    repo_id: str,
    *,
    layer_type: str,
    depths: list[int],
    hidden_sizes: list[int],
    params: int,
    tiny_params: int,
    published: float,
    alias: str,
) -> TaskModelSpec:
    return TaskModelSpec(
        repo_id=repo_id,
        tasks=("image-classification",),
        family="resnet",
        class_name="ResNetForImageClassification",
        config_class="ResNetConfig",
        config={
            "num_channels": 3,
            "embedding_size": 64,
            "hidden_sizes": hidden_sizes,
            "depths": depths,
            "layer_type": layer_type,
            "hidden_act": "relu",
            "downsample_in_first_stage": False,
            "num_labels": IMAGENET_CLASSES,
        },
        source=f"config.json of {repo_id}",
        params=params,
        tiny_params=tiny_params,
        published_params=published,
        published_source=(
            "torchvision model table (the same network He et al. 2016 describe): "
            f"{published / 1e6:.1f}M"
        ),
        processor=RESNET_PROCESSOR,
        tiny_config={
            "embedding_size": 8,
            "hidden_sizes": [16, 32] if layer_type == "basic" else [32, 64],
            "depths": [1, 1],
        },
        tiny_processor=TINY_CONVNET_PROCESSOR,
        aliases=(alias,),
    )


RESNET_18 = _resnet(
    "microsoft/resnet-18",
    layer_type="basic",
    depths=[2, 2, 2, 2],
    hidden_sizes=[64, 128, 256, 512],
    params=11_689_512,
    tiny_params=52_400,
    published=11.69e6,
    alias="resnet-18",
)
RESNET_50 = _resnet(
    "microsoft/resnet-50",
    layer_type="bottleneck",
    depths=[3, 4, 6, 3],
    hidden_sizes=[256, 512, 1024, 2048],
    params=25_557_032,
    tiny_params=73_712,
    published=25.56e6,
    alias="resnet-50",
)

# Liu et al. 2022, "A ConvNet for the 2020s" (arXiv 2201.03545), Table 1 / A: ConvNeXt-T
# 28M, ConvNeXt-B 89M (the same at 384 pixels).
CONVNEXT_PAPER = "Liu et al. 2022, 'A ConvNet for the 2020s', Table 1"
TINY_CONVNEXT: dict[str, Any] = {
    "num_stages": 2,
    "hidden_sizes": [16, 32],
    "depths": [1, 1],
    "image_size": TINY_IMAGE,
}


def _convnext(
    repo_id: str,
    *,
    depths: list[int],
    hidden_sizes: list[int],
    side: int,
    params: int,
    tiny_params: int,
    published: float,
    alias: str,
) -> TaskModelSpec:
    return TaskModelSpec(
        repo_id=repo_id,
        tasks=("image-classification",),
        family="convnext",
        class_name="ConvNextForImageClassification",
        config_class="ConvNextConfig",
        config={
            "num_channels": 3,
            "patch_size": 4,
            "num_stages": 4,
            "hidden_sizes": hidden_sizes,
            "depths": depths,
            "hidden_act": "gelu",
            "layer_scale_init_value": 1e-6,
            "drop_path_rate": 0.0,
            "image_size": side,
            "num_labels": IMAGENET_CLASSES,
        },
        source=f"config.json of {repo_id}",
        params=params,
        tiny_params=tiny_params,
        published_params=published,
        published_source=f"{CONVNEXT_PAPER}: {published / 1e6:.0f}M",
        processor=_convnext_processor(
            side, f"preprocessor_config.json of {repo_id} (size {side}, crop 0.875, bicubic)"
        ),
        tiny_config=TINY_CONVNEXT,
        tiny_processor=TINY_CONVNET_PROCESSOR,
        aliases=(alias,),
    )


CONVNEXT_TINY = _convnext(
    "facebook/convnext-tiny-224",
    depths=[3, 3, 9, 3],
    hidden_sizes=[96, 192, 384, 768],
    side=224,
    params=28_589_128,
    tiny_params=49_016,
    published=28e6,
    alias="convnext-tiny",
)
CONVNEXT_BASE_384 = _convnext(
    "facebook/convnext-base-384-22k-1k",
    depths=[3, 3, 27, 3],
    hidden_sizes=[128, 256, 512, 1024],
    side=384,
    params=88_591_464,
    tiny_params=49_016,
    published=89e6,
    alias="convnext-base-384",
)

# -------------------------------------------------------------------- object detection

DETR_PROCESSOR = _detection_processor(
    "DetrImageProcessor",
    800,
    1333,
    "preprocessor_config.json of facebook/detr-resnet-50 (shortest edge 800, longest 1333)",
)
TINY_DETECTION_SIZE = (64, 96)


def _detr(
    repo_id: str, *, depths: list[int], params: int, tiny_params: int, published: float
) -> TaskModelSpec:
    backbone = {
        "model_type": "resnet",
        "embedding_size": 64,
        "hidden_sizes": [256, 512, 1024, 2048],
        "depths": depths,
        "layer_type": "bottleneck",
        "hidden_act": "relu",
        "downsample_in_first_stage": False,
        "out_features": ["stage1", "stage2", "stage3", "stage4"],
    }
    tiny_backbone = {
        **backbone,
        "embedding_size": 8,
        "hidden_sizes": [16, 16, 32, 32],
        "depths": [1, 1, 1, 1],
    }
    return TaskModelSpec(
        repo_id=repo_id,
        tasks=("object-detection",),
        family="detr",
        class_name="DetrForObjectDetection",
        config_class="DetrConfig",
        config={
            "use_timm_backbone": False,
            "use_pretrained_backbone": False,
            "backbone_config": backbone,
            "num_channels": 3,
            "num_queries": 100,
            "d_model": 256,
            "encoder_layers": 6,
            "decoder_layers": 6,
            "encoder_attention_heads": 8,
            "decoder_attention_heads": 8,
            "encoder_ffn_dim": 2048,
            "decoder_ffn_dim": 2048,
            "activation_function": "relu",
            "position_embedding_type": "sine",
            "dilation": False,
            "auxiliary_loss": False,
            "num_labels": COCO_DETECTION_LABELS,
        },
        source=f"config.json of {repo_id}, revision no_timm (transformers' ResNet backbone)",
        params=params,
        tiny_params=tiny_params,
        published_params=published,
        published_source=(
            f"Carion et al. 2020, 'End-to-End Object Detection with Transformers', Table 1: "
            f"{published / 1e6:.0f}M"
        ),
        processor=DETR_PROCESSOR,
        tiny_config={
            "backbone_config": tiny_backbone,
            "num_queries": 10,
            "d_model": 32,
            "encoder_layers": 2,
            "decoder_layers": 2,
            "encoder_attention_heads": 2,
            "decoder_attention_heads": 2,
            "encoder_ffn_dim": 64,
            "decoder_ffn_dim": 64,
        },
        tiny_processor=_detection_processor(
            "DetrImageProcessor", *TINY_DETECTION_SIZE, "tiny form"
        ),
        aliases=(repo_id.split("/")[1],),
        revision="no_timm",
    )


DETR_R50 = _detr(
    "facebook/detr-resnet-50",
    depths=[3, 4, 6, 3],
    params=41_524_768,
    tiny_params=55_128,
    published=41e6,
)
DETR_R101 = _detr(
    "facebook/detr-resnet-101",
    depths=[3, 4, 23, 3],
    params=60_464_672,
    tiny_params=55_128,
    published=60e6,
)

# Fang et al. 2021, "You Only Look at One Sequence" (arXiv 2106.00666), the comparison
# with DETR and the hustvl/YOLOS README: YOLOS-Ti 6.5M evaluated at a short side of 512
# pixels, YOLOS-S 30.7M and YOLOS-B 127M at 800. The position embeddings are sized for
# ``image_size`` (the checkpoints' pre-training sizes: 800x1333, 512x864, 800x1344) and
# interpolated to the input; YOLOS-S and -B add one set per layer
# (``use_mid_position_embeddings``), which is most of the difference in their counts.
YOLOS_PAPER = "Fang et al. 2021, 'You Only Look at One Sequence' (arXiv 2106.00666)"


def _yolos(
    repo_id: str,
    *,
    hidden: int,
    heads: int,
    image_size: list[int],
    mid: bool,
    short_edge: int,
    params: int,
    tiny_params: int,
    published: float,
) -> TaskModelSpec:
    return TaskModelSpec(
        repo_id=repo_id,
        tasks=("object-detection",),
        family="yolos",
        class_name="YolosForObjectDetection",
        config_class="YolosConfig",
        config={
            "hidden_size": hidden,
            "num_hidden_layers": 12,
            "num_attention_heads": heads,
            "intermediate_size": 4 * hidden,
            "hidden_act": "gelu",
            "layer_norm_eps": 1e-12,
            "image_size": image_size,
            "patch_size": 16,
            "num_channels": 3,
            "qkv_bias": True,
            "num_detection_tokens": 100,
            "use_mid_position_embeddings": mid,
            "auxiliary_loss": False,
            "num_labels": COCO_DETECTION_LABELS,
        },
        source=f"config.json of {repo_id}",
        params=params,
        tiny_params=tiny_params,
        published_params=published,
        published_source=f"{YOLOS_PAPER}: {published / 1e6:.1f}M",
        processor=_detection_processor(
            "YolosImageProcessor",
            short_edge,
            1333,
            f"preprocessor_config.json of {repo_id} (shortest edge {short_edge}, longest 1333)",
        ),
        tiny_config={
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "image_size": list(TINY_DETECTION_SIZE),
            "num_detection_tokens": 10,
        },
        tiny_processor=_detection_processor(
            "YolosImageProcessor", *TINY_DETECTION_SIZE, "tiny form"
        ),
        aliases=(repo_id.split("/")[1],),
    )


YOLOS_TINY = _yolos(
    "hustvl/yolos-tiny",
    hidden=192,
    heads=3,
    image_size=[800, 1333],
    mid=False,
    short_edge=512,
    params=6_488_736,
    tiny_params=50_624,
    published=6.5e6,
)
YOLOS_SMALL = _yolos(
    "hustvl/yolos-small",
    hidden=384,
    heads=6,
    image_size=[512, 864],
    mid=True,
    short_edge=800,
    params=30_684_768,
    tiny_params=51_744,
    published=30.7e6,
)
YOLOS_BASE = _yolos(
    "hustvl/yolos-base",
    hidden=768,
    heads=12,
    image_size=[800, 1344],
    mid=True,
    short_edge=800,
    params=127_798_368,
    tiny_params=51_744,
    published=127e6,
)

# ------------------------------------------------------------------------- captioning

# tokenizer_config.json / special_tokens_map.json of Salesforce/blip-image-captioning-*:
# BERT's uncased vocabulary with "[DEC]" (30522, the decoder's bos) and "[ENC]" (30523)
# added; the decoder stops at [SEP] (102).
BLIP_TOKENIZER = TokenizerScheme(
    "blip",
    {**BERT.specials, "bos": ("[DEC]", 30522), "enc": ("[ENC]", 30523)},
    single=BERT.single,
    pair=BERT.pair,
    model_max_length=512,
    lowercase=True,
)
# microsoft/git-base: BERT's uncased vocabulary; generation starts at [CLS] (101, the
# config's bos_token_id) and stops at [SEP] (102, eos_token_id).
GIT_TOKENIZER = TokenizerScheme(
    "git",
    {**BERT.specials, "bos": ("[CLS]", 101), "eos": ("[SEP]", 102)},
    single=BERT.single,
    pair=BERT.pair,
    model_max_length=512,
    lowercase=True,
)
# Salesforce/blip2-opt-2.7b: OPT's GPT-2 byte-level vocabulary (<pad> 1, </s> 2 as bos
# and eos, <unk> 3) with "<image>" added at 50265, the config's image_token_index; the
# processor prepends the bos.
BLIP2_OPT_TOKENIZER = TokenizerScheme(
    "opt",
    {
        "pad": ("<pad>", 1),
        "bos": ("</s>", 2),
        "eos": ("</s>", 2),
        "unk": ("<unk>", 3),
        "image": ("<image>", 50265),
    },
    single="{bos} $A",
    model_max_length=2048,
    padding_side="left",
)


def _compact_id(scheme: TokenizerScheme, role: str) -> int:
    token_id = scheme.compact().token_id(role)
    if token_id is None:
        raise ValueError(f"{scheme.family}: no {role} token")
    return token_id


TINY_VISION_TOWER: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "image_size": TINY_IMAGE,
    "patch_size": 8,
}
TINY_TEXT_TOWER: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "vocab_size": TINY_VOCAB,
}

BLIP_TEXT: dict[str, Any] = {
    "vocab_size": 30524,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "max_position_embeddings": 512,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-12,
    "bos_token_id": 30522,
    "sep_token_id": 102,
    "pad_token_id": 0,
}
BLIP_TINY_TEXT: dict[str, Any] = {
    **BLIP_TEXT,
    **TINY_TEXT_TOWER,
    "bos_token_id": _compact_id(BLIP_TOKENIZER, "bos"),
    "sep_token_id": _compact_id(BLIP_TOKENIZER, "sep"),
    "pad_token_id": _compact_id(BLIP_TOKENIZER, "pad"),
}
BLIP_PROCESSOR = _blip_processor(
    384, "preprocessor_config.json of Salesforce/blip-image-captioning-* (384x384, bicubic)"
)
TINY_BLIP_PROCESSOR = _blip_processor(TINY_IMAGE, "tiny form")


def _blip(
    repo_id: str,
    *,
    vision_hidden: int,
    vision_layers: int,
    vision_heads: int,
    params: int,
    tiny_params: int,
    published: float,
    published_source: str,
    alias: str,
) -> TaskModelSpec:
    vision = {
        "hidden_size": vision_hidden,
        "intermediate_size": 4 * vision_hidden,
        "num_hidden_layers": vision_layers,
        "num_attention_heads": vision_heads,
        "image_size": 384,
        "patch_size": 16,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-5,
    }
    return TaskModelSpec(
        repo_id=repo_id,
        tasks=("image-to-text",),
        family="blip",
        class_name="BlipForConditionalGeneration",
        config_class="BlipConfig",
        config={"vision_config": vision, "text_config": BLIP_TEXT},
        source=f"config.json of {repo_id}",
        params=params,
        tiny_params=tiny_params,
        published_params=published,
        published_source=published_source,
        tokenizer=BLIP_TOKENIZER,
        processor=BLIP_PROCESSOR,
        tiny_config={
            "vision_config": {**vision, **TINY_VISION_TOWER},
            "text_config": BLIP_TINY_TEXT,
        },
        tiny_processor=TINY_BLIP_PROCESSOR,
        encoder="vision_model",
        decoder="text_decoder",
        pipeline=CAPTIONING_PIPELINE,
        aliases=(alias,),
    )


BLIP_BASE = _blip(
    "Salesforce/blip-image-captioning-base",
    vision_hidden=768,
    vision_layers=12,
    vision_heads=12,
    params=223_971_644,
    tiny_params=84_032,
    published=224e6,
    published_source=(
        "the Hub model page's 247M (safetensors) less the output matrix it lists a second "
        "time (30,524 x 768 = 23.4M, tied to the word embeddings, as BLIP-2 counts BLIP)"
    ),
    alias="blip-base",
)
BLIP_LARGE = _blip(
    "Salesforce/blip-image-captioning-large",
    vision_hidden=1024,
    vision_layers=24,
    vision_heads=16,
    params=446_290_492,
    tiny_params=84_032,
    published=446e6,
    published_source="Li et al. 2023 (BLIP-2, arXiv 2301.12597), Table 3: BLIP 446M",
    alias="blip-large",
)

# config.json of microsoft/git-base: a CLIP ViT-B/16 image encoder (224 pixels) and a
# 6-layer BERT-sized text decoder over the image tokens and the text.
GIT_VISION: dict[str, Any] = {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "image_size": 224,
    "patch_size": 16,
    "hidden_act": "quick_gelu",
    "layer_norm_eps": 1e-5,
}
GIT_BASE = TaskModelSpec(
    repo_id="microsoft/git-base",
    tasks=("image-to-text",),
    family="git",
    class_name="GitForCausalLM",
    config_class="GitConfig",
    config={
        "vision_config": GIT_VISION,
        "vocab_size": 30522,
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 6,
        "num_attention_heads": 12,
        "max_position_embeddings": 1024,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-12,
        "bos_token_id": 101,
        "eos_token_id": 102,
        "pad_token_id": 0,
        "tie_word_embeddings": False,
    },
    source="config.json of microsoft/git-base",
    params=176_619_066,
    tiny_params=108_256,
    published_params=177e6,
    published_source=(
        "Hub model page of microsoft/git-base (safetensors: 177M params); Wang et al. 2022 "
        "(GIT, arXiv 2205.14100) give 129M for GIT-B, without the word embeddings and "
        "output layer (2 x 23.4M)"
    ),
    tokenizer=GIT_TOKENIZER,
    processor=_git_processor(
        224, "preprocessor_config.json of microsoft/git-base (short side 224, centre crop 224)"
    ),
    tiny_config={
        "vision_config": {**GIT_VISION, **TINY_VISION_TOWER},
        **TINY_TEXT_TOWER,
        "bos_token_id": _compact_id(GIT_TOKENIZER, "bos"),
        "eos_token_id": _compact_id(GIT_TOKENIZER, "eos"),
        "pad_token_id": _compact_id(GIT_TOKENIZER, "pad"),
    },
    tiny_processor=_git_processor(TINY_IMAGE, "tiny form"),
    encoder="git.image_encoder",
    decoder="",
    pipeline=CAPTIONING_PIPELINE,
    aliases=("git-base",),
)

# config.json of Salesforce/blip2-opt-2.7b: EVA ViT-g/14 (39 layers of 1408, 224
# pixels), a 12-layer Q-Former of 768 with 32 queries cross-attending every second
# layer, and OPT-2.7B (whose eos is "\n", 50118, in this checkpoint).
BLIP2_VISION: dict[str, Any] = {
    "hidden_size": 1408,
    "intermediate_size": 6144,
    "num_hidden_layers": 39,
    "num_attention_heads": 16,
    "image_size": 224,
    "patch_size": 14,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-6,
    "qkv_bias": True,
}
BLIP2_QFORMER: dict[str, Any] = {
    "vocab_size": 30522,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "max_position_embeddings": 512,
    "cross_attention_frequency": 2,
    "encoder_hidden_size": 1408,
}
BLIP2_OPT_TEXT: dict[str, Any] = {
    "model_type": "opt",
    "vocab_size": 50272,
    "hidden_size": 2560,
    "word_embed_proj_dim": 2560,
    "ffn_dim": 10240,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "max_position_embeddings": 2048,
    "do_layer_norm_before": True,
    "activation_function": "relu",
    "pad_token_id": 1,
    "bos_token_id": 2,
    "eos_token_id": 50118,
}
TINY_QUERIES = 4
BLIP2_OPT_27B = TaskModelSpec(
    repo_id="Salesforce/blip2-opt-2.7b",
    tasks=("image-to-text",),
    family="blip-2",
    class_name="Blip2ForConditionalGeneration",
    config_class="Blip2Config",
    config={
        "vision_config": BLIP2_VISION,
        "qformer_config": BLIP2_QFORMER,
        "text_config": BLIP2_OPT_TEXT,
        "num_query_tokens": 32,
        "image_token_index": 50265,
    },
    source="config.json of Salesforce/blip2-opt-2.7b",
    params=3_744_679_936,
    tiny_params=84_224,
    published_params=3.8e9,
    published_source="Li et al. 2023, 'BLIP-2' (arXiv 2301.12597), Table 2: ViT-g OPT2.7B 3.8B",
    tokenizer=BLIP2_OPT_TOKENIZER,
    processor=_blip_processor(
        224, "preprocessor_config.json of Salesforce/blip2-opt-2.7b (224x224, bicubic)"
    ),
    tiny_config={
        "vision_config": {**BLIP2_VISION, **TINY_VISION_TOWER},
        "qformer_config": {
            **BLIP2_QFORMER,
            **TINY_TEXT_TOWER,
            "encoder_hidden_size": TINY_VISION_TOWER["hidden_size"],
        },
        "text_config": {
            **BLIP2_OPT_TEXT,
            "vocab_size": TINY_VOCAB,
            "hidden_size": 32,
            "word_embed_proj_dim": 32,
            "ffn_dim": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "max_position_embeddings": 128,
            "pad_token_id": _compact_id(BLIP2_OPT_TOKENIZER, "pad"),
            "bos_token_id": _compact_id(BLIP2_OPT_TOKENIZER, "bos"),
            "eos_token_id": _compact_id(BLIP2_OPT_TOKENIZER, "eos"),
        },
        "num_query_tokens": TINY_QUERIES,
        "image_token_index": _compact_id(BLIP2_OPT_TOKENIZER, "image"),
    },
    tiny_processor=TINY_BLIP_PROCESSOR,
    encoder="vision_model",
    decoder="language_model",
    pipeline=CAPTIONING_PIPELINE,
    aliases=("blip2-opt-2.7b",),
    notes=(
        "The encode window covers the ViT-g (vision_model, 986M parameters over 257 "
        "tokens); the Q-Former and projection after it (107M over 32 queries) run between "
        "that window and the prefill."
    ),
)

SPECS: tuple[TaskModelSpec, ...] = (
    VIT_BASE_224,
    VIT_BASE_384,
    VIT_LARGE_32_384,
    RESNET_18,
    RESNET_50,
    CONVNEXT_TINY,
    CONVNEXT_BASE_384,
    DETR_R50,
    DETR_R101,
    YOLOS_TINY,
    YOLOS_SMALL,
    YOLOS_BASE,
    BLIP_BASE,
    BLIP_LARGE,
    GIT_BASE,
    BLIP2_OPT_27B,
)
