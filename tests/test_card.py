"""Run-card validation: every error names the file, the key, the bad value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepflow.card import load_card, parse_card
from hepflow.errors import CardError

GOOD = """
seed = 7
device = "cpu"

[integrand]
name = "camel"
dim = 4
width = 0.1

[sampler]
name = "vegas"
alpha = 0.7

[integration]
survey_iterations = 3
iterations = 5
evals = 20000

[generation]
events = 100
mode = "weighted"

[[output]]
writer = "csv"
path = "events.csv"

[plugins.myplugin]
threshold = 3
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "card.toml"
    path.write_text(text)
    return path


def test_good_card_parses_into_specs(tmp_path):
    card = load_card(write(tmp_path, GOOD))
    assert card.seed == 7 and card.device == "cpu"
    assert card.integrand.name == "camel"
    assert dict(card.integrand.options) == {"dim": 4, "width": 0.1}
    assert card.sampler.name == "vegas" and dict(card.sampler.options) == {"alpha": 0.7}
    assert (card.integration.survey_iterations, card.integration.iterations) == (3, 5)
    assert card.integration.evals == 20000 and card.integration.discard_survey is True
    assert card.generation.events == 100 and card.generation.mode == "weighted"
    assert [(o.writer, o.path) for o in card.outputs] == [("csv", "events.csv")]
    assert card.plugins == {"myplugin": {"threshold": 3}}
    # relative output folders are relative to the card, not to the working directory
    assert Path(card.output_dir) == tmp_path


def test_defaults_when_only_integrand_given():
    card = parse_card({"integrand": {"name": "gaussian"}})
    assert card.sampler.name == "vegas"
    assert card.integration.iterations == 10 and card.integration.evals == 10_000
    assert card.generation.events == 0 and card.outputs == ()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("evals = 20000", "evals = -5"), "[integration] evals = -5: must be a positive integer"),
        (("evals = 20000", 'evals = "many"'), "[integration] evals = 'many': must be a positive"),
        (
            ("iterations = 5", "iterations = 5\nitrations = 3"),
            "[integration] itrations = 3: unknown key; allowed: iterations",
        ),
        (
            ('mode = "weighted"', 'mode = "hits"'),
            "[generation] mode = 'hits': must be one of 'unweighted', 'weighted'",
        ),
        (
            ('device = "cpu"', 'device = "tpu"'),
            "device = 'tpu': must be 'cpu', 'cuda', 'cuda:N' or 'auto'",
        ),
        (("seed = 7", "seed = 7.5"), "seed = 7.5: must be a non-negative integer"),
        (("seed = 7", "seed = 7\nsede = 1"), "sede = 1: is not a run-card key; allowed:"),
        (('name = "camel"\n', ""), "[integrand] needs name"),
        (('writer = "csv"\n', ""), "[[output]] number 1 needs writer"),
    ],
)
def test_errors_name_file_key_value_and_allowed(tmp_path, edit, expected):
    old, new = edit
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(CardError) as info:
        load_card(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_events_without_outputs_is_an_error():
    with pytest.raises(
        CardError, match=r"\[generation\] events = 10: asks for events but no \[\[output\]\]"
    ):
        parse_card({"integrand": "camel", "generation": {"events": 10}}, source="c.toml")


def test_two_outputs_on_one_path_is_an_error():
    outputs = [{"writer": "a", "path": "x.lhe"}, {"writer": "b", "path": "x.lhe"}]
    with pytest.raises(CardError, match="used by two outputs"):
        parse_card({"integrand": "camel", "output": outputs})


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path, "[integrand\nname = 1")
    with pytest.raises(CardError, match=rf"{path}: not valid TOML"):
        load_card(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CardError, match="cannot read run card"):
        load_card(tmp_path / "nope.toml")


def test_booleans_are_not_integers():
    with pytest.raises(CardError, match="iterations = True: must be a positive integer"):
        parse_card({"integrand": "camel", "integration": {"iterations": True}})
