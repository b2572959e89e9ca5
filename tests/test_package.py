import subprocess
import sys


def test_submodules_after_a_plain_import(tmp_path):
    # a fresh interpreter outside the project root: nothing imported the submodules before
    code = ("import genofast\n"
            "assert callable(genofast.io.read_hapt) and callable(genofast.metrics.aats)\n"
            "assert callable(genofast.phasing.random_phase) and genofast.models.RBM and genofast.align.align\n"
            "assert 'io' in dir(genofast)\n"
            "try:\n    genofast.nope\nexcept AttributeError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "has no attribute 'nope'" in out.stdout
