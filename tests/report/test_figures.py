"""What the drawn figures write on themselves (the data behind them is in test_figdata)."""

from __future__ import annotations

from genwatt.report.figdata import phase_data
from genwatt.report.series import group_series


def test_phase_bars_are_labelled_with_their_shares(records, synth) -> None:
    from genwatt.report.figures import draw_phases

    wan = next(s for s in group_series(records) if s.model == synth.WAN)
    data = phase_data(wan, synth.FakePredictor())
    assert data is not None
    first = data.bars[0]  # text encoder 1/8, denoising 5/8, VAE 1/8, other 1/8
    assert first.shares == {
        "text_encode": 0.125,
        "denoise": 0.625,
        "vae_decode": 0.125,
        "other": 0.125,
    }
    assert first.share_label("denoise") == "62 %"
    ax = draw_phases(data).axes[0]
    for y, bar in enumerate(data.bars):
        # On its segment when it fits, else after the bar's total, with the phase's name.
        written = " | ".join(t.get_text() for t in ax.texts if t.get_position()[1] == y)
        for phase in bar.phases_j:
            assert bar.share_label(phase) in written, (bar.label, phase, written)
    assert "text encoder 12 %" in " ".join(t.get_text() for t in ax.texts)
