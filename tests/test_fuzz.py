"""Fuzzing every reader and the command line with hypothesis.

Inputs start from valid files written by genofast's own writers and are
mutated (truncation, byte flips, huge numbers, wrong ploidy, duplicate ids,
mismatched .bim/.fam counts, NaN, empty files, hostile checkpoint configs).
Each read must either succeed with a consistent matrix or raise a genofast
error: a ValueError (FormatError) or OSError with a one-line message that
names the file. Anything else fails the test: a crash (the read runs in a
forked child, so a segfault in htslib, bed-reader or safetensors is seen as
a dead child), a hang (the child is killed after HANG_SECONDS), or an error
from deep inside (IndexError, KeyError, UnicodeDecodeError, struct.error...).

The quick corpus (QUICK examples per reader) runs in CI; ``-m slow`` runs
LONG examples per reader and prints the counts.
"""

from __future__ import annotations

import gzip
import io as pyio
import json
import os
import select
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from genofast import HaplotypeMatrix, Variants, io

QUICK, LONG = 60, 2000
HANG_SECONDS = 20
COUNTS: dict[str, dict[str, int]] = {}  # reader -> outcome -> inputs, printed by the slow run

HUGE = [b"99999999999999999999999", b"-1", b"18446744073709551616", b"nan", b"NaN", b"inf", b"1e308", b"",
        b"\xff\xfe", b"0x10", b"2147483648", b"\x00"]


# --- running a reader safely ------------------------------------------------------


# The worker: a fresh interpreter (never a fork: OpenMP's thread pool does not survive fork) that reads
# one "reader<TAB>path" line at a time and answers with one JSON verdict line. A crash kills only the
# worker, which the parent sees as a closed pipe and restarts.
WORKER = r"""
import json, sys, traceback
from pathlib import Path
import numpy as np
from genofast import GenotypeMatrix, HaplotypeMatrix, io
from genofast.models import load

def checkpoint(path):
    # loading must validate enough that sampling from what loaded works (no NaN frequencies, bad shapes)
    m = load(path)
    return m.sample(4, seed=1, allow_copies=True) if hasattr(m, "fingerprints") else m.sample(4, seed=1)

READERS = {"hapt": io.read_hapt, "vcf": io.read_vcf, "bcf": io.read_vcf, "plink": io.read_plink, "npz": io.load,
           "eigenstrat": io.read_eigenstrat, "checkpoint": checkpoint}

def classify(exc, path):
    if isinstance(exc, UnicodeError):  # a ValueError, but a sign that a decode was left unguarded
        return f"UnicodeError escaped: {exc!r}"
    if not isinstance(exc, (ValueError, OSError, MemoryError)):
        return f"{type(exc).__name__} escaped: {exc!r}"
    message = str(exc)
    if "\n" in message.strip():
        return f"multi-line message: {message!r}"
    if path.name not in message and path.stem.split(".")[0] not in message:
        return f"message does not name the file: {message!r}"
    return None

for line in sys.stdin:
    reader, path = line.rstrip("\n").split("\t")
    path = Path(path)
    try:
        m = READERS[reader](path)
        assert isinstance(m, (HaplotypeMatrix, GenotypeMatrix)), type(m)
        n, s = m.shape
        assert len(m.ids) == n and len(m.variants) == s, "ids or variants do not match the shape"
        m.to_numpy()
        verdict = ["ok", ""]
    except BaseException as e:
        why = classify(e, path)
        verdict = ["error", ""] if why is None else ["bad", why + "\n" + traceback.format_exc()]
    print(json.dumps(verdict), flush=True)
"""


class Worker:
    def __init__(self):
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, cwd=Path(__file__).parent.parent.parent,
                                     env={**os.environ, "OMP_NUM_THREADS": "1"})

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdin.close()
            self.proc.stdout.close()
            self.proc = None

    def run(self, reader: str, path: Path) -> str:
        """'ok' or 'error' for reading ``path``, or fail the test with the crash, hang or escaped error."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.proc.stdin.write(f"{reader}\t{path}\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], HANG_SECONDS + 60)  # + start-up (imports)
        if not ready:
            self.stop()
            pytest.fail(f"hang: reading {path} took over {HANG_SECONDS} s")
        answer = self.proc.stdout.readline()
        if not answer:
            code = self.proc.wait()
            self.stop()
            pytest.fail(f"crash: the reader died (exit {code}) on {path}")
        kind, why = json.loads(answer)
        if kind == "bad":
            pytest.fail(f"reading {path}: {why}")
        return kind


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.stop()


def _count(reader: str, outcome: str) -> None:
    c = COUNTS.setdefault(reader, {"ok": 0, "error": 0})
    c[outcome] += 1


# --- mutations ---------------------------------------------------------------------


@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    """A few generic damages: truncation, flipped bytes, inserted junk or huge numbers, deleted spans."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "empty"]))
        i = draw(st.integers(0, max(len(out), 1)))
        if op == "truncate":
            del out[i:]
        elif op == "flip" and out:
            i = min(i, len(out) - 1)
            out[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            out[i:i] = draw(st.sampled_from(HUGE) | st.binary(max_size=8))
        elif op == "delete":
            del out[i : i + draw(st.integers(1, 16))]
        elif op == "empty":
            out = bytearray()
    return bytes(out)


@st.composite
def line_mutations(draw, text: bytes) -> bytes:
    """Damages at the level of lines and fields: dropped, duplicated, swapped or replaced tokens."""
    lines = text.split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "duplicate", "token", "split"]))
        if op == "drop":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "token":
            fields = lines[i].split(b"\t") if b"\t" in lines[i] else lines[i].split(b" ")
            j = draw(st.integers(0, max(len(fields) - 1, 0)))
            fields[j] = draw(st.sampled_from(HUGE + [b"0|1|1", b"1", b"2", b"./.", b".", b"0/1/0/1", b"A,C,G"]))
            lines[i] = (b"\t" if b"\t" in lines[i] else b" ").join(fields)
        elif op == "split":
            lines[i : i + 1] = [lines[i][: len(lines[i]) // 2], lines[i][len(lines[i]) // 2 :]]
    return b"\n".join(lines)


def mutated(data: bytes):
    return st.one_of(byte_mutations(data), line_mutations(data))


# --- valid seed files -----------------------------------------------------------------


def _cohort(n=6, snps=70, seed=3):
    rng = np.random.default_rng(seed)
    pos = np.sort(rng.choice(np.arange(1000, 100000), snps, replace=False))
    variants = Variants(np.array(["chr20"] * snps), pos, np.array([f"rs{i}" for i in range(snps)]),
                        np.array(["A"] * snps), np.array(["G"] * snps))
    alleles = (rng.random((2 * n, snps)) < 0.3).astype(np.uint8)
    return HaplotypeMatrix.from_numpy(alleles, ids=np.array([f"s{i // 2}_{i % 2}" for i in range(2 * n)]),
                                      variants=variants)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    d = tmp_path_factory.mktemp("seeds")
    h = _cohort()
    io.write_hapt(d / "a.hapt", h)
    io.write_vcf(d / "a.vcf", h)
    io.write_plink(d / "a.bed", h)
    io.save(d / "a.npz", h)
    g = h.to_genotypes().to_numpy()  # EIGENSTRAT, written by hand (genofast only reads it): 9 = missing
    (d / "a.geno").write_text("".join("".join(str(v) for v in g[:, j]) + "\n" for j in range(g.shape[1])))
    v = h.variants
    (d / "a.snp").write_text("".join(f"{v.id[j]} 20 0.0 {v.position[j]} {v.alt[j]} {v.ref[j]}\n"
                                     for j in range(len(v))))
    (d / "a.ind").write_text("".join(f"{s} U pop\n" for s in h.to_genotypes().ids))
    return d


def _fuzz_file(worker, tmp_path_factory, name: str, data: bytes, reader: str) -> str:
    d = tmp_path_factory.mktemp("fuzz", numbered=True)
    path = d / name
    path.write_bytes(data)
    return worker.run(reader, path)


# derandomized: the same inputs on every run (seeded), no shrinking (the failing input is printed as drawn,
# and shrinking a byte string through a subprocess takes minutes)
FUZZ = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None,
            phases=[Phase.explicit, Phase.generate])


def _settings(n):
    return settings(max_examples=n, **FUZZ)


# --- readers ----------------------------------------------------------------------------


def _text_reader_test(name, suffix, n):
    @_settings(n)
    @given(data=st.data())
    def fuzz(worker, seeds, tmp_path_factory, data):
        raw = (seeds / f"a{suffix}").read_bytes()
        blob = data.draw(mutated(raw))
        if data.draw(st.booleans()) and suffix in (".hapt", ".vcf"):
            blob, suffix2 = gzip.compress(blob, mtime=0), suffix + ".gz"
            if data.draw(st.booleans()):  # a cut gzip stream
                blob = blob[: data.draw(st.integers(0, len(blob)))]
        else:
            suffix2 = suffix
        _count(name, _fuzz_file(worker, tmp_path_factory, f"in{suffix2}", blob, name))

    return fuzz


def _hapt(n):
    return _text_reader_test("hapt", ".hapt", n)


def _vcf(n):
    return _text_reader_test("vcf", ".vcf", n)


test_fuzz_hapt = _hapt(QUICK)
test_fuzz_vcf = _vcf(QUICK)


def _bcf_seed(seeds) -> bytes:
    from cyvcf2 import VCF, Writer

    bcf = seeds / "a.bcf"
    if not bcf.exists():
        src = VCF(str(seeds / "a.vcf"))
        w = Writer(str(bcf), src, mode="wb")
        for v in src:
            w.write_record(v)
        w.close()
        src.close()
    return bcf.read_bytes()


def _bcf(n):
    @_settings(n)
    @given(data=st.data())
    def fuzz(worker, seeds, tmp_path_factory, data):
        raw = gzip.decompress(_bcf_seed(seeds))  # mutate the binary records, then re-compress (BGZF-less)
        blob = data.draw(byte_mutations(raw))
        blob = gzip.compress(blob, mtime=0) if data.draw(st.booleans()) else data.draw(byte_mutations(_bcf_seed(seeds)))
        _count("bcf", _fuzz_file(worker, tmp_path_factory, "in.bcf", blob, "bcf"))

    return fuzz


test_fuzz_bcf = _bcf(QUICK)


def _fileset_test(reader: str, exts: tuple, n: int, mutate):
    """Fuzz a reader of several files (``exts``; the first is the one named to the reader): ``mutate(parts,
    data)`` changes some seed files' bytes in ``parts`` and returns new names for any of them (ext -> name)."""
    @_settings(n)
    @given(data=st.data())
    def fuzz(worker, seeds, tmp_path_factory, data):
        d = tmp_path_factory.mktemp(reader, numbered=True)
        parts = {ext: (seeds / f"a{ext}").read_bytes() for ext in exts}
        names = mutate(parts, data)
        for ext, blob in parts.items():
            (d / names.get(ext, f"in{ext}")).write_bytes(blob)
        _count(reader, worker.run(reader, d / names.get(exts[0], f"in{exts[0]}")))

    return fuzz


def _mutate_plink(parts, data) -> dict:
    target = data.draw(st.sampled_from([".bed", ".bim", ".fam", "counts"]))
    if target == ".bed":
        parts[".bed"] = data.draw(byte_mutations(parts[".bed"]))
    elif target == "counts":  # .bim and .fam disagree with the .bed's size
        ext = data.draw(st.sampled_from([".bim", ".fam"]))
        lines = parts[ext].rstrip(b"\n").split(b"\n")
        lines = lines[:-1] if data.draw(st.booleans()) else lines + lines[-1:]
        parts[ext] = b"\n".join(lines) + b"\n"
    else:
        parts[target] = data.draw(mutated(parts[target]))
    return {}


def _mutate_eigenstrat(parts, data) -> dict:
    target = data.draw(st.sampled_from([".geno", ".geno", ".snp", ".ind"]))
    parts[target] = data.draw(mutated(parts[target]))
    if data.draw(st.booleans()):
        parts[".geno"] = gzip.compress(parts[".geno"], mtime=0)
        return {".geno": "in.geno.gz"}
    return {}


def _plink(n):
    return _fileset_test("plink", (".bed", ".bim", ".fam"), n, _mutate_plink)


def _eigenstrat(n):
    return _fileset_test("eigenstrat", (".geno", ".snp", ".ind"), n, _mutate_eigenstrat)


test_fuzz_plink = _plink(QUICK)
test_fuzz_eigenstrat = _eigenstrat(QUICK)


def _npz_arrays(seeds) -> dict:
    with np.load(seeds / "a.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


HOSTILE_ARRAYS = [np.array(2**62), np.array(-5), np.array(0), np.array(np.nan), np.array("haplotypes"),
                  np.array("x"), np.zeros((3, 1), np.uint64), np.zeros(0), np.array([b"\xff"]),
                  np.full((12, 2), 2**64 - 1, np.uint64), np.zeros((12, 2), np.float64), np.array([[1, 2], [3, 4]])]


def _npz(n):
    @_settings(n)
    @given(data=st.data())
    def fuzz(worker, seeds, tmp_path_factory, data):
        if data.draw(st.booleans()):
            blob = data.draw(byte_mutations((seeds / "a.npz").read_bytes()))
        else:  # a well-formed archive with hostile contents
            arrays = _npz_arrays(seeds)
            for _ in range(data.draw(st.integers(1, 3))):
                key = data.draw(st.sampled_from(sorted(arrays)))
                if data.draw(st.booleans()):
                    del arrays[key]
                else:
                    arrays[key] = data.draw(st.sampled_from(HOSTILE_ARRAYS))
            buf = pyio.BytesIO()
            np.savez(buf, **arrays)
            blob = buf.getvalue()
        _count("npz", _fuzz_file(worker, tmp_path_factory, "in.npz", blob, "npz"))

    return fuzz


test_fuzz_npz = _npz(QUICK)


# --- checkpoints ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    from genofast.models import RBM, Bernoulli, ConditionalRBMChain, MarkovChain

    d = tmp_path_factory.mktemp("ckpt")
    h = _cohort(n=10, snps=24)
    RBM(24, 4, k=1, n_chains=4).fit(h, epochs=2, seed=1, eval_every=1, n_eval=10).save(d / "rbm.safetensors")
    ConditionalRBMChain(24, window=12, n_hidden=4, k=1).fit(h, epochs=1, seed=1).save(d / "crbm.safetensors")
    Bernoulli().fit(h).save(d / "bernoulli.safetensors")
    MarkovChain(2).fit(h).save(d / "markov.safetensors")
    return d


def _split_safetensors(blob: bytes):
    n = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8 : 8 + n]), blob[8 + n :]


def _join_safetensors(header: dict, body: bytes) -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + body


HOSTILE_VALUES = [None, -1, 0, 2**63, 1e308, float("nan"), "relu", "x", [], {}, [1, 2], True, 10**40]


def _mutate_config(data, blob: bytes) -> bytes:
    header, body = _split_safetensors(blob)
    meta = header["__metadata__"]
    config = json.loads(meta["config"])
    # walk to a random nested dict of the config and damage one of its keys
    node = config
    while True:
        dicts = [v for v in node.values() if isinstance(v, dict)]
        if not dicts or data.draw(st.booleans()):
            break
        node = data.draw(st.sampled_from(dicts))
    lists = [v for v in node.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
    if lists and data.draw(st.booleans()):  # a window model's config inside a chain
        node = data.draw(st.sampled_from(lists))[0]
    if node:
        key = data.draw(st.sampled_from(sorted(node)))
        if data.draw(st.booleans()):
            del node[key]
        else:
            node[key] = data.draw(st.sampled_from(HOSTILE_VALUES))
    meta["config"] = json.dumps(config)  # json writes NaN as NaN, which json.loads reads back
    if data.draw(st.booleans()):
        meta["genofast_model"] = data.draw(st.sampled_from(["rbm", "crbm_chain", "bernoulli", "markov", "gan", ""]))
    return _join_safetensors(header, body)


def _mutate_tensor(data, blob: bytes) -> bytes:
    """Overwrite one tensor's values with NaN/inf/huge bytes, keeping the file well-formed."""
    header, body = _split_safetensors(blob)
    names = [k for k in header if k != "__metadata__"]
    info = header[data.draw(st.sampled_from(sorted(names)))]
    start, end = info["data_offsets"]
    body = bytearray(body)
    if end > start:
        fill = data.draw(st.sampled_from([b"\x00\x00\xc0\x7f", b"\x00\x00\x80\x7f", b"\xff\xff\xff\xff"]))
        i = data.draw(st.integers(start, end - 1)) // 4 * 4
        body[i : i + 4] = fill[: min(4, end - i)]
    if data.draw(st.booleans()):  # claim another shape
        info["shape"] = data.draw(st.sampled_from([[0], [1, 1], [2**40], [-1]]))
    return _join_safetensors(header, bytes(body))


def _checkpoint(n):
    @_settings(n)
    @given(data=st.data())
    def fuzz(worker, checkpoints, tmp_path_factory, data):
        kind = data.draw(st.sampled_from(["rbm", "crbm", "bernoulli", "markov"]))
        raw = (checkpoints / f"{kind}.safetensors").read_bytes()
        how = data.draw(st.sampled_from(["bytes", "config", "tensor"]))
        blob = data.draw(byte_mutations(raw)) if how == "bytes" else \
            _mutate_config(data, raw) if how == "config" else _mutate_tensor(data, raw)
        _count("checkpoint", _fuzz_file(worker, tmp_path_factory, "in.safetensors", blob, "checkpoint"))

    return fuzz


test_fuzz_checkpoint = _checkpoint(QUICK)


# --- the long run -------------------------------------------------------------------------------

test_fuzz_hapt_long = pytest.mark.slow(_hapt(LONG))
test_fuzz_vcf_long = pytest.mark.slow(_vcf(LONG))
test_fuzz_bcf_long = pytest.mark.slow(_bcf(LONG))
test_fuzz_plink_long = pytest.mark.slow(_plink(LONG))
test_fuzz_eigenstrat_long = pytest.mark.slow(_eigenstrat(LONG))
test_fuzz_npz_long = pytest.mark.slow(_npz(LONG))
test_fuzz_checkpoint_long = pytest.mark.slow(_checkpoint(LONG))


def teardown_module(module):
    for reader, c in sorted(COUNTS.items()):
        print(f"fuzz {reader}: {c['ok'] + c['error']} inputs, {c['ok']} read, {c['error']} refused, "
              "0 crashes, 0 hangs, 0 escaped errors")


# --- the command line -----------------------------------------------------------------------------

VALUES = ["0", "1", "2", "-1", "3", "1e3", "nan", "inf", "-inf", "2147483648", "9223372036854775808", "10" * 20,
          "", "abc", "--", "-n", "relu", "rdm", "0.5", "\u00e9", "[red]x[/red]"]
OPTIONS = {
    "generate": ["-n", "--k", "--seed", "--threads", "--max-distance", "--device", "--training", "--out"],
    "train": ["--epochs", "--hidden", "--k", "--lr", "--batch-size", "--chains", "--units", "--training", "--seed",
              "--eval-every", "--window", "--model", "--threads", "--out"],
    "simulate": ["--haplotypes", "--snps", "--seed", "--threads", "--out"],
    "info": ["--threads", "--legend"],
    "impute": ["--sweeps", "--burn-in", "--seed", "--out", "--window", "--learner"],
}


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    from genofast.models import RBM

    d = tmp_path_factory.mktemp("cli")
    h = _cohort(n=10, snps=30)
    io.write_hapt(d / "train.hapt", h)
    RBM(30, 4, k=1, n_chains=4).fit(h, epochs=1, seed=1).save(d / "rbm.safetensors")
    return d


def _cli(n):
    @_settings(n)
    @given(data=st.data())
    def fuzz(cli_files, tmp_path_factory, data):
        from typer.testing import CliRunner

        from genofast.cli import app

        out_dir = tmp_path_factory.mktemp("out", numbered=True)
        command = data.draw(st.sampled_from(sorted(OPTIONS)))
        files = [str(cli_files / "train.hapt"), str(cli_files / "rbm.safetensors"), str(out_dir / "x.vcf"),
                 str(cli_files / "missing.hapt")]
        args = [command]
        if command in ("generate", "impute"):
            args.append(data.draw(st.sampled_from(files[1:] + ["trio-boost"])))
        if command in ("train", "info", "impute"):
            args.append(data.draw(st.sampled_from(files)))
        for _ in range(data.draw(st.integers(0, 4))):
            option = data.draw(st.sampled_from(OPTIONS[command]))
            value = data.draw(st.sampled_from(VALUES + files + [str(out_dir / n) for n in ("o.npz", "o.hapt", "d/")]))
            args += [option, value]
        if command in ("generate", "train", "impute", "simulate") and "--out" not in args:
            # never the default --out, which is relative to the working directory (the source tree)
            args += ["--out", str(out_dir / ("sim" if command == "simulate" else "o.npz"))]
        # small defaults where the draw gave none: the fuzz is about argument handling, not long runs
        for cmd, option, value in (("train", "--epochs", "1"), ("train", "--k", "1"), ("generate", "-n", "10"),
                                   ("generate", "--k", "2"), ("simulate", "--haplotypes", "12"),
                                   ("simulate", "--snps", "20"), ("impute", "--sweeps", "3")):
            if command == cmd and option not in args:
                args += [option, value]
        before = set(out_dir.rglob("*"))
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(HANG_SECONDS)
        cwd = os.getcwd()
        os.chdir(out_dir)  # a drawn value may be a relative --out: it must land here, not in the source tree
        try:
            r = CliRunner().invoke(app, args)
        except _Hang:
            pytest.fail(f"hang: genofast {' '.join(args)}")
        finally:
            signal.alarm(0)
            os.chdir(cwd)
        assert r.exit_code in (0, 1, 2), (args, r.output)
        # no traceback: an exit code of 1 or 2 came from a SystemExit after one line on stderr
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            pytest.fail(f"genofast {' '.join(args)}: {type(r.exception).__name__}: {r.exception}")
        if r.exit_code == 1:
            assert r.output.count("error:") == 1 and len(r.output.strip().splitlines()) <= 3, (args, r.output)
        created = set(out_dir.rglob("*")) - before
        if r.exit_code != 0:  # a failed command leaves nothing behind, not even a temporary file
            assert not [p for p in created if p.is_file()], (args, created)
        _count("cli", "ok" if r.exit_code == 0 else "error")

    return fuzz


test_fuzz_cli = _cli(40)
test_fuzz_cli_long = pytest.mark.slow(_cli(400))
