"""Print pip constraints pinning every dependency of pyproject.toml to its floor.

Reads [project] dependencies and the extras named on the command line (default:
test) and turns each "name>=X" into "name==X", so the oldest-versions CI stage
installs exactly the floors pyproject.toml promises: the floors and the job
cannot drift apart. A requirement without a ">=" floor is an error.
"""
import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
extras = sys.argv[1:] or ["test"]
reqs = list(project["dependencies"])
for extra in extras:
    reqs += project["optional-dependencies"][extra]

pins = {}
for req in reqs:
    m = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*", req)
    if not m:
        sys.exit(f"{req!r}: the oldest-versions stage needs a plain 'name>=floor' requirement")
    name, floor = re.sub(r"[-_.]+", "-", m[1]).lower(), m[2]
    if pins.setdefault(name, floor) != floor:
        sys.exit(f"{name}: two floors, {pins[name]} and {floor}")
print("\n".join(f"{name}=={floor}" for name, floor in pins.items()))
