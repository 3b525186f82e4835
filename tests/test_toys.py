"""The ``toys`` plugin: definitions against the literature, references against independent
integrations (scipy's QUADPACK in low dimension, plain Monte Carlo with a fixed seed above),
creation through the real plugin registry, and one integration through the driver.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from scipy import integrate

import hepflow
from hepflow.protocols import Integrand

NAMES = [
    "annulus",
    "camel",
    "gaussian",
    "polynomial",
    "product",
    "ridge",
    "two_resonances",
    "sinusoidal",
    "slashed_circle",
    "two_circles",
]
TWO_D_ONLY = {"slashed_circle", "two_circles"}


def make(name: str, **options):
    return hepflow.create("integrand", name, **options)


def uniform(n: int, dim: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, dim, generator=gen, dtype=torch.float64)


def monte_carlo(f, n: int = 1_000_000, seed: int = 12345) -> tuple[float, float]:
    """Plain MC estimate of the integral of f over [0,1]^dim and its standard error."""
    s = s2 = 0.0
    done = 0
    for i, size in enumerate([min(250_000, n - k) for k in range(0, n, 250_000)]):
        y = f(uniform(size, f.dim, seed + i))
        s += float(y.sum())
        s2 += float((y * y).sum())
        done += size
    mean = s / done
    return mean, math.sqrt(max(s2 / done - mean * mean, 0.0) / done)


def cubature(f) -> tuple[float, float]:
    """scipy's adaptive cubature (Gauss-Kronrod 21 per axis) of a toy over [0,1]^dim."""

    def batch(x):
        return f(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    res = integrate.cubature(batch, [0.0] * f.dim, [1.0] * f.dim, rtol=1e-11, atol=1e-13)
    assert res.status == "converged"
    return float(res.estimate), float(res.error)


# -- the definitions, typed independently from the sources ----------------------------------
def lit_gaussian(x, alpha=0.2):  # i-flow eq. (15)
    d = x.shape[1]
    return np.exp(-(((x - 0.5) ** 2).sum(1)) / alpha**2) / (alpha * np.sqrt(np.pi)) ** d


def lit_camel(x, alpha=0.2):  # i-flow eq. (17)
    pre = 1.0 / (alpha * np.sqrt(np.pi)) ** x.shape[1]
    e1 = np.exp(-(((x - 1 / 3) ** 2).sum(1)) / alpha**2)
    e2 = np.exp(-(((x - 2 / 3) ** 2).sum(1)) / alpha**2)
    return 0.5 * pre * (e1 + e2)


def lit_circles(x):  # i-flow eq. (19), constants of their code
    dx1, dy1, rr, w1, ee = 0.4, 0.6, 0.25, 1.0 / 0.004, 3.0
    return x[:, 1] ** ee * np.exp(
        -w1 * np.abs((x[:, 1] - dy1) ** 2 + (x[:, 0] - dx1) ** 2 - rr**2)
    ) + (1.0 - x[:, 1]) ** ee * np.exp(
        -w1 * np.abs((x[:, 1] - 1.0 + dy1) ** 2 + (x[:, 0] - 1.0 + dx1) ** 2 - rr**2)
    )


def lit_polynomial(x):  # i-flow eq. (22)
    return (-(x**2) + x).sum(1)


def lit_ring(x, r1=0.45, r2=0.2):  # i-flow example code, class Ring
    radius = ((x - 0.5) ** 2).sum(1)
    return np.where((radius < r2**2) | (radius > r1**2), 0.0, 1.0)


def lit_product(x):  # MadNIS documentation, first steps
    return (2 * x).prod(1)


def lit_ridge(x, n=1000):  # vegas examples/ridge.py, one point at a time
    x0 = np.linspace(0.4, 0.6, n)
    out = []
    for p in x:
        dx2 = sum((xd - x0) ** 2 for xd in p)
        out.append(np.average(np.exp(-100.0 * dx2)) * (100.0 / np.pi) ** (len(p) / 2.0))
    return np.array(out)


def lit_slashed(x, r=0.3, sig=0.05):  # ZüNIS CircleLineIntegrand
    ring = np.exp(-((np.sqrt(((x - 0.5) ** 2).sum(1)) - r) ** 2) / sig**2)
    line = np.exp(-(((x[:, :1] - x) ** 2) / sig**2).sum(1))
    return np.clip(ring + line, 0.0, 0.9)


def lit_sine(x, f=20.0, offset=0.1):  # ZüNIS SineIntegrand
    return offset + np.cos(f * x.sum(1)) ** 2


@pytest.mark.parametrize(
    ("name", "options", "formula"),
    [
        ("gaussian", {"dim": 3}, lit_gaussian),
        ("camel", {"dim": 3}, lit_camel),
        ("two_circles", {}, lit_circles),
        ("polynomial", {"dim": 5}, lit_polynomial),
        ("annulus", {}, lit_ring),
        ("annulus", {"dim": 3}, lit_ring),
        ("product", {"dim": 4}, lit_product),
        ("ridge", {}, lit_ridge),
        ("slashed_circle", {}, lit_slashed),
        ("sinusoidal", {"dim": 3}, lit_sine),
    ],
)
def test_definitions_match_the_literature(name, options, formula):
    f = make(name, **options)
    x = uniform(300, f.dim, seed=7)
    # points on the features too: the diagonal, the centre, the unit cube's corners
    x = torch.cat([x, torch.linspace(0, 1, 21, dtype=torch.float64)[:, None].expand(-1, f.dim)])
    got = f(x).numpy()
    want = formula(x.numpy())
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14 * np.abs(want).max())


# -- references against scipy's cubature and QUADPACK in one to three dimensions --------------
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("gaussian", {"dim": 1}),
        ("gaussian", {"dim": 2, "alpha": [0.1, 0.3], "mu": [0.3, 0.9]}),
        ("camel", {"dim": 1}),
        ("camel", {"dim": 2, "alpha": 0.1}),
        ("camel", {"dim": 1, "alpha": 0.01, "mu1": 0.2, "mu2": 0.95}),
        ("polynomial", {"dim": 2}),
        ("product", {"dim": 2}),
        ("sinusoidal", {"dim": 1}),
        ("sinusoidal", {"dim": 2}),
        ("sinusoidal", {"dim": 2, "freq": 3.5, "offset": 0.0}),
        ("camel", {"dim": 3}),
        ("ridge", {"dim": 1}),
        ("ridge", {"dim": 2}),
        ("ridge", {"dim": 2, "n_peaks": 7}),
    ],
)
def test_closed_forms_against_cubature(name, options):
    f = make(name, **options)
    value, error = cubature(f)
    assert abs(f.reference - value) <= max(10 * error, 1e-12), (f.reference, value, error)


def test_annulus_against_quadpack():
    """The shell's area, integrated with the inner limits at the circles (where f jumps)."""
    f = make("annulus", r_inner=0.15, r_outer=0.4)

    def x2_range(x1, r):
        h = math.sqrt(max(r * r - (x1 - 0.5) ** 2, 0.0))
        return 0.5 - h, 0.5 + h

    def chord(x1):  # length of {x2 : r_inner <= |x - c| <= r_outer} at fixed x1
        lo, hi = x2_range(x1, 0.4)
        ilo, ihi = x2_range(x1, 0.15)
        return (hi - lo) - (ihi - ilo)

    value, _ = integrate.quad(chord, 0.1, 0.9, points=[0.35, 0.65], epsabs=1e-13)
    assert abs(f.reference - value) <= 1e-10
    mean, sdev = monte_carlo(f)
    assert abs(mean - f.reference) < 5 * sdev


def test_two_circles_reference():
    """i-flow quotes 0.0136848(1); QUADPACK, told where the kinks are, agrees to 1e-15."""
    f = make("two_circles")
    assert abs(f.reference - 0.0136848) < 1e-7
    assert f.reference_error < 1e-15
    a, w, p1, p2, r = 3.0, 250.0, 0.4, 0.6, 0.25

    def g(x2, x1):  # i-flow eq. (19) again, as plain floats for speed
        return x2**a * math.exp(-w * abs((x2 - p2) ** 2 + (x1 - p1) ** 2 - r * r)) + (
            1 - x2
        ) ** a * math.exp(-w * abs((x2 - 1 + p2) ** 2 + (x1 - 1 + p1) ** 2 - r * r))

    def kinks(x1):
        out = []
        for c1, c2 in ((p1, p2), (1 - p1, 1 - p2)):
            d = r * r - (x1 - c1) ** 2
            if d > 0:
                out += [c2 - math.sqrt(d), c2 + math.sqrt(d)]
        return [k for k in out if 0 < k < 1]

    tight = {"epsabs": 1e-13, "epsrel": 1e-11, "limit": 200}
    value, _ = integrate.nquad(
        g,
        [[0, 1], [0, 1]],
        opts=[
            lambda x1: {"points": kinks(x1), **tight},
            {"points": [p1 - r, p1 + r, 1 - p1 - r, 1 - p1 + r], **tight},
        ],
    )
    assert abs(f.reference - value) < 1e-15


@pytest.mark.parametrize(
    "options",
    [
        {"a": 0.5, "w": 100.0, "p1": 0.35, "p2": 0.55, "r": 0.5},  # circles leave the square
        {"a": 0.1, "w": 400.0, "p1": 0.5, "p2": 0.2, "r": 0.3},
        {"a": 2.0, "w": 250.0, "p1": 0.0, "p2": 0.6, "r": 0.25},  # centre on the edge
    ],
)
def test_two_circles_reference_off_defaults(options):
    """Twice the first term (x -> 1 - x swaps the terms), by QUADPACK: the inner integral
    split at the circle, the edge factor x2^a taken as QAWS's algebraic weight."""
    f = make("two_circles", **options)
    a, w, p1, p2, r = (options[k] for k in ("a", "w", "p1", "p2", "r"))

    def bump(x2, x1):
        return math.exp(-w * abs((x1 - p1) ** 2 + (x2 - p2) ** 2 - r * r))

    def inner(x1):
        d = r * r - (x1 - p1) ** 2
        cuts = [c for c in ((p2 - math.sqrt(d), p2 + math.sqrt(d)) if d > 0 else ()) if 0 < c < 1]
        edges = [0.0, *cuts, 1.0]
        first, _ = integrate.quad(
            bump, 0.0, edges[1], args=(x1,), weight="alg", wvar=(a, 0.0), epsabs=1e-15
        )
        rest = [
            integrate.quad(lambda x2: x2**a * bump(x2, x1), lo, hi, epsabs=1e-15)[0]
            for lo, hi in itertools.pairwise(edges[1:])
        ]
        return first + math.fsum(rest)

    outer = [c for c in (p1 - r, p1 + r) if 0 < c < 1]
    value, error = integrate.quad(inner, 0, 1, points=outer or None, epsabs=1e-14, limit=200)
    assert abs(f.reference - 2 * value) < 1e-14 + 2 * error
    assert f.reference_error < 1e-13


@pytest.mark.slow
def test_slashed_circle_reference():
    """Against QUADPACK within its own error estimate (the cap's kinks are not given to it;
    several seconds). The fast tests check it against Monte Carlo."""
    f = make("slashed_circle")
    assert f.reference_error < 1e-12
    r, s, cap = 0.3, 0.05, 0.9

    def g(x2, x1):
        rho = math.hypot(x1 - 0.5, x2 - 0.5)
        return min(cap, math.exp(-((rho - r) ** 2) / s**2) + math.exp(-((x1 - x2) ** 2) / s**2))

    def features(x1):  # where the line and the ring cross this x1: help QUADPACK find them
        h = r * r - (x1 - 0.5) ** 2
        out = [x1] + ([0.5 - math.sqrt(h), 0.5 + math.sqrt(h)] if h > 0 else [])
        return [p for p in out if 0 < p < 1]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        value, error = integrate.nquad(
            g,
            [[0, 1], [0, 1]],
            opts=[
                lambda x1: {"points": features(x1), "epsabs": 1e-8, "limit": 100},
                {"points": [0.2, 0.5, 0.8], "epsabs": 1e-8, "limit": 100},
            ],
        )
    assert error < 1e-6
    assert abs(f.reference - value) <= error


@pytest.mark.slow
def test_slashed_circle_quadrature_converged():
    """The stated precision (1e-12): a finer independent discretisation agrees."""
    from hepflow_toys import shapes
    from hepflow_toys.quadrature import square_polar_integral

    for sigma in (0.05, 0.02):
        ref = make("slashed_circle", sigma=sigma).reference

        def peaks(x, s=sigma):
            return shapes._slashed_circle_peaks(x, 0.3, s)

        finer, _ = square_polar_integral(
            lambda x, p=peaks: p(x).clamp(max=0.9),
            (0.5, 0.5),
            scale=1.3 * sigma,
            kink=lambda x, p=peaks: p(x) - 0.9,
            kink_grid=math.ceil(20 / sigma),
            ray_nodes=20,
            angle_nodes=20,
            rtol=1e-14,
        )
        assert abs(ref - finer) < 1e-12


# -- references against plain Monte Carlo in more dimensions -----------------------------------
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("gaussian", {"dim": 4}),
        ("gaussian", {"dim": 8}),
        ("camel", {"dim": 2}),
        ("camel", {"dim": 4}),
        ("camel", {"dim": 8}),
        ("camel", {"dim": 4, "alpha": 0.1}),
        ("polynomial", {"dim": 4}),
        ("polynomial", {"dim": 8}),
        ("product", {"dim": 4}),
        ("product", {"dim": 8}),
        ("sinusoidal", {"dim": 4}),
        ("sinusoidal", {"dim": 8}),
        ("annulus", {}),
        ("annulus", {"dim": 4}),
        ("annulus", {"dim": 8, "r_inner": 0.3, "r_outer": 0.5}),
        ("ridge", {"dim": 2}),
        ("ridge", {"dim": 4}),
        ("two_circles", {}),
        ("slashed_circle", {}),
        ("slashed_circle", {"r": 0.2, "sigma": 0.1, "cap": 1.2}),
    ],
)
def test_references_against_monte_carlo(name, options):
    f = make(name, **options)
    mean, sdev = monte_carlo(f)
    assert sdev < 0.03 * abs(f.reference), "the test would be too weak to mean anything"
    assert abs(mean - f.reference) < 5 * sdev, (mean, sdev, f.reference)


# -- the ridge's fast sum ----------------------------------------------------------------------
@pytest.mark.parametrize(("dim", "n_peaks"), [(4, 1000), (32, 1000), (3, 200), (2, 10000)])
def test_ridge_fast_sum_equals_direct_sum(dim, n_peaks):
    fast = make("ridge", dim=dim, n_peaks=n_peaks)
    direct = make("ridge", dim=dim, n_peaks=n_peaks)
    direct.max_gamma = -1.0  # force the blocked direct sum
    direct.max_block = 3000  # and many small blocks
    x = uniform(2000, dim, seed=3)
    on_ridge = 0.4 + 0.2 * x[:, :1] + 0.02 * (x - 0.5)
    x = torch.cat([x, on_ridge.clamp(0, 1)])
    a, b = fast(x), direct(x)
    assert torch.allclose(a, b, rtol=1e-12, atol=1e-15 * float(b.max()))
    assert bool((a >= 0).all())


# -- created through the plugin registry -----------------------------------------------------
def test_registered_under_plain_and_qualified_names():
    names = {c.name for c in hepflow.get_registry().components("integrand") if c.plugin == "toys"}
    assert names == set(NAMES)
    f = make("camel", dim=4)
    g = make("toys:camel", dim=4)
    assert isinstance(f, Integrand)
    assert type(f) is type(g)
    assert f.reference == g.reference
    assert f.dim == 4
    assert f.unit == ""
    assert f.device == torch.device("cpu")


@pytest.mark.parametrize("name", NAMES)
def test_contract(name):
    info = hepflow.get_registry().lookup("integrand", name)
    assert info.summary, "the first docstring line is what `hepflow plugins` shows"
    dim = 2 if name in TWO_D_ONLY else 3
    f = make(name, dim=dim)
    assert isinstance(f, Integrand)
    assert isinstance(f.reference, float)
    assert math.isfinite(f.reference)
    assert f.reference > 0
    x = uniform(1000, dim, seed=1)
    y = f(x)
    assert y.shape == (1000,)
    assert y.dtype == torch.float64
    assert y.device == x.device
    assert bool(torch.isfinite(y).all())
    assert bool((y >= 0).all())
    # float32 input is promoted, and the output does not depend on the batch split
    assert torch.allclose(f(x.float()), f(x.float().double()))
    assert torch.equal(torch.cat([f(x[:100]), f(x[100:])]), y)
    assert f(x[:0]).shape == (0,)
    assert repr(f).startswith(type(f).__name__ + "(")
    with pytest.raises(ValueError, match=rf"\(n, {dim}\) tensor"):
        f(uniform(10, dim + 1, seed=1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", NAMES)
def test_on_cuda(name):
    dim = 2 if name in TWO_D_ONLY else 3
    f = make(name, dim=dim, device="cuda")
    x = uniform(4096, dim, seed=2)
    y = f(x.cuda())
    assert y.device.type == "cuda"
    assert y.dtype == torch.float64
    assert torch.allclose(y.cpu(), f(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("camel", {"dim": 0}, "dim must be a positive integer, got 0"),
        ("gaussian", {"dim": 2.5}, "dim must be a positive integer, got 2.5"),
        ("two_circles", {"dim": 3}, "dim=3 is not allowed: two_circles is defined for dim=2"),
        ("slashed_circle", {"dim": 4}, "dim=4 is not allowed: slashed_circle is defined for"),
        ("gaussian", {"dim": 2, "alpha": -1}, "alpha must be a finite real number > 0, got -1"),
        ("camel", {"dim": 3, "mu1": [0.1, 0.2]}, "mu1 must be one number or a sequence of dim=3"),
        ("camel", {"dim": 2, "mu2": [0.1, 1.5]}, r"mu2\[1\] must be a finite real number >= 0"),
        ("camel", {"dim": 2, "alpha": "wide"}, "alpha must be one number or a sequence"),
        ("sinusoidal", {"dim": 2, "freq": math.nan}, "freq must be a finite real number, got nan"),
        ("sinusoidal", {"dim": 2, "offset": -0.1}, "offset must be .* >= 0, got -0.1"),
        ("annulus", {"r_outer": 0.6}, "r_outer must be a finite real number > 0 and <= 0.5"),
        ("annulus", {"r_inner": 0.3, "r_outer": 0.2}, "r_inner must be .* < 0.2, got 0.3"),
        ("ridge", {"n_peaks": 0}, "n_peaks must be an integer >= 1, got 0"),
        ("slashed_circle", {"sigma": 0.001}, "sigma must be a finite real number >= 0.005"),
        ("two_circles", {"p1": 1.2}, "p1 must be a finite real number >= 0 and <= 1, got 1.2"),
        ("two_circles", {"w": 1e5}, "w must be a finite real number > 0 and <= 10000"),
        ("product", {"dim": 2, "device": "warp-drive"}, "device='warp-drive' is not a torch"),
    ],
)
def test_bad_options_are_clear_errors(name, options, message):
    with pytest.raises(hepflow.ComponentError, match=message) as info:
        make(name, **options)
    assert f"integrand toys:{name}" in str(info.value)


def test_unknown_and_missing_options():
    with pytest.raises(hepflow.ComponentError, match="unknown option 'width'"):
        make("camel", dim=2, width=0.1)
    with pytest.raises(hepflow.ComponentError, match=r"missing required option.*'dim'"):
        make("camel")


# -- through the driver ------------------------------------------------------------------------
def test_integrate_camel_with_uniform_sampler():
    f = make("camel", dim=4)
    sampler = hepflow.create("sampler", "uniform", dim=4)
    result = hepflow.integrate(f, sampler, iterations=5, evals=100_000, seed=1)
    assert result.reference == f.reference
    assert result.sdev < 0.01 * f.reference
    assert abs(result.mean - f.reference) < 5 * result.sdev


# -- the multi-channel toy ---------------------------------------------------------------------
def test_two_resonances_reference_and_channel_terms_against_quadrature():
    from scipy.integrate import quad

    f = make("two_resonances", dim=2, m1=0.25, g1=0.005, a1=1.5)
    value, error = quad(
        lambda t: float(f(torch.tensor([[t, 0.5]], dtype=torch.float64))),
        0,
        1,
        points=[0.25, 0.7],
        limit=500,
        epsabs=1e-12,
    )
    assert abs(f.reference - value) <= max(10 * error, 1e-9)
    gen = torch.Generator().manual_seed(0)
    u = torch.rand(200_000, 2, generator=gen, dtype=torch.float64)
    for k, share in enumerate(f.shares):  # each channel's term integrates to its share
        terms = f(u, channel=torch.full((len(u),), k))
        mean, sdev = float(terms.mean()), float(terms.std()) / len(u) ** 0.5
        assert abs(mean - share * f.reference) < 5 * sdev, (k, mean, share * f.reference, sdev)
    assert sum(f.shares) == pytest.approx(1.0, abs=1e-12)
    assert [c.prior for c in f.channels] == list(f.shares)
