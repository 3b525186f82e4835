"""Parton distribution functions: x·f(x, Q^2) and alpha_s(Q^2), batched in torch, float64.

``load_pdf("nn23lo1")`` gives MadGraph's built-in NNPDF2.3 LO set (shipped, evaluated as
MadGraph does); any other name is an LHAPDF6 set read from disk and evaluated as LHAPDF does.
"""

from __future__ import annotations

from .errors import PDFError, PDFFormatError, PDFNotFoundError, PDFRangeError
from .pdf import ALL_PIDS, EMBEDDED, PDF, load_pdf

__all__ = [
    "ALL_PIDS",
    "EMBEDDED",
    "PDF",
    "PDFError",
    "PDFFormatError",
    "PDFNotFoundError",
    "PDFRangeError",
    "load_pdf",
]
