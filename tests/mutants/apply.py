#!/usr/bin/env python3
"""Applies one mutant to a source tree, or lists them.

A mutant file (NAME.mutant) is a few header lines, then one or more edits:

    # A one-line description of the defect it brings back.
    # source: where the defect comes from (the reference's fix it reverts, a QEMU commit, a classic mistake)
    @@@ engine/some_file.cc
    <<<
    exact text to find (once)
    ===
    text to put there
    >>>

An edit whose text is not found exactly once is an error: the mutant no longer
applies and must be updated, never silently skipped.
"""
import pathlib
import sys


def parse(path):
    lines = pathlib.Path(path).read_text().split("\n")
    description, source, edits = "", "", []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("# source:"):
            source = line[len("# source:"):].strip()
        elif line.startswith("# ") and not description:
            description = line[2:].strip()
        elif line.startswith("@@@ "):
            target = line[4:].strip()
            assert lines[i + 1] == "<<<", f"{path}:{i + 2}: expected <<<"
            j = lines.index("===", i + 2)
            k = lines.index(">>>", j + 1)
            edits.append((target, "\n".join(lines[i + 2:j]), "\n".join(lines[j + 1:k])))
            i = k
        i += 1
    return description, source, edits


def apply(path, root):
    _, _, edits = parse(path)
    if not edits:
        sys.exit(f"{path}: no edits")
    for target, find, replace in edits:
        file = pathlib.Path(root) / target
        text = file.read_text()
        count = text.count(find)
        if count != 1:
            sys.exit(f"{path}: the text to replace occurs {count} times in {target} (expected once): update the mutant")
        file.write_text(text.replace(find, replace))
    return [target for target, _, _ in edits]


def check(paths, root):
    """Every mutant still applies to `root`: each edit's text occurs exactly once."""
    stale = []
    for path in paths:
        _, _, edits = parse(path)
        for target, find, _ in edits:
            count = (pathlib.Path(root) / target).read_text().count(find)
            if count != 1:
                stale.append(f"{path}: the text to replace occurs {count} times in {target} (expected once)")
    return stale


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--check":
        stale = check(sys.argv[3:] or sorted(str(p) for p in pathlib.Path(sys.argv[2], "tests", "mutants").glob("*.mutant")),
                      sys.argv[2])
        for line in stale:
            print(line)
        sys.exit(1 if stale else 0)
    if len(sys.argv) == 3 and sys.argv[1] == "--describe":
        d, s, edits = parse(sys.argv[2])
        print(f"{d}\t{s}\t{' '.join(sorted({t for t, _, _ in edits}))}")
    elif len(sys.argv) == 3:
        print(" ".join(apply(sys.argv[1], sys.argv[2])))
    else:
        sys.exit("usage: apply.py MUTANT ROOT | apply.py --describe MUTANT | apply.py --check ROOT [MUTANT...]")
