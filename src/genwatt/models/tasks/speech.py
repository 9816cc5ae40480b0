"""Speech recognition models of the suite: Whisper, which generates its transcript token
by token, and wav2vec 2.0, which labels every 20 ms frame with a letter (CTC) in one
forward pass.

Each entry is the checkpoint's real ``config.json`` (cited), its exact parameter count
(rebuilt on the meta device by a test) and the feature extractor of its
``preprocessor_config.json``, built in code. Both run through transformers' own
``automatic-speech-recognition`` pipeline with its defaults; a query is one clip of
16 kHz samples (the pipeline resamples other rates only with torchaudio, which genwatt
does not install).

Whisper needs more than a config to generate: its tokenizer (the pipeline decodes with
``WhisperTokenizer._decode_asr``) and its generation config (the prompt
``<|startoftranscript|><|en|><|transcribe|><|notimestamps|>``, the language and task
tables). Both are built here from the vocabulary layout of the real checkpoints
(``WhisperVocabulary``): 50,257 byte-level BPE tokens, then ``<|endoftext|>``,
``<|startoftranscript|>``, one token per language, the task and control tokens,
``<|notimestamps|>`` and 1,501 timestamps ``<|0.00|>`` ... ``<|30.00|>``. The BPE part is
the 256 byte symbols, the built-in words (``genwatt.models.tokenizer``) and pairs of them,
without merges: it encodes any text byte by byte and decodes every id to text, which is
all the pipeline asks of it. Pretrained weights load the real tokenizer and generation
config.

Choices that shape the measurement:

- The language is fixed to English and the task to transcription, for every weights kind
  (``whisper_setup``). The checkpoints' generation config leaves the language open, and
  transformers then detects it before generating with an extra forward pass of the whole
  model, encoder included: a second encoder pass per query. LibriSpeech, whose utterance
  lengths the suite's workload follows, is English.
- transformers' ASR pipeline generates with beam search over 5 beams unless told
  otherwise (``AutomaticSpeechRecognitionPipeline._default_generation_config``, "follows
  openai's whisper implementation"); the checkpoints set no ``num_beams``, so that is
  what the suite measures. With min = max new tokens every beam runs the full length.
- Clips longer than 30 s: the pipeline's default (no ``chunk_length_s``) sends them to
  Whisper's sequential long-form generation, which needs timestamps, and the checkpoints'
  ``return_timestamps: false`` makes transformers refuse them with a ValueError. A
  workload keeps its clips to 30 s, or passes ``chunk_length_s=30``: overlapping 30 s
  windows (5 s strides), each an encoder pass and the new tokens asked for.
- Random and tiny weights only: ``suppress_tokens`` suppresses every timestamp
  (``WhisperVocabulary.generation_config`` says why), so they cannot run in timestamp
  mode (``return_timestamps=True``); trained weights can.

wav2vec 2.0's CTC letters are its real ``vocab.json``; transformers' tokenizer reads it
from a file, so ``wav2vec2_tokenizer`` writes it to a temporary one. Its base model pads
a batch with zeros and no attention mask, as its feature extractor's config says.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genwatt.models.tasks.spec import ProcessorSpec, TaskModelSpec
from genwatt.models.tokenizer import plain_tokens

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

WHISPER_TOKENIZER = "genwatt.models.tasks.speech:whisper_tokenizer"
WHISPER_SETUP = "genwatt.models.tasks.speech:whisper_setup"
WAV2VEC2_TOKENIZER = "genwatt.models.tasks.speech:wav2vec2_tokenizer"

SAMPLING_RATE = 16_000  # every checkpoint here was trained on 16 kHz audio
WHISPER_CHUNK_S = 30  # Whisper's window: shorter clips are padded to it, as in training

# The language every Whisper query is transcribed in (see the module docstring).
WHISPER_LANGUAGE = "en"
WHISPER_TASK = "transcribe"

# Whisper's language tokens follow its own table (whisper/tokenizer.py, LANGUAGES), which
# transformers copies in the same order; large-v3 appended Cantonese as the 100th.
_WHISPER_LANGUAGES = (  # noqa: SIM905 (as a list literal, 100 codes take 20 lines)
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no "
    "th ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw "
    "gl mr pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl "
    "mg as tt haw ln ha ba jw su yue"
).split()

# Byte-level BPE: the 256 byte symbols come first, in GPT-2's order (the printable bytes
# as themselves, then the others shifted past 255), as in every GPT-2 style vocabulary.
_PRINTABLE_BYTES = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
_BYTE_SYMBOLS = [chr(b) for b in _PRINTABLE_BYTES] + [
    chr(256 + i) for i, _ in enumerate(b for b in range(256) if b not in _PRINTABLE_BYTES)
]
_SPACE_SYMBOL = _BYTE_SYMBOLS.index("Ġ")  # 220, the id of a bare space in GPT-2 vocabularies
# The built-in words as byte-level tokens (with their leading space), after the bytes.
_WORD_SYMBOLS = list(dict.fromkeys("Ġ" + w for w in plain_tokens() if "Ġ" + w not in _BYTE_SYMBOLS))


def text_symbols(count: int) -> list[str]:
    """The first ``count`` byte-level tokens: the 256 bytes, the built-in words, then pairs
    of words (" rainforest") until the table is full, so that every id a real-size model
    with random weights emits decodes to text, as every id of the real table does."""
    symbols = dict.fromkeys([*_BYTE_SYMBOLS, *_WORD_SYMBOLS])
    words = [symbol[1:] for symbol in _WORD_SYMBOLS]
    pairs = (f"Ġ{a}{b}" for a, b in itertools.product(words, repeat=2))
    while len(symbols) < count:
        symbols.setdefault(next(pairs))
    return list(symbols)[:count]


REAL_TEXT_TOKENS = 50_257  # Whisper's byte-level BPE ids, as many as GPT-2's
BUILT_IN_TEXT_TOKENS = len(_BYTE_SYMBOLS) + len(_WORD_SYMBOLS)
# <|endoftext|> <|startoftranscript|> <|translate|> <|transcribe|> <|startoflm|>
# <|startofprev|> <|nocaptions|> <|notimestamps|>: the specials besides the languages.
_TASK_AND_CONTROL_TOKENS = 8


@dataclass(frozen=True)
class WhisperVocabulary:
    """Where Whisper's special tokens sit: after ``text_tokens`` BPE ids come
    ``<|endoftext|>``, ``<|startoftranscript|>``, the languages, ``<|translate|>``,
    ``<|transcribe|>``, ``<|startoflm|>``, ``<|startofprev|>``, ``<|nocaptions|>``
    (``<|nospeech|>`` from large-v3), ``<|notimestamps|>``, then the timestamps, one per
    encoder position plus one (``<|0.00|>`` to ``<|30.00|>`` every 0.02 s for the real
    models). openai/whisper-tiny to -medium: 50,257 + 8 + 99 + 1,501 = 51,865 ids;
    large-v3: 51,866.
    """

    text_tokens: int
    languages: int
    timestamps: int
    time_precision_s: float

    @property
    def eot(self) -> int:
        return self.text_tokens

    @property
    def sot(self) -> int:
        return self.text_tokens + 1

    @property
    def translate(self) -> int:
        return self.sot + self.languages + 1

    @property
    def transcribe(self) -> int:
        return self.translate + 1

    @property
    def startofprev(self) -> int:
        return self.translate + 3

    @property
    def notimestamps(self) -> int:
        return self.translate + 5

    @property
    def first_timestamp(self) -> int:
        return self.notimestamps + 1

    @property
    def size(self) -> int:
        return self.first_timestamp + self.timestamps

    def language_ids(self) -> dict[str, int]:
        """``<|en|>`` -> id, in Whisper's order."""
        return {
            f"<|{code}|>": self.sot + 1 + i
            for i, code in enumerate(_WHISPER_LANGUAGES[: self.languages])
        }

    def special_tokens(self) -> list[str]:
        """The special tokens in id order, from ``<|endoftext|>`` to ``<|notimestamps|>``."""
        no_speech = "<|nospeech|>" if self.languages > 99 else "<|nocaptions|>"
        return [
            "<|endoftext|>",
            "<|startoftranscript|>",
            *self.language_ids(),
            "<|translate|>",
            "<|transcribe|>",
            "<|startoflm|>",
            "<|startofprev|>",
            no_speech,
            "<|notimestamps|>",
        ]

    def vocab(self) -> dict[str, int]:
        """Token -> id: the text tokens (``text_symbols``), specials and timestamps."""
        ids = {token: i for i, token in enumerate(text_symbols(self.text_tokens))}
        ids.update({token: self.eot + i for i, token in enumerate(self.special_tokens())})
        ids.update(
            {
                f"<|{i * self.time_precision_s:.2f}|>": self.first_timestamp + i
                for i in range(self.timestamps)
            }
        )
        return ids

    def generation_config(self) -> dict[str, Any]:
        """The values of the checkpoints' ``generation_config.json`` that steer
        ``WhisperForConditionalGeneration.generate``, at this layout's ids.

        ``suppress_tokens`` differs: of the real list it keeps the control tokens (the
        rest are ids of non-speech symbols in the real BPE table) and adds every
        timestamp. Random weights, unlike trained ones, emit timestamps after
        ``<|notimestamps|>``; ``generate`` takes them for segment ends and decodes the
        window again from there, a random number of times per clip. Suppressed, every
        clip of up to 30 s is one segment of exactly the new tokens asked for, as with
        trained weights.
        """
        control = [self.sot, *range(self.translate, self.notimestamps)]
        timestamps = range(self.first_timestamp, self.size)
        return {
            "decoder_start_token_id": self.sot,
            "bos_token_id": self.eot,
            "eos_token_id": self.eot,
            "pad_token_id": self.eot,
            "begin_suppress_tokens": [_SPACE_SYMBOL, self.eot],
            "suppress_tokens": [*control, *timestamps],
            "is_multilingual": True,
            "lang_to_id": self.language_ids(),
            "task_to_id": {"translate": self.translate, "transcribe": self.transcribe},
            "no_timestamps_token_id": self.notimestamps,
            "prev_sot_token_id": self.startofprev,
            "max_initial_timestamp_index": 50,
            "return_timestamps": False,
            "max_length": 448,
        }


def whisper_vocabulary(config: Mapping[str, Any]) -> WhisperVocabulary:
    """The layout a Whisper config's ``vocab_size`` and ``max_source_positions`` imply:
    the real BPE part for the real sizes, the built-in words for the tiny form."""
    vocab_size = int(config["vocab_size"])
    positions = int(config["max_source_positions"])
    text_tokens = REAL_TEXT_TOKENS if vocab_size > REAL_TEXT_TOKENS else BUILT_IN_TEXT_TOKENS
    languages = vocab_size - text_tokens - _TASK_AND_CONTROL_TOKENS - (positions + 1)
    if not 1 <= languages <= len(_WHISPER_LANGUAGES):
        raise ValueError(
            f"vocab_size {vocab_size} leaves {languages} language tokens; expected 1 to 100"
        )
    return WhisperVocabulary(text_tokens, languages, positions + 1, WHISPER_CHUNK_S / positions)


def _form_config(spec: TaskModelSpec, weights: str) -> dict[str, Any]:
    values = dict(spec.config)
    if weights == "tiny":
        values.update(spec.tiny_config)
    return values


def whisper_tokenizer(spec: TaskModelSpec, weights: str) -> PreTrainedTokenizerBase:
    """Whisper's tokenizer class (the ASR pipeline decodes with its ``_decode_asr``) over
    the built-in vocabulary, with every special and timestamp at its real id."""
    from transformers import WhisperTokenizer

    config = _form_config(spec, weights)
    layout = whisper_vocabulary(config)
    return WhisperTokenizer(
        vocab=layout.vocab(),
        merges=[],
        unk_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=layout.special_tokens(),
        model_max_length=int(config["max_target_positions"]),
    )


def whisper_setup(model: PreTrainedModel, spec: TaskModelSpec, weights: str) -> None:
    """Give a built Whisper its checkpoint's generation config, and every Whisper the
    suite's language and task, so that no query pays for language detection."""
    # Whisper's entries are not GenerationConfig fields: plain ``update`` would drop them.
    settings: dict[str, Any] = {"language": WHISPER_LANGUAGE, "task": WHISPER_TASK}
    if weights != "pretrained":
        settings = {**whisper_vocabulary(model.config.to_dict()).generation_config(), **settings}
    model.generation_config.update(**settings, allow_custom_entries=True)
    if weights != "pretrained":
        # Now the counterpart of the checkpoint's generation_config.json rather than a
        # copy of config.json: saved and loaded again, it keeps Whisper's entries.
        model.generation_config._from_model_config = False


# vocab.json of facebook/wav2vec2-base-960h: CTC blank (<pad>), the sentence marks, the
# word separator "|" and LibriSpeech's 26 upper-case letters and apostrophe, by frequency.
WAV2VEC2_VOCAB = {
    token: i
    for i, token in enumerate(
        ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONIHSRDLUMWCFGYPBVK'XJQZ"]
    )
}


def wav2vec2_tokenizer(spec: TaskModelSpec, weights: str) -> PreTrainedTokenizerBase:
    """wav2vec 2.0's CTC letter tokenizer over its real 32-entry vocabulary (tiny and real
    forms alike: the table is already small). transformers reads it from a file only."""
    from transformers import Wav2Vec2CTCTokenizer

    with tempfile.TemporaryDirectory(prefix="genwatt-ctc-") as folder:
        path = Path(folder) / "vocab.json"
        path.write_text(json.dumps(WAV2VEC2_VOCAB), encoding="utf-8")
        return Wav2Vec2CTCTokenizer(str(path), word_delimiter_token="|", do_lower_case=False)


# ---------------------------------------------------------------------------- Whisper

# preprocessor_config.json of openai/whisper-tiny (the same for -base, -small, -medium):
# 80 log-mel bins from a 400-sample FFT every 160 samples (10 ms) of 16 kHz audio,
# padded or cut to 30 s = 3,000 frames.
WHISPER_FEATURES = ProcessorSpec(
    "WhisperFeatureExtractor",
    {
        "feature_size": 80,
        "sampling_rate": SAMPLING_RATE,
        "hop_length": 160,
        "chunk_length": WHISPER_CHUNK_S,
        "n_fft": 400,
        "padding_value": 0.0,
        "return_attention_mask": False,
    },
    source="preprocessor_config.json of openai/whisper-tiny",
)
# preprocessor_config.json of openai/whisper-large-v3: 128 mel bins, otherwise the same.
WHISPER_V3_FEATURES = ProcessorSpec(
    "WhisperFeatureExtractor",
    {**WHISPER_FEATURES.config, "feature_size": 128},
    source="preprocessor_config.json of openai/whisper-large-v3",
)
# The tiny form keeps the 30 s window (so the same clips are short- or long-form) and the
# mel bins, with one frame every 100 ms: 300 frames, 150 encoder positions.
_TINY_WHISPER_HOP = 1600
_TINY_WHISPER_POSITIONS = 150


def _tiny_whisper(languages: int, features: ProcessorSpec) -> tuple[dict[str, Any], ProcessorSpec]:
    """Config overrides and feature extractor of a tiny Whisper: 2 + 2 layers of 32 wide,
    the built-in words, the 8 task and control tokens, the checkpoint's languages and 151
    timestamps (every 0.2 s over 30 s)."""
    layout = WhisperVocabulary(
        BUILT_IN_TEXT_TOKENS,
        languages,
        _TINY_WHISPER_POSITIONS + 1,
        WHISPER_CHUNK_S / _TINY_WHISPER_POSITIONS,
    )
    config = {
        "d_model": 32,
        "encoder_layers": 2,
        "decoder_layers": 2,
        "encoder_attention_heads": 2,
        "decoder_attention_heads": 2,
        "encoder_ffn_dim": 64,
        "decoder_ffn_dim": 64,
        "max_source_positions": _TINY_WHISPER_POSITIONS,
        "max_target_positions": 64,
        "vocab_size": layout.size,
        "bos_token_id": layout.eot,
        "eos_token_id": layout.eot,
        "pad_token_id": layout.eot,
        "decoder_start_token_id": layout.sot,
        "begin_suppress_tokens": [_SPACE_SYMBOL, layout.eot],
    }
    tiny_features = ProcessorSpec(
        features.class_name,
        {**features.config, "hop_length": _TINY_WHISPER_HOP},
        source=f"tiny form of {features.source}: 300 frames per 30 s window",
    )
    return config, tiny_features


def _whisper_config(
    d_model: int, layers: int, heads: int, num_mel_bins: int = 80, vocab_size: int = 51_865
) -> dict[str, Any]:
    """The config.json values of a Whisper checkpoint that set its size and its ids."""
    return {
        "d_model": d_model,
        "encoder_layers": layers,
        "decoder_layers": layers,
        "encoder_attention_heads": heads,
        "decoder_attention_heads": heads,
        "encoder_ffn_dim": 4 * d_model,
        "decoder_ffn_dim": 4 * d_model,
        "num_mel_bins": num_mel_bins,
        "vocab_size": vocab_size,
        "max_source_positions": 1500,
        "max_target_positions": 448,
        "activation_function": "gelu",
        "scale_embedding": False,
        "bos_token_id": 50257,
        "eos_token_id": 50257,
        "pad_token_id": 50257,
        "decoder_start_token_id": 50258,
        "begin_suppress_tokens": [220, 50257],
    }


_WHISPER_PAPER = (
    "Radford et al. 2022, 'Robust Speech Recognition via Large-Scale Weak Supervision', Table 1"
)


def _whisper(
    size: str,
    config: dict[str, Any],
    params: int,
    published: float,
    published_source: str = _WHISPER_PAPER,
    features: ProcessorSpec = WHISPER_FEATURES,
    tiny_params: int | None = None,
) -> TaskModelSpec:
    tiny_config, tiny_features = _tiny_whisper(whisper_vocabulary(config).languages, features)
    return TaskModelSpec(
        repo_id=f"openai/whisper-{size}",
        tasks=("automatic-speech-recognition",),
        family="whisper",
        class_name="WhisperForConditionalGeneration",
        config_class="WhisperConfig",
        config=config,
        source=f"config.json of openai/whisper-{size}",
        params=params,
        published_params=published,
        published_source=published_source,
        processor=features,
        tokenizer_factory=WHISPER_TOKENIZER,
        model_setup=WHISPER_SETUP,
        tiny_config=tiny_config,
        tiny_params=tiny_params,
        tiny_processor=tiny_features,
        encoder="model.encoder",
        decoder="",
        aliases=(f"whisper-{size}",),
    )


WHISPER_TINY = _whisper("tiny", _whisper_config(384, 4, 6), 37_760_640, 39e6, tiny_params=90_080)
WHISPER_BASE = _whisper("base", _whisper_config(512, 6, 8), 72_593_920, 74e6, tiny_params=90_080)
WHISPER_SMALL = _whisper(
    "small", _whisper_config(768, 12, 12), 241_734_912, 244e6, tiny_params=90_080
)
WHISPER_MEDIUM = _whisper(
    "medium", _whisper_config(1024, 24, 16), 763_857_920, 769e6, tiny_params=90_080
)
WHISPER_LARGE_V3 = _whisper(
    "large-v3",
    _whisper_config(1280, 32, 20, num_mel_bins=128, vocab_size=51_866),
    1_543_490_560,
    1550e6,
    published_source="model card of openai/whisper-large-v3 (1550 M parameters)",
    features=WHISPER_V3_FEATURES,
    tiny_params=94_720,
)

# ---------------------------------------------------------------------------- wav2vec 2.0

# config.json of facebook/wav2vec2-base-960h.
WAV2VEC2_BASE_960H = TaskModelSpec(
    repo_id="facebook/wav2vec2-base-960h",
    tasks=("automatic-speech-recognition",),
    family="wav2vec2",
    class_name="Wav2Vec2ForCTC",
    config_class="Wav2Vec2Config",
    config={
        "vocab_size": 32,
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "hidden_act": "gelu",
        "conv_dim": [512] * 7,
        "conv_kernel": [10, 3, 3, 3, 3, 2, 2],
        "conv_stride": [5, 2, 2, 2, 2, 2, 2],
        "conv_bias": False,
        "feat_extract_norm": "group",
        "feat_extract_activation": "gelu",
        "num_conv_pos_embeddings": 128,
        "num_conv_pos_embedding_groups": 16,
        "do_stable_layer_norm": False,
        "layer_norm_eps": 1e-5,
        "apply_spec_augment": True,
        "mask_time_prob": 0.05,
        "ctc_loss_reduction": "sum",
        "pad_token_id": 0,
        "bos_token_id": 1,
        "eos_token_id": 2,
    },
    source="config.json of facebook/wav2vec2-base-960h",
    params=94_396_320,
    published_params=95e6,
    published_source="Baevski et al. 2020, 'wav2vec 2.0', BASE model (95M parameters)",
    processor=ProcessorSpec(
        "Wav2Vec2FeatureExtractor",
        {
            "feature_size": 1,
            "sampling_rate": SAMPLING_RATE,
            "padding_value": 0.0,
            "do_normalize": True,
            "return_attention_mask": False,
        },
        source="preprocessor_config.json of facebook/wav2vec2-base-960h",
    ),
    tokenizer_factory=WAV2VEC2_TOKENIZER,
    tiny_config={
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "conv_dim": [32] * 7,
        "num_conv_pos_embeddings": 16,
        "num_conv_pos_embedding_groups": 4,
    },
    tiny_params=40_272,
    aliases=("wav2vec2-base-960h",),
)

SPECS: tuple[TaskModelSpec, ...] = (
    WHISPER_TINY,
    WHISPER_BASE,
    WHISPER_SMALL,
    WHISPER_MEDIUM,
    WHISPER_LARGE_V3,
    WAV2VEC2_BASE_960H,
)
