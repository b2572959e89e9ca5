"""Benchmarks run genofast and its peers in one session and print speed ratios.

Each benchmark sets ``benchmark.group`` to the task and its name to the
implementation; at the end, every group prints each implementation's median
time relative to genofast's (ratio > 1: genofast is that many times faster).
"""

from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def yelmen805():
    from genofast import io

    p = SHARED / "yelmen805" / "805_SNP_1000G_real.hapt.gz"
    if not p.exists():
        pytest.skip("shared data not present")
    return io.read_hapt(p)


@pytest.fixture(scope="session")
def random_bits():
    from genofast import HaplotypeMatrix

    a = np.random.default_rng(1).integers(0, 2, (5008, 10_000), dtype=np.uint8)
    return HaplotypeMatrix.from_numpy(a)


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    groups = {}
    for b in session.benchmarks:
        groups.setdefault(b.group, []).append(b)
    lines = ["", "genofast speed-up over each peer (peer median / genofast median, same run):"]
    for group, items in sorted(groups.items(), key=lambda kv: str(kv[0])):
        ours = [b for b in items if "genofast" in b.name]
        if not ours:
            continue
        base = ours[0].stats.median
        for b in sorted(items, key=lambda b: b.stats.median):
            if b is ours[0]:
                continue
            lines.append(f"  {group:<38} {b.name:<48} {b.stats.median / base:8.2f}x"
                         f"   ({b.stats.median * 1e3:.1f} ms vs {base * 1e3:.1f} ms)")
    terminalreporter.write_line("\n".join(lines))
