"""memvault-hooks benchmarks: our commands against a baseline, run alternately in one run.

    python benchmarks/run.py [CASE...] [--quick] [--runs N] [--keep]

Every case builds its own temporary projects, vaults and repositories (with a private
HOME and XDG folders), then runs our command and its baseline one after the other, N
times, swapping which goes first every round (these machines are noisy). It prints min /
median / max of the wall time of each, the peak RSS (the process and every child it
waited for, from wait4) and the ratio of the medians, ours / baseline, against the goal.
Nothing here asserts a time: the figures are for people (README "Performance").
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases as c  # noqa: E402
import workloads as w  # noqa: E402

DEFAULT_RUNS = 15
QUICK_RUNS = 3


GNU_TIME = "/usr/bin/time"


def measure(cmd: c.Command, i: int, rss: bool = False) -> tuple[float, float]:
    """Run one command: wall seconds, and peak RSS in MB of it and its waited-for children.

    A child's ru_maxrss (wait4) starts from the RSS of the process that forked it, so
    where peak memory is asked the command runs under GNU time (a small C program),
    whose %M is the peak of the command and all the children it waited for.
    """
    if cmd.before:
        cmd.before(i)
    argv = cmd.argv
    report = None
    if rss and os.access(GNU_TIME, os.X_OK):
        report = tempfile.NamedTemporaryFile(prefix="rss-", delete=False)
        report.close()
        argv = [GNU_TIME, "-f", "%M", "-o", report.name, *argv]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cmd.cwd, env=cmd.env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=out)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            out.seek(0)
            raise RuntimeError(f"{' '.join(cmd.argv)} exited {proc.returncode}:\n{out.read().decode(errors='replace')}")
    if cmd.after:
        cmd.after(i)
    peak_kb = usage.ru_maxrss
    if report is not None:
        with open(report.name, encoding="ascii") as f:
            peak_kb = int(f.read().split()[-1])
        os.unlink(report.name)
    return elapsed, peak_kb / 1024


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms" if seconds < 10 else f"{seconds:9.2f} s "


def _line(label: str, times: list[float], rss: list[float] | None) -> str:
    return (f"   {label:9} min {_ms(min(times))}  median {_ms(statistics.median(times))}  "
            f"max {_ms(max(times))}  mean {_ms(statistics.fmean(times))}"
            + (f"  peak RSS {max(rss):7.1f} MB" if rss else ""))


def run_case(case: c.Case, runs: int) -> dict[str, object]:
    runs = case.runs or runs
    print(f"\n== {case.name}: {case.title}  ({runs} runs each, alternating)", flush=True)
    for note in case.notes:
        print(f"   note: {note}")
    commands = {"ours": case.ours, "base": case.base}
    if case.floor is not None:
        commands["floor"] = case.floor
    sides = list(commands)
    t: dict[str, list[float]] = {side: [] for side in sides}
    m: dict[str, list[float]] = {side: [] for side in sides}
    for i in range(runs):
        for side in sides[i % len(sides):] + sides[:i % len(sides)]:  # who goes first rotates
            elapsed, rss = measure(commands[side], i, case.peak_rss)
            t[side].append(elapsed)
            m[side].append(rss)
    print(_line("ours", t["ours"], m["ours"] if case.peak_rss else None))
    print(_line("baseline", t["base"], m["base"] if case.peak_rss else None))
    time_ratio = statistics.median(t["ours"]) / statistics.median(t["base"])
    if case.floor is not None:
        print(_line("floor", t["floor"], None))
        floor_ratio = statistics.median(t["floor"]) / statistics.median(t["base"])
        print(f"   floor / baseline: {floor_ratio:.2f} (the least any Python sync does here: start, one lstat "
              f"a memory file{', then the same git add + commit' if len(case.floor.argv) > 4 else ''})")
    row: dict[str, object] = {"case": case.name, "ours": statistics.median(t["ours"]),
                              "base": statistics.median(t["base"]), "rss": max(m["ours"])}
    if case.result is not None:
        ratio, detail, met = case.result()
        print(f"   time of each run, ours / baseline: {time_ratio:.2f}")
        print(f"   ratio {case.name}: {ratio:.3f} (size, ours / baseline) {detail}")
        row.update(ratio=ratio, met=met, detail=detail)
        return row
    if case.floor_goal is not None:   # judged against the floor: what any Python sync must do here
        time_ratio = statistics.median(t["ours"]) / statistics.median(t["floor"])
        row["base"] = statistics.median(t["floor"])
        print(f"   ratio {case.name}: {time_ratio:.2f} (ours / floor; goal <= {case.floor_goal:.1f}: "
              f"{'met' if time_ratio <= case.floor_goal else 'NOT met'})", flush=True)
        row.update(ratio=time_ratio, met=time_ratio <= case.floor_goal)
        return row
    verdict = "report only" if case.goal is None else \
        f"goal <= {case.goal:.1f}: {'met' if time_ratio <= case.goal else 'NOT met'}"
    extra = ""
    if case.peak_rss:
        extra = f"; peak RSS {max(m['ours']):.0f} MB (goal <= 128 MB: {'met' if max(m['ours']) <= 128 else 'NOT met'})"
    print(f"   ratio {case.name}: {time_ratio:.2f} ({verdict}){extra}", flush=True)
    row.update(ratio=time_ratio, met=None if case.goal is None else time_ratio <= case.goal)
    return row


def import_check(root: str, env: dict[str, str]) -> None:
    """Show with `python -X importtime` what the no-change paths import (issue 2 and 3)."""
    project, _ = w.make_project(root, env, c.eight_files())
    w.sync(project, env)
    print("\n== imports on the no-change paths (python -X importtime)")
    for args in (["sync", "--quiet"], ["hook", "post-commit"]):
        proc = subprocess.run([w.PYTHON, "-X", "importtime", "-m", "memvault_hooks", *args], cwd=project,
                              env=env, capture_output=True, text=True)
        modules = {m.group(1).strip() for m in re.finditer(r"^import time:.*\|\s*(\S+)\s*$", proc.stderr, re.M)}
        total = sum(int(m.group(1)) for m in re.finditer(r"^import time:\s*(\d+)\s*\|", proc.stderr, re.M))

        def has(prefix: str) -> str:
            return "yes" if any(mod == prefix or mod.startswith(prefix + ".") for mod in modules) else "no"

        print(f"   memvault {' '.join(args)}: GitPython (git) imported: {has('git')}; yaml: {has('yaml')}; "
              f"subprocess: {has('subprocess')}; platformdirs: {has('platformdirs')}; "
              f"{len(modules)} modules, {total / 1000:.1f} ms of imports")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"any of: {', '.join(c.BUILDERS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="reduced sizes and runs (CI)")
    parser.add_argument("--runs", type=int, help=f"runs of each side (default {DEFAULT_RUNS}, quick {QUICK_RUNS})")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    unknown = [name for name in args.cases if name not in c.BUILDERS]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(c.BUILDERS)}")
    names = args.cases or list(c.BUILDERS)
    runs = args.runs or (QUICK_RUNS if args.quick else DEFAULT_RUNS)
    sizes = c.Sizes(quick=args.quick)
    root = tempfile.mkdtemp(prefix="memvault-bench-")
    env = w.private_env(os.path.join(root, "home"))
    python = w.plain_install(root)
    if python is not None:
        w.use_python(python)
    else:
        env["PYTHONPATH"] = w.REPO
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"memvault-hooks benchmarks: {'quick' if args.quick else 'full size'}, python "
          f"{sys.version.split()[0]}, {git_version}, {os.cpu_count()} CPUs; temp {root}")
    print(f"python for both sides: {w.PYTHON}" + (" (memvault_hooks as a plain folder on sys.path)"
                                                    if python else " (PYTHONPATH)"))
    rows = []
    try:
        import_check(os.path.join(root, "imports"), env)
        for name in names:
            where = os.path.join(root, name)
            os.makedirs(where)
            started = time.monotonic()
            try:
                case = c.BUILDERS[name](where, env, sizes)
            except c.Skip as exc:
                print(f"\n== {name}: skipped: {exc}\n   ratio {name}: n/a (skipped)")
                continue
            print(f"   (set up in {time.monotonic() - started:.1f} s)", end="")
            rows.append(run_case(case, runs))
            if not args.keep:
                shutil.rmtree(where, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print("\n| case | ours (median) | baseline or floor (median) | ratio | goal met |")
    print("|---|---|---|---|---|")
    for row in rows:
        met = {True: "yes", False: "**no**", None: "—"}[row["met"]]  # type: ignore[index]
        print(f"| {row['case']} | {_ms(row['ours']).strip()} | {_ms(row['base']).strip()} | "  # type: ignore[arg-type]
              f"{row['ratio']:.2f} | {met} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
