"""Coverage-guided fuzzing of genofast's readers with atheris (libFuzzer for Python); not run in CI.

    python bench/fuzz_atheris.py READER [libFuzzer options, e.g. -max_total_time=180 -rss_limit_mb=4096]

READER is hapt, vcf, bcf, plink (mutates the .bed; .bim/.fam stay valid), npz or checkpoint. The corpus
starts from valid files written by genofast. An input passes when it reads, or raises a ValueError /
OSError / MemoryError whose one-line message names the file (UnicodeError excluded); anything else is
re-raised, and libFuzzer stops with the input saved as crash-*. A segfault in htslib, bed-reader or
safetensors stops it the same way.
"""

import inspect
import shutil
import sys
import tempfile
from pathlib import Path

import atheris
import numpy as np

from genofast import HaplotypeMatrix, Variants, io  # noqa: E402
from genofast.models import RBM, load  # noqa: E402

WORK = Path(tempfile.mkdtemp(prefix="genofast-atheris-"))
SUFFIX = {"hapt": ".hapt", "vcf": ".vcf", "bcf": ".bcf", "plink": ".bed", "npz": ".npz",
          "checkpoint": ".safetensors"}


def _cohort() -> HaplotypeMatrix:
    rng = np.random.default_rng(3)  # a fixed seed corpus
    snps = 70
    v = Variants(np.array(["chr20"] * snps), np.arange(1000, 1000 + 10 * snps, 10),
                 np.array([f"rs{i}" for i in range(snps)]), np.array(["A"] * snps), np.array(["G"] * snps))
    return HaplotypeMatrix.from_numpy((rng.random((12, snps)) < 0.3).astype(np.uint8),
                                      ids=np.array([f"s{i // 2}_{i % 2}" for i in range(12)]), variants=v)


def _seed_file(reader: str) -> Path:
    h, seed = _cohort(), WORK / "seed"
    seed.mkdir(exist_ok=True)
    path = seed / f"a{SUFFIX[reader]}"
    if reader == "hapt":
        io.write_hapt(path, h)
    elif reader in ("vcf", "bcf"):
        io.write_vcf(seed / "a.vcf", h)
        if reader == "bcf":
            from cyvcf2 import VCF, Writer

            src = VCF(str(seed / "a.vcf"))
            w = Writer(str(path), src, mode="wb")
            for rec in src:
                w.write_record(rec)
            w.close()
    elif reader == "plink":
        io.write_plink(path, h)
        for ext in (".bim", ".fam"):
            shutil.copy(path.with_suffix(ext), WORK / f"in{ext}")
    elif reader == "npz":
        io.save(path, h)
    else:
        RBM(70, 4, k=1, n_chains=4).fit(h, epochs=1, seed=1).save(path)
    return path


def _read(reader: str, path: Path):
    if reader == "checkpoint":
        m = load(path)
        return m.sample(4, seed=1, allow_copies=True) if isinstance(m, RBM) else m.sample(4, seed=1)
    return {"hapt": io.read_hapt, "vcf": io.read_vcf, "bcf": io.read_vcf, "plink": io.read_plink,
            "npz": io.load}[reader](path)


def _instrument_genofast() -> None:
    """Coverage for genofast's own Python code only.

    genofast is installed editable, which atheris's import hook does not see, and
    ``instrument_all`` would spend minutes instrumenting torch; so each function of
    a loaded genofast module is instrumented in place.
    """
    import genofast.io._vcf_chunks, genofast.io.vcf, genofast.io.plink, genofast.io.store  # noqa: E401,F401
    import genofast.models.crbm, genofast.models.baselines  # noqa: E401,F401

    done = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("genofast") or module is None:
            continue
        for obj in list(vars(module).values()):
            targets = [obj] if inspect.isfunction(obj) else \
                [f for f in vars(obj).values() if inspect.isfunction(f)] if inspect.isclass(obj) else []
            for f in targets:
                if f.__module__ and f.__module__.startswith("genofast") and id(f) not in done:
                    done.add(id(f))
                    atheris.instrument_func(f)


def main():
    reader = sys.argv[1]
    corpus = WORK / "corpus"
    corpus.mkdir()
    shutil.copy(_seed_file(reader), corpus / "seed")
    target = WORK / f"in{SUFFIX[reader]}"

    def one_input(data: bytes):
        target.write_bytes(data)
        try:
            m = _read(reader, target)
            m.to_numpy()
        except UnicodeError:
            raise
        except (ValueError, OSError, MemoryError) as e:
            message = str(e)
            if "\n" in message.strip() or target.name not in message:
                raise AssertionError(f"bad error message: {message!r}") from e

    _instrument_genofast()
    atheris.Setup([sys.argv[0], *sys.argv[2:], str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
