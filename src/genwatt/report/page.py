"""The report as one self-contained HTML page: styles, figures and script inline.

The page loads nothing: figures are inline SVG, the style sheet and the one small
script are in the file, and a Content-Security-Policy forbids every network request
and every script but that one (by its hash). So a page opened from an e-mail or a
shared drive cannot call out, and text from a store that slipped past escaping could
still not run. The script only records what went wrong while the page loaded (errors,
blocked requests) and each figure's rendered size, in ``data-`` attributes of the root
element, where a headless browser in the tests reads them back.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from genwatt.report.document import ReportContent
from genwatt.report.footprint_section import footprint_html
from genwatt.report.mitigation_table import mitigation_html
from genwatt.report.provenance import ESTIMATED, LOOKS, MEASURED, ORDER, PREDICTED
from genwatt.report.suite_table import suite_leaderboard_html, suite_ratio_html
from genwatt.report.tables import configurations_html, e, leaderboard_html, other_runs_html

FIGURE_CLASS = "gw-figure"
ERRORS_ATTRIBUTE = "data-gw-errors"
LOADED_ATTRIBUTE = "data-gw-loaded"
RENDERED_ATTRIBUTE = "data-gw-rendered"
MAX_SWEEPS_SHOWN = 4
MAX_HEADLINES = 6

SECTIONS = (
    ("suite-map", "Energy by task"),
    ("suite-leaderboard", "Leaderboard per task"),
    ("suite-kinds", "Task-specific vs multi-purpose models"),
    ("suite-batch", "Energy per query by batch size"),
    ("leaderboard", "Leaderboard"),
    ("configurations", "Every configuration measured"),
    ("footprint", "At the scale of a service"),
    ("scaling", "How energy and latency scale"),
    ("phases", "Where the energy goes"),
    ("steps", "Energy per step"),
    ("timelines", "Power over time"),
    ("mitigation", "Cutting the energy"),
    ("commands", "Measured commands"),
    ("key", "How to read this report"),
)

_INTROS = {
    "suite-map": "Energy per 1,000 queries of every task `genwatt suite` ran, on a log "
    "axis: the chart of Power Hungry Processing (Luccioni, Jernite and Strubell, FAccT "
    "2024), where text classification and image generation sit orders of magnitude apart. "
    "Each point is a model at its task's smallest batch size stored.",
    "suite-leaderboard": "The models of each task ranked by energy per 1,000 queries at "
    "batch size 1 (or the smallest stored), whole machine and GPU side by side, each with "
    "its provenance, with star ratings in both AI Energy Score's and genwatt's formulas, "
    "and quality and energy per correct answer where they were measured.",
    "suite-kinds": "General models asked to do a task zero-shot (T5, Flan-T5, BLOOMZ) "
    "against models trained for it, on the tasks that ran both. Power Hungry Processing "
    "found the multi-purpose models costing several times to an order of magnitude more "
    "on the same task.",
    "suite-batch": "Energy per query against batch size, log-log, for every model stored "
    "at two batch sizes or more (`genwatt suite --batch-sizes 1,8,32`).",
    "leaderboard": "Models of one task, ranked at the same settings: least energy per "
    "generation first. Only models are ranked, never the settings of one model.",
    "configurations": "Every configuration of every model and machine, in the order "
    "measured: what each setting costs, not a ranking.",
    "scaling": "Log-log axes: a straight line of slope k means the quantity grows as the "
    "setting to the power k (1: proportional; 2: quadratic, as self-attention is in "
    "tokens). The slopes come from one multiplicative fit over every configuration of a "
    "series, so each holds the other settings fixed; points at one level of a setting "
    "spread because the other settings vary.",
    "phases": "Each bar is one configuration (mean of its runs), split into the phases of "
    "a generation; other is the energy outside every phase (scheduler set-up, latents, "
    "post-processing).",
    "steps": "The energy of each denoising step (or each decoded token), averaged over a "
    "configuration's runs: a flat line means every step costs the same.",
    "timelines": "Power per energy domain as the meter sampled it, for the most recent "
    "runs stored with a timeline (`genwatt measure --timeline`, or `timeline: true` in a "
    "sweep spec).",
    "mitigation": "What energy-saving strategies buy, and what they cost in quality "
    "(`genwatt mitigate`). Each strategy ran on the same prompts and seeds as the "
    "unmitigated pipeline: work saved is how many times fewer denoising FLOPs it executed, "
    "quality how close its outputs came to the unmitigated ones (PSNR, SSIM) and, on "
    "genwatt's reference model, whether they still show the prompt (adherence). A "
    "strategy is worth having when it sits up and to the right of the plain cheaper "
    "settings (fewer steps, lower resolution) at the same saving.",
    "commands": "Commands measured with `genwatt measure`, newest first.",
}

# For a section the store has no data for: what it would show, and what fills it. The
# page leaves such sections out and lists them in one line under the contents.
_MISSING = {
    "suite-map": "energy by task (a suite configuration that succeeded: `genwatt suite`)",
    "suite-kinds": "task-specific vs multi-purpose models (a task run with both kinds: "
    "`genwatt suite --tasks text-classification,question-answering,summarization` runs "
    "T5, Flan-T5 and BLOOMZ beside the task-specific models)",
    "suite-batch": "energy by batch size (`genwatt suite --batch-sizes 1,8,32`)",
    "configurations": "generations (`genwatt bench`)",
    "scaling": "how energy scales (a sweep over frames, resolution or steps: `genwatt bench`)",
    "phases": "where the energy goes (generations with phase windows: `genwatt bench`)",
    "steps": "energy per step (a configuration of two steps or more: `genwatt bench`)",
    "timelines": "power over time (`genwatt measure --timeline`, or `timeline: true` in a "
    "sweep spec)",
    "mitigation": "cutting the energy (`genwatt mitigate`)",
    "commands": "measured commands (`genwatt measure -- COMMAND`)",
}

_FROM_GENERATIONS = ("leaderboard", "configurations", "scaling", "phases", "steps")

# Records failures in data- attributes for whoever inspects the page (the tests do).
_SCRIPT = (
    "(function(){var d=document.documentElement,errors=[];"
    "function note(m){errors.push(String(m));"
    f"d.setAttribute('{ERRORS_ATTRIBUTE}',JSON.stringify(errors));}}"
    "window.addEventListener('error',function(ev){"
    "note(ev.message||('failed to load '+((ev.target&&(ev.target.src||ev.target.href))||"
    "'a resource')));},true);"
    "window.addEventListener('unhandledrejection',function(ev){note(ev.reason);});"
    "document.addEventListener('securitypolicyviolation',function(ev){"
    "note('blocked by the page policy: '+ev.violatedDirective+' '+ev.blockedURI);});"
    "window.addEventListener('load',function(){"
    f"var figures=document.querySelectorAll('figure.{FIGURE_CLASS}');"
    "for(var i=0;i<figures.length;i++){var svg=figures[i].querySelector('svg');"
    "var box=svg?svg.getBoundingClientRect():{width:0,height:0};"
    f"figures[i].setAttribute('{RENDERED_ATTRIBUTE}',"
    "Math.round(box.width)+'x'+Math.round(box.height));}"
    f"d.setAttribute('{LOADED_ATTRIBUTE}',String(figures.length));}});}})();"
)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    f"script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
)

_CSS = """
:root{--ink:#1d232b;--muted:#5b6570;--line:#d9dee4;--card:#fff;--bg:#f5f6f8;
--measured:#1b7a43;--estimated:#a15c00;--predicted:#c2410c;--accent:#1f5fa6}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
body{margin:0}
main{max-width:1240px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:1.6rem;margin:0 0 4px}
h2{font-size:1.25rem;margin:36px 0 8px;padding-top:8px;border-top:1px solid var(--line)}
h3{font-size:1.05rem;margin:20px 0 6px}
p{margin:6px 0}
code{font:0.9em ui-monospace,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
a{color:var(--accent)}
.gw-meta{color:var(--muted);font-size:0.92rem}
.gw-meta span{margin-right:14px;display:inline-block}
.gw-banner{background:#fff4e0;border:1px solid #f0c36d;border-left:6px solid #e0a020;
padding:10px 14px;border-radius:6px;margin:14px 0}
nav{margin:14px 0 4px;font-size:0.92rem}
nav a{margin-right:14px;white-space:nowrap}
.gw-intro{color:var(--muted);max-width:80ch}
.gw-small{color:var(--muted);font-size:0.85rem;max-width:110ch}
.gw-empty{color:var(--muted);font-style:italic}
.gw-absent{color:var(--muted);font-size:0.85rem;max-width:110ch}
.gw-headline{font-size:1.02rem;margin:10px 0 4px;padding:8px 12px;background:var(--card);
border:1px solid var(--line);border-left:6px solid var(--accent);border-radius:6px}
.gw-headline p{margin:2px 0}
figure.gw-figure{margin:16px 0;background:var(--card);border:1px solid var(--line);
border-radius:8px;padding:10px 12px}
figure.gw-figure svg{display:block;width:100%;height:auto}
figcaption{color:var(--muted);font-size:0.86rem;margin-top:6px}
details.gw-more{margin:.5em 0}details.gw-more summary{cursor:pointer;font-size:.9em}
.gw-table-wrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);
border-radius:8px}
table.gw-table{border-collapse:collapse;width:100%;font-size:0.84rem}
.gw-table th,.gw-table td{padding:5px 6px;text-align:left;vertical-align:top;
border-bottom:1px solid var(--line)}
.gw-table th{background:#eef1f4;font-weight:600;font-size:0.8rem}
.gw-table tbody tr:nth-child(even){background:#fafbfc}
.gw-model{font-weight:600;overflow-wrap:anywhere}
.gw-hardware{color:var(--muted);font-size:0.78rem}
.gw-leaderboard td:nth-child(2){min-width:11em}
.gw-per-1000{color:var(--muted);font-size:0.78rem}
.gw-nowrap{white-space:nowrap}
sup a{text-decoration:none}
.gw-prov{white-space:nowrap;font-size:0.82rem;padding:1px 7px;border-radius:10px;
border:1px solid currentColor}
.gw-prov-measured{color:var(--measured);background:#e8f5ed}
.gw-prov-estimated{color:var(--estimated);background:#fff6e6;border-style:dotted}
.gw-prov-predicted{color:var(--predicted);background:#fff;border-style:dashed}
.gw-value-measured,.gw-value-estimated,.gw-value-predicted{white-space:nowrap}
.gw-value-estimated{font-style:italic}
.gw-value-estimated::before{content:"≈ "}
.gw-value-predicted{color:var(--predicted);border-bottom:1px dashed currentColor}
.gw-stars{color:#d08b00;letter-spacing:1px;white-space:nowrap;font-size:1rem}
.gw-failed{color:#b42318;font-size:0.8rem}
.gw-frontier{color:var(--accent);font-size:0.76rem;white-space:nowrap}
.gw-notes{font-size:0.82rem;color:var(--muted)}
.gw-key td:first-child{width:64px}
.gw-key svg{display:block}
footer{margin-top:40px;color:var(--muted);font-size:0.8rem;border-top:1px solid var(--line);
padding-top:10px}
@page{size:A4;margin:12mm}
@media print{html{background:#fff;font-size:10.5pt}main{max-width:none;padding:0}
nav{display:none}figure.gw-figure,table,.gw-banner{break-inside:avoid}
h2,h3{break-after:avoid}details.gw-more>*{display:block}.gw-table-wrap{overflow:visible;border:none}
figure.gw-figure{border:none;padding:0}a{color:inherit;text-decoration:none}}
"""

# Small hand-drawn swatches for the key: the marks the figures use for each provenance.
_SWATCHES = {
    MEASURED: '<circle cx="14" cy="10" r="5" fill="#1f5fa6" stroke="#1f5fa6" stroke-width="1.5"/>'
    '<line x1="30" y1="10" x2="58" y2="10" stroke="#555" stroke-width="2"/>',
    ESTIMATED: '<circle cx="14" cy="10" r="5" fill="#fff" stroke="#1f5fa6" stroke-width="1.5"/>'
    '<line x1="30" y1="10" x2="58" y2="10" stroke="#555" stroke-width="2" '
    'stroke-dasharray="1.5 3"/>',
    PREDICTED: '<line x1="4" y1="10" x2="58" y2="10" stroke="#c2410c" stroke-width="2" '
    'stroke-dasharray="7 4"/>',
}
_DRAWN_AS = {
    MEASURED: "filled markers, solid lines, solid bars",
    ESTIMATED: "hollow markers, dotted lines, hatched bars; “≈” before the value in tables",
    PREDICTED: "dashed lines and dashed, unfilled bars; dashed underline in tables",
}


@dataclass(frozen=True)
class RenderedFigure:
    """A figure ready for the page: its SVG markup (already safe) and plain-text words."""

    section: str
    figure_id: str
    title: str
    caption: str
    svg: str
    key: str = ""  # what it draws (a sweep, for sections that put a table beside it)


def _figure_html(figure: RenderedFigure) -> str:
    return (
        f'<figure class="{FIGURE_CLASS}" id="{e(figure.figure_id)}" '
        f'data-section="{e(figure.section)}">{figure.svg}'
        f"<figcaption>{e(figure.caption)}</figcaption></figure>"
    )


def _key_html() -> str:
    rows = "".join(
        f'<tr><td><svg width="62" height="20" viewBox="0 0 62 20" aria-hidden="true">'
        f"{_SWATCHES[p]}</svg></td><td><strong>{p}</strong></td><td>{e(LOOKS[p].meaning)}"
        f"</td><td>{e(_DRAWN_AS[p])}</td></tr>"
        for p in ORDER
    )
    return (
        '<div class="gw-table-wrap"><table class="gw-table gw-key"><thead><tr>'
        '<th scope="col">Mark</th><th scope="col">Provenance</th><th scope="col">Meaning</th>'
        f'<th scope="col">Drawn as</th></tr></thead><tbody>{rows}</tbody></table></div>'
        '<p class="gw-small">A total is only as good as its weakest part: a run whose GPU '
        "was measured but whose CPU was estimated counts as estimated. Power-law fits are "
        "drawn as thin solid black lines whatever the provenance of their points.</p>"
    )


def _header(content: ReportContent) -> str:
    filters = "".join(
        f"<span>{e(name)}: <code>{e(value)}</code></span>"
        for name, value in content.filters.items()
    )
    counts = ", ".join(f"{n} {e(kind)}" for kind, n in content.provenance_counts.items())
    failed = f", {content.failed} failed" if content.failed else ""
    shown = content.sweeps[-MAX_SWEEPS_SHOWN:]
    more = len(content.sweeps) - len(shown)
    sweeps = ", ".join(f"<code>{e(s)}</code>" for s in shown) + (
        f" and {more} more" if more else ""
    )
    generated = datetime.fromtimestamp(content.generated_at).strftime("%Y-%m-%d %H:%M")
    meta = (
        f"<span>store: <code>{e(content.store)}</code></span>{filters}"
        f"<span>{content.runs} runs{failed}</span>"
        + (f"<span>sweeps: {sweeps}</span>" if sweeps and "sweep" not in content.filters else "")
        + (f"<span>totals: {counts}</span>" if counts else "")
        + f"<span>generated {e(generated)} by genwatt {e(content.version)}</span>"
    )
    banner = ""
    if content.estimated_only:
        banner = (
            '<div class="gw-banner" role="note"><strong>Every energy figure in this report '
            "is estimated.</strong> No hardware energy counter covered these runs, so energy "
            "comes from a power model (TDP × utilisation, W per GB of DRAM) and may be off "
            "by a large factor. `genwatt env` shows which counters this machine offers.</div>"
        )
    elif content.provenance_counts.get(ESTIMATED):
        banner = (
            '<div class="gw-banner" role="note">Some runs are estimated, not measured: '
            "they are drawn with hollow markers, dotted lines and hatched bars, and marked "
            "“≈” in tables.</div>"
        )
    return (
        f'<header><h1>genwatt report</h1>{_headlines(content)}<p class="gw-meta">{meta}</p>'
        f"{banner}</header>"
    )


def _headlines(content: ReportContent) -> str:
    """One line per series: what one generation costs, before anything else."""
    if not content.headlines:
        return ""
    shown = content.headlines[:MAX_HEADLINES]
    more = len(content.headlines) - len(shown)
    lines = "".join(f"<p>{e(h.text())}</p>" for h in shown)
    if more:
        lines += f"<p>… and {more} more in the tables below.</p>"
    return f'<div class="gw-headline" role="note">{lines}</div>'


def _absent_html(content: ReportContent, missing: list[str]) -> str:
    """One line naming the sections left out for want of data, and what would fill them."""
    reasons = []
    if not content.series:  # no generation at all: one entry stands for all it would fill
        missing = [s for s in missing if s not in _FROM_GENERATIONS]
        reasons.append(
            "generations, and the leaderboard, scaling, phase and step figures drawn from "
            "them (`genwatt bench`)"
        )
    for section in missing:
        if section == "leaderboard":
            reasons.append(
                "a leaderboard (" + "; ".join(content.leaderboard.unranked) + ")"
                if content.leaderboard.unranked
                else "a leaderboard (generations of two models: `genwatt bench --model NAME`)"
            )
        elif section in _MISSING:
            reasons.append(_MISSING[section])
    if not reasons:
        return ""
    return (
        f'<p class="gw-absent">Not in this report, for want of data: {e("; ".join(reasons))}.</p>'
    )


def render_page(
    content: ReportContent,
    figures: list[RenderedFigure],
    country: str | None,
    pue: float | None = None,
    cloud: str | None = None,
) -> str:
    """The whole page; every user-supplied string is escaped on the way in."""
    bodies: dict[str, str] = {
        "suite-leaderboard": suite_leaderboard_html(content.suite),
        "suite-kinds": suite_ratio_html(content.suite),
        "leaderboard": leaderboard_html(content.leaderboard),
        "configurations": configurations_html(content.leaderboard),
        "commands": other_runs_html(
            content.other_runs, content.other_runs_total, country, pue, cloud
        ),
        "footprint": footprint_html(content.footprint),
        "key": _key_html(),
        "mitigation": mitigation_html(
            content.mitigation,
            {f.key: _figure_html(f) for f in figures if f.section == "mitigation"},
        ),
    }
    for section, _ in SECTIONS:
        if section not in bodies:
            bodies[section] = "".join(_figure_html(f) for f in figures if f.section == section)
    present = [(s, title) for s, title in SECTIONS if bodies[s]]
    nav = "".join(f'<a href="#{s}">{e(title)}</a>' for s, title in present)
    sections = "".join(
        f'<section id="{s}"><h2>{e(title)}</h2>'
        + (f'<p class="gw-intro">{e(_INTROS[s])}</p>' if s in _INTROS else "")
        + bodies[s]
        + "</section>"
        for s, title in present
    )
    # The suite's sections are named as missing only in a report that has suite runs.
    absent = _absent_html(
        content,
        [
            s
            for s, _ in SECTIONS
            if not bodies[s] and (content.suite.groups or not s.startswith("suite-"))
        ],
    )
    footer = (
        "<footer>Written by genwatt "
        f"{e(content.version)}. This page is self-contained: it loads nothing from the "
        "network. Figures are vector graphics; `genwatt report --png DIR` also writes them "
        "as PNG files. Everyday equivalents: smartphone charge 0.012 kWh (US EPA), petrol "
        "car about 248.5 g CO2 per km (US EPA, tailpipe), microwave 1,000 W.</footer>"
    )
    title = "genwatt report" + (
        f" · {content.filters['sweep']}" if content.filters.get("sweep") else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="genwatt {e(content.version)}">'
        f"<title>{e(title)}</title><style>{_CSS}</style><script>{_SCRIPT}</script></head>"
        f'<body><main data-gw-figures="{len(figures)}">{_header(content)}<nav>{nav}</nav>'
        f"{absent}{sections}{footer}</main></body></html>\n"
    )
