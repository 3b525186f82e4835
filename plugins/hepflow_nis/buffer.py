"""A replay buffer of evaluated points, for training a flow many steps per evaluation.

Integrand calls are the expensive part; a point stays useful after the flow that drew it has
moved on, as long as the loss is told the density it was drawn from (``log_q_sample``).
The buffer keeps the most recent ``capacity`` points (a ring) and hands out random
minibatches from a torch.Generator, so training is reproducible.
"""

from __future__ import annotations

import torch

__all__ = ["ReplayBuffer"]

FIELDS = ("x", "log_q_sample", "f", "channel")


class ReplayBuffer:
    """The last ``capacity`` evaluated points: x, log q they were drawn with, f, channel."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"buffer capacity must be >= 0, got {capacity}")
        self.capacity = int(capacity)
        self._data: dict[str, torch.Tensor] = {}
        self._next = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, **columns: torch.Tensor) -> None:
        """Append a batch (keyword columns named as FIELDS), overwriting the oldest points."""
        if self.capacity == 0:
            return
        n = next(iter(columns.values())).shape[0]
        if n >= self.capacity:  # the batch alone fills the buffer: keep its newest points
            columns = {k: v[n - self.capacity :] for k, v in columns.items()}
            n = self.capacity
        if not self._data:
            self._data = {
                k: torch.empty((self.capacity, *v.shape[1:]), dtype=v.dtype, device=v.device)
                for k, v in columns.items()
            }
        slots = (torch.arange(n, device=self._index_device()) + self._next) % self.capacity
        for k, v in columns.items():
            self._data[k][slots] = v.detach()
        self._next = (self._next + n) % self.capacity
        self.size = min(self.capacity, self.size + n)

    def sample(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """A minibatch of min(n, size) stored points, drawn with replacement.

        Every minibatch is an unbiased sample of the buffer either way; drawing without
        replacement took a permutation of the whole buffer, 5% of a replay step."""
        if self.size == 0:
            raise ValueError("the replay buffer is empty: add evaluated points first")
        n = min(int(n), self.size)
        idx = torch.randint(self.size, (n,), generator=generator, device=generator.device)
        idx = idx.to(self._index_device())
        return {k: v.index_select(0, idx) for k, v in self._data.items()}

    def _index_device(self) -> torch.device:
        return next(iter(self._data.values())).device if self._data else torch.device("cpu")
