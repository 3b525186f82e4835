"""The ``vegas`` sampler: VEGAS importance sampling with VEGAS+ adaptive stratification.

A point is drawn in a hypercube of y space (more points where that hypercube's estimate is
uncertain), mapped to x by the adaptive map, and given its density q(x) = (n_h / N) * nhcube /
J(y), so that f/q averages to the integral and the core's stratified accumulator gets vegas's
variance sum_h sigma_h^2. ``adapt`` trains the map on (J f)^2 and the allocation on the
hypercube variances, exactly as one iteration of ``vegas.Integrator``.
"""

from __future__ import annotations

import math
import numbers
import operator
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from hepflow.errors import HepflowError
from hepflow.events import PointBatch, WeightedBatch
from hepflow.strata import choose_nstrat

from .map import AdaptiveMap
from .stratify import Strata, choose_ninc

__all__ = ["VegasSampler"]

STATE_FORMAT = "hepflow-vegas/1"
# Extras columns this sampler hands to itself through the evaluated batch.
IDX, JAC, LAYOUT = "vegas_inc", "vegas_jac", "vegas_layout"


class VegasSampler:
    """VEGAS/VEGAS+ (Lepage 1978, 2021) on any torch device; options as ``vegas.Integrator``.

    Args:
        dim: dimension of the unit hypercube.
        device: where points, the grid and all work tensors live.
        ninc: most increments per axis of the adaptive map (vegas's ``maxinc_axis``). As vegas,
            an iteration of n points uses about min(ninc, n / 10), a multiple of the strata, so
            that each increment sees enough points to train on; the count grows with n, never
            shrinks (shrinking would throw away a trained grid).
        alpha: damping of the map's adaptation; 0 freezes the map, about 1 adapts fast, 0.5
            (vegas's default) is safe for peaky integrands.
        beta: damping of the stratified allocation, n_h ∝ sigma_h^beta; 1 is the theoretical
            optimum, 0 plain stratified sampling (no redistribution); vegas's default 0.75.
        neval_frac: fraction of points redistributed by beta (the rest is spread evenly, at
            least 2 per hypercube); more means fewer hypercubes. Ignored when beta = 0.
        nstrat: strata per axis (a list of dim ints) instead of choosing them from n.
        max_nhcube: cap on the number of hypercubes. Fewer, fuller hypercubes give steadier
            variance estimates; the per-hypercube tables are at most n / 8 entries anyway, so
            the default (vegas's old 1e9) leaves the choice to n, as vegas 6 does.
        max_neval_hcube: most points in one hypercube (vegas's default 50000), which limits
            overshoot onto a sharp peak.
        uniform_nstrat: the same number of strata on every axis (else some get one more).
        adapt: False freezes the sampler: ``adapt()`` does nothing, the map never changes and
            the hypercubes are kept whenever the requested n can fill them.
    """

    def __init__(
        self,
        dim: int,
        device: str | torch.device = "cpu",
        ninc: int = 1000,
        alpha: float = 0.5,
        beta: float = 0.75,
        neval_frac: float = 0.75,
        nstrat: Sequence[int] | None = None,
        max_nhcube: int = 1_000_000_000,
        max_neval_hcube: int = 50_000,
        uniform_nstrat: bool = False,
        adapt: bool = True,
    ) -> None:
        self.dim = _positive_int("dim", dim)
        self.device = torch.device(device)
        self._set_options(
            ninc=ninc,
            alpha=alpha,
            beta=beta,
            neval_frac=neval_frac,
            nstrat=nstrat,
            max_nhcube=max_nhcube,
            max_neval_hcube=max_neval_hcube,
            uniform_nstrat=uniform_nstrat,
            adapt=adapt,
        )
        self.map = AdaptiveMap(self.dim, 1, self.device)  # the identity until the first sample
        self.strata: Strata | None = None
        self._layout = 0  # bumped whenever increments or hypercubes change
        self._corners: torch.Tensor | None = None

    # -- options ------------------------------------------------------------------------------
    def _set_options(self, **opts: Any) -> None:
        self.ninc = _positive_int("ninc", opts["ninc"])
        self.alpha = _number("alpha", opts["alpha"], low=0.0)
        self.beta = _number("beta", opts["beta"], low=0.0)
        self.neval_frac = _number("neval_frac", opts["neval_frac"], low=0.0)
        if self.neval_frac >= 1.0:
            raise ValueError(f"neval_frac must be in [0, 1), got {self.neval_frac}")
        nstrat = opts["nstrat"]
        if nstrat is not None:
            nstrat = [_positive_int("nstrat[d]", n) for n in nstrat]
            if len(nstrat) != self.dim:
                raise ValueError(f"nstrat has {len(nstrat)} entries, expected dim = {self.dim}")
        self.nstrat = nstrat
        self.max_nhcube = _positive_int("max_nhcube", opts["max_nhcube"])
        self.max_neval_hcube = _positive_int("max_neval_hcube", opts["max_neval_hcube"])
        if self.max_neval_hcube < 2:
            raise ValueError(f"max_neval_hcube must be at least 2, got {self.max_neval_hcube}")
        self.uniform_nstrat = _flag("uniform_nstrat", opts["uniform_nstrat"])
        self.adapting = _flag("adapt", opts["adapt"])

    def options(self) -> dict[str, Any]:
        """The constructor's options (but device), as plain values."""
        return {
            "dim": self.dim,
            "ninc": self.ninc,
            "alpha": self.alpha,
            "beta": self.beta,
            "neval_frac": self.neval_frac,
            "nstrat": None if self.nstrat is None else list(self.nstrat),
            "max_nhcube": self.max_nhcube,
            "max_neval_hcube": self.max_neval_hcube,
            "uniform_nstrat": self.uniform_nstrat,
            "adapt": self.adapting,
        }

    # -- configuration for n points -----------------------------------------------------------
    def _configure(self, n: int) -> Strata:
        """Hypercubes and increments for iterations of n points, as ``vegas.Integrator.set``."""
        if self.strata is not None and self.strata.neval == n:
            return self.strata
        frac = self.neval_frac if self.beta > 0 else 0.0
        keep = None
        if self.nstrat is not None:
            nstrat = list(self.nstrat)
            need = Strata.minimum_neval(math.prod(nstrat), frac)
            if n < need:
                raise HepflowError(
                    f"vegas sampler: nstrat={nstrat} needs at least {need:.0f} points per "
                    f"iteration (2 per hypercube), got {n}; raise evals or lower nstrat"
                )
        elif (
            not self.adapting
            and self.strata is not None
            and n >= Strata.minimum_neval(self.strata.nhcube, frac)
        ):
            nstrat = list(self.strata.nstrat)  # frozen: keep the learned allocation
            keep = self.strata.sigf
        else:
            nstrat = choose_nstrat(n, self.dim, frac, self.max_nhcube, self.uniform_nstrat)
        if self.adapting:
            ninc, nstrat = choose_ninc(n, nstrat, self.ninc)
            grown = [max(a, b) for a, b in zip(ninc, self.map.ninc, strict=True)]
            if grown != self.map.ninc:
                self.map.adapt(None, None, alpha=0.0, ninc=grown)
                self._layout += 1
                self._corners = None
        if self.strata is not None and self.strata.nstrat == nstrat:
            keep = self.strata.sigf
        else:
            self._layout += 1
            self._corners = None
        self.strata = Strata(
            nstrat, n, frac, self.beta, self.max_neval_hcube, self.device, sigf=keep
        )
        return self.strata

    # -- the Sampler protocol -----------------------------------------------------------------
    def sample(self, n: int, generator: torch.Generator) -> PointBatch:
        """About n points (hypercubes round their shares; the batch length is exact)."""
        n = _positive_int("n", n)
        if n < 2:
            raise HepflowError(f"vegas sampler needs at least 2 points per iteration, got {n}")
        strata = self._configure(n)
        n_h = strata.allocate()
        dev, f64 = self.device, torch.float64
        total = n_h * strata.nhcube if isinstance(n_h, int) else int(n_h.sum())
        # table coordinates y * ninc + offset: the hypercube's corner plus a draw across it
        width = torch.tensor(
            [a / b for a, b in zip(self.map.ninc, strata.nstrat, strict=True)],
            dtype=f64,
            device=dev,
        )
        label = None
        if strata.nhcube > 1:
            if self._corners is None:
                self._corners = strata.corners(self.map.ninc, self.map.offset)
            hcube = torch.arange(strata.nhcube, device=dev)
            label = hcube.repeat_interleave(n_h, output_size=total)
        x = torch.empty(total, self.dim, dtype=f64, device=dev)
        jac = torch.empty(total, dtype=f64, device=dev)
        idx = torch.empty(total, self.dim, dtype=self.map.index_dtype, device=dev)
        draw = _uniform_stream(self.dim, generator, dev)
        for lo, hi in _chunks(total, self.dim, dev):
            u = draw(hi - lo)
            if label is None:
                t = u.mul_(width).add_(self.map.offset)
            else:
                t = self._corners.index_select(0, label[lo:hi]).addcmul_(u, width)
            self.map.map_into(t, x[lo:hi], jac[lo:hi], idx[lo:hi])
        # density: y-density (n_h / N) / (1 / nhcube), divided by the map's Jacobian
        if isinstance(n_h, int):
            q = torch.full_like(jac, n_h * strata.nhcube / total).div_(jac)
        else:
            share = n_h.to(f64).mul_(strata.nhcube / total)
            q = share.index_select(0, label).div_(jac)
        extras = {IDX: idx, JAC: jac, LAYOUT: torch.tensor(self._layout, device=dev)}
        return PointBatch(x=x, q=q, stratum=label, extras=extras)

    def sample_for_events(self, n: int, generator: torch.Generator) -> PointBatch:
        """Points for event generation: drawn from the adapted map alone, q = 1 / J(y).

        The VEGAS+ allocation (n_h proportional to sigma_h^beta) minimises the variance of
        the integral, not the spread of the weights f/q that unweighting pays for: it puts
        extra points, hence small weights, where the variance is, and so lowers the
        unweighting efficiency. The map alone approximates |f| and keeps the weights flat.
        """
        n = _positive_int("n", n)
        dev, f64 = self.device, torch.float64
        ninc = torch.tensor(self.map.ninc, dtype=f64, device=dev)
        x = torch.empty(n, self.dim, dtype=f64, device=dev)
        jac = torch.empty(n, dtype=f64, device=dev)
        idx = torch.empty(n, self.dim, dtype=self.map.index_dtype, device=dev)
        draw = _uniform_stream(self.dim, generator, dev)
        for lo, hi in _chunks(n, self.dim, dev):
            t = draw(hi - lo).mul_(ninc).add_(self.map.offset)
            self.map.map_into(t, x[lo:hi], jac[lo:hi], idx[lo:hi])
        return PointBatch(x=x, q=jac.reciprocal())

    def adapt(self, batch: WeightedBatch) -> None:
        """One vegas adaptation from an evaluated batch this sampler drew: the map learns
        (J f)^2 per increment (if alpha > 0), the allocation sigma_h^beta (if beta > 0)."""
        if not self.adapting or self.strata is None:
            return
        extras = batch.extras
        if IDX not in extras or int(extras[LAYOUT]) != self._layout:
            raise HepflowError(
                "vegas sampler: adapt() got a batch that this sampler did not draw with its "
                "current grid; adapt on the batch of the latest sample()"
            )
        strata = self.strata
        # g = J f, the integrand in y space. vegas trains on (J f / nhcube)^2 and takes
        # sigma_h from J f / nhcube; the constant factor changes neither the normalised map
        # density nor the allocation n_h ∝ sigma_h^beta / sum sigma^beta, so it is left out.
        g = batch.f.to(torch.float64) * extras[JAC]
        if self.alpha > 0:
            g2, idx = g * g, extras[IDX]
            sum_f, n_f = 0.0, 0.0
            for lo, hi in _chunks(len(g2), self.dim, g2.device):
                s, c = self.map.accumulate(idx[lo:hi], g2[lo:hi])
                sum_f, n_f = sum_f + s, n_f + c
            self.map.adapt(sum_f, n_f, self.alpha)
        if strata.adaptive and batch.stratum is not None:
            strata.update(batch.stratum, g)

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Grid, hypercubes, their variances and all options: enough to sample bit-identically."""
        strata = self.strata
        return {
            "format": STATE_FORMAT,
            "options": self.options(),
            "map": self.map.state(),
            "neval": None if strata is None else strata.neval,
            "strata": None if strata is None else list(strata.nstrat),
            "sigf": None if strata is None or strata.sigf is None else strata.sigf.cpu().clone(),
            "layout": self._layout,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise HepflowError(
                f"not a vegas sampler state (format {state.get('format')!r}, "
                f"expected {STATE_FORMAT!r})"
            )
        options = dict(state["options"])
        if options.pop("dim") != self.dim:
            raise HepflowError(
                f"vegas state is for dim {state['options']['dim']}, this sampler has {self.dim}"
            )
        self._set_options(**options)
        self.map.load(state["map"])
        self.strata = None
        if state["strata"] is not None:
            frac = self.neval_frac if self.beta > 0 else 0.0
            self.strata = Strata(
                state["strata"],
                state["neval"],
                frac,
                self.beta,
                self.max_neval_hcube,
                self.device,
                sigf=state["sigf"],
            )
        self._layout = int(state["layout"])
        self._corners = None

    def save(self, path: str | os.PathLike) -> None:
        """torch.save the state, written to a temporary file and renamed when complete."""
        path = os.fspath(path)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=".tmp")
        os.close(fd)
        try:
            torch.save(self.state_dict(), tmp)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> VegasSampler:
        """A sampler restored from ``save``, on ``device``."""
        state = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
        sampler = cls(dim=state["options"]["dim"], device=device)
        sampler.load_state_dict(state)
        return sampler

    def __repr__(self) -> str:
        strata = self.strata
        shape = "unconfigured" if strata is None else f"nstrat={strata.nstrat}"
        return (
            f"VegasSampler(dim={self.dim}, ninc={self.map.ninc}, {shape}, alpha={self.alpha}, "
            f"beta={self.beta}, adapt={self.adapting}, device={self.device})"
        )


# Points per chunk of the per-point work on the CPU: temporaries of a few MiB stay in the
# cache and in malloc's free lists; whole-batch temporaries above 32 MiB are fresh mmaps that
# page-fault on every iteration (4x slower at 1e6 points in 8 dimensions).
CHUNK_VALUES = 1 << 18


def _chunks(n: int, dim: int, device: torch.device) -> list[tuple[int, int]]:
    """Row ranges covering n points: a few MiB each on the CPU, one range elsewhere."""
    step = n if device.type != "cpu" else max(1, CHUNK_VALUES // dim)
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)] or [(0, 0)]


def _uniform_stream(dim: int, generator: torch.Generator, device: torch.device):
    """A function m -> (m, dim) float64 uniforms in [0, 1), all determined by ``generator``.

    On the CPU torch's Mersenne twister makes a double in about 7 ns, numpy's SFC64 in about
    2.5: at 1e5-1e6 points that is a tenth of the sampler's time, so there an SFC64 stream
    (a small chaotic generator that passes PractRand and BigCrush) is seeded by one draw from
    ``generator``. Elsewhere (CUDA's Philox is fast) torch draws them directly.
    """
    if device.type != "cpu":
        return lambda m: torch.empty(m, dim, dtype=torch.float64, device=device).uniform_(
            generator=generator
        )
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=device))
    rng = np.random.Generator(np.random.SFC64(seed))

    def draw(m: int) -> torch.Tensor:
        out = torch.empty(m, dim, dtype=torch.float64)
        rng.random(out=out.numpy())
        return out

    return draw


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 1e9 from a card or command line
    try:
        out = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a positive integer, got {value!r}") from None
    if out < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return out


def _number(name: str, value: Any, *, low: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number >= {low}, got {value!r}")
    if not value >= low:
        raise ValueError(f"{name} must be a number >= {low}, got {value!r}")
    return float(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value
