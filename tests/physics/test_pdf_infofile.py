"""The .info parser on the YAML subset LHAPDF writes (checked against PyYAML where present)."""

from __future__ import annotations

import importlib.util

import pytest

from hepflow.physics.pdf import PDFFormatError
from hepflow.physics.pdf.infofile import parse_info

TEXT = """SetDesc: "CT-like set: NNLO, with a colon"   # comment
SetIndex: 14000
Authors: T.-J. Hou, K. Xie
  and others
Reference: 'arXiv:1912.10053'
Flavors: [-5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 21]
AlphaS_Qs: [1.3, 1.3, 2.0,
  4.75, 100.0]
ForcePositive: 0
Extrapolator: continuation
XMin: 1.0e-09
Pol: false
"""


def test_values():
    info = parse_info(TEXT, "t.info")
    assert info["SetDesc"] == "CT-like set: NNLO, with a colon"
    assert info["SetIndex"] == 14000 and info["XMin"] == 1e-9 and info["Pol"] is False
    assert info["Authors"] == "T.-J. Hou, K. Xie and others"
    assert info["Flavors"] == [-5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 21]
    assert info["AlphaS_Qs"] == [1.3, 1.3, 2.0, 4.75, 100.0]
    assert info["Extrapolator"] == "continuation"
    # LHAPDF (yaml-cpp) reads 1e-09 as a number; PyYAML's YAML 1.1 would keep it a string
    assert parse_info("XMin: 1e-09", "t.info")["XMin"] == 1e-9


@pytest.mark.skipif(importlib.util.find_spec("yaml") is None, reason="PyYAML not installed")
def test_agrees_with_pyyaml():
    import yaml

    assert parse_info(TEXT, "t.info") == yaml.safe_load(TEXT)


def test_errors_name_file_and_line():
    with pytest.raises(PDFFormatError, match=r"t\.info:2: expected 'Key: value'"):
        parse_info("A: 1\n- item\n", "t.info")
    with pytest.raises(PDFFormatError, match=r"t\.info:1: list for 'A' is not closed"):
        parse_info("A: [1, 2\nB: 3\n", "t.info")
