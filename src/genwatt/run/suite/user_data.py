"""A user's own queries for the suite (``--data``): a file, a folder, or a dataset.

Sources:

- A ``.txt`` file, one query a line (blank lines skipped): a text, a prompt, a path to
  an image or a clip (relative to the file's folder); a sentence pair or a question
  and its context separated by a tab. No labels.
- A ``.jsonl`` file (one JSON object a line) or a ``.csv`` file (a header row). Each
  task looks for its fields under the names the common datasets use (``FIELDS``):
  SST-2's ``sentence``, SQuAD's ``question``/``context``/``answers``, CNN/DailyMail's
  ``article``/``highlights``, CoNLL's ``tokens``/``ner_tags``, an ``image`` or
  ``audio`` column of paths. Labels are optional.
- A folder of images (image tasks) or of audio files (speech), read recursively, with
  labels from a ``metadata.csv``, ``metadata.jsonl`` or ``labels.csv`` beside them
  (``file_name`` and the label fields), the Hugging Face imagefolder and audiofolder
  convention; images in class folders (``cat/1.jpg``) take the folder's name as label.
  WAV is read with scipy; FLAC, OGG and MP3 need the optional ``soundfile`` package.
  Audio is made mono and resampled to 16 kHz (``scipy.signal.resample_poly``).
- ``hf:NAME``, ``hf:NAME:CONFIG``, either with ``@SPLIT`` (default: the first of test,
  validation, train that the dataset has), through the ``datasets`` library; a local
  path (``hf:./my_data``) goes to ``load_dataset`` as it is, which reads a folder of
  CSV, JSON or Parquet files offline. Class indices become the dataset's class names.

Labels are made comparable with ``genwatt.run.suite.quality``: a class name (binary
sentiment given as 0/1 without names is NEGATIVE/POSITIVE, the SST-2/IMDB order), a
tuple of answers for question answering (empty: unanswerable), (type, text) entity
pairs for token classification, a transcript or a summary as a string.

Images and audio are opened when a query is asked for (the result is a lazy
``QuerySequence``), after each file's header was checked at load time, so a bad file
is reported before the run starts and a thousand clips never sit in memory together.
Every error a user's data can cause is a ``ConfigError`` naming the file, the line or
row where it applies, and what was expected. ``count`` takes the first ``count``
queries; a source with fewer gives what it has (the runner reports how many ran). The
``seed`` is accepted so that built-in and user workloads are called alike; user data
keeps its own order, so it is unused.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genwatt.errors import ConfigError
from genwatt.models.tasks.catalog import get_task
from genwatt.run.suite.inputs import QuerySequence, count_word_tokens
from genwatt.run.suite.query import MASK_PLACEHOLDER, Query

SAMPLING_RATE_HZ = 16_000
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".ogg", ".mp3"})
FILE_EXTENSIONS = (".txt", ".jsonl", ".csv")
METADATA_FILES = ("metadata.csv", "metadata.jsonl", "labels.csv")
# The mask tokens a user may have written, each standing for the suite's placeholder.
MASK_TOKENS = (MASK_PLACEHOLDER, "[MASK]", "<mask>")

# Per task: the field names each Query field is looked for under, in order.
_LABEL = ("label", "labels")
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "text-classification": {
        "text": ("text", "sentence", "review", "content"),
        "label": (*_LABEL, "sentiment"),
    },
    "token-classification": {
        "text": ("tokens", "words", "text", "sentence"),
        "label": ("ner_tags", "tags", "entities", *_LABEL),
    },
    "question-answering": {
        "question": ("question",),
        "context": ("context", "passage"),
        "label": ("answers", "answer", *_LABEL),
    },
    "fill-mask": {"text": ("text", "sentence"), "label": (*_LABEL, "answer", "target")},
    "sentence-similarity": {
        "text": ("sentence1", "text", "sentence", "text_a"),
        "text_pair": ("sentence2", "text_pair", "text_b"),
        "label": (*_LABEL, "score", "similarity_score"),
    },
    "summarization": {
        "text": ("article", "document", "dialogue", "text"),
        "label": ("highlights", "summary", *_LABEL),
    },
    "text-generation": {"text": ("text", "prompt", "content")},
    "image-classification": {
        "image": ("image", "img", "file_name", "path", "file"),
        "label": (*_LABEL, "fine_label", "class"),
    },
    "object-detection": {"image": ("image", "img", "file_name", "path", "file")},
    "image-to-text": {
        "image": ("image", "img", "file_name", "path", "file"),
        "label": ("caption", "captions", "text", *_LABEL),
    },
    "automatic-speech-recognition": {
        "audio": ("audio", "file_name", "path", "file"),
        "label": ("transcript", "text", "transcription", "sentence", "normalized_text", *_LABEL),
    },
    "text-to-image": {"text": ("prompt", "text", "caption")},
    "text-to-video": {"text": ("prompt", "text", "caption")},
}
_BINARY_SENTIMENT = ("NEGATIVE", "POSITIVE")
_MASK_RE = re.compile("|".join(re.escape(token) for token in MASK_TOKENS))


def load_user_queries(
    task: str,
    source: str,
    count: int | None = None,
    seed: int = 0,
    *,
    sampling_rate: int = SAMPLING_RATE_HZ,
) -> Sequence[Query]:
    """The queries of ``source`` for ``task``: the first ``count``, or all when None."""
    del seed  # user data keeps its own order
    name = get_task(task).name
    if count is not None and count < 0:
        raise ConfigError(f"The number of queries must be 0 or more, not {count}.")
    if count == 0:
        return []
    reader = _Reader(name, count, sampling_rate)
    if source.startswith("hf:"):
        return reader.hf(source)
    path = Path(source).expanduser()
    if not path.exists():
        raise ConfigError(f"Data not found: {path}. Give a file, a folder, or hf:NAME.")
    if path.is_dir():
        return reader.folder(path)
    return reader.file(path)


# --- one record (a JSON object, a CSV row, a dataset row) -> one query ---------------


@dataclass(frozen=True)
class _Draft:
    """A query whose image or audio is still a source (path, bytes) until asked for."""

    fields: dict[str, Any]
    where: str
    base: Path | None  # folder that relative media paths start from


class _Reader:
    def __init__(self, task: str, count: int | None, sampling_rate: int) -> None:
        self.task = task
        self.count = count
        self.sampling_rate = sampling_rate
        self.fields = FIELDS[task]
        self.kind = get_task(task).inputs

    # -- sources --

    def file(self, path: Path) -> Sequence[Query]:
        suffix = path.suffix.lower()
        if suffix == ".txt":
            drafts = self._txt(path)
        elif suffix == ".jsonl":
            drafts = self._records(path, _jsonl_records(path))
        elif suffix == ".csv":
            drafts = self._records(path, _csv_records(path))
        else:
            raise ConfigError(
                f"{path}: unknown data file type {path.suffix or '(none)'!r}; use "
                f"{', '.join(FILE_EXTENSIONS)}, a folder of images or audio, or hf:NAME."
            )
        return self._finish(drafts, path)

    def folder(self, path: Path) -> Sequence[Query]:
        if self.kind not in ("image", "audio"):
            raise ConfigError(
                f"{path} is a folder; {self.task} reads text: give a "
                f"{', '.join(FILE_EXTENSIONS)} file or hf:NAME."
            )
        extensions = IMAGE_EXTENSIONS if self.kind == "image" else AUDIO_EXTENSIONS
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in extensions)
        if not files:
            raise ConfigError(
                f"{path}: no {self.kind} files in this folder (looked for "
                f"{', '.join(sorted(extensions))}, in subfolders too)."
            )
        metadata = _folder_metadata(path)
        drafts = []
        for file in files:
            relative = file.relative_to(path).as_posix()
            record = dict(metadata.get(relative, {}))
            record[self.kind] = relative
            if not metadata and self.task == "image-classification" and file.parent != path:
                record["label"] = file.parent.name  # imagefolder: class folders
            keys = self._keys(list(record), str(file))
            picked = {field: record.get(column) for field, column in keys.items()}
            drafts.append(self._draft(picked, str(file), path, keys=keys))
            if self.count is not None and len(drafts) >= self.count:
                break
        return self._finish(drafts, path)

    def hf(self, source: str) -> Sequence[Query]:
        dataset = _load_hf(source, self.count)
        names = _class_names(dataset)
        columns = list(dataset.column_names)
        keys = self._keys(columns, source)
        dataset = _undecoded_audio(dataset, keys.get("audio"))

        def make(index: int) -> Query:
            row = dataset[index]
            record = {field: row[column] for field, column in keys.items()}
            draft = self._draft(record, f"{source}, row {index}", None, names=names, keys=keys)
            return self._realise(draft)

        return QuerySequence(make, range(len(dataset)))

    # -- file formats --

    def _txt(self, path: Path) -> list[_Draft]:
        drafts = []
        with _open_text(path) as lines:
            try:
                for number, line in enumerate(lines, start=1):
                    if not line.strip():
                        continue
                    where = f"{path}, line {number}"
                    record = self._txt_record(line.strip(), where)
                    drafts.append(self._draft(record, where, path.parent))
                    if self.count is not None and len(drafts) >= self.count:
                        break
            except UnicodeDecodeError:
                raise ConfigError(f"{path}: not UTF-8 text.") from None
        return drafts

    def _txt_record(self, line: str, where: str) -> dict[str, Any]:
        if self.kind in ("sentence-pair", "question-context"):
            parts = line.split("\t")
            if len(parts) != 2:
                what = (
                    "two sentences"
                    if self.kind == "sentence-pair"
                    else "a question and its context"
                )
                raise ConfigError(
                    f"{where}: {self.task} needs {what} a line, separated by one tab "
                    "(or use a .jsonl or .csv file with named fields)."
                )
            if self.kind == "sentence-pair":
                return {"text": parts[0], "text_pair": parts[1]}
            return {"question": parts[0], "context": parts[1]}
        field = "text" if self.kind in ("text", "masked-text", "prompt") else self.kind
        return {field: line}

    def _records(self, path: Path, records: Iterator[tuple[str, dict[str, Any]]]) -> list[_Draft]:
        drafts = []
        keys: dict[str, str] | None = None
        for where, record in records:
            if keys is None:
                keys = self._keys(list(record), str(path), where=where)
            missing = [keys[f] for f in self._required() if _empty(record.get(keys[f]))]
            if missing:
                raise ConfigError(
                    f"{where}: no value for {', '.join(map(repr, missing))} (every line or "
                    "row needs one)."
                )
            picked = {field: record.get(column) for field, column in keys.items()}
            drafts.append(self._draft(picked, where, path.parent, keys=keys))
            if self.count is not None and len(drafts) >= self.count:
                break
        return drafts

    def _required(self) -> list[str]:
        return [f for f in self.fields if f != "label"]

    def _keys(
        self, columns: Sequence[str], source: str, where: str | None = None
    ) -> dict[str, str]:
        """Query field -> the column holding it; a ConfigError when a needed one is missing."""
        keys: dict[str, str] = {}
        lowered = {c.lower(): c for c in columns}
        for field, names in self.fields.items():
            column = next((lowered[n] for n in names if n in lowered), None)
            if column is not None:
                keys[field] = column
            elif field != "label":
                expected = " or ".join(repr(n) for n in names)
                raise ConfigError(
                    f"{where or source}: {self.task} needs a {expected} field for the query's "
                    f"{field}; found {', '.join(map(repr, columns)) or 'none'}."
                )
        return keys

    # -- fields -> query --

    def _draft(
        self,
        record: Mapping[str, Any],
        where: str,
        base: Path | None,
        *,
        names: Mapping[str, Sequence[str]] | None = None,
        keys: Mapping[str, str] | None = None,
    ) -> _Draft:
        fields: dict[str, Any] = {}
        for field, value in record.items():
            if field == "label" or value is None:
                continue
            if field in ("image", "audio"):
                fields[field] = value
            elif field == "text" and isinstance(value, list | tuple):
                fields[field] = " ".join(map(str, value))  # CoNLL's tokens
            else:
                fields[field] = str(value)
        if self.kind == "masked-text":
            fields["text"] = _masked(fields.get("text", ""), where)
        label_column = (keys or {}).get("label", "label")
        class_names = (names or {}).get(label_column)
        tokens = record.get("text")
        fields["label"] = self._label(record.get("label"), class_names, tokens, where)
        return _Draft(fields, where, base)

    def _label(self, value: Any, names: Sequence[str] | None, tokens: Any, where: str) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if self.task in ("text-classification", "image-classification"):
            return _class_label(value, names, binary_sentiment=self.task == "text-classification")
        if self.task == "question-answering":
            return _answers(value)
        if self.task == "token-classification":
            return _entities(value, names, tokens, where)
        if self.task == "sentence-similarity":
            try:
                return float(value)
            except (TypeError, ValueError):
                return str(value)
        if isinstance(value, list | tuple):
            return [str(v) for v in value] if self.task == "image-to-text" else str(value[0])
        return str(value)

    def _finish(self, drafts: list[_Draft], source: Path) -> Sequence[Query]:
        if not drafts:
            raise ConfigError(f"{source}: no queries in it (every line or row was empty).")
        if self.kind in ("image", "audio"):
            for draft in drafts:
                self._probe(draft)
            return QuerySequence(lambda i: self._realise(drafts[i]), range(len(drafts)))
        return [self._realise(d) for d in drafts]

    def _probe(self, draft: _Draft) -> None:
        """Check an image's or a clip's header now, before the run starts."""
        value = draft.fields.get(self.kind)
        if value is None:
            raise ConfigError(f"{draft.where}: no {self.kind} given.")
        if self.kind == "image":
            _probe_image(value, draft)
        else:
            _probe_audio(value, draft)

    def _realise(self, draft: _Draft) -> Query:
        fields = dict(draft.fields)
        if self.kind == "image":
            image = _read_image(fields.get("image"), draft)
            fields["image"] = image
            return Query(**fields, size=image.width * image.height, size_unit="pixels")
        if self.kind == "audio":
            audio = _read_audio(fields.get("audio"), draft, self.sampling_rate)
            fields["audio"] = audio
            duration_s = len(audio) / self.sampling_rate
            return Query(
                **fields, sampling_rate=self.sampling_rate, size=duration_s, size_unit="seconds"
            )
        parts = ("text", "text_pair", "question", "context")
        text = " ".join(str(fields[f]) for f in parts if f in fields)
        return Query(**fields, size=count_word_tokens(text), size_unit="tokens")


# --- file readers ----------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _open_text(path: Path) -> io.TextIOWrapper:
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error}).") from None


def _jsonl_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with _open_text(path) as lines:
        try:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                where = f"{path}, line {number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ConfigError(
                        f"{where}: not valid JSON ({error.msg}); a .jsonl file holds one JSON "
                        "object a line."
                    ) from None
                if not isinstance(record, dict):
                    raise ConfigError(
                        f"{where}: a JSON {type(record).__name__}, not an object; a .jsonl "
                        'file holds one object a line, e.g. {"text": "..."}.'
                    )
                yield where, record
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text.") from None


def _csv_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with _open_text(path) as lines:
        try:
            reader = csv.DictReader(lines)
            if not reader.fieldnames:
                raise ConfigError(
                    f"{path}: empty; a .csv file needs a header row naming its fields."
                )
            for row in reader:
                where = f"{path}, line {reader.line_num}"
                if None in row:
                    raise ConfigError(
                        f"{where}: more values than the {len(reader.fieldnames)} columns of the "
                        "header."
                    )
                if not any((v or "").strip() for v in row.values()):
                    continue
                yield where, {k: _csv_value(v) for k, v in row.items()}
        except csv.Error as error:
            raise ConfigError(f"{path}, line {reader.line_num}: not valid CSV ({error}).") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text.") from None


def _csv_value(value: str | None) -> Any:
    """A CSV cell; a JSON list or object in a cell (SQuAD's answers) is parsed."""
    if value is None:
        return None
    text = value.strip()
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return value
    return value


def _folder_metadata(folder: Path) -> dict[str, dict[str, Any]]:
    """``file_name`` -> its record, from the folder's metadata file if it has one."""
    for name in METADATA_FILES:
        path = folder / name
        if not path.is_file():
            continue
        records = _jsonl_records(path) if name.endswith(".jsonl") else _csv_records(path)
        metadata: dict[str, dict[str, Any]] = {}
        for where, record in records:
            file_name = record.get("file_name")
            if not file_name:
                raise ConfigError(f"{where}: no file_name (the file each row describes).")
            metadata[Path(str(file_name)).as_posix().removeprefix("./")] = record
        return metadata
    return {}


# --- labels ----------------------------------------------------------------------------


def _class_label(value: Any, names: Sequence[str] | None, *, binary_sentiment: bool) -> str | None:
    index = _as_index(value)
    if index is not None and index < 0:
        return None  # datasets' "no label" (GLUE's test splits)
    if index is not None and names is not None and index < len(names):
        return str(names[index])
    if index is not None and binary_sentiment and index in (0, 1):
        return _BINARY_SENTIMENT[index]
    return str(value).strip()


def _as_index(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _answers(value: Any) -> tuple[str, ...]:
    if isinstance(value, Mapping):  # SQuAD: {"text": [...], "answer_start": [...]}
        value = value.get("text", ())
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _entities(
    value: Any, names: Sequence[str] | None, tokens: Any, where: str
) -> tuple[tuple[str, str], ...]:
    """(type, text) entities from BIO tags over tokens, or from a list of entities."""
    if isinstance(value, str):
        value = value.split()
    items = list(value)
    if items and isinstance(items[0], Mapping | list | tuple):
        out = []
        for item in items:
            if isinstance(item, Mapping):
                kind = item.get("type") or item.get("entity_group") or item.get("label")
                text = item.get("text") or item.get("word")
            else:
                kind, text = item
            out.append((str(kind), str(text)))
        return tuple(out)
    words = tokens.split() if isinstance(tokens, str) else [str(t) for t in tokens or ()]
    if names is None and any(_as_index(t) is not None and not isinstance(t, str) for t in items):
        raise ConfigError(
            f"{where}: entity tags are numbers without their names; write them as BIO tags "
            "(B-PER I-PER O ...)."
        )
    tags = [names[int(t)] if names and _as_index(t) is not None else str(t) for t in items]
    if len(tags) != len(words):
        raise ConfigError(
            f"{where}: {len(tags)} entity tags for {len(words)} tokens; give one BIO tag a "
            "token (e.g. B-PER I-PER O)."
        )
    entities: list[tuple[str, list[str]]] = []
    inside = False
    for word, tag in zip(words, tags, strict=True):
        if tag in ("O", ""):
            inside = False
            continue
        kind = tag[2:] if tag[:2] in ("B-", "I-") else tag
        if inside and entities[-1][0] == kind and not tag.startswith("B-"):
            entities[-1][1].append(word)
        else:
            entities.append((kind, [word]))
        inside = True
    return tuple((kind, " ".join(span)) for kind, span in entities)


def _masked(text: str, where: str) -> str:
    text = _MASK_RE.sub(MASK_PLACEHOLDER, text)
    found = text.count(MASK_PLACEHOLDER)
    if found != 1:
        raise ConfigError(
            f"{where}: fill-mask needs exactly one masked word a query, written "
            f"{' or '.join(MASK_TOKENS)}; found {found}."
        )
    return text


# --- images and audio -------------------------------------------------------------------


def _media_path(value: Any, draft: _Draft) -> Path:
    path = Path(str(value)).expanduser()
    if not path.is_absolute() and draft.base is not None:
        path = draft.base / path
    return path


def _probe_image(value: Any, draft: _Draft) -> None:
    from PIL import Image, UnidentifiedImageError

    if not isinstance(value, str | Path):
        return
    path = _media_path(value, draft)
    try:
        with Image.open(path) as image:
            image.verify()
    except FileNotFoundError:
        raise ConfigError(f"{draft.where}: image {path} not found.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ConfigError(
            f"{draft.where}: {path} is not a readable image ({error}); expected one of "
            f"{', '.join(sorted(IMAGE_EXTENSIONS))}."
        ) from None


def _read_image(value: Any, draft: _Draft) -> Any:
    """An RGB PIL image from a path, a datasets image (PIL or its bytes), or a PIL image."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(value, Image.Image):
        return value.convert("RGB")
    source: Any
    if isinstance(value, Mapping):  # datasets' undecoded {"bytes", "path"}
        source = io.BytesIO(value["bytes"]) if value.get("bytes") else value.get("path")
        label = value.get("path") or "image bytes"
    else:
        source = _media_path(value, draft)
        label = source
    try:
        with Image.open(source) as image:
            return image.convert("RGB")
    except FileNotFoundError:
        raise ConfigError(f"{draft.where}: image {label} not found.") from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ConfigError(f"{draft.where}: {label} is not a readable image ({error}).") from None


def _probe_audio(value: Any, draft: _Draft) -> None:
    if not isinstance(value, str | Path):
        return
    path = _media_path(value, draft)
    if not path.is_file():
        raise ConfigError(f"{draft.where}: audio file {path} not found.")
    if path.suffix.lower() == ".wav":
        _wav(path, f"{draft.where} ({path})")
        return
    soundfile = _soundfile(path)
    try:
        soundfile.info(str(path))
    except Exception as error:  # soundfile raises its own LibsndfileError and RuntimeError
        raise ConfigError(f"{draft.where}: {path} is not readable audio ({error}).") from None


def _wav(source: Any, where: str) -> tuple[int, np.ndarray]:
    from scipy.io import wavfile

    try:
        with warnings.catch_warnings():  # chunks scipy skips (LIST, bext) are no error
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            return wavfile.read(source, mmap=isinstance(source, Path))
    except (ValueError, OSError, EOFError) as error:
        raise ConfigError(f"{where}: not a readable WAV file ({error}).") from None


def _soundfile(path: Path | str) -> Any:
    try:
        import soundfile
    except ImportError:
        raise ConfigError(
            f"{path}: reading {Path(str(path)).suffix or 'this'} audio needs the soundfile "
            "package: pip install soundfile (WAV files need nothing extra)."
        ) from None
    return soundfile


def _read_audio(value: Any, draft: _Draft, rate_hz: int) -> np.ndarray:
    """Mono float32 samples at ``rate_hz`` from a path, datasets' bytes, or an array."""
    if isinstance(value, Mapping) and "array" in value:
        data, rate = np.asarray(value["array"]), int(value["sampling_rate"])
    else:
        if isinstance(value, Mapping):  # datasets' undecoded {"bytes", "path"}
            name = str(value.get("path") or "audio bytes")
            source: Any = io.BytesIO(value["bytes"]) if value.get("bytes") else Path(name)
        else:
            source = _media_path(value, draft)
            name = str(source)
        if isinstance(source, Path) and not source.is_file():
            raise ConfigError(f"{draft.where}: audio file {source} not found.")
        if _is_wav(source, name):
            rate, data = _wav(source, f"{draft.where} ({name})")
            data = np.array(data)
        else:
            soundfile = _soundfile(name)
            try:
                data, rate = soundfile.read(source, dtype="float32", always_2d=False)
            except Exception as error:  # LibsndfileError, RuntimeError, TypeError
                raise ConfigError(
                    f"{draft.where}: {name} is not readable audio ({error})."
                ) from None
    return _to_mono_float(data, rate, rate_hz)


def _is_wav(source: Any, name: str) -> bool:
    if isinstance(source, io.BytesIO):
        return source.getvalue()[:4] == b"RIFF"
    return name.lower().endswith(".wav")


def _to_mono_float(data: np.ndarray, rate: int, rate_hz: int) -> np.ndarray:
    from scipy.signal import resample_poly

    if data.dtype == np.uint8:
        samples = (data.astype(np.float32) - 128) / 128
    elif np.issubdtype(data.dtype, np.integer):
        samples = data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
    else:
        samples = data.astype(np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if rate != rate_hz:
        g = math.gcd(rate, rate_hz)
        samples = resample_poly(samples, rate_hz // g, rate // g).astype(np.float32)
    return samples


# --- datasets --------------------------------------------------------------------------

_SPLIT_ORDER = ("test", "validation", "train")


def _parse_hf(source: str) -> tuple[str, str | None, str | None]:
    """``hf:NAME[:CONFIG][@SPLIT]`` -> (name, config, split)."""
    spec = source.removeprefix("hf:")
    split = None
    if "@" in spec:
        spec, split = spec.rsplit("@", 1)
    name, _, config = spec.partition(":")
    if not name:
        raise ConfigError(
            f"{source}: no dataset name; write hf:NAME, hf:NAME:CONFIG or hf:NAME@SPLIT."
        )
    return name, config or None, split or None


def _load_hf(source: str, count: int | None) -> Any:
    try:
        import datasets
    except ImportError:
        raise ConfigError(
            f"{source}: reading a Hugging Face dataset needs the datasets package: "
            "pip install datasets."
        ) from None
    name, config, split = _parse_hf(source)
    datasets.disable_progress_bars()
    try:
        if split is None:
            available = datasets.get_dataset_split_names(name, config)
            split = next((s for s in _SPLIT_ORDER if s in available), None)
            if split is None:
                if len(available) != 1:
                    raise ConfigError(
                        f"{source}: no test, validation or train split; name one with "
                        f"@SPLIT: {', '.join(available)}."
                    )
                split = available[0]
        chosen = split if count is None else f"{split}[:{count}]"
        dataset = datasets.load_dataset(name, config, split=chosen)
    except ConfigError:
        raise
    except Exception as error:  # the library's errors for missing data, network, bad files
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"{source}: the datasets library could not load it: {message}") from None
    if len(dataset) == 0:
        raise ConfigError(f"{source}: the {split} split is empty.")
    return dataset


def _class_names(dataset: Any) -> dict[str, Sequence[str]]:
    """Column -> class names, for class-label columns (and lists of them, as NER tags)."""
    names: dict[str, Sequence[str]] = {}
    for column, feature in dataset.features.items():
        inner = getattr(feature, "feature", feature)
        if getattr(inner, "names", None):
            names[column] = list(inner.names)
    return names


def _undecoded_audio(dataset: Any, column: str | None) -> Any:
    """The audio column as its bytes and path: decoded here, without torchcodec."""
    if column is None:
        return dataset
    import datasets

    if isinstance(dataset.features.get(column), datasets.Audio):
        return dataset.cast_column(column, datasets.Audio(decode=False))
    return dataset
