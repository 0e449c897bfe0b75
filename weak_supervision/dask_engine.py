"""Run partition tasks on a ``dask.distributed`` cluster (``labelcycle label --engine dask``).

:class:`DaskRunner` has the interface of :class:`weak_supervision.streaming.LocalRunner`:
``map(fn, items, shared, progress=...)``. The shared object (the LFs and their resources, or the
fitted label model) is checked for serialisability and pickled once on the driver; the bytes are
held by one small task that every worker fetches once, and unpickled once per worker process.
Each partition task gets only its :class:`~weak_supervision.streaming.Partition` (a path and a
range): workers read the data themselves, nothing goes through the driver. spaCy models are
loaded once per worker process by :func:`labelfns.ner.load_spacy_model`'s cache (NER LFs do
not pickle their model).

Without a scheduler address a ``LocalCluster`` on 127.0.0.1 is started: one single-threaded
worker process per core (LF code is mostly pure Python, which threads would serialise).

A task whose worker dies is re-run on another worker (Dask's ``allowed-failures``, 3 by
default); partition files are written atomically, so a re-run replaces a half-written file.
When the retries are used up the run fails with :class:`~labelfns.errors.LabelcycleError` and no
manifest is written.

Example
-------
>>> runner = DaskRunner(n_workers=1, processes=False)  # doctest: +SKIP
>>> runner.map(pow, [1, 2, 3], 2)  # doctest: +SKIP
[1, 4, 9]
>>> runner.close()  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from labelfns.errors import LabelcycleError, LFError
from weak_supervision.streaming import PartitionJob, PartitionProgress

__all__ = ["DaskRunner", "check_shippable"]


def _user_modules(lfs: Sequence[Any]) -> list[Any]:
    """Modules of user LF files (not importable on workers): pickled by value."""
    out = []
    for lf in lfs:
        for obj in (lf, getattr(lf, "_f", None), getattr(lf, "func", None)):
            mod = sys.modules.get(getattr(obj, "__module__", "") or "")
            if mod is not None and mod.__name__.startswith("labelcycle_user_") and mod not in out:
                out.append(mod)
    return out


def check_shippable(shared: Any) -> bytes:
    """Serialise what tasks share, as Dask will; an LF that cannot be raises naming it.

    LFs loaded from project files (``lfs.py``) are pickled by value, so workers need not import
    the file.

    Raises
    ------
    LFError
        An LF (or its resources) cannot be pickled: the message names the LF.

    Example
    -------
    >>> import threading
    >>> from labelfns import labeling_function
    >>> @labeling_function(resources={"lock": threading.Lock()})
    ... def locked(x, lock):
    ...     return None
    >>> check_shippable([locked])
    Traceback (most recent call last):
    labelfns.errors.LFError: LF 'locked': cannot be sent to Dask workers: ...
    """
    import cloudpickle

    lfs = shared.lfs if isinstance(shared, PartitionJob) else (
        shared if isinstance(shared, list) else [])
    for mod in _user_modules(lfs):
        cloudpickle.register_pickle_by_value(mod)
    for lf in lfs:
        try:
            cloudpickle.dumps(lf)
        except Exception as exc:  # noqa: BLE001 - pickling raises many types
            raise LFError(
                f"cannot be sent to Dask workers: {type(exc).__name__}: {exc}",
                lf=getattr(lf, "name", repr(lf)),
                hint="keep open files, locks, connections and loaded models out of the LF's "
                     "resources (create them lazily inside the LF), or use --engine stream") \
                from None
    try:
        return cloudpickle.dumps(shared)
    except Exception as exc:  # noqa: BLE001
        raise LabelcycleError(f"the job cannot be sent to Dask workers: {exc}") from None


_SHARED: dict[str, Any] = {}
_SHARED_LOCK = threading.Lock()


def _keep(blob: bytes) -> bytes:
    return blob


def _task(fn: Callable[[Any, Any], Any], item: Any, digest: str, blob: bytes) -> Any:
    """Run ``fn(item, shared)`` on a worker; ``shared`` is unpickled once per worker process."""
    import cloudpickle

    with _SHARED_LOCK:
        shared = _SHARED.get(digest)
        if shared is None:
            shared = cloudpickle.loads(blob)
            _SHARED.clear()  # keep one job's objects alive, not every run's
            _SHARED[digest] = shared
    return fn(item, shared)


class DaskRunner:
    """Partition tasks on a Dask cluster: the given scheduler, or a local one started here.

    Parameters
    ----------
    scheduler : str, optional
        Address such as ``tcp://10.0.0.5:8786``. None: start a ``LocalCluster`` on 127.0.0.1.
    n_workers : int, optional
        Local cluster only: worker processes (default: one per core).
    timeout : float, default 10.0
        Seconds to wait for the scheduler to answer.
    processes : bool, default True
        Local cluster only: worker processes (False: threads in this process, for tests).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, *, n_workers: int | None = None,
                 timeout: float = 10.0, processes: bool = True) -> None:
        from distributed import Client, LocalCluster

        self.cluster = None
        if scheduler is None:
            workers = n_workers or (os.cpu_count() or 1)
            where = {"host": "127.0.0.1"} if processes else {}  # threads: in-process transport
            self.cluster = LocalCluster(
                n_workers=workers if processes else 1, threads_per_worker=1, processes=processes,
                dashboard_address=":0", silence_logs=logging.ERROR, **where)
            self.client = Client(self.cluster, timeout=timeout)
            return
        try:
            self.client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise LabelcycleError(
                f"no Dask scheduler answered at {scheduler} within {timeout:g} s ({exc}); check "
                "the address (e.g. tcp://host:8786) and that `dask scheduler` runs there, or "
                "leave out --scheduler to start a local cluster") from None
        if not self.client.scheduler_info().get("workers"):
            try:
                self.client.wait_for_workers(1, timeout=timeout)
            except (OSError, TimeoutError):
                self.client.close()
                raise LabelcycleError(f"the Dask scheduler at {scheduler} has no workers "
                                      f"(waited {timeout:g} s); start some with "
                                      f"`dask worker {scheduler}`") from None

    @property
    def n_workers(self) -> int:
        """Workers connected now."""
        return len(self.client.scheduler_info().get("workers", {}))

    def map(self, fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any, *,
            progress: PartitionProgress | None = None) -> list[Any]:
        """``[fn(item, shared) for item in items]`` on the workers, results in item order.

        ``shared`` is scattered once to every worker; ``progress(done, total)`` is called as
        tasks finish. A task error is raised as it is (a ``DataError`` or ``LFError`` from the
        LFs keeps its type); workers dying more often than Dask allows raises
        :class:`LabelcycleError`.
        """
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        if not items:
            return []
        blob = check_shippable(shared)
        digest = hashlib.sha1(blob).hexdigest()
        # A task (not scattered data) holds the bytes, so the scheduler can recompute it when the
        # worker holding it dies; each worker fetches the bytes once and unpickles them once.
        shared_future = self.client.submit(_keep, blob, key=f"labelcycle-shared-{digest}")
        futures = [self.client.submit(_task, fn, item, digest, shared_future, pure=False)
                   for item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(items)
        done = 0
        try:
            for future in as_completed(futures):
                try:
                    out[index[future.key]] = future.result()
                except KilledWorker as exc:
                    raise LabelcycleError(
                        f"Dask workers died while running {getattr(fn, '__name__', 'a task')} "
                        f"({exc}); the task was retried and failed each time. Common causes: a "
                        "worker ran out of memory (lower chunk_rows) or an LF crashed the "
                        "process. Nothing was published as complete") from None
                done += 1
                if progress is not None:
                    progress(done, len(items))
        finally:
            self.client.cancel(futures + [shared_future], force=True)
        return out

    def close(self) -> None:
        """Close the client, and the local cluster if this runner started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
