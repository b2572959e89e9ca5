"""What an RBM's sampling costs, in memory and time, estimated before it runs (so that requests too large
for the machine are refused with advice instead of failing half-way)."""

from __future__ import annotations

import time

from .. import kernels
from ._base import check_memory, gpu_available_memory


class ResourceEstimates:
    """Memory and time estimates of :class:`~genofast.models.rbm.RBM` sampling (mixed into it)."""

    def _sample_floats(self, n: int) -> int:
        # in a sweep: the old visible states, the pre-activations and the new
        # states (n x V float32 each), hidden pre-activations and states, context;
        # one more n x V for freed blocks the allocator has not reused (measured)
        V, H, C = self.config["n_visible"], self.n_units, self._n_conditions
        masks = 13 * H if self.config["dropout"] else 0  # dropout: the float64 draw, its bool and float32 mask
        return 4 * n * (4 * V + 2 * H + C) + n * masks

    def sample_bytes(self, n: int) -> int:
        """Host memory :meth:`sample` needs: packed rows and ids, plus the float work arrays on CPU."""
        words = kernels.haplotype_words(self.config["n_visible"])
        host = n * (16 * words + 160)  # packed (and its copy off the GPU) + id strings
        return host if self.device.startswith("cuda") else host + self._sample_floats(n)

    def _check_sample_memory(self, n: int) -> None:
        what, advice = f"sampling {n} haplotypes x {self.config['n_visible']} SNPs", "sample fewer per call"
        check_memory(self.sample_bytes(n), what, advice)
        self._check_gpu_memory(self._sample_floats(n), what, advice)

    def _check_gpu_memory(self, n_bytes: int, what: str, advice: str) -> None:
        if self.device.startswith("cuda"):
            check_memory(n_bytes, what + " on the GPU", advice, available=gpu_available_memory(self.device))

    def sample_seconds(self, n: int, k: int | None = None) -> float:
        """Estimated seconds for ``sample(n, k)``, from two timed sweeps of a few chains.

        A sweep costs in proportion to chains x SNPs x hidden units, so the
        time per chain-sweep scales up; small batches carry fixed overheads,
        so the estimate errs long.
        """
        import torch

        k = self._sweeps(k)
        rows = max(1, min(int(n), 256))
        saved = self.step
        try:
            u = torch.zeros((rows, self._n_conditions), device=self.device) if self._n_conditions else None
            v = self._random_visible(rows, 0)
            start = time.perf_counter()
            self.gibbs(v, 2, 0, u)
            if self.device.startswith("cuda"):
                torch.cuda.synchronize()
            per_sweep = (time.perf_counter() - start) / 2
        finally:
            self.step = saved
        return per_sweep * (n / rows) * k
