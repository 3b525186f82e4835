"""``torch.compile`` for the flows' chain of layers, with a fallback to eager mode.

A training step of a small flow runs a few hundred tensor operations on a thousand numbers
each, so it is bound by the cost of launching them; most of them are the splines' knot and
segment arithmetic. Compiled, the whole flow becomes a few fused kernels forward and backward,
and one call: each compiled call costs about 40 us of guards and set-up. The price is a
one-off compilation (25-70 s per process on the 2-core machine of BENCHMARKS.md, less once
torch has cached the kernels on disk) and a C++ compiler (or Triton on a GPU);
where compilation fails, the map runs eagerly after one warning. The fused kernels round the
float32 exponentials of the knots differently, so a compiled flow agrees with an eager one to
about 1e-6 in x and 1e-5 in log q, not bit for bit.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import torch

__all__ = ["RECOMPILE_LIMIT", "compiled"]

#: graphs a compiled map may hold (dynamo's default, 8, is raised to this during its calls):
#: one per flow structure x direction x grad mode x whether x needs a gradient (x batches of
#: one point); past it, new variants run eagerly.
RECOMPILE_LIMIT = 64


@functools.cache
def compiled(fn: Callable) -> Callable:
    """``fn`` compiled once per process (shared by every layer that uses it)."""
    return _CompiledOrEager(fn)


class _CompiledOrEager:
    """Calls the compiled function; after a failed compilation, ``fn`` itself."""

    def __init__(self, fn: Callable):
        functools.update_wrapper(self, fn)
        self.eager = fn
        self.fast: Callable | None = torch.compile(fn, dynamic=True)

    def __call__(self, *args, **kwargs):
        if self.fast is not None:
            config = torch._dynamo.config
            limit = config.recompile_limit
            config.recompile_limit = max(limit, RECOMPILE_LIMIT)
            try:
                return self.fast(*args, **kwargs)
            except _compile_errors() as err:
                self.fast = None
                first_line = (str(err).strip().splitlines() or [""])[0]
                warnings.warn(
                    f"torch.compile could not compile {self.eager.__name__} ({type(err).__name__}:"
                    f" {first_line}); it runs eagerly (slower, same results). Install a C++ "
                    "compiler (or Triton on a GPU) or set compile=false to silence this.",
                    RuntimeWarning,
                    stacklevel=2,
                )
            finally:
                config.recompile_limit = limit
        return self.eager(*args, **kwargs)

    # a flow's copies (parameter averaging deep-copies the flows) share the one compilation
    def __deepcopy__(self, memo: dict) -> _CompiledOrEager:
        return self

    def __reduce__(self):
        return compiled, (self.eager,)


def _compile_errors() -> tuple[type[BaseException], ...]:
    """What a failed compilation raises (an error inside ``fn`` itself is not among them)."""
    from torch._dynamo.exc import BackendCompilerFailed
    from torch._inductor.exc import CppCompileError, InvalidCxxCompiler

    return BackendCompilerFailed, CppCompileError, InvalidCxxCompiler
