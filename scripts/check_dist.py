"""Check the built sdist and wheel (scripts/test.sh, docs/testing.rst).

Run after ``python -m build -o DIR``: ``python scripts/check_dist.py DIR``.
Fails when the wheel misses a file of the package an app needs at run time
(templates, migrations, catalogues, static files, py.typed) or the LICENSE,
or when the sdist misses any tracked file of the package or the test suite
(it ships the whole suite, never part of it).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

RUNTIME = ("/templates/", "/migrations/", "/locale/", "/static/", "py.typed")


def tracked(*paths: str) -> set[str]:
    out = subprocess.check_output(["git", "ls-files", *paths], text=True)
    return {line for line in out.splitlines() if line and "__pycache__" not in line}


def main(dist: Path) -> int:
    [wheel] = dist.glob("*.whl")
    [sdist] = dist.glob("*.tar.gz")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    problems = []
    package = tracked("django_order_mail")
    needed = {p for p in package if p.endswith(".py") or any(part in p for part in RUNTIME)}
    problems += [f"wheel lacks {p}" for p in sorted(needed - in_wheel)]
    if not any(n.endswith("/licenses/LICENSE") for n in in_wheel):
        problems.append("wheel lacks LICENSE")
    problems += [f"sdist lacks {p}" for p in sorted((package | tracked("tests") | {"LICENSE"}) - in_sdist)]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{wheel.name}: {len(in_wheel)} files; {sdist.name}: {len(in_sdist)} files")
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
