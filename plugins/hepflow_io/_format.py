"""Whole numpy columns to text at once: the number formatting of the LHE writer.

Python formats one float in about a microsecond (``repr``; numpy's ``astype(str)`` is no
faster), and an LHE event holds 30-odd of them, so formatting number by number caps a writer
at a few 10^4 events per second. Here every column is formatted with numpy integer arithmetic:

* floats get 17 significant digits (``d.dddddddddddddddde+XX``, trailing zeros dropped), which
  always read back as the same double. The digits are round(|x| * 10^k) for an exact power of
  ten 10^k (k = 0..22), computed exactly as a double-double with Dekker's error-free product;
  zeros are ``0.0``; values outside 1e-6 <= |x| < 1e16 and non-finite ones fall back to
  Python's ``repr`` (rare in event records, so their cost does not matter);
* integers get their decimal digits.

A field is an (n, width) uint8 matrix, NUL-padded; ``row`` puts fields and constant text side
by side and ``drop_nul`` turns the matrix into the bytes to write.
"""

from __future__ import annotations

import numpy as np

__all__ = ["drop_nul", "float_field", "int_field", "row"]

FLOAT_WIDTH = 24  # the longest repr of a float64: '-1.2345678901234567e-310'
_POW10 = np.array([float(10**i) for i in range(23)])  # exact doubles up to 1e22
_SPLIT = 134217729.0  # 2^27 + 1, Dekker's splitting constant for doubles
_LO, _HI = 10**16, 10**17  # a 17-digit integer mantissa lies in [_LO, _HI)


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """hi + lo == a * b exactly (Dekker 1971), without fused multiply-add."""
    hi = a * b

    def split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = _SPLIT * x
        big = c - (c - x)
        return big, x - big

    ah, al = split(a)
    bh, bl = split(b)
    lo = ((ah * bh - hi) + ah * bl + al * bh) + al * bl
    return hi, lo


def _mantissa(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """round(a * 10^k) as int64, exact for 0 <= k <= 22 and a * 10^k < 2^63."""
    hi, lo = _two_product(a, _POW10[k])
    # hi >= 2^53 is an integer, so rounding the sum is rounding the remainder
    return hi.astype(np.int64) + np.rint(lo).astype(np.int64)


# ASCII of 0000..9999, four bytes each: a lookup turns a 4-digit group into text in one gather
_GROUPS = np.array([f"{i:04d}".encode() for i in range(10_000)], dtype="S4").view(np.uint32)


def _groups(d: np.ndarray, n_groups: int) -> np.ndarray:
    """Non-negative int64s as 4-digit groups, most significant first: (n, n_groups)."""
    index = np.empty((len(d), n_groups), np.intp)
    for j in range(n_groups - 1, 0, -1):
        high = d // 10_000
        index[:, j] = d - high * 10_000
        d = high
    index[:, 0] = d
    return index


def _digits(d: np.ndarray, n: int) -> np.ndarray:
    """The n decimal digits of non-negative int64s below 10^n (leading zeros kept), as ASCII."""
    n_groups = -(-n // 4)
    text = _GROUPS[_groups(d, n_groups)].view(np.uint8).reshape(len(d), 4 * n_groups)
    return text[:, 4 * n_groups - n :]


# trailing zeros of a 4-digit group; masks keeping the first j of 16 bytes; exponent texts
_TRAILING = np.array([4] + [len(s) - len(s.rstrip("0")) for s in map(str, range(1, 10_000))])
_KEEP = np.frombuffer(b"".join(b"\xff" * j + b"\0" * (16 - j) for j in range(17)), np.uint64)
_KEEP = _KEEP.reshape(17, 2)
_EXPONENT = np.array([f"e{16 - k:+03d}".encode() for k in range(23)], dtype="S4").view(np.uint32)


def float_field(x: np.ndarray) -> np.ndarray:
    """Text of float64 values, 17 significant digits: an (n, 24) NUL-padded uint8 matrix."""
    x = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    a = np.abs(x)
    with np.errstate(invalid="ignore"):
        usual = (a >= 1e-6) & (a < 1e16)
    all_usual = bool(usual.all())
    if not all_usual:  # compute every row (1.0 stands in), then patch the unusual ones
        a = np.where(usual, a, 1.0)
    k = np.clip(16 - np.floor(np.log10(a)).astype(np.int64), 0, 22)
    d = _mantissa(a, k)
    for step in (1, -1):  # log10 can be one off at a power of ten: move k once either way
        wrong = np.flatnonzero(d < _LO) if step == 1 else np.flatnonzero(d >= _HI)
        if len(wrong):
            k[wrong] = np.clip(k[wrong] + step, 0, 22)
            d[wrong] = _mantissa(a[wrong], k[wrong])
    in_range = (d >= _LO) & (d < _HI)
    if not in_range.all():
        usual &= in_range
        all_usual = False
        d = np.where(in_range, d, _LO)
    m = len(x)
    groups = _groups(d, 5)  # the leading digit, then four groups of four after the point
    zeros = np.zeros(m, np.intp)
    alive = np.ones(m, bool)
    for j in range(4, 0, -1):
        zeros += np.where(alive, _TRAILING[groups[:, j]], 0)
        alive &= groups[:, j] == 0
    text = _GROUPS[groups]
    frac = np.ascontiguousarray(text[:, 1:]).view(np.uint64) & _KEEP[np.maximum(16 - zeros, 1)]
    rows = np.empty((m, FLOAT_WIDTH), np.uint8)
    rows[:, 0] = np.where(x < 0, ord("-"), 0)
    rows[:, 1] = text[:, :1].view(np.uint8)[:, 3]
    rows[:, 2] = ord(".")
    rows[:, 3:19] = frac.view(np.uint8)
    rows[:, 19:23] = _EXPONENT[k][:, None].view(np.uint8)
    rows[:, 23] = 0
    if all_usual:
        return rows
    zero = x == 0
    rows[zero & ~np.signbit(x)] = _ZERO
    rows[zero & np.signbit(x)] = _NEGATIVE_ZERO
    rest = np.flatnonzero(~usual & ~zero)
    if len(rest):  # tiny, huge, non-finite: Python's repr
        text = np.array([repr(v) for v in x[rest].tolist()], dtype=f"S{FLOAT_WIDTH}")
        rows[rest] = text.view(np.uint8).reshape(len(rest), FLOAT_WIDTH)
    return rows


_ZERO = np.frombuffer(b"0.0".ljust(FLOAT_WIDTH, b"\0"), np.uint8)
_NEGATIVE_ZERO = np.frombuffer(b"-0.0".ljust(FLOAT_WIDTH, b"\0"), np.uint8)


def int_field(x: np.ndarray) -> np.ndarray:
    """Text of integers: an (n, 1 + digits) NUL-padded uint8 matrix (sign, then digits)."""
    x = np.ascontiguousarray(x, dtype=np.int64).reshape(-1)
    a = np.abs(x)
    if len(x) and int(a.min()) < 0:  # only -2^63 has no positive counterpart
        raise ValueError("integer -2**63 cannot be written")
    width = len(str(int(a.max()))) if len(x) else 1
    digits = _digits(a, width)
    if width > 1:
        bounds = np.array([10**i for i in range(width - 1, 0, -1)], dtype=np.int64)
        digits[:, :-1][a[:, None] < bounds] = 0  # leading zeros
    sign = np.where(x < 0, ord("-"), 0).astype(np.uint8)
    return np.concatenate([sign[:, None], digits], axis=1)


def row(n: int, *parts: bytes | np.ndarray) -> np.ndarray:
    """n rows made of constant bytes and fields, side by side: an (n, width) uint8 matrix."""
    cols = [
        np.broadcast_to(np.frombuffer(p, np.uint8), (n, len(p))) if isinstance(p, bytes) else p
        for p in parts
    ]
    return np.concatenate(cols, axis=1)


def drop_nul(text: np.ndarray) -> bytes:
    """The bytes of a NUL-padded text matrix, row after row, without the NULs."""
    flat = text.reshape(-1)
    return flat[flat != 0].tobytes()
