"""VEGAS+ adaptive stratified sampling: hypercubes in y space and points per hypercube.

The y cube is cut into nstrat[d] strata per axis (``hepflow.strata.choose_nstrat``; prod =
nhcube hypercubes). A fraction 1 - neval_frac of the points is spread evenly (at least 2 per
hypercube, so each has a variance); the rest goes where the hypercube's estimate is most
uncertain, n_h ∝ sigma_h^beta (Lepage 2021, arXiv:2009.05112). beta < 1 damps the
redistribution; beta = 0 is plain stratified sampling. All of it is vectorised over
hypercubes; hypercubes are numbered with axis 0 fastest, as vegas.
"""

from __future__ import annotations

import math
import sys

import torch

__all__ = ["Strata", "choose_ninc"]

# As vegas: variances below this relative size are round-off, so they never vanish outright.
EPSILON = sys.float_info.epsilon * 1e4


def choose_ninc(neval: int, nstrat: list[int], ninc_max: int) -> tuple[list[int], list[int]]:
    """Increments per axis as vegas: about neval / 10 (at most ``ninc_max``), a multiple of the
    strata so that hypercube faces fall on increment edges. Returns (ninc, nstrat)."""
    ni = max(1, min(neval // 10, ninc_max))
    ninc, strat = [], []
    for ns in nstrat:
        if ni >= ns:
            ninc.append(ni // ns * ns)
        elif ns <= ninc_max:
            ninc.append(ns)
        else:
            ns = ns // ni * ni
            ninc.append(ni)
        strat.append(ns)
    return ninc, strat


class Strata:
    """The hypercubes of one configuration and the per-hypercube allocation sigma_h^beta.

    ``sigf`` (nhcube,) holds sigma_h^beta from the last adaptation (ones before any), only
    when the allocation adapts (beta > 0 and more than one hypercube).
    """

    def __init__(
        self,
        nstrat: list[int],
        neval: int,
        neval_frac: float,
        beta: float,
        max_neval_hcube: int,
        device: torch.device,
        sigf: torch.Tensor | None = None,
    ) -> None:
        self.nstrat = [int(n) for n in nstrat]
        self.neval = int(neval)
        self.nhcube = math.prod(self.nstrat)
        self.beta = float(beta)
        self.device = device
        self.adaptive = self.beta > 0 and self.nhcube > 1
        frac = neval_frac if self.adaptive else 0.0
        self.frac = frac
        if self.nhcube == 1:
            self.min_neval_hcube = self.neval
        else:
            self.min_neval_hcube = max(2, int((1.0 - frac) * self.neval / self.nhcube))
        self.max_neval_hcube = max(int(max_neval_hcube), self.min_neval_hcube)
        self.sigf = None
        if self.adaptive:
            ones = torch.ones(self.nhcube, dtype=torch.float64, device=device)
            self.sigf = ones if sigf is None else sigf.to(device=device, dtype=torch.float64)
            if self.sigf.shape != (self.nhcube,):
                raise ValueError(
                    f"vegas state has {self.sigf.shape[0]} hypercube variances, expected "
                    f"{self.nhcube} for nstrat={self.nstrat}"
                )

    @staticmethod
    def minimum_neval(nhcube: int, neval_frac: float) -> float:
        """Fewest points per iteration that keep 2 per hypercube in the even share."""
        return 2.0 * nhcube / (1.0 - neval_frac)

    def allocate(self) -> int | torch.Tensor:
        """Points per hypercube: an int when all are equal, else an (nhcube,) int64 tensor."""
        if not self.adaptive:
            return self.neval if self.nhcube == 1 else max(2, self.neval // self.nhcube)
        total = self.sigf.sum()
        scale = torch.where(total > 0, self.frac * self.neval / total, 0.0)
        n_h = (self.sigf * scale).to(torch.int64).add_(self.min_neval_hcube)
        return n_h.clamp_max_(self.max_neval_hcube)

    def corners(self, ninc: list[int], offset: torch.Tensor) -> torch.Tensor:
        """(nhcube, dim) lower corner of each hypercube in the map's table coordinates,
        y * ninc + offset (see ``AdaptiveMap.map_t``)."""
        h = torch.arange(self.nhcube, device=self.device)
        strides = [1]
        for ns in self.nstrat[:-1]:
            strides.append(strides[-1] * ns)
        stride = torch.tensor(strides, device=self.device)
        nstrat = torch.tensor(self.nstrat, device=self.device)
        coord = torch.div(h[:, None], stride, rounding_mode="floor").remainder_(nstrat)
        scale = torch.tensor(
            [n / s for n, s in zip(ninc, self.nstrat, strict=True)],
            device=self.device,
            dtype=torch.float64,
        )
        return coord.to(torch.float64).mul_(scale).add_(offset)

    def update(self, label: torch.Tensor, g: torch.Tensor) -> None:
        """Learn sigma_h^beta from one iteration: g = J f (up to a constant) at points labelled
        by hypercube; sigma_h^2 is the variance of hypercube h's estimate, as vegas."""
        if not self.adaptive:
            return
        size = self.nhcube
        count = torch.bincount(label, minlength=size).to(torch.float64)
        mean = torch.bincount(label, weights=g, minlength=size) / count.clamp_min(1.0)
        dev = g - mean.index_select(0, label)
        ss = torch.bincount(label, weights=dev.mul_(dev), minlength=size)
        ss = torch.maximum(ss, count * (EPSILON * mean) ** 2)
        var = torch.where(count > 1, ss / (count * (count - 1.0)).clamp_min(1.0), 0.0)
        sigf = var ** (self.beta / 2.0)
        if bool(sigf.sum() > 0):
            self.sigf = sigf
        else:  # a constant integrand: spread points evenly
            self.sigf = torch.ones_like(sigf)
