"""Exceptions of the PDF layer: a set that cannot be found, read or evaluated."""

from __future__ import annotations

from hepflow.errors import HepflowError

__all__ = ["PDFError", "PDFFormatError", "PDFNotFoundError", "PDFRangeError"]


class PDFError(HepflowError):
    """A PDF set that cannot be used as asked (bad argument, unsupported feature)."""


class PDFNotFoundError(PDFError, FileNotFoundError):
    """The named set is in none of the places searched; the message lists them."""


class PDFFormatError(PDFError):
    """A malformed set file; the message names the file and the line."""


class PDFRangeError(PDFError, ValueError):
    """An x or Q^2 that no rule can evaluate (x > 1, Q^2 <= 0, NaN, or the set's
    extrapolator is ``error``)."""
