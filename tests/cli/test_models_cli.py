"""``genwatt models``: the table and the JSON, registered on a Typer app of our own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from genwatt.cli.models import models
from genwatt.models import list_models


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.command("models")(models)

    @app.callback()
    def _root() -> None:
        """With a callback Typer keeps `models` a subcommand, as the genwatt app does."""

    return app


def test_table_lists_every_model_with_its_tiny_form(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for spec in list_models():
        assert spec.name in result.output
    assert "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in result.output
    wan_row = next(line for line in result.output.splitlines() if "wan2.1-t2v-1.3b " in line)
    assert "1.42B" in wan_row and "wan-tiny" in wan_row and "81f 832x480 50 steps cfg 5" in wan_row


def test_json_is_machine_readable_and_complete(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == {s.name for s in list_models()}
    wan = by_name["wan2.1-t2v-14b"]
    assert wan["repo_id"] == "Wan-AI/Wan2.1-T2V-14B-Diffusers"
    assert wan["denoiser_params"] == 14_288_491_584
    assert wan["defaults"]["num_frames"] == 81
    assert wan["tiny_name"] == "wan-tiny"
    assert by_name["wan-tiny"]["default_weights"] == "tiny"
    assert by_name["animatediff-v1-5-2"]["denoiser_params"] == (
        by_name["animatediff-v1-5-2"]["components"]["unet"]["params"]
        + by_name["animatediff-v1-5-2"]["components"]["motion_adapter"]["params"]
    )
    assert by_name["llama-tiny"]["defaults"]["max_new_tokens"] == 16


def test_listing_models_does_not_import_torch() -> None:
    code = (
        "import sys, typer\n"
        "from typer.testing import CliRunner\n"
        "from genwatt.cli.models import models\n"
        "app = typer.Typer()\n"
        "app.command('models')(models)\n"
        "app.callback()(lambda: None)\n"
        "for args in (['models'], ['models', '--json']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0\n"
        "heavy = {'torch', 'diffusers', 'transformers'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
