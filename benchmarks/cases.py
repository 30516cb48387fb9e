"""The benchmark cases (issue 6's table, and the figures of issues 2 and 3).

Each builder makes its own projects, vaults and plain repositories under `root`, and
returns a Case: our command and its baseline, with what changes between runs.
"""
from __future__ import annotations

import dataclasses
import json
import marshal
import os
import shutil
import subprocess
import sys
from collections.abc import Callable

import workloads as w

KB = 1000
MB = 1 << 20


@dataclasses.dataclass
class Command:
    argv: list[str]
    cwd: str
    env: dict[str, str]
    before: Callable[[int], None] | None = None   # untimed, gets the run number
    after: Callable[[int], None] | None = None    # untimed


@dataclasses.dataclass
class Case:
    name: str
    title: str
    ours: Command
    base: Command
    goal: float | None = None                     # ratio of medians, ours / baseline
    runs: int | None = None                       # fixed number of runs (else the default)
    peak_rss: bool = False
    notes: list[str] = dataclasses.field(default_factory=list)
    # For cases judged on something other than time: () -> (ratio, detail, met)
    result: Callable[[], tuple[float, str, bool | None]] | None = None
    # The least any backup written in Python must do here, timed alongside: when it alone
    # misses the goal, no Python implementation can meet it on this machine.
    floor: Command | None = None
    floor_goal: float | None = None               # ratio of medians, ours / floor (issue 12's goals)


@dataclasses.dataclass(frozen=True)
class Sizes:
    quick: bool

    @property
    def many(self) -> int:
        return 500 if self.quick else 5000

    @property
    def big(self) -> int:
        return 8 * MB if self.quick else 256 * MB

    @property
    def big_runs(self) -> int:
        return 2 if self.quick else 5

    @property
    def history(self) -> int:
        return 30 if self.quick else 300


SEED_NAMES = ("memory.json", "github_copilot_memories.json", "gpt4o_memories.json", "extendedcontext.json",
              "claude_opus_memories.json", "claude_sonnet_memories.json", "gemini_pro_memories.json",
              "gpt4_memories.json")

# The seed-style backup: copy every memory file into a repository, `git add .`, `git commit`.
SEED_SCRIPT = """\
import shutil, subprocess, sys
src, repo = sys.argv[1], sys.argv[2]
for name in sys.argv[3:]:
    shutil.copy2(f"{src}/{name}", f"{repo}/{name}")
subprocess.run(["git", "add", "."], cwd=repo, check=True)
subprocess.run(["git", "commit", "-q", "-m", "backup"], cwd=repo, check=True)
"""


# The floor of a Python sync of many files: start the interpreter, lstat every memory file
# once (nothing else can tell that none changed), then, given a repository, have git add
# and commit the changed ones exactly as the baseline does.
FLOOR_SCRIPT = """\
import marshal, os, sys
src, names = sys.argv[1], sys.argv[2]
with open(names, "rb") as f:
    paths = marshal.loads(f.read())
fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY)
for path in paths:
    os.lstat(path, dir_fd=fd)
if len(sys.argv) > 3:
    os.chdir(sys.argv[3])
    os.execvp("sh", ["sh", "-c", 'git add -- "$@" && git commit -q -m backup', "sh", *sys.argv[4:]])
"""


def _floor_script(root: str, source: str, rels: list[str]) -> list[str]:
    """The floor script's argv up to its optional repository arguments."""
    script = os.path.join(root, "floor.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(FLOOR_SCRIPT)
    names = os.path.join(root, "floor-names.marshal")
    with open(names, "wb") as f:
        f.write(marshal.dumps(rels))
    return [w.PYTHON, script, source, names]


def eight_files() -> dict[str, bytes]:
    return {name: w.json_bytes(100 * KB, seed) for seed, name in enumerate(SEED_NAMES)}


def _primed(root: str, env: dict[str, str], files: dict[str, bytes] | None = None,
            patterns: tuple[str, ...] | None = None) -> tuple[str, str]:
    project, vault = w.make_project(root, env, files if files is not None else eight_files(), patterns)
    w.sync(project, env)
    return project, vault


def hook_nochange(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    project, _ = _primed(root, env)
    w.run([*w.MEMVAULT, "install-hooks"], project, env)
    noop = os.path.join(root, "noop-post-commit")
    with open(noop, "w", encoding="utf-8") as f:
        f.write(w.noop_hook())
    os.chmod(noop, 0o755)
    return Case("hook-nochange", "the installed post-commit hook script, nothing changed vs a hook script "
                "that runs `python -c pass`",
                Command([os.path.join(project, ".git", "hooks", "post-commit")], project, env),
                Command([noop], project, env), goal=1.5)


def sync_nochange(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    project, _ = _primed(root, env)
    return Case("sync-nochange", "`memvault sync`, 8 files, nothing changed vs `python -c pass`",
                Command([*w.MEMVAULT, "sync", "--quiet"], project, env),
                Command([w.PYTHON, "-c", "pass"], project, env), goal=None)


def sync_one_of_eight(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    project, _ = _primed(os.path.join(root, "ours"), env)
    seed_src = os.path.join(root, "seed-src")
    shutil.copytree(project, seed_src, ignore=shutil.ignore_patterns(".git"))
    repo = w.plain_repo(os.path.join(root, "seed"), env)
    script = os.path.join(root, "seed_backup.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(SEED_SCRIPT)
    w.run([w.PYTHON, script, seed_src, repo, *SEED_NAMES], repo, env)
    return Case("sync-1of8", "`memvault sync`, 1 of 8 x 100 KB files changed vs seed-style script "
                "(copy all, `git add .`, `git commit`)",
                _sync_after_bump(project, env),
                Command([w.PYTHON, script, seed_src, repo, *SEED_NAMES], repo, env,
                        before=_bump_memory(seed_src)),
                goal=2.0)


def _bump_memory(folder: str) -> Callable[[int], None]:
    """Before run i: a small edit of `folder`'s memory.json (workloads.bump)."""
    return lambda i: w.bump(os.path.join(folder, "memory.json"), i + 1)


def _sync_after_bump(project: str, env: dict[str, str]) -> Command:
    """`memvault sync --quiet` in `project`, its memory.json edited before each run."""
    return Command([*w.MEMVAULT, "sync", "--quiet"], project, env, before=_bump_memory(project))


def secret_scan(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    """Scanning costs what it reads: only the changed file's new version is scanned."""
    ours, _ = _primed(os.path.join(root, "ours"), env)
    off = dict(env, MEMVAULT_BENCH_NO_SECRET_SCAN="1")  # the baseline's switch, for benchmarks only
    base, _ = _primed(os.path.join(root, "base"), off)
    return Case("secret-scan", "`memvault sync`, 1 of 8 x 100 KB files changed, secret scanning on vs off "
                "(MEMVAULT_BENCH_NO_SECRET_SCAN=1, a switch for this baseline only)",
                _sync_after_bump(ours, env),
                _sync_after_bump(base, off),
                goal=1.3)


def _commit_case(root: str, env: dict[str, str], changed: bool) -> Case:
    ours_project, vault = _primed(os.path.join(root, "ours"), env)
    base_project, _ = w.make_project(os.path.join(root, "base"), env, eight_files())
    w.run([*w.MEMVAULT, "install-hooks"], ours_project, env)  # all four hooks, as a user has them
    w.install_hook(base_project, "post-commit", w.noop_hook())
    argv = ["git", "commit", "-q", "--allow-empty", "-m", "work"]

    def edit(project: str) -> Callable[[int], None] | None:
        return _bump_memory(project) if changed else None

    what = "memory changed" if changed else "memory unchanged"
    return Case(f"commit-hook-{'changed' if changed else 'unchanged'}",
                f"`git commit` with our plain post-commit hook, {what} vs the same commit with a no-op Python hook",
                Command(argv, ours_project, env, before=edit(ours_project), after=lambda i: w.wait_idle(vault)),
                Command(argv, base_project, env, before=edit(base_project)), goal=1.5,
                notes=["the hook's detached vault commit is waited for after each run, untimed"] if changed else [])


def commit_hook_unchanged(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    return _commit_case(root, env, changed=False)


def commit_hook_changed(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    return _commit_case(root, env, changed=True)


HOOK_MANIFEST = """\
-   id: memvault-sync
    name: memvault sync
    description: back up AI-agent memory files into the memvault vault
    entry: memvault hook
    language: python
    stages: [post-commit, post-checkout, post-merge, post-rewrite]
    always_run: true
    pass_filenames: false
    minimum_pre_commit_version: 3.2.0
"""
NOOP_MANIFEST = """\
-   id: memvault-bench-noop
    name: no-op (benchmark baseline)
    entry: python -c pass
    language: python
    stages: [post-commit]
    always_run: true
    pass_filenames: false
"""


def _pre_commit_exe() -> str | None:
    here = os.path.join(os.path.dirname(sys.executable), "pre-commit")
    return here if os.path.exists(here) else shutil.which("pre-commit")


def precommit(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    exe = _pre_commit_exe()
    if exe is None:
        raise Skip("pre-commit is not installed (pip install -e '.[test]')")
    env = dict(env, PRE_COMMIT_HOME=os.path.join(root, "pre-commit-home"))
    hook_repo = os.path.join(root, "hook-repo")
    w.git(root, env, "clone", "-q", "--no-hardlinks", w.REPO, hook_repo)
    manifest = os.path.join(hook_repo, ".pre-commit-hooks.yaml")
    text = open(manifest, encoding="utf-8").read() if os.path.exists(manifest) else HOOK_MANIFEST
    with open(manifest, "w", encoding="utf-8") as f:
        f.write(text.rstrip("\n") + "\n" + NOOP_MANIFEST)
    w.git(hook_repo, env, "add", ".pre-commit-hooks.yaml")
    w.git(hook_repo, env, "commit", "-q", "-m", "benchmark: a no-op hook beside memvault-sync")
    rev = w.git(hook_repo, env, "rev-parse", "HEAD").decode().strip()

    def project_with(hook_id: str, where: str, primed: bool) -> str:
        project, _ = (_primed if primed else w.make_project)(where, env, eight_files())
        with open(os.path.join(project, ".pre-commit-config.yaml"), "w", encoding="utf-8") as f:
            f.write(f"default_install_hook_types: [post-commit]\nrepos:\n-   repo: {hook_repo}\n"
                    f"    rev: {rev}\n    hooks:\n    -   id: {hook_id}\n")
        w.git(project, env, "add", ".pre-commit-config.yaml")
        w.git(project, env, "commit", "-q", "-m", "pre-commit config")
        w.run([exe, "install"], project, env)
        w.run([exe, "install-hooks"], project, env)   # builds the hook venv (pip) once
        w.git(project, env, "commit", "-q", "--allow-empty", "-m", "warm up")
        return project

    ours = project_with("memvault-sync", os.path.join(root, "ours"), True)
    base = project_with("memvault-bench-noop", os.path.join(root, "base"), False)
    argv = ["git", "commit", "-q", "--allow-empty", "-m", "work"]
    return Case("precommit", "`git commit` through pre-commit: memvault-sync vs a no-op hook in the same "
                "framework (memory unchanged)",
                Command(argv, ours, env), Command(argv, base, env), goal=None,
                notes=["the hook repo is a local clone of this repository at its HEAD"])


def _many_files(count: int) -> dict[str, bytes]:
    return {f"mem/d{i // 100:03d}/f{i:05d}.json": w.json_bytes(300, i) for i in range(count)}


def many_nochange(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    files = _many_files(sizes.many)
    project, vault = _primed(root, env, files, ("mem/**/*.json",))
    floor = _floor_script(root, project, sorted(files))
    return Case("many-nochange", f"`memvault sync` as cron runs it, {sizes.many:,} files, nothing changed vs "
                "`git status --porcelain` in the vault",
                Command([*w.CRON_SYNC, "sync", "--trigger", "cron", "--quiet"], project, env),
                Command(["git", "status", "--porcelain"], vault, env),
                floor=Command(floor, project, env), floor_goal=1.3)


def many_ten_changed(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    files = _many_files(sizes.many)
    project, _ = _primed(os.path.join(root, "ours"), env, files, ("mem/**/*.json",))
    repo = w.plain_repo(os.path.join(root, "base"), env, os.path.join(project, "mem"))
    changed = sorted(files)[:: max(1, len(files) // 10)][:10]
    plain = [rel[len("mem/"):] for rel in changed]

    def bump_all(base: str, rels: list[str]) -> Callable[[int], None]:
        return lambda i: [w.bump(os.path.join(base, rel), i + 1) for rel in rels] and None

    floor_repo = w.plain_repo(os.path.join(root, "floor"), env, os.path.join(project, "mem"))
    floor = [*_floor_script(root, project, sorted(files)), floor_repo, *plain]

    return Case("many-10changed", f"`memvault sync` as cron runs it, {sizes.many:,} files, 10 changed vs "
                "`git add` + `git commit` of those 10 in a plain repo",
                Command([*w.CRON_SYNC, "sync", "--trigger", "cron", "--quiet"], project, env,
                        before=bump_all(project, changed)),
                Command(["sh", "-c", 'git add -- "$@" && git commit -q -m backup', "sh", *plain], repo, env,
                        before=bump_all(repo, plain)),
                floor=Command(floor, project, env, before=bump_all(floor_repo, plain)), floor_goal=1.5)


def _one_json_file(root: str, env: dict[str, str], size: int) -> tuple[str, str, str, str]:
    """A project whose memory.json of `size` bytes is backed up, and a plain repository with
    the same file committed: (project, vault, the memory file, the repository)."""
    project, vault = w.make_project(os.path.join(root, "ours"), env, {})
    mem = os.path.join(project, "memory.json")
    w.write_json(mem, size)
    w.age(mem)
    w.sync(project, env)
    repo = w.plain_repo(os.path.join(root, "base"), env)
    shutil.copy(mem, os.path.join(repo, "memory.json"))
    w.git(repo, env, "add", "memory.json")
    w.git(repo, env, "commit", "-q", "-m", "initial")
    return project, vault, mem, repo


def big_file(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    project, _, big, repo = _one_json_file(root, env, sizes.big)
    label = f"{sizes.big // MB} MB"
    return Case(f"big-{sizes.big // MB}mb", f"`memvault sync` of a changed {label} JSON file vs `git add` + "
                "`git commit` of it",
                Command([*w.MEMVAULT, "sync", "--quiet"], project, env, before=lambda i: w.bump(big, i + 1)),
                Command(["sh", "-c", "git add memory.json && git commit -q -m backup"], repo, env,
                        before=_bump_memory(repo)),
                goal=2.0, runs=sizes.big_runs, peak_rss=True,
                notes=["goal also: peak RSS of the whole sync, git children included, <= 128 MB",
                       "the baseline runs git with its defaults (core.bigFileThreshold=512m)"])


def vault_size(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    project, vault, mem, repo = _one_json_file(root, env, MB)
    offsets = w.text_offsets(mem, sizes.history, seed=7)

    def edit(path: str) -> Callable[[int], None]:
        return lambda i: w.bump(path, i + 1, at=offsets[i % len(offsets)])

    def result() -> tuple[float, str, bool | None]:
        ours = w.dir_size(os.path.join(vault, ".git"))
        plain = w.dir_size(os.path.join(repo, ".git"))
        loose = w.loose_objects(os.path.join(vault, ".git"))
        # Issue 12's goal: against the same history packed as tightly as git can.
        subprocess.run(["git", "gc", "--aggressive", "--prune=now", "-q"], cwd=repo, env=env, check=True)
        packed = w.dir_size(os.path.join(repo, ".git"))
        ratio = ours / packed
        detail = (f"vault .git {ours / MB:.2f} MB ({loose} loose objects) vs {packed / MB:.2f} MB in a plain repo "
                  f"after `git gc --aggressive` ({plain / MB:.2f} MB before), after {sizes.history} versions; "
                  f"goal <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'}")
        return ratio, detail, ratio <= 1.5

    return Case("vault-size", f"vault `.git` size after {sizes.history} syncs of a 1 MB JSON file with small edits "
                "(and the time of each sync) vs a plain repo committing the same edits",
                Command([*w.MEMVAULT, "sync", "--quiet"], project, env, before=edit(mem)),
                Command(["sh", "-c", "git add memory.json && git commit -q -m backup"], repo, env,
                        before=edit(os.path.join(repo, "memory.json"))),
                runs=sizes.history, result=result)


class Skip(Exception):
    """A case that cannot run here (a tool is missing)."""


def _pushing(root: str, env: dict[str, str], encrypt: bool) -> str:
    """A primed project whose vault pushes to a local bare remote (encrypted or plain)."""
    project, vault = w.make_project(root, env, eight_files())
    remote = os.path.join(root, "remote.git")
    w.git(root, env, "init", "-q", "--bare", "-b", "main", remote)
    with open(os.path.join(project, ".memvault.yaml"), "w", encoding="utf-8") as f:
        f.write(f"version: 1\nvault:\n  path: {json.dumps(vault)}\n  remote: {json.dumps(remote)}\n"
                f"  encrypt: {'true' if encrypt else 'false'}\n")
    w.age(os.path.join(project, ".memvault.yaml"))
    w.run([*w.MEMVAULT, "allow"], project, env)
    w.run([*w.MEMVAULT, "init"], project, {**env, "MEMVAULT_PASSPHRASE": "benchmark passphrase"})
    w.sync(project, env)  # the first push (a full bundle when encrypted) is not timed
    return project


def push_encrypted(root: str, env: dict[str, str], sizes: Sizes) -> Case:
    ours = _pushing(os.path.join(root, "encrypted"), env, True)
    plain = _pushing(os.path.join(root, "plain"), env, False)
    return Case("push-encrypted", "`memvault sync` of 1 changed file (of 8 x 100 KB) pushed to an encrypted "
                "local remote vs the same sync pushed to a plain local remote",
                _sync_after_bump(ours, env),
                _sync_after_bump(plain, env),
                goal=2.0,
                notes=["each run commits one backup and pushes it: an age-encrypted incremental git bundle "
                       "added to the remote vs `git push` of the branch"])


BUILDERS: dict[str, Callable[[str, dict[str, str], Sizes], Case]] = {
    "hook-nochange": hook_nochange,
    "sync-nochange": sync_nochange,
    "sync-1of8": sync_one_of_eight,
    "secret-scan": secret_scan,
    "commit-hook-unchanged": commit_hook_unchanged,
    "commit-hook-changed": commit_hook_changed,
    "precommit": precommit,
    "many-nochange": many_nochange,
    "many-10changed": many_ten_changed,
    "big": big_file,
    "vault-size": vault_size,
    "push-encrypted": push_encrypted,
}
