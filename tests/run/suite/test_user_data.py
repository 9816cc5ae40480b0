"""A user's own data: every kind of source, made in a temporary folder, and bad files."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

from genwatt.errors import ConfigError
from genwatt.run.suite.inputs import QuerySequence, count_word_tokens
from genwatt.run.suite.query import MASK_PLACEHOLDER
from genwatt.run.suite.user_data import load_user_queries


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(path: Path, records: list[dict]) -> Path:
    return _write(path, "\n".join(json.dumps(r) for r in records) + "\n")


def _image(path: Path, size: tuple[int, int] = (20, 10), mode: str = "RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, 128).save(path)
    return path


def _wav(path: Path, rate: int, samples: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wavfile.write(path, rate, samples)
    return path


# --- text files -------------------------------------------------------------------------


def test_txt_one_query_a_line_blank_lines_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path / "reviews.txt", "A fine film.\n\n  Dull, and too long.  \n")
    queries = load_user_queries("text-classification", str(path))
    assert [q.text for q in queries] == ["A fine film.", "Dull, and too long."]
    assert [q.label for q in queries] == [None, None]
    assert [q.size for q in queries] == [4, 6]  # words and punctuation, as the tokenizer
    assert queries[0].size_unit == "tokens"


def test_txt_pairs_and_questions_split_on_a_tab(tmp_path: Path) -> None:
    pairs = _write(tmp_path / "pairs.txt", "a dog runs\ta dog is running\n")
    (query,) = load_user_queries("sentence-similarity", str(pairs))
    assert (query.text, query.text_pair, query.size) == ("a dog runs", "a dog is running", 7)
    qa = _write(tmp_path / "qa.txt", "Who?\tNobody knows.\nno tab here\n")
    with pytest.raises(ConfigError, match=r"qa\.txt, line 2: .*one tab"):
        load_user_queries("question-answering", str(qa))


def test_jsonl_with_squad_answers(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "squad.jsonl",
        [
            {
                "question": "When?",
                "context": "In 1876 it opened.",
                "answers": {"text": ["1876", "In 1876"], "answer_start": [3, 0]},
            },
            {"question": "Who?", "context": "Nobody.", "answers": {"text": [], "answer_start": []}},
            {"question": "Where?", "context": "Here.", "answer": "Here"},
        ],
    )
    queries = load_user_queries("question-answering", str(path))
    assert [q.label for q in queries] == [("1876", "In 1876"), (), None]
    assert queries[0].question == "When?" and queries[0].context == "In 1876 it opened."
    assert queries[0].size == count_word_tokens("When? In 1876 it opened.")


def test_jsonl_sentiment_numbers_become_label_names(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "sst2.jsonl",
        [
            {"sentence": "good", "label": 1},
            {"sentence": "bad", "label": 0},
            {"sentence": "meh"},
            {"sentence": "hidden", "label": -1},  # GLUE's test splits: no label
            {"sentence": "fine", "label": "pos"},
        ],
    )
    queries = load_user_queries("text-classification", str(path))
    assert [q.label for q in queries] == ["POSITIVE", "NEGATIVE", None, None, "pos"]


def test_count_takes_the_first_and_a_short_source_gives_what_it_has(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.txt", "".join(f"prompt {i}\n" for i in range(5)))
    assert [q.text for q in load_user_queries("text-to-image", str(path), 2)] == [
        "prompt 0",
        "prompt 1",
    ]
    assert len(load_user_queries("text-to-image", str(path), 50)) == 5
    assert len(load_user_queries("text-to-image", str(path))) == 5


def test_csv_summaries_and_a_missing_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "cnn.csv",
        'article,highlights\n"Long, long text.",Short.\nSecond article.,Second summary.\n',
    )
    queries = load_user_queries("summarization", str(path))
    assert [(q.text, q.label) for q in queries] == [
        ("Long, long text.", "Short."),
        ("Second article.", "Second summary."),
    ]
    with pytest.raises(ConfigError, match=r"cnn\.csv.*'question'.*found 'article', 'highlights'"):
        load_user_queries("question-answering", str(path))


def test_csv_empty_cell_of_a_needed_field_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "text,label\nfine,1\n,0\n")
    with pytest.raises(ConfigError, match=r"t\.csv, line 3: no value for 'text'"):
        load_user_queries("text-classification", str(path))


def test_conll_tokens_and_tags_become_entities(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "ner.jsonl",
        [
            {
                "tokens": ["John", "Smith", "visited", "New", "York", "and", "Paris"],
                "ner_tags": ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "B-LOC"],
            },
            {"tokens": ["x"], "ner_tags": ["O", "O"]},
        ],
    )
    with pytest.raises(ConfigError, match=r"ner\.jsonl, line 2: 2 entity tags for 1 tokens"):
        load_user_queries("token-classification", str(path))
    (query,) = load_user_queries("token-classification", str(path), 1)
    assert query.text == "John Smith visited New York and Paris"
    assert query.label == (("PER", "John Smith"), ("LOC", "New York"), ("LOC", "Paris"))
    csv_path = _write(tmp_path / "ner.csv", "tokens,ner_tags\nAda Lovelace,B-PER I-PER\n")
    (row,) = load_user_queries("token-classification", str(csv_path))
    assert row.label == (("PER", "Ada Lovelace"),)


def test_fill_mask_needs_one_mask_in_any_common_spelling(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "m.jsonl",
        [{"text": "The [MASK] sat.", "label": "cat"}, {"text": "A <mask> barked."}],
    )
    queries = load_user_queries("fill-mask", str(path))
    assert queries[0].text == f"The {MASK_PLACEHOLDER} sat." and queries[0].label == "cat"
    assert queries[1].text == f"A {MASK_PLACEHOLDER} barked." and queries[0].size == 4
    bad = _write(tmp_path / "m.txt", "no mask here\n")
    with pytest.raises(ConfigError, match=r"m\.txt, line 1: fill-mask needs exactly one"):
        load_user_queries("fill-mask", str(bad))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "Data not found"),
        ("empty.txt", "\n\n", r"empty\.txt: no queries"),
        ("empty.csv", "", r"empty\.csv: empty; a \.csv file needs a header"),
        ("empty.jsonl", "", r"empty\.jsonl: no queries"),
        ("data.parquet", "x", r"data\.parquet: unknown data file type '\.parquet'"),
        ("bad.jsonl", '{"text": "ok"}\n{"text": oops}\n', r"bad\.jsonl, line 2: not valid JSON"),
        ("list.jsonl", '["a"]\n', r"list\.jsonl, line 1: a JSON list, not an object"),
        ("wide.csv", "text\na,b\n", r"wide\.csv, line 2: more values than the 1 columns"),
        ("latin.txt", b"caf\xe9\n", r"latin\.txt: not UTF-8"),
    ],
)
def test_bad_files_name_themselves(
    tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_user_queries("text-classification", str(path))


def test_a_text_task_given_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder; summarization reads text"):
        load_user_queries("summarization", str(tmp_path))


# --- images -------------------------------------------------------------------------------


def test_image_folder_with_class_folders(tmp_path: Path) -> None:
    _image(tmp_path / "cat" / "1.png", (30, 20))
    _image(tmp_path / "dog" / "2.jpg", (16, 16), mode="L")
    _image(tmp_path / "dog" / "3.webp", (8, 12), mode="RGBA")
    (tmp_path / "README.md").write_text("not an image")
    queries = load_user_queries("image-classification", str(tmp_path))
    assert isinstance(queries, QuerySequence)
    assert [q.label for q in queries] == ["cat", "dog", "dog"]
    assert [q.image.mode for q in queries] == ["RGB"] * 3
    assert [q.size for q in queries] == [600, 256, 96]
    assert queries[0].size_unit == "pixels"


def test_image_folder_labels_from_metadata(tmp_path: Path) -> None:
    _image(tmp_path / "a.png")
    _image(tmp_path / "sub" / "b.png")
    _write(tmp_path / "metadata.csv", "file_name,text\na.png,a grey square\nsub/b.png,another\n")
    queries = load_user_queries("image-to-text", str(tmp_path))
    assert [q.label for q in queries] == ["a grey square", "another"]


def test_jsonl_image_paths_relative_to_the_file(tmp_path: Path) -> None:
    _image(tmp_path / "pics" / "x.png", (4, 4))
    path = _jsonl(tmp_path / "data" / "set.jsonl", [{"image": "../pics/x.png", "label": "square"}])
    (query,) = load_user_queries("image-classification", str(path))
    assert query.image.size == (4, 4) and query.label == "square"


def test_unreadable_or_missing_images_are_named_before_the_run(tmp_path: Path) -> None:
    _image(tmp_path / "ok.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(ConfigError, match=r"broken\.jpg is not a readable image"):
        load_user_queries("object-detection", str(tmp_path))
    listing = _write(tmp_path / "list.txt", "ok.png\ngone.png\n")
    with pytest.raises(ConfigError, match=r"list\.txt, line 2: image .*gone\.png not found"):
        load_user_queries("object-detection", str(listing))


def test_folder_without_usable_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ConfigError, match=r"no image files in this folder .*\.jpg"):
        load_user_queries("image-classification", str(tmp_path))
    with pytest.raises(ConfigError, match=r"no audio files in this folder .*\.wav"):
        load_user_queries("automatic-speech-recognition", str(tmp_path))


# --- audio --------------------------------------------------------------------------------


def test_wav_folder_made_mono_16k_with_metadata_transcripts(tmp_path: Path) -> None:
    t = np.arange(8000) / 8000
    tone = np.sin(2 * np.pi * 440 * t)
    stereo = (np.stack([tone, tone], axis=1) * 16384).astype(np.int16)  # 1 s at 8 kHz
    _wav(tmp_path / "a.wav", 8000, stereo)
    _wav(tmp_path / "b.wav", 16000, (tone[:4000] * 2**30).astype(np.int32))
    _wav(tmp_path / "c.wav", 44100, np.zeros(44100 // 2, dtype=np.float32))
    _jsonl(
        tmp_path / "metadata.jsonl",
        [{"file_name": "a.wav", "transcription": "a tone"}, {"file_name": "b.wav", "text": "x"}],
    )
    queries = load_user_queries("automatic-speech-recognition", str(tmp_path))
    a, b, c = queries
    assert a.audio.dtype == np.float32 and a.audio.ndim == 1
    assert a.sampling_rate == 16000 and len(a.audio) == 16000 and a.size == pytest.approx(1.0)
    assert np.abs(a.audio).max() == pytest.approx(0.5, abs=0.02)  # int16 scaled to [-1, 1)
    assert len(b.audio) == 4000 and np.abs(b.audio).max() == pytest.approx(0.5, abs=0.01)
    assert len(c.audio) == 8000 and c.size == pytest.approx(0.5)
    assert [a.label, b.label, c.label] == ["a tone", "x", None]


def test_other_audio_formats_need_soundfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "clip.flac").write_bytes(b"fLaC")
    monkeypatch.setitem(sys.modules, "soundfile", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"clip\.flac: .*pip install soundfile"):
        load_user_queries("automatic-speech-recognition", str(tmp_path))


def test_soundfile_reads_what_scipy_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The FLAC/OGG/MP3 path, with a stand-in for soundfile (not a dependency)."""

    class FakeSoundfile:
        @staticmethod
        def info(path: str) -> object:
            return type("Info", (), {"frames": 22050, "samplerate": 22050})()

        @staticmethod
        def read(source: object, dtype: str, always_2d: bool) -> tuple[np.ndarray, int]:
            return np.full(22050, 0.25, dtype=np.float32), 22050

    (tmp_path / "clip.ogg").write_bytes(b"OggS")
    monkeypatch.setitem(sys.modules, "soundfile", FakeSoundfile)
    (query,) = load_user_queries("automatic-speech-recognition", str(tmp_path))
    assert len(query.audio) == 16000 and query.size == pytest.approx(1.0)


def test_a_broken_wav_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.wav").write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(ConfigError, match=r"bad\.wav.*not a readable WAV"):
        load_user_queries("automatic-speech-recognition", str(tmp_path))


# --- datasets ---------------------------------------------------------------------------------


@pytest.fixture
def datasets_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    return datasets


def test_hf_local_csv_folder_picks_the_test_split(tmp_path: Path, datasets_offline) -> None:
    data = tmp_path / "sst2"
    _write(data / "train.csv", "sentence,label\ntrain one,1\n")
    _write(data / "test.csv", "sentence,label\ngood film,1\nbad film,0\nok,1\n")
    queries = load_user_queries("text-classification", f"hf:{data}", 2)
    assert [(q.text, q.label) for q in queries] == [
        ("good film", "POSITIVE"),
        ("bad film", "NEGATIVE"),
    ]
    (train,) = load_user_queries("text-classification", f"hf:{data}@train")
    assert train.text == "train one"
    with pytest.raises(ConfigError, match=r"hf:.*@nope: the datasets library could not load it"):
        load_user_queries("text-classification", f"hf:{data}@nope")


def test_hf_imagefolder_class_names(tmp_path: Path, datasets_offline) -> None:
    _image(tmp_path / "pets" / "cat" / "1.png", (6, 5))
    _image(tmp_path / "pets" / "dog" / "2.png", (5, 5), mode="L")
    queries = load_user_queries("image-classification", f"hf:{tmp_path / 'pets'}")
    assert [q.label for q in queries] == ["cat", "dog"]
    assert [q.image.mode for q in queries] == ["RGB", "RGB"]
    assert [q.size for q in queries] == [30, 25]


def test_hf_audio_decoded_here_without_torchcodec(tmp_path: Path, datasets_offline) -> None:
    """A Parquet file as the Hub stores audio (bytes, with its features in the schema)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    wavfile.write(buffer, 8000, (np.ones(8000) * 8192).astype(np.int16))
    features = datasets_offline.Features(
        {
            "audio": datasets_offline.Audio(sampling_rate=16000),
            "text": datasets_offline.Value("string"),
        }
    )
    table = pa.table(
        {"audio": [{"bytes": buffer.getvalue(), "path": "a.wav"}], "text": ["HELLO WORLD"]}
    )
    metadata = {"huggingface": json.dumps({"info": {"features": features.to_dict()}})}
    (tmp_path / "speech").mkdir()
    pq.write_table(table.replace_schema_metadata(metadata), tmp_path / "speech" / "test.parquet")
    (query,) = load_user_queries("automatic-speech-recognition", f"hf:{tmp_path / 'speech'}")
    assert query.label == "HELLO WORLD" and query.sampling_rate == 16000
    assert len(query.audio) == 16000 and query.audio.mean() == pytest.approx(0.25, abs=0.01)


def test_hf_ner_tags_through_class_names(tmp_path: Path, datasets_offline) -> None:
    features = datasets_offline.Features(
        {
            "tokens": datasets_offline.List(datasets_offline.Value("string")),
            "ner_tags": datasets_offline.List(
                datasets_offline.ClassLabel(names=["O", "B-PER", "I-PER"])
            ),
        }
    )
    dataset = datasets_offline.Dataset.from_dict(
        {"tokens": [["Ada", "Lovelace", "wrote"]], "ner_tags": [[1, 2, 0]]}, features=features
    )
    (tmp_path / "conll").mkdir()
    dataset.to_parquet(tmp_path / "conll" / "validation.parquet")
    (query,) = load_user_queries("token-classification", f"hf:{tmp_path / 'conll'}")
    assert query.text == "Ada Lovelace wrote" and query.label == (("PER", "Ada Lovelace"),)


def test_hf_errors(tmp_path: Path, datasets_offline, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="could not load it"):
        load_user_queries("text-classification", f"hf:{tmp_path / 'nowhere'}")
    with pytest.raises(ConfigError, match="no dataset name"):
        load_user_queries("text-classification", "hf:")
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ConfigError, match="pip install datasets"):
        load_user_queries("text-classification", "hf:stanfordnlp/sst2")
