"""What a reference-model caption can say: a colour, a shape and a direction.

Why apart from ``synthetic``: the words are part of the model's architecture (its
tokenizer's vocabulary, its text encoder's embedding table), which the registry reads
without numpy; drawing the clips a caption describes needs numpy. Plain Python only.

The WAN transformer sees only relative (RoPE) positions, so a caption fixes what the
model can learn from a clip whose start position is random: a colour, a shape and a
direction of motion.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from genwatt.errors import ConfigError

RGB = tuple[float, float, float]

#: Six saturated colours, pairwise at least 1.0 apart in RGB, none close to the background.
COLOURS: dict[str, RGB] = {
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "magenta": (1.0, 0.0, 1.0),
    "cyan": (0.0, 1.0, 1.0),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
#: Unit motion per direction in image coordinates (x to the right, y downwards).
DIRECTIONS: dict[str, tuple[int, int]] = {
    "left": (-1, 0),
    "right": (1, 0),
    "up": (0, -1),
    "down": (0, 1),
}


@dataclass(frozen=True, order=True)
class Caption:
    """What a clip shows; validated so a typo fails here, not as a silent empty video."""

    colour: str
    shape: str
    direction: str

    def __post_init__(self) -> None:
        for value, vocab, what in (
            (self.colour, COLOURS, "colour"),
            (self.shape, SHAPES, "shape"),
            (self.direction, DIRECTIONS, "direction"),
        ):
            if value not in vocab:
                raise ConfigError(f"unknown {what} {value!r}; choose one of {sorted(vocab)}")

    def text(self) -> str:
        """The prompt the model is trained and sampled with."""
        return f"a {self.colour} {self.shape} moves {self.direction}"


def all_captions() -> list[Caption]:
    """Every colour x shape x direction combination, in a fixed order."""
    return [Caption(c, s, d) for c, s, d in product(COLOURS, SHAPES, DIRECTIONS)]


def split_prompts(*, fold: int = 0, n_folds: int = 4) -> tuple[list[Caption], list[Caption]]:
    """Split the captions into (train, held-out) so held-out prompts are unseen combinations.

    A triple is held out when ``(colour_index + shape_index + direction_index + fold)`` is
    divisible by ``n_folds``. With the default 4 folds this holds out a quarter of the 72
    triples while every colour x shape, colour x direction and shape x direction *pair*
    still occurs in training: the model has seen each word and each pair, never the
    held-out triple. The ``n_folds`` folds partition the captions, for cross-validation.
    """
    if n_folds < 2 or not 0 <= fold < n_folds:
        raise ConfigError(f"need n_folds >= 2 and 0 <= fold < n_folds; got {fold=}, {n_folds=}")
    train: list[Caption] = []
    held_out: list[Caption] = []
    for (ci, c), (si, s), (di, d) in product(
        enumerate(COLOURS), enumerate(SHAPES), enumerate(DIRECTIONS)
    ):
        target = held_out if (ci + si + di + fold) % n_folds == 0 else train
        target.append(Caption(c, s, d))
    return train, held_out
