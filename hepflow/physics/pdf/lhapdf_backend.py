"""``backend="lhapdf"``: the same ``PDF`` API evaluated by the ``lhapdf`` Python module.

For cross-checks where LHAPDF is installed (it has no PyPI wheel; build it from
https://lhapdf.hepforge.org). CPU only, one point at a time: slow, but it is the reference.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from .errors import PDFError
from .pdf import PDF

__all__ = ["load_with_lhapdf"]


class _LhapdfEval:
    def __init__(self, pdf, pids: tuple[int, ...]) -> None:
        self.pdf, self.pids = pdf, pids

    def __call__(self, x: Tensor, q2: Tensor, cols: Tensor | None) -> Tensor:
        pids = self.pids if cols is None else tuple(self.pids[int(c)] for c in cols)
        xs, qs = x.cpu().tolist(), q2.cpu().tolist()
        vals = [[self.pdf.xfxQ2(p, a, b) for p in pids] for a, b in zip(xs, qs, strict=True)]
        return torch.tensor(vals, dtype=torch.float64, device=x.device).reshape(len(xs), len(pids))


def load_with_lhapdf(name: str, member: int = 0, *, path=None) -> PDF:
    """A ``PDF`` whose values come from ``lhapdf.mkPDF(name, member)``."""
    try:
        import lhapdf
    except ImportError:
        raise PDFError(
            "backend='lhapdf' needs the lhapdf Python module, which is not installed (no PyPI "
            "wheel exists: build LHAPDF 6 with its Python bindings), or use backend='hepflow'"
        ) from None
    if path is not None:
        items = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        for p in items:
            lhapdf.pathsPrepend(str(p))
    if name == "nn23lo1":
        name = "NNPDF23_lo_as_0130_qed"
    pdf = lhapdf.mkPDF(name, member)
    pids = tuple(int(p) for p in pdf.flavors())
    info = pdf.info()
    return PDF(
        name=name,
        lhapdf_id=int(pdf.lhapdfID),
        member=member,
        order_qcd=int(pdf.orderQCD),
        pids=pids,
        evaluate=_LhapdfEval(pdf, pids),
        alphas=lambda q2: torch.tensor(
            [pdf.alphasQ2(float(v)) for v in q2.tolist()], dtype=torch.float64
        ),
        x_range=(float(info.get_entry("XMin")), float(info.get_entry("XMax"))),
        q_range=(float(info.get_entry("QMin")), float(info.get_entry("QMax"))),
    )
