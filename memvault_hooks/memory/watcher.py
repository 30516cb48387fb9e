"""`memvault watch`: stay in the foreground and run a backup within seconds of each change.

The folders that hold memory files are watched (never the files themselves: agents save by
writing aside and renaming over, which ends a watch on the file), through `watchfiles`
(Rust notify: inotify, FSEvents, ReadDirectoryChangesW). Each plain pattern's parent folder
is watched; a `**` pattern's folder and every folder below it; a folder that does not
exist yet is watched through its nearest existing parent, so its creation is seen. After
every batch of events, and every few seconds, the plan is made again: a new or replaced
folder (deleted and recreated) is watched from then on, and the change runs a backup.

A change to a memory file starts a trailing quiet period (`debounce`, default 2 s): the
backup runs once nothing has changed for that long, or `max_wait` (60 s) after the first
change, so a file rewritten every second is still backed up. Events are collected by a
thread into a queue, so those that arrive while a backup runs are kept and run the next
one. SIGINT and SIGTERM let the running backup finish, then `watch` returns 0. When the
native watch cannot start or fails (inotify limit reached, ...), it falls back to polling
and says so.

How it is meant to be wired (by the integrator): `commands/watch.py` builds the targets
(source_dir with the config's `files` and the presets' patterns, then each source's and
preset place's dir with its patterns; outside places only once allowed), and calls
`watch(targets, run_sync)` with `run_sync` = one sync with trigger `watch` under the usual
vault lock (a run that finds the lock held leaves the work to that run, as hooks do); the
`--debounce SECONDS` option gives `debounce`. Only this module imports watchfiles.
"""
from __future__ import annotations

import dataclasses
import os
import queue
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from collections.abc import Sequence
from types import FrameType
from typing import Any

DEBOUNCE = 2.0          # seconds of quiet before a backup
MAX_WAIT = 60.0         # seconds after the first change, at most
RECHECK = 5.0           # seconds between looks at the folders when nothing happens
READY_WAIT = 10.0       # seconds, at most, to wait for the watches to be set up at start
_TICK = 0.25            # the longest the main loop sleeps (signals are seen this soon)


@dataclasses.dataclass(frozen=True)
class Target:
    """A folder and the patterns (relative to it) of the memory files it holds."""

    dir: str
    patterns: tuple[str, ...]


def _stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# ---- which folders to watch ---------------------------------------------------------------

_MAGIC = re.compile(r"[*?\[]")


def _folder_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if os.path.isdir(path) else None


def _existing(path: str) -> str:
    """`path`, or its nearest existing parent folder."""
    while _folder_id(path) is None:
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _below(folder: str, found: dict[str, tuple[int, int]], limit: int = 10_000) -> None:
    """`folder` and every folder below it (symlinks to folders are not entered)."""
    todo = [folder]
    while todo and len(found) < limit:
        here = todo.pop()
        ident = _folder_id(here)
        if ident is None:
            continue
        found[here] = ident
        try:
            with os.scandir(here) as it:
                todo += [e.path for e in it if e.is_dir(follow_symlinks=False)]
        except OSError:
            continue


def plan(targets: Sequence[Target]) -> dict[str, tuple[int, int]]:
    """The folders to watch, each with its (device, inode) so a replaced one is noticed."""
    found: dict[str, tuple[int, int]] = {}
    for target in targets:
        for pattern in target.patterns:
            parts = os.path.normpath(pattern).replace(os.sep, "/").split("/")
            magic = next((i for i, p in enumerate(parts) if _MAGIC.search(p)), None)
            if magic is None or magic == len(parts) - 1:
                folder = os.path.join(target.dir, *parts[:-1])
                recursive = False
            else:
                folder = os.path.join(target.dir, *parts[:magic])
                recursive = True
            if _folder_id(folder) is None:
                folder, recursive = _existing(folder), False
            if recursive:
                _below(folder, found)
            else:
                ident = _folder_id(folder)
                if ident is not None:
                    found[folder] = ident
    return found


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    parts = os.path.normpath(pattern).replace(os.sep, "/").split("/")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        j = 0
        while j < len(part):
            c = part[j]
            if c == "*":
                out.append("[^/]*")
            elif c == "?":
                out.append("[^/]")
            elif c == "[" and part.find("]", j + 2) > 0:
                end = part.find("]", j + 2)
                body = part[j + 1:end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                j = end
            else:
                out.append(re.escape(c))
            j += 1
        if not last:
            out.append("/")
    return re.compile("".join(out))


class Matcher:
    """Whether a path that changed is (or could be) one of the targets' memory files."""

    def __init__(self, targets: Sequence[Target]) -> None:
        self._rules = [(os.path.abspath(t.dir).rstrip(os.sep) + os.sep,
                        [_glob_regex(p) for p in t.patterns]) for t in targets]

    def __call__(self, path: str) -> bool:
        path = os.path.abspath(path)
        if path.endswith(("-wal", "-journal")):
            # A database's commit may touch only its log: it is a change to the database.
            path = path.rsplit("-", 1)[0]
        for root, regexes in self._rules:
            if path.startswith(root):
                rel = path[len(root):].replace(os.sep, "/")
                if any(r.fullmatch(rel) for r in regexes):
                    return True
        return False


# ---- the watching thread ------------------------------------------------------------------

class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Source:
    """A thread that puts each batch of changed paths (a set) on a queue, or a _Failed."""

    def __init__(self, folders: list[str], polling: bool, out: queue.Queue[object]) -> None:
        self.stop = threading.Event()
        self.ready = threading.Event()  # set once the folders are watched (or the watch failed)
        self.thread = threading.Thread(target=self._run, args=(folders, polling, out), daemon=True,
                                       name="memvault-watch")
        self.thread.start()

    def _run(self, folders: list[str], polling: bool, out: queue.Queue[object]) -> None:
        try:
            import watchfiles

            # Each quiet `rust_timeout` yields an empty set: the first one says the watches are set up.
            for changes in watchfiles.watch(*folders, watch_filter=None, debounce=400, step=50,
                                            stop_event=self.stop, recursive=False,
                                            force_polling=polling, poll_delay_ms=200,
                                            rust_timeout=250, yield_on_timeout=True,
                                            raise_interrupt=False, ignore_permission_denied=True):
                self.ready.set()
                if changes:
                    out.put({path for _change, path in changes})
        except BaseException as exc:  # the native watch failed: the main loop falls back to polling
            if not self.stop.is_set():
                out.put(_Failed(exc))
        finally:
            self.ready.set()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


# ---- the loop -------------------------------------------------------------------------------

class _Stop:
    def __init__(self) -> None:
        self.requested: str | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = signal.Signals(signum).name


def watch(targets: Sequence[Target], run_sync: Callable[[], object], *,
          debounce: float = DEBOUNCE, max_wait: float = MAX_WAIT, force_polling: bool = False,
          say: Callable[[str], None] = _stderr, stop: threading.Event | None = None,
          recheck: float = RECHECK, first: bool = False) -> int:
    """Watch until SIGINT/SIGTERM (or `stop` is set); run `run_sync()` after each quiet
    period that follows a change. Returns 0. A failing run_sync is reported, not fatal.

    With `first`, run_sync also runs once the folders are watched, so that what changed
    before (while nothing watched) is backed up and nothing changed since is missed."""
    stopper = _Stop()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, stopper)
    matcher = Matcher(targets)
    events: queue.Queue[object] = queue.Queue()
    polling = force_polling
    folders = plan(targets)
    source = _Source(sorted(folders), polling, events)
    source.ready.wait(READY_WAIT)
    say(f"memvault: watching {len(folders)} folder{'s' if len(folders) != 1 else ''} "
        f"({'polling' if polling else 'native events'}); quiet period {debounce:g} s, "
        f"at most {max_wait:g} s; Ctrl-C or SIGTERM stops")
    first_change: float | None = time.monotonic() if first else None
    last_change = first_change - debounce if first_change is not None else 0.0
    vanished = 0            # watches that failed at once on a folder gone meanwhile
    last_look = time.monotonic()

    def stopped() -> bool:
        return stopper.requested is not None or (stop is not None and stop.is_set())

    try:
        while not stopped():
            now = time.monotonic()
            wait = _TICK
            if first_change is not None:
                wait = min(wait, max(0.0, min(last_change + debounce, first_change + max_wait) - now))
            try:
                item = events.get(timeout=wait)
            except queue.Empty:
                item = None
            now = time.monotonic()
            changed = False
            if isinstance(item, _Failed) and isinstance(item.error, FileNotFoundError) and vanished < 3:
                vanished += 1
                source.close()                  # a folder went away as the watch started:
                folders = plan(targets)         # watch what is there now
                source = _Source(sorted(folders), polling, events)
                changed = True
            elif isinstance(item, _Failed):
                reason = f"{type(item.error).__name__}: {item.error}"
                source.close()
                if polling:
                    say(f"memvault: watch: polling failed too ({reason}); stopping")
                    return 1
                polling = True
                say(f"memvault: watch: the native file watch failed ({reason}); "
                    f"falling back to polling")
                folders = plan(targets)
                source = _Source(sorted(folders), polling, events)
                changed = True
            elif isinstance(item, set):
                vanished = 0
                changed = any(matcher(p) for p in item)
            if item is not None or now - last_look >= recheck:
                last_look = now
                fresh = plan(targets)
                if fresh != folders:
                    replaced = [f for f in fresh if f in folders and fresh[f] != folders[f]]
                    if replaced:
                        say(f"memvault: watch: {', '.join(replaced)} was replaced; watching it again")
                    folders = fresh
                    source.close()
                    source = _Source(sorted(folders), polling, events)
                    changed = True
            if changed:
                first_change = first_change if first_change is not None else now
                last_change = now
            if first_change is not None and (now - last_change >= debounce or now - first_change >= max_wait):
                first_change = None
                try:
                    run_sync()
                except Exception as exc:  # one failed backup never ends the watch
                    say(f"memvault: watch: the backup failed: {type(exc).__name__}: {exc}; "
                        f"the next change tries again")
    finally:
        source.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    say(f"memvault: watch: stopped ({stopper.requested or 'stop requested'})"
        + ("; changes since the last backup are left to the next run" if first_change is not None else ""))
    return 0
