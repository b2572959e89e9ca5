"""Users' own trios: a PED/fam pedigree matched to genotypes read from VCF or PLINK.

The pedigree's first six whitespace-separated columns are PLINK's: family,
sample, father, mother, sex (1 male, 2 female, other unknown) and phenotype;
``0`` is an unknown parent. A PED file's genotype columns after the sixth
are ignored (genotypes come from the VCF/PLINK file). Samples are matched
by the sample column, genofast's one id per sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import FormatError
from ..matrix import GenotypeMatrix, HaplotypeMatrix
from .trios import Trios

_UNKNOWN = {"0", "-9", "."}  # unknown parent ids in PLINK and in LINKAGE-style files


@dataclass(frozen=True)
class Pedigree:
    """The trios of a pedigree file (children with both parents named), each with the line it came from."""

    family: np.ndarray
    child: np.ndarray
    father: np.ndarray
    mother: np.ndarray
    line: np.ndarray
    path: str
    one_parent_lines: tuple = ()  # children with a single known parent: not trios, so not imputed here

    def __len__(self) -> int:
        return len(self.child)


def read_pedigree(path) -> Pedigree:
    """Read a PED or .fam file; errors name the file, the line and the sample.

    Refused: fewer than six columns, a sample on two lines, a sample who is
    their own parent, the same sample as father and mother, a father recorded
    as female or a mother as male.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    rows, first_line, sex = [], {}, {}
    try:
        with open(path, encoding="utf-8") as f:
            for lineno, text in enumerate(f, start=1):
                fields = text.split()
                if not fields or fields[0].startswith("#"):
                    continue
                if len(fields) < 6:
                    raise FormatError(path, f"expected at least 6 columns (family, sample, father, mother, sex, "
                                            f"phenotype), got {len(fields)}", lineno)
                fam, sample, father, mother, sx = fields[:5]
                if sample in first_line:
                    raise FormatError(path, f"sample {sample!r} is already on line {first_line[sample]}", lineno)
                first_line[sample], sex[sample] = lineno, sx
                for role, parent in (("father", father), ("mother", mother)):
                    if parent == sample:
                        raise FormatError(path, f"sample {sample!r} is its own {role}", lineno)
                if father == mother and father not in _UNKNOWN:
                    raise FormatError(path, f"sample {sample!r} has {father!r} as both father and mother", lineno)
                rows.append((fam, sample, father, mother, lineno))
    except UnicodeDecodeError:
        raise FormatError(path, "not a text file (bytes that are not UTF-8)") from None
    trios, one_parent = [], []
    for fam, sample, father, mother, lineno in rows:
        for role, parent, wrong in (("father", father, "2"), ("mother", mother, "1")):
            if parent in sex and sex[parent] == wrong:
                raise FormatError(path, f"{role} {parent!r} of sample {sample!r} is recorded as "
                                        f"{'female' if wrong == '2' else 'male'} on line {first_line[parent]}", lineno)
        known = (father not in _UNKNOWN) + (mother not in _UNKNOWN)
        if known == 2:
            trios.append((fam, sample, father, mother, lineno))
        elif known == 1:
            one_parent.append(lineno)
    cols = list(zip(*trios)) if trios else [[]] * 5
    return Pedigree(*(np.array(c, dtype=str) for c in cols[:4]), np.array(cols[4], dtype=np.int64), str(path),
                    tuple(one_parent))


def trios_from_genotypes(genotypes: GenotypeMatrix | HaplotypeMatrix, pedigree: Pedigree) -> Trios:
    """Pick each trio's three samples out of ``genotypes`` (diploid calls, one row per sample)."""
    if isinstance(genotypes, HaplotypeMatrix):
        genotypes = genotypes.to_genotypes()
    if not isinstance(genotypes, GenotypeMatrix):
        raise TypeError(f"expected a GenotypeMatrix, got {type(genotypes).__name__}")
    if len(pedigree) == 0:
        raise ValueError(f"{pedigree.path}: no trios (no sample has both parents named)")
    ids = [str(i) for i in genotypes.ids]
    index = {s: k for k, s in enumerate(ids)}
    if len(index) != len(ids):
        raise ValueError("genotypes: repeated sample ids; trios are matched by id")
    picked = {}
    for role in ("child", "father", "mother"):
        names = getattr(pedigree, role)
        where = np.array([index.get(s, -1) for s in names], dtype=np.int64)
        if (where < 0).any():
            k = int(np.flatnonzero(where < 0)[0])
            raise ValueError(f"{pedigree.path}, line {pedigree.line[k]}: {role} {str(names[k])!r} of child "
                             f"{str(pedigree.child[k])!r} is not among the {len(ids)} genotyped samples")
        picked[role] = where
    g = genotypes.to("cpu").to_numpy().astype(np.int8)
    return Trios(g[picked["father"]], g[picked["mother"]], g[picked["child"]], genotypes.variants,
                 pedigree.father.copy(), pedigree.mother.copy(), pedigree.child.copy())


def impute_trio_file(genotypes_path, pedigree_path, output_path, *, learner: str = "logitboost", window: int = 10,
                     n_rounds: int = 100, max_depth: int = 3, n_train: int = 20_000, seed: int = 0, n_jobs: int = 2):
    """``genofast impute --model trio-boost --pedigree FILE``: fill the children's missing calls of a VCF/PLINK file.

    Reads the genotypes (format by file name) and the pedigree, imputes each
    trio child with :func:`~genofast.impute.impute_trios`, and writes all
    samples back (format by ``output_path``'s name, atomically) with the
    children's missing calls replaced by hard calls (rounded dosage).
    Parents' calls are written unchanged. Returns the :class:`TrioImputation`.
    """
    from .. import io
    from .trio_boost import impute_trios

    data = io.read(genotypes_path)
    if isinstance(data, HaplotypeMatrix):
        data = data.to_genotypes()
    trios = trios_from_genotypes(data, read_pedigree(pedigree_path))
    result = impute_trios(trios, learner, window=window, n_rounds=n_rounds, max_depth=max_depth, n_train=n_train,
                          seed=seed, n_jobs=n_jobs)
    g = data.to("cpu").to_numpy().astype(np.int8)
    rows = np.array([list(map(str, data.ids)).index(c) for c in trios.child_ids])
    g[rows] = np.where(trios.child >= 0, trios.child, result.genotypes())
    io.write(output_path, GenotypeMatrix.from_numpy(g, ids=data.ids, variants=data.variants))
    return result
