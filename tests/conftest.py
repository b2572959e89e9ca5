import os
from pathlib import Path

import numpy as np
import pytest

import genofast

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
IMPORTED_FROM = Path(genofast.__file__).resolve().parent


def pytest_report_header(config):
    return f"genofast {genofast.__version__} imported from {IMPORTED_FROM}"


def pytest_configure(config):
    # CI's non-editable stage sets this: the tests must exercise the installed wheel, not the source tree
    if os.environ.get("GENOFAST_TEST_INSTALLED") and IMPORTED_FROM == ROOT / "genofast":
        raise pytest.UsageError(f"GENOFAST_TEST_INSTALLED is set but genofast was imported from the source tree "
                                f"{IMPORTED_FROM}: run pytest from outside the project root")


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
