"""The packages installed in this Python environment and the packages each requires, as a
pair file for ``embed train``: one row per requirement, ``package,required``.

Run it with the Python whose packages you want to map::

    python python_packages.py > packages.csv
    embed train packages.csv --model packages

Only requirements that are installed count (the graph of this environment), and optional ones
(those of an extra) are left out. Names are normalised as pip compares them (``Foo_Bar`` is
``foo-bar``).
"""

from __future__ import annotations

import csv
import re
import sys
from importlib.metadata import distributions


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_pairs() -> list[tuple[str, str]]:
    """Every (package, required package) of the installed distributions, sorted."""
    installed = {normalise(d.metadata["Name"]): d for d in distributions() if d.metadata["Name"]}
    pairs = set()
    for name, distribution in installed.items():
        for requirement in distribution.requires or []:
            if re.search(r"\bextra\s*==", requirement):
                continue
            found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
            required = normalise(found.group(0)) if found else ""
            if required in installed and required != name:
                pairs.add((name, required))
    return sorted(pairs)


def main() -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["item_a", "item_b"])
    writer.writerows(requirement_pairs())


if __name__ == "__main__":
    main()
