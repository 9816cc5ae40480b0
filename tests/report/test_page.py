"""The HTML page: self-contained, escaped, honest about provenance."""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from html.parser import HTMLParser

from genwatt.report import build_report
from genwatt.report.page import CSP
from genwatt.report.predicted import no_predictor

LOADING_ATTRIBUTES = {"src", "href", "xlink:href", "action", "data", "poster", "srcset"}


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of script elements."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def test_page_loads_nothing_and_runs_only_its_own_script(built) -> None:
    tags = Tags(built.html)
    for tag, attrs in tags.tags:
        assert tag not in {"link", "iframe", "object", "embed", "img", "base"}, tag
        for name, value in attrs.items():
            if name in LOADING_ATTRIBUTES:
                assert value is not None and value.startswith(("#", "data:")), (tag, name, value)
    assert "url(http" not in built.html and "@import" not in built.html
    scripts = [attrs for tag, attrs in tags.tags if tag == "script"]
    assert len(scripts) == 1 and len(tags.scripts) == 1
    digest = base64.b64encode(hashlib.sha256(tags.scripts[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in CSP
    assert f'content="{CSP}"'.replace("'", "&#x27;") in built.html
    assert "default-src 'none'" in CSP


def test_every_figure_is_inline_svg_with_page_unique_ids(built) -> None:
    tags = Tags(built.html)
    figures = [a for t, a in tags.tags if t == "figure"]
    assert len(figures) == built.content.figure_count == 11
    assert built.html.count('<svg xmlns:xlink="http://www.w3.org/1999/xlink"') == 11
    ids = [a["id"] for _, a in tags.tags if a.get("id")]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates
    for match in re.finditer(r'(?:href="#|url\(#)([^")]+)', built.html):
        assert match.group(1) in ids  # every reference resolves within the page
    sections = Counter(a["data-section"] for a in figures)
    assert sections == {"scaling": 2, "phases": 4, "steps": 3, "timelines": 2}


def test_provenance_is_labelled_in_tables_and_the_key(built) -> None:
    html = built.html
    assert html.count('class="gw-prov gw-prov-measured"') >= 4  # four WAN rows, and the key
    assert 'class="gw-prov gw-prov-estimated"' in html
    assert 'class="gw-value-predicted"' in html  # predicted energy in the leaderboard
    for word in ("filled markers", "hollow markers", "dashed lines"):
        assert word in html
    assert "Some runs are estimated, not measured" in html
    assert "Every energy figure in this report is estimated" not in html
    assert "★★★★★" in html and "×8" in html  # ratings and the floor ratio
    assert "no GPU in this run" in html  # why a floor is missing, as a numbered note


def test_an_estimated_only_report_says_so_at_the_top(records) -> None:
    estimated = [r for r in records if r.config.get("device") != "cuda"]
    html = build_report(estimated, predictor=no_predictor).html
    banner = html.index("Every energy figure in this report is estimated")
    assert banner < html.index("<section")  # before every section (here no leaderboard)
    assert "predictions were turned off for this report" in html


def test_user_strings_are_escaped_everywhere(xss_runs, synth) -> None:
    html = build_report(xss_runs, predictor=synth.FakePredictor(), filters={"kind": "<b>x"}).html
    assert "<script>alert" not in html
    assert "<img" not in html and "<b>x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in html  # the sweep name
    tags = Tags(html)
    assert [t for t, _ in tags.tags].count("script") == 1
    handlers = [(t, n) for t, a in tags.tags for n in a if n.startswith("on")]
    assert not handlers
    # SVG text is drawn as outlines; matplotlib's comments carry the text, escaped.
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert any("&lt;script&gt;alert(1)" in svg for svg in svgs)  # in a title's comment


def _section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', html)


def test_sections_without_data_are_left_out_and_named_in_one_line(records, synth) -> None:
    wan = [r for r in records if r.config.get("model") == synth.WAN]
    html = build_report(wan, predictor=synth.FakePredictor()).html
    assert _section_ids(html) == ["configurations", "scaling", "phases", "steps", "key"]
    assert "gw-empty" not in html.split("</style>")[1]  # no placeholder sections
    (absent,) = re.findall(r'<p class="gw-absent">(.*?)</p>', html)
    assert "power over time (`genwatt measure --timeline`" in absent
    assert "a leaderboard ranks models, and only wan2.1-t2v-1.3b was measured" in absent
    assert "`genwatt mitigate`" in absent


def test_one_model_is_not_ranked_against_its_own_settings(records, synth) -> None:
    wan = [r for r in records if r.config.get("model") == synth.WAN]
    html = build_report(wan, predictor=synth.FakePredictor()).html
    assert 'id="leaderboard"' not in html and "★" not in html.split("</style>")[1]
    table = html[html.index('<section id="configurations"') :]
    table = table[: table.index("</section>")]
    assert '<th scope="col">#</th>' not in table  # listed, not ranked
    assert table.count("<tr><td>") == 4


def test_two_models_are_ranked_at_the_same_settings(built, synth) -> None:
    html = built.html
    board = html[html.index('<section id="leaderboard"') :]
    board = board[: board.index("</section>")]
    assert "Text to video, all at 9f 32x32 2 steps" in board
    rows = re.findall(r'<span class="gw-model">([^<]+)</span>', board)
    assert rows == [synth.WAN, "cogvideox-tiny"]  # least energy first
    assert "Not ranked: text to image: a leaderboard ranks models, and only sd-tiny" in board


def test_column_headers_say_what_their_numbers_are(built) -> None:
    assert "kWh / 1,000" not in built.html
    assert '<th scope="col">Energy per generation</th>' in built.html
    assert '<th scope="col">Energy per 1,000 generations</th>' in built.html
    assert '<td><span class="gw-value-measured">5 Wh</span></td>' in built.html  # 18 J x 1,000


def test_no_number_in_the_page_text_has_an_exponent(built) -> None:
    text = re.sub(
        r"<svg.*?</svg>|<style>.*?</style>|<script>.*?</script>", "", built.html, flags=re.S
    )
    assert not re.search(r"\d(\.\d+)?e[-+]\d", text)
