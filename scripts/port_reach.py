#!/usr/bin/env python3
"""Which library scenario reaches each function of the reference.

Runs every scenario of scenarios/library in a coverage build of blksim (clang,
-DBLKSIM_COVERAGE=ON; the test script's build/asan is one), one profile per
scenario, asks llvm-cov which engine functions ran, and writes the "reached
by" column of the map in docs/port-audit.md: the first scenario (by name)
whose seeds 0 to 2 run the engine function a reference function became, else "unit tests"
when the merged profile of the test suite (BUILD/merged.profdata, which
scripts/coverage.sh --report writes as the build's last test) runs it, else
"not reached".

    python3 scripts/port_reach.py [BUILD_DIR] [--check]

--check leaves the file alone and exits 1 if the column it computes differs
from the one written (the map must say what the harness does).
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUDIT = os.path.join(ROOT, "docs", "port-audit.md")
LIBRARY = os.path.join(ROOT, "scenarios", "library")
BEGIN = "<!-- reach:begin -->"
SEEDS = 3  # seeds run per scenario
WORKERS = 2  # scenarios measured at once
END = "<!-- reach:end -->"

# Reference functions whose body lives in an engine function of another name.
RENAMED = {
    "bdrv_merge_limits": ["merge_limits"],
    "bdrv_drain_invoke_entry": ["bdrv_drain_invoke"],
    "bdrv_co_drain_bh_cb": ["bdrv_co_drained_begin"],
    "bdrv_co_yield_to_drain": ["bdrv_co_drained_begin"],
    "dummy_bh_cb": ["bdrv_wakeup"],
    "bdrv_rw_co_entry": ["rw_co_entry"],
    "bdrv_prwv_co": ["rw_co_entry"],
    "bdrv_rw_co": ["rw_co_entry"],
    "bdrv_co_io_em_complete": ["CoroutineIOCompletion::callback"],
    "bdrv_co_do_readv": ["bdrv_co_readv"],
    "bdrv_co_do_writev": ["bdrv_co_writev"],
    "bdrv_get_block_status_above_co_entry": ["in_coroutine::bdrv_get_block_status_above"],
    "bdrv_co_rw_vmstate_entry": ["in_coroutine::bdrv_readv_vmstate", "in_coroutine::bdrv_writev_vmstate"],
    "bdrv_rw_vmstate": ["bdrv_readv_vmstate", "bdrv_writev_vmstate"],
    "bdrv_flush_co_entry": ["in_coroutine::bdrv_flush"],
    "bdrv_pdiscard_co_entry": ["in_coroutine::bdrv_pdiscard"],
}


def run(cmd, **kw):
    # llvm-cov warns of functions whose hashes differ between the binaries
    # (the same inline function in each): harmless here, so kept off the output.
    return subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, **kw).stdout


def reached_functions(build, profile, binaries):
    """Engine functions (qualified names without engine::) that ran."""
    objects = [binaries[0]]
    for b in binaries[1:]:
        objects += ["-object", b]
    out = run(["llvm-cov-14", "report", "-show-functions", "-instr-profile=" + profile] + objects +
              [os.path.join(ROOT, "engine") + "/"])
    ran = []
    for line in out.splitlines():
        # "_ZN6engine16bdrv_co_pdiscardERNS_16BlockDriverStateEli   74   5  93.24% ..." (mangled; a
        # function of internal linkage is prefixed with its file, "unity_1_cxx.cxx:")
        m = re.match(r"^(\S+)\s+(\d+)\s+(\d+)\s+\d", line)
        if not m or m.group(1) in ("Name", "TOTAL"):
            continue
        regions, missed = int(m.group(2)), int(m.group(3))
        if regions > 0 and missed < regions:
            ran.append(m.group(1).split(":")[-1])
    demangled = run(["c++filt"], input="\n".join(ran) + "\n").splitlines()
    names = set()
    for full in demangled:
        name = full.replace("(anonymous namespace)::", "").split("(")[0]
        name = re.sub(r"^engine::", "", name)
        names.add(name)
        if not name.startswith(("in_coroutine::", "CoroutineIOCompletion::")):
            names.add(name.split("::")[-1])
    return names


def engine_names(ref):
    return RENAMED.get(ref, [ref, "in_coroutine::" + ref])


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    check = "--check" in sys.argv[1:]
    build = args[0] if args else os.path.join(ROOT, "build", "asan")
    blksim = os.path.join(build, "blksim")
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")) or \
            "BLKSIM_COVERAGE:BOOL=ON" not in open(os.path.join(build, "CMakeCache.txt")).read():
        sys.exit(f"port_reach: {build} is not a build configured with -DBLKSIM_COVERAGE=ON")
    scenarios = sorted(f for f in os.listdir(LIBRARY) if f.endswith(".toml"))
    reach = {}  # scenario -> engine functions, in scenario order

    def measure(scenario, tmp):
        raw = os.path.join(tmp, "%p.profraw")
        env = dict(os.environ, LLVM_PROFILE_FILE=raw)
        # In this process (explore's workers end without writing a profile), a
        # few seeds each. Failures are fine: a known defect's scenario still
        # reaches what it reaches.
        for seed in range(SEEDS):
            subprocess.run([blksim, "run", os.path.join(LIBRARY, scenario), "--seed", str(seed)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        profiles = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".profraw")]
        merged = os.path.join(tmp, scenario + ".profdata")
        run(["llvm-profdata-14", "merge", "-sparse", "-o", merged] + profiles)
        return reached_functions(build, merged, [blksim])

    # Two scenarios at a time (the machine's cores), each in a directory of its own.
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {}
        for scenario in scenarios:
            own = os.path.join(tmp, scenario)
            os.mkdir(own)
            futures[scenario] = pool.submit(measure, scenario, own)
        for scenario in scenarios:
            reach[scenario[:-5]] = futures[scenario].result()
    tests = set()
    suite_profile = os.path.join(build, "merged.profdata")
    if os.path.exists(suite_profile):
        binaries = [os.path.join(build, "tests", "engine_tests")] + \
            [os.path.join(build, "tests", b) for b in ("sim_tests", "scenario_tests", "viz_tests")] + [blksim]
        tests = reached_functions(build, suite_profile, [b for b in binaries if os.path.exists(b)])

    text = open(AUDIT).read()
    head, rest = text.split(BEGIN, 1)
    table, tail = rest.split(END, 1)
    rows = []
    counts = {"scenario": 0, "tests": 0, "none": 0}
    for line in table.strip().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].isdigit():
            continue
        ref = cells[1].strip("`")
        names = engine_names(ref)
        by = next((s for s in reach if any(n in reach[s] for n in names)), None)
        if by is not None:
            where = by
            counts["scenario"] += 1
        elif any(n in tests for n in names):
            where = "unit tests"
            counts["tests"] += 1
        else:
            where = "not reached"
            counts["none"] += 1
        rows.append(f"| {cells[0]} | {cells[1]} | {cells[2]} | {where} |")
    new_table = "\n".join(["", "| line | reference | engine | reached by |", "|---|---|---|---|"] + rows + [""])
    summary = (f"{counts['scenario']} reached by a library scenario, {counts['tests']} by unit tests only, "
               f"{counts['none']} not reached")
    out = head + BEGIN + new_table + END + tail
    if check:
        if out != text:
            print("port_reach: docs/port-audit.md's reached-by column is out of date (" + summary + ")")
            return 1
        print("port_reach: up to date (" + summary + ")")
        return 0
    open(AUDIT, "w").write(out)
    print("port_reach: wrote docs/port-audit.md (" + summary + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
