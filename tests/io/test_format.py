"""The LHE writer's vectorised number formatting: every value reads back as the same number.

The reference is Python's own parser (``float``/``int`` on the text), which is correctly
rounded; a value that does not come back bit for bit is a failure.
"""

from __future__ import annotations

import math

import numpy as np
from hepflow_io._format import drop_nul, float_field, int_field, row


def texts(matrix: np.ndarray) -> list[bytes]:
    return [bytes(r).replace(b"\0", b"") for r in matrix]


def hard_floats() -> np.ndarray:
    rng = np.random.default_rng(7)
    powers = 10.0 ** np.arange(-8, 18)
    special = [0.0, -0.0, math.inf, -math.inf, 5e-324, 2.2250738585072014e-308, 1e-300, 1e300]
    special += [1.7976931348623157e308, 0.1, 45.6, 9.0, -1.0, 1 / 3, 2**53, 2**53 + 2.0]
    return np.concatenate(
        [
            rng.normal(size=20_000) * 10.0 ** rng.integers(-9, 19, 20_000),  # all exponents
            rng.uniform(-1, 1, 2_000),
            powers,
            np.nextafter(powers, 0),
            np.nextafter(powers, np.inf),
            np.array(special),
        ]
    )


def test_floats_read_back_bit_for_bit_with_17_digits_or_fewer():
    x = hard_floats()
    out = texts(float_field(x))
    back = np.array([float(t) for t in out])
    assert np.array_equal(back.view(np.int64), x.view(np.int64))  # signed zeros included
    digits = [len(t.split(b"e")[0].lstrip(b"-").replace(b".", b"")) for t in out]
    assert max(digits) <= 17
    assert texts(float_field(np.array([45.6, 9.0, -2.5, 0.0, -0.0, math.nan]))) == [
        b"4.5600000000000001e+01",
        b"9.0e+00",
        b"-2.5e+00",
        b"0.0",
        b"-0.0",
        b"nan",
    ]


def test_integers_are_their_decimal_text():
    values = np.array([0, 7, -7, 10, 99, 100, -1000, 21, 2212, 1000022, 2**62, -(2**62), 10**18])
    assert texts(int_field(values)) == [str(v).encode() for v in values.tolist()]
    assert texts(int_field(np.zeros(0, np.int64))) == []


def test_rows_join_fields_and_text_without_the_padding():
    x = np.array([1.5, -250.0])
    text = drop_nul(row(2, b" ", int_field(np.array([11, -13])), b" ", float_field(x), b"\n"))
    assert text == b" 11 1.5e+00\n -13 -2.5e+02\n"
