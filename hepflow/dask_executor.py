"""Generation shards on a Dask cluster: a fresh LocalCluster, or an existing scheduler
(dask-jobqueue users point ``--scheduler`` at their SLURM/HTCondor cluster).

Each shard is ``hepflow.run.generate_shard`` on a ``ShardTask``: the card, the adapted
sampler's state, the run info and an independent seed. Workers find plugins through the same
entry points as the driver, so every worker needs the same packages installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import HepflowError

__all__ = ["run_shards"]


def run_shards(
    tasks: Sequence[Any], *, scheduler: str | None = None, workers: int = 2
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run every shard; returns (results in shard order, failures as {index, error})."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise HepflowError(
            "--executor dask needs dask.distributed: pip install 'hepflow[dask]'"
        ) from exc
    from .run import generate_shard

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise HepflowError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from exc
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        futures = client.map(generate_shard, tasks, pure=False)
        index_of = {f.key: t.index for f, t in zip(futures, tasks, strict=True)}
        results, failures = [], []
        for future in as_completed(futures):
            try:
                results.append(future.result())
            except Exception as exc:  # one shard failing must not lose the others' files
                failures.append(
                    {"index": index_of[future.key], "error": f"{type(exc).__name__}: {exc}"}
                )
        return sorted(results, key=lambda r: r["index"]), sorted(failures, key=lambda f: f["index"])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
