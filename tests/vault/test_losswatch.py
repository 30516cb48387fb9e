"""Memory-loss alerts raised by real syncs: a wipe, a cut to a tenth, a deleted file; the
trailer in the vault commit, stderr (a quiet run too), the log, `status` and `log`, until
`ack`, a restore, or a version that is no longer shrunken."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from support import Project
from trigger_support import commit_count
from trigger_support import trailers


def _setup(project: Project, extra: str = "") -> None:
    project.config(f"version: 1\nfiles: [memory.json, memory.jsonl, MEMORY.md]\nvault:\n  path: {project.vault}\n{extra}")
    project.write("memory.json", json.dumps({f"k{i}": {"v": i, "w": [i, i]} for i in range(40)}))  # 120 values
    project.write("memory.jsonl", "".join(json.dumps({"type": "entity", "name": f"e{i}"}) + "\n" for i in range(30)))
    project.write("MEMORY.md", "# notes\n" + "a line of memory\n" * 200)
    assert project.sync().returncode == 0


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths alerts.measure_file reads, in order (syncs run in this process by main())."""
    import sys

    from memvault_hooks.memory import alerts

    paths: list[str] = []
    real = alerts.measure_file

    def counted(path: str, kind: str) -> int | None:
        paths.append(path)
        return real(path, kind)

    monkeypatch.setattr(alerts, "measure_file", counted)
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # main() wraps them; put them back afterwards
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    return paths


def _status(project: Project) -> tuple[int, dict[str, object], str]:
    text = project.run("status")
    proc = project.run("status", "--json")
    return proc.returncode, json.loads(proc.stdout), text.stdout


def test_a_wipe_raises_an_alert_until_ack(project: Project) -> None:
    _setup(project)
    good = project.log()[0].split("\x00")[0]
    project.write("memory.json", "{}")
    proc = project.sync("--trigger", "cron", "--quiet")
    assert proc.returncode == 0
    assert "ALERT" in proc.stderr and "memory.json emptied" in proc.stderr  # a quiet run says it: cron mails it
    assert f"memvault restore memory.json --rev {good[:12]}" in proc.stderr
    assert trailers(project.vault)["Memvault-Alert"] == "memory.json: emptied 120 -> 0"
    assert (project.stored / "memory.json").read_text() == "{}"  # the shrunken version is backed up too
    code, report, text = _status(project)
    assert code == 1 and report["ok"] is False
    [alert] = report["alerts"]
    assert {k: alert[k] for k in ("path", "kind", "before", "after", "rev")} == {
        "path": "memory.json", "kind": "emptied", "before": 120, "after": 0, "rev": good}
    assert alert["time"].endswith("Z")
    assert f"memvault restore memory.json --rev {good[:12]}" in text and "memory.json" in text
    logged = project.run("log", "--json", "-n", "1")
    assert json.loads(logged.stdout)[0]["alert"] is True
    assert json.loads(logged.stdout)[0]["alerts"] == [{"path": "memory.json", "kind": "emptied", "before": 120, "after": 0}]
    assert "ALERT" in project.run("log", "-n", "1").stdout
    assert "alert" not in json.loads(project.run("log", "--json").stdout)[1]  # SPEC's shape where no alert
    again = project.sync()  # the same loss is not said twice
    assert again.returncode == 0 and "ALERT" not in again.stderr
    acked = project.run("ack", "memory.json")
    assert acked.returncode == 0 and "memory.json" in acked.stdout
    code, report, _ = _status(project)
    assert code == 0 and report["alerts"] == []


def test_a_cut_to_a_tenth_and_a_deleted_file(project: Project) -> None:
    _setup(project)
    good = project.log()[0].split("\x00")[0]
    project.write("MEMORY.md", (project.root / "MEMORY.md").read_text()[:340])  # a tenth of its bytes
    (project.root / "memory.jsonl").unlink()
    count = commit_count(project.vault)
    proc = project.sync()
    assert proc.returncode == 0
    assert "MEMORY.md shrunk from 3408 to 340 bytes" in proc.stderr
    assert "memory.jsonl vanished (it held 30 lines)" in proc.stderr
    assert commit_count(project.vault) == count + 1
    assert trailers(project.vault)["Memvault-Alert"] == "MEMORY.md: shrunk 3408 -> 340"  # vanished: no commit of it
    assert (project.stored / "memory.jsonl").exists()  # its last version stays
    code, report, _ = _status(project)
    assert code == 1
    assert sorted((a["path"], a["kind"], a["rev"]) for a in report["alerts"]) == [
        ("MEMORY.md", "shrunk", good), ("memory.jsonl", "vanished", good)]
    [log_file] = Path(os.environ["XDG_STATE_HOME"]).rglob("sync.log")
    assert "ALERT: MEMORY.md shrunk" in log_file.read_text()
    unknown = project.run("ack", "memory.json")
    assert unknown.returncode == 2 and "MEMORY.md" in unknown.stderr and "memory.jsonl" in unknown.stderr
    assert project.run("ack").returncode == 0  # every alert
    code, report, _ = _status(project)
    assert code == 0 and report["alerts"] == []
    proc = project.sync()  # still gone: acknowledged, not raised again
    assert "ALERT" not in proc.stderr
    assert _status(project)[0] == 0


def test_a_restore_or_a_recovered_version_clears_the_alert(project: Project) -> None:
    _setup(project)
    good = project.log()[0].split("\x00")[0]
    project.write("memory.json", "{}")
    project.write("MEMORY.md", "# notes\n")
    assert "ALERT" in project.sync().stderr
    assert len(_status(project)[1]["alerts"]) == 2  # type: ignore[arg-type]
    restored = project.run("restore", "memory.json", "--rev", good[:12])
    assert restored.returncode == 0, restored.stderr
    assert json.loads((project.root / "memory.json").read_text())["k3"]["v"] == 3
    report = _status(project)[1]
    assert [a["path"] for a in report["alerts"]] == ["MEMORY.md"]  # type: ignore[union-attr, index]
    project.write("MEMORY.md", "# notes\n" + "a line of memory\n" * 150)  # no longer shrunken
    assert project.sync().returncode == 0
    code, report, _ = _status(project)
    assert code == 0 and report["alerts"] == []


def test_a_small_loss_and_alert_shrink(project: Project) -> None:
    _setup(project, "alert_shrink: 0.95\n")
    project.write("MEMORY.md", (project.root / "MEMORY.md").read_text()[:340])  # lost 90%: under 95%
    proc = project.sync()
    assert proc.returncode == 0 and "ALERT" not in proc.stderr
    assert "Memvault-Alert" not in trailers(project.vault)
    assert _status(project)[0] == 0


def test_a_database_that_lost_its_rows(project: Project) -> None:
    project.config(f"version: 1\nfiles: [memory.json, history.db]\nvault:\n  path: {project.vault}\n")
    conn = sqlite3.connect(project.root / "history.db")
    conn.execute("CREATE TABLE memories (text TEXT)")
    conn.executemany("INSERT INTO memories VALUES (?)", [(f"m{i}",) for i in range(50)])
    conn.commit()
    assert project.sync().returncode == 0
    conn.execute("DELETE FROM memories")
    conn.commit()
    conn.close()
    proc = project.sync()
    assert "history.db emptied (it held 50 rows)" in proc.stderr
    assert trailers(project.vault)["Memvault-Alert"] == "history.db: emptied 50 -> 0"


def test_bad_alert_shrink_is_a_configuration_error(project: Project) -> None:
    for value in ("1.5", "-0.1", '"half"', "true"):
        project.config(f"version: 1\nalert_shrink: {value}\nvault:\n  path: {project.vault}\n", allow=False)
        proc = project.sync()
        assert proc.returncode == 2, value
        assert "alert_shrink" in proc.stderr and ".memvault.yaml" in proc.stderr and "Traceback" not in proc.stderr
    assert not project.log()


def test_an_empty_json_file_that_is_not_valid(project: Project) -> None:
    _setup(project)
    project.write("memory.json", "")  # 0 bytes: invalid JSON, not committed, and emptied
    proc = project.sync()
    assert proc.returncode == 1 and "memory.json emptied" in proc.stderr
    assert json.loads((project.stored / "memory.json").read_text())  # the last good version stays
    assert _status(project)[1]["alerts"][0]["kind"] == "emptied"  # type: ignore[index]


def test_a_file_left_out_of_files_has_not_vanished(project: Project) -> None:
    _setup(project)
    project.config(f"version: 1\nfiles: [memory.json, MEMORY.md]\nvault:\n  path: {project.vault}\n")
    project.write("memory.json", '{"one": 1, "two": 2}')
    proc = project.sync()
    assert "memory.json shrunk" in proc.stderr and "memory.jsonl" not in proc.stderr
    assert [a["path"] for a in _status(project)[1]["alerts"]] == ["memory.json"]  # type: ignore[index]


_LIMITED_SYNC = ("import resource, runpy, sys\n"
                 "resource.setrlimit(resource.RLIMIT_AS, (128 << 20, 128 << 20))\n"
                 "sys.argv = ['memvault', 'sync']\n"
                 "runpy.run_module('memvault_hooks', run_name='__main__')\n")


def test_measuring_a_big_file_stays_within_128_mb(project: Project) -> None:
    import subprocess
    import sys

    project.config(f"version: 1\nfiles: [memory.json]\nvault:\n  path: {project.vault}\n")
    entry = b'{"name": "entity", "observations": ["likes tea", "lives in Oslo", 42, true, null]},\n'
    count = (48 << 20) // len(entry)  # 48 MB, a quarter of a million values and more
    with open(project.root / "memory.json", "wb") as f:
        f.write(b"[\n")
        f.write(entry * count)
        f.write(b'{"last": 1}\n]\n')
    for step, keep in (("first", count), ("cut", count // 10)):
        if step == "cut":
            with open(project.root / "memory.json", "wb") as f:
                f.write(b"[\n" + entry * keep + b'{"last": 1}\n]\n')
        proc = subprocess.run([sys.executable, "-c", _LIMITED_SYNC], cwd=project.root, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert "MemoryError" not in proc.stderr
    before, after = 6 * count + 1, 6 * (count // 10) + 1
    assert f"memory.json shrunk from {before} to {after} values" in proc.stderr
    assert trailers(project.vault)["Memvault-Alert"] == f"memory.json: shrunk {before} -> {after}"


def test_an_alert_from_a_hook_lands_in_the_error_log_once(project: Project) -> None:
    from trigger_support import settle

    _setup(project)
    project.write("memory.json", "[]")
    assert project.run("hook", "post-commit").returncode == 0  # a detached sync: its stderr is the error log
    settle(project.vault)
    [error_log] = Path(os.environ["XDG_STATE_HOME"]).rglob("sync.err")
    assert error_log.read_text().count("ALERT: memory.json emptied") == 1
    assert trailers(project.vault)["Memvault-Alert"] == "memory.json: emptied 120 -> 0"
    assert _status(project)[0] == 1


def test_a_large_file_no_smaller_than_the_vaults_version_is_not_measured(project: Project, measured: list[str],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Measuring parses both versions in full: above losswatch.MEASURED_UP_TO (here lowered
    to 0 bytes) a file that did not get smaller in bytes is left alone (a large file appended
    to costs nothing more); a smaller one is measured, and so is every small file."""
    from memvault_hooks.main import main
    from memvault_hooks.vault import losswatch

    _setup(project)
    data = json.loads((project.root / "memory.json").read_text())
    data["grown"] = ["one more entry"] * 10
    project.write("memory.json", json.dumps(data))
    assert main(["-C", str(project.root), "sync", "--quiet"]) == 0
    assert len(measured) == 2   # a small file: always
    measured.clear()
    monkeypatch.setattr(losswatch, "MEASURED_UP_TO", 0)
    data["grown"].append("and another")
    project.write("memory.json", json.dumps(data))
    assert main(["-C", str(project.root), "sync", "--quiet"]) == 0
    assert measured == []
    project.write("memory.json", json.dumps({"grown": data["grown"]}))   # smaller: measured, then shrunk
    assert main(["-C", str(project.root), "sync", "--quiet"]) == 0
    assert len(measured) == 2


def test_the_vault_version_is_measured_once(project: Project, measured: list[str]) -> None:
    """A sync keeps the measure of each version it committed, by the vault file's stat: the
    next sync reads only the new copy, and still raises its alert against that measure; a
    vault file that changed since (another machine's version) is measured again."""
    from memvault_hooks.main import main

    _setup(project)
    stored = str(project.stored / "memory.json")

    def sync_with(doc: dict[str, object]) -> None:
        project.write("memory.json", json.dumps(doc))
        measured.clear()
        assert main(["-C", str(project.root), "sync", "--quiet"]) == 0

    sync_with({f"k{i}": i for i in range(100)})
    assert stored in measured                                  # nothing kept yet for the first version
    sync_with({f"k{i}": i for i in range(90)})
    assert stored not in measured and len(measured) == 1       # only the new copy was read
    assert "Memvault-Alert" not in trailers(project.vault)
    sync_with({"k0": 0})
    assert trailers(project.vault)["Memvault-Alert"] == "memory.json: shrunk 90 -> 1"
    (project.stored / "memory.json").write_text(json.dumps({f"k{i}": i for i in range(5)}))  # changed under us
    sync_with({"k0": 0, "k1": 1})
    assert stored in measured
