"""The SLHA param_card reader: the shipped MadGraph card and malformed input."""

from __future__ import annotations

import re

import pytest

from hepflow.physics.slha import SLHAError, parse_slha, read_slha
from hepflow.physics.sm_parameters import SM_PARAM_CARD, SMParameters


def test_shipped_card():
    card = parse_slha(SM_PARAM_CARD)
    assert card.value("SMINPUTS", 1) == 132.507
    assert card.value("sminputs", 2) == 1.16639e-05
    assert card.value("MASS", 23) == 91.188
    assert card.value("YUKAWA", 6) == 173.0
    assert card.width(23) == 2.441404
    assert card.width(25) == 6.382339e-03
    assert set(card.blocks) == {"MASS", "SMINPUTS", "YUKAWA"}


def test_general_slha_features():
    text = """\
BLOCK MASS  # masses
    6   1.73D+02   # Fortran exponent
Block yu Q= 9.1188e+01
    3 3  9.9e-01   # matrix entry
DECAY   6   1.5
    1.0  2   5   24   # t -> b W
decay 23 2.4952
"""
    card = parse_slha(text)
    assert card.value("MASS", 6) == 173.0
    assert card.value("YU", (3, 3)) == 0.99
    assert card.block_scale["YU"] == 91.188
    assert card.decays[6] == [(1.0, (5, 24))]
    assert card.width(23) == 2.4952


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("BLOCK MASS\n    6 abc\n", 2, "value in BLOCK MASS 'abc' is not a number"),
        ("BLOCK MASS\n  6.5 173.0\n", 2, "index in BLOCK MASS '6.5' is not an integer"),
        ("BLOK MASS\n  6 173.0\n", 1, "expected BLOCK, DECAY or a numeric entry"),
        ("# header\n  6 173.0\n", 2, "entry outside any BLOCK or DECAY"),
        ("BLOCK\n", 1, "BLOCK without a name"),
        ("DECAY 23\n", 1, "DECAY needs a PDG id and a width"),
        ("DECAY 6 1.5\n  1.0 3 5 24\n", 2, "NDA = 3 but 2 daughters"),
        ("BLOCK MASS\n  6 1\nBLOCK MASS\n", 3, "appears twice"),
        ("BLOCK MASS\n  6\n", 2, "needs index and value"),
    ],
)
def test_malformed_input_names_source_and_line(text, line, message):
    with pytest.raises(SLHAError, match=rf"my_card\.dat, line {line}: .*{re.escape(message)}"):
        parse_slha(text, source="my_card.dat")


def test_missing_entries_are_named():
    card = parse_slha(SM_PARAM_CARD, source="card.dat")
    with pytest.raises(SLHAError, match=r"card\.dat: no BLOCK CKMBLOCK"):
        card.value("CKMBLOCK", 1)
    with pytest.raises(SLHAError, match="BLOCK MASS has no entry 24"):
        card.value("MASS", 24)
    with pytest.raises(SLHAError, match="no DECAY line for PDG id 15"):
        card.width(15)


def test_read_from_file_and_errors_name_the_path(tmp_path):
    path = tmp_path / "param_card.dat"
    path.write_text(SM_PARAM_CARD)
    assert SMParameters.from_card(path) == SMParameters()
    bad = tmp_path / "bad_card.dat"
    bad.write_text(SM_PARAM_CARD.replace("9.118800e+01", "9.11.88"))
    with pytest.raises(SLHAError, match=r"bad_card.dat, line \d+: value in BLOCK MASS '9.11.88'"):
        read_slha(bad)
    with pytest.raises(SLHAError, match="cannot read parameter card"):
        read_slha(tmp_path / "missing.dat")
    incomplete = tmp_path / "incomplete.dat"
    incomplete.write_text("BLOCK MASS\n  23 91.188\n")
    with pytest.raises(SLHAError, match=r"no BLOCK SMINPUTS.*needed by the sm model"):
        SMParameters.from_card(incomplete)
