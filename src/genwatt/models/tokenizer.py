"""Tokenizers built in code, so that nothing is ever downloaded.

Energy does not depend on which ids a prompt maps to, only on how many tokens reach
the text encoder, and every pipeline pads or truncates to a fixed length anyway. So a
word-level vocabulary of a few hundred common words stands in for the real T5, CLIP,
Llama and Qwen tokenizers: it has the same special tokens, in the same roles, with the
same padding side and maximum length, which is all a pipeline looks at.

The vocabulary is plain Python (no ``tokenizers`` import) so that tiny model configs can
size their embedding tables from it at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from genwatt.errors import ConfigError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

TokenizerKind = Literal["t5", "clip", "llama3", "qwen2"]

# Common English words plus the words of typical video and image prompts. Order is
# fixed: ids are positions in this list, and tiny checkpoints depend on them.
_WORD_TEXT = """
a an the and or but if then than so of to in on at by for with from into onto over under
above below up down out off near far between through across along around behind beside
is are was were be been being am has have had do does did will would can could should may
might must shall not no yes all any some many much more most few less each every both
this that these those it its he she they we you i me him her them us my your our their
his who what which where when why how there here very just also only even still again
one two three four five six seven eight nine ten first second last next new old young big
small large little long short tall high low wide narrow full empty hot cold warm cool
good bad best great bright dark light heavy soft hard fast slow quiet loud clear slowly
red orange yellow green blue purple pink brown black white gray grey golden silver
cat dog bird fish horse cow sheep lion tiger bear wolf fox rabbit mouse owl eagle duck
man woman boy girl child people person family friend crowd dancer astronaut robot chef
tree flower grass leaf forest garden field mountain hill river lake sea ocean beach
sand rock stone snow rain cloud sky sun moon star wind fire water ice wave storm fog
city street road bridge house building tower castle room kitchen window door wall roof
car bus train boat ship plane bicycle camera phone book table chair bed lamp clock
walk walks walking run runs running jump jumps fly flies flying swim swims swimming
sit sits sitting stand stands standing look looks looking dance dances dancing play
plays playing eat eats eating drink ride rides riding move moves moving turn turns
make makes made take takes took give gives see sees seen hold holds holding wear wears
video image photo picture scene shot view close closeup wide angle camera pans zoom
realistic cinematic detailed beautiful style art painting drawing sketch render
morning evening night day sunset sunrise summer winter spring autumn time motion
background foreground center left right top bottom front back side middle edge
describe detailing following aspects main content theme color shape size texture
quantity text spatial relationships objects actions events behaviors temporal physical
changes camera angles movements user assistant system
"""
_WORDS = _WORD_TEXT.split()

# Punctuation keeps its own ids: the whitespace pre-tokenizer splits it off words, and
# SDXL's second CLIP tokenizer pads with "!".
_PUNCTUATION = [".", ",", "!", "?", ":", ";", "'", '"', "(", ")", "-", "1", "2", "3", "4", "5"]


@dataclass(frozen=True)
class _Specials:
    """Special tokens of one tokenizer family and where the real vocabulary keeps them.

    ``bos``, where the family has one, is put before every text; ``eos`` after it only
    where ``add_eos`` says so. Every family pads on the right unless asked otherwise.
    """

    tokens: tuple[str, ...]
    at_start: bool  # T5 keeps <pad>, </s>, <unk> at ids 0-2; CLIP, Llama, Qwen at the end
    unk: str
    pad: str
    eos: str
    bos: str | None
    add_eos: bool


_SPECIALS: dict[str, _Specials] = {
    # google/t5-v1_1-xxl and google/umt5-xxl: pad=0, eos=1, unk=2; "</s>" appended.
    "t5": _Specials(
        tokens=("<pad>", "</s>", "<unk>"),
        at_start=True,
        unk="<unk>",
        pad="<pad>",
        eos="</s>",
        bos=None,
        add_eos=True,
    ),
    # openai/clip-vit-large-patch14: bos 49406 and eos 49407 are the last two ids, the
    # end-of-text token doubles as unk and pad.
    "clip": _Specials(
        tokens=("<|startoftext|>", "<|endoftext|>"),
        at_start=False,
        unk="<|endoftext|>",
        pad="<|endoftext|>",
        eos="<|endoftext|>",
        bos="<|startoftext|>",
        add_eos=True,
    ),
    # meta-llama/Llama-3.1-8B-Instruct: specials from id 128000 on; bos prepended only.
    # Llama 3 is byte-level BPE and has no unk; a word-level vocabulary needs one.
    "llama3": _Specials(
        tokens=(
            "<|begin_of_text|>",
            "<|end_of_text|>",
            "<|start_header_id|>",
            "<|end_header_id|>",
            "<|eot_id|>",
            "<unk>",
        ),
        at_start=False,
        unk="<unk>",
        pad="<|end_of_text|>",
        eos="<|eot_id|>",
        bos="<|begin_of_text|>",
        add_eos=False,
    ),
    # Qwen/Qwen2.5-0.5B-Instruct: no bos, pad "<|endoftext|>", eos "<|im_end|>".
    "qwen2": _Specials(
        tokens=("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>"),
        at_start=False,
        unk="<unk>",
        pad="<|endoftext|>",
        eos="<|im_end|>",
        bos=None,
        add_eos=False,
    ),
}


def plain_tokens() -> list[str]:
    """The words and punctuation of the built-in vocabulary, in id order (no specials)."""
    return list(dict.fromkeys([*_WORDS, *_PUNCTUATION]))


def _specials(kind: str) -> _Specials:
    try:
        return _SPECIALS[kind]
    except KeyError:
        raise ConfigError(
            f"Unknown tokenizer kind {kind!r}; use one of {', '.join(sorted(_SPECIALS))}."
        ) from None


def vocab(kind: TokenizerKind) -> dict[str, int]:
    """Token -> id for ``kind``: words and punctuation, specials where the real one has them."""
    specials = _specials(kind)
    plain = [*_WORDS, *_PUNCTUATION]
    ordered = [*specials.tokens, *plain] if specials.at_start else [*plain, *specials.tokens]
    return {token: i for i, token in enumerate(dict.fromkeys(ordered))}


def vocab_size(kind: TokenizerKind) -> int:
    """Size of the embedding table a tiny text encoder needs for this tokenizer."""
    return len(vocab(kind))


def token_id(kind: TokenizerKind, role: Literal["pad", "eos", "bos", "unk"]) -> int | None:
    """Id of a special token, for tiny configs that must agree with the tokenizer."""
    token = getattr(_specials(kind), role)
    return None if token is None else vocab(kind)[token]


def build_tokenizer(
    kind: TokenizerKind,
    model_max_length: int,
    *,
    pad_token: str | None = None,
    padding_side: Literal["left", "right"] | None = None,
) -> PreTrainedTokenizerFast:
    """A ``PreTrainedTokenizerFast`` with the special tokens and limits of ``kind``.

    ``pad_token`` overrides the family's pad token (SDXL's OpenCLIP tokenizer pads with
    "!"); it must already be in the vocabulary.
    """
    from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    specials = _specials(kind)
    ids = vocab(kind)
    pad = pad_token or specials.pad
    if pad not in ids:
        raise ConfigError(f"Pad token {pad!r} is not in the built-in {kind} vocabulary.")

    core = Tokenizer(WordLevel(vocab=ids, unk_token=specials.unk))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in specials.tokens]
    )

    template = "$A"
    if specials.bos is not None:
        template = f"{specials.bos} {template}"
    if specials.add_eos:
        template = f"{template} {specials.eos}"
    used = {t for t in template.split() if t != "$A"}
    core.post_processor = processors.TemplateProcessing(
        single=template, special_tokens=[(t, ids[t]) for t in sorted(used)]
    )

    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        model_max_length=model_max_length,
        padding_side=padding_side or "right",
        unk_token=specials.unk,
        pad_token=pad,
        eos_token=specials.eos,
        bos_token=specials.bos,
    )
