"""Data-parallel RBM training over a ``torch.distributed`` process group.

Every process holds the same haplotypes, seed and parameters. Each batch
(and each set of fresh chains) is cut into contiguous shares, one per
process; a share's random numbers are the whole batch's (the kernels key
them by the element's row in the batch), so the shares together sample
exactly what one process would. Gradient sums are added over the group
(``all_reduce``), so every process takes the same step: the run equals a
one-process run with the same batch size up to float summation order.

The group is the one ``torchrun`` describes in the environment (``RANK``,
``WORLD_SIZE``, ``MASTER_ADDR``...): gloo for CPU tensors, NCCL for CUDA.
"""

from __future__ import annotations

import os


class ProcessGroup:
    """This process's place in the group (``rank`` of ``size``) and the collectives training needs."""

    def __init__(self, rank: int = 0, size: int = 1, dist=None, started: bool = False):
        self.rank, self.size, self._dist = rank, size, dist
        self._started = started  # this object started the group, so it ends it (see leave())

    @classmethod
    def single(cls) -> "ProcessGroup":
        return cls()

    @classmethod
    def join(cls, device: str) -> "ProcessGroup":
        """The default group, started from the environment ``torchrun`` sets when not started yet."""
        import torch.distributed as dist

        if not dist.is_available():
            raise RuntimeError("this torch build has no torch.distributed")
        started = not dist.is_initialized()
        if started:
            if "WORLD_SIZE" not in os.environ:
                raise RuntimeError("distributed=True needs a process group: start the script with torchrun "
                                   "(e.g. torchrun --nproc-per-node 2 train.py) or call "
                                   "torch.distributed.init_process_group first")
            if str(device).startswith("cuda"):
                import torch

                # NCCL works on the current device: make it this process's GPU (the model's, e.g. cuda:LOCAL_RANK)
                if torch.device(device).index is not None:
                    torch.cuda.set_device(torch.device(device))
                dist.init_process_group("nccl")
            else:
                dist.init_process_group("gloo")
        return cls(dist.get_rank(), dist.get_world_size(), dist, started)

    def leave(self) -> None:
        """End the group if this object started it: every process waits for the others, then the group's
        threads stop (left running, gloo's threads can abort the interpreter at exit)."""
        if self._started:
            self._dist.barrier()
            self._dist.destroy_process_group()
            self._started = False

    def share(self, n: int) -> tuple[int, int]:
        """Rows [start, end) of ``n`` that this process computes."""
        return n * self.rank // self.size, n * (self.rank + 1) // self.size

    def mean(self, x, n: int):
        """Column means of the whole batch from this process's rows ``x`` (``n`` rows in the whole)."""
        if self._dist is None:
            return x.mean(0)
        total = x.sum(0)
        self._dist.all_reduce(total)
        return total / n

    def sum_all(self, tensors: dict, skip=()) -> None:
        """Add each tensor over the group, in place (all but ``skip``)."""
        if self._dist is None:
            return
        for name, t in tensors.items():
            if name not in skip:
                self._dist.all_reduce(t)

    def from_first(self, obj):
        """Process 0's ``obj`` on every process (a small picklable value)."""
        if self._dist is None:
            return obj
        box = [obj]
        self._dist.broadcast_object_list(box, src=0)
        return box[0]
