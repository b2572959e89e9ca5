"""Data-parallel training (RBM and the neural generators) over a ``torch.distributed`` process group.

Every process holds the same haplotypes, seed and parameters. Each batch
(and each set of fresh chains) is cut into contiguous shares, one per
process; a share's random numbers are the whole batch's (the RBM kernels key
them by the element's row in the batch; the neural generators draw every
random tensor at whole-batch size and keep their rows), so the shares
together sample exactly what one process would. Gradient sums are added over
the group (``all_reduce``), so every process takes the same step: the run
equals a one-process run with the same batch size up to float summation
order. Batch norm in training normalises with the whole batch's statistics
(:meth:`ProcessGroup.synced_batch_norm`).

The group is the one ``torchrun`` describes in the environment (``RANK``,
``WORLD_SIZE``, ``MASTER_ADDR``...): gloo for CPU tensors, NCCL for CUDA.
"""

from __future__ import annotations

import os
from contextlib import contextmanager


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

    # --- the neural generators (TorchGenerator.fit(distributed=True)) ---------------------------

    def rows(self, n: int, unit: int = 1) -> slice:
        """The rows of a batch of ``n`` that this process computes, cut at multiples of ``unit`` (WGAN's packs)."""
        start, end = self.share(n // unit)
        return slice(start * unit, end * unit)

    def whole_mean(self, x, n: int):
        """``x.mean()`` in one process; in a group, this process's part of the mean of the whole batch's ``n``
        values (its values' sum / ``n``): the parts' gradients, added by :meth:`sum_grads`, are the mean's."""
        return x.mean() if self._dist is None else x.sum() / n

    def column_mean(self, x, n: int):
        """Column means of the whole batch (``n`` rows) from this process's rows ``x``, for a loss that every
        process computes whole (GMMN's MMD): the gradient reaching ``x`` is this process's rows' part of the
        one-process gradient (the other rows' parts are added by :meth:`sum_grads`)."""
        if self._dist is None:
            return x.mean(0)
        return _sum_function().apply(x.sum(0), self._dist, False) / n

    def sum_grads(self, optimizer) -> None:
        """Add the gradients of an optimizer's parameters over the group (one collective), before its step."""
        if self._dist is None:
            return
        import torch

        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        self._dist.all_reduce(flat)
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    @contextmanager
    def synced_batch_norm(self, nets):
        """While active, every ``nn.BatchNorm1d`` of ``nets`` in training mode normalises with the statistics
        of the whole batch (its rows over all processes) and updates its running statistics with them, as
        ``nn.BatchNorm1d`` does on the whole batch in one process. Nothing changes in one process. (The
        modules stay ``nn.BatchNorm1d``, so checkpoints do not depend on how a model was trained;
        ``nn.SyncBatchNorm`` refuses CPU tensors.)"""
        if self._dist is None:
            yield
            return
        import torch

        norms = [m for net in nets for m in net.modules() if isinstance(m, torch.nn.BatchNorm1d)]
        for m in norms:
            m.forward = _synced_forward(m, type(m).forward.__get__(m), self._dist)
        try:
            yield
        finally:
            for m in norms:
                del m.forward


def _synced_forward(bn, plain, dist):
    """``bn``'s forward over the whole batch's statistics (``plain``: its own forward, used outside training)."""
    import torch

    def forward(x):
        if not bn.training:
            return plain(x)
        total = _sum_function()
        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        # the whole batch's values per channel: their count, then mean and (biased) variance in two passes
        sums = total.apply(torch.cat([x.sum(dims), x.new_full((1,), x.numel() / x.shape[1])]), dist, True)
        count = sums[-1].item()
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
        mean = sums[:-1] / count
        centred = x - mean.view(shape)
        var = total.apply((centred * centred).sum(dims), dist, True) / count
        if bn.track_running_stats:
            with torch.no_grad():
                bn.num_batches_tracked.add_(1)
                f = 1.0 / float(bn.num_batches_tracked) if bn.momentum is None else bn.momentum
                bn.running_mean.mul_(1 - f).add_(mean.detach(), alpha=f)
                bn.running_var.mul_(1 - f).add_(var.detach() * (count / (count - 1)), alpha=f)
        y = centred * torch.rsqrt(var + bn.eps).view(shape)
        return y * bn.weight.view(shape) + bn.bias.view(shape) if bn.affine else y

    return forward


_SUM = None


def _sum_function():
    """An autograd function: the sum of a tensor over the group. Its backward adds the gradients over the group
    too (``grads_summed``) when each process's loss is its own rows' part (batch norm's statistics), and is
    the identity when every process computes the same whole loss from the sum (GMMN's mean features)."""
    global _SUM
    if _SUM is None:
        import torch

        class Sum(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, dist, grads_summed):
                ctx.dist, ctx.grads_summed = dist, grads_summed
                x = x.clone(memory_format=torch.contiguous_format)
                dist.all_reduce(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                if ctx.grads_summed:
                    grad = grad.clone(memory_format=torch.contiguous_format)
                    ctx.dist.all_reduce(grad)
                return grad, None, None

        _SUM = Sum
    return _SUM
