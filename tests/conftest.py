from pathlib import Path

import numpy as np
import pytest

import genofast

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_collection_modifyitems(config, items):
    if genofast.has_cuda().available:
        return
    skip = pytest.mark.skip(reason="no CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def shared_data():
    """Path of ../shared/data; skips the test when the data are absent."""
    if not SHARED.is_dir():
        pytest.skip("shared data not present")
    return SHARED


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(params=genofast.kernels.SIMD_LEVELS)
def simd(request):
    """Run a test under each SIMD level this CPU supports, restoring the default after."""
    level = request.param
    levels = genofast.kernels.SIMD_LEVELS
    if levels.index(level) > levels.index(genofast.kernels.simd_supported()):
        pytest.skip(f"CPU lacks {level}")
    before = genofast.kernels.simd_level()
    genofast.kernels.set_simd(level)
    yield level
    genofast.kernels.set_simd(before)
