from __future__ import annotations

import json

from support import DATA
from support import Project
from vault_support import commit_time
from vault_support import make_versions
from vault_support import ok


def test_default_is_latest_backup_vs_live(project: Project) -> None:
    project.write("memory.json", json.dumps({"user": {"name": "Ann", "likes": ["tea", "books"]}}))
    ok(project.sync())
    assert "no differences" in ok(project.run("diff")).stdout
    project.write("memory.json", json.dumps({"user": {"likes": ["tea", "films"], "city": "Oslo"}}))
    out = ok(project.run("diff")).stdout
    assert '~ user.likes[1]: "books" -> "films"' in out
    assert '- user.name = "Ann"' in out
    assert '+ user.city = "Oslo"' in out
    assert "-> live" in out
    assert "gpt4o_memories.json" not in out  # unchanged files are not listed
    assert "\033[" not in out


def test_between_two_times(project: Project) -> None:
    made = make_versions(project, 3, spaced=True)
    t0, t1, t2 = (commit_time(project, rev) for rev in made)
    out = ok(project.run("diff", "memory.json", "--from", f"@{t0}", "--to", f"@{t1}")).stdout
    assert "~ version: 0 -> 1" in out and '~ user.likes[1]: "book 0" -> "book 1"' in out
    assert '+ notes[0] = "note 0"' in out
    assert made[0][:12] in out and made[1][:12] in out
    out = ok(project.run("diff", "--from", f"@{t1}", "--to", f"@{t2}")).stdout
    assert "~ version: 1 -> 2" in out


def test_before_first_backup_is_empty(project: Project) -> None:
    make_versions(project, 1)
    out = ok(project.run("diff", "memory.json", "--from", "2000-01-01T00:00:00Z")).stdout
    assert "+ version = 0" in out and '+ user = {"name": "Ann"' in out
    assert "before the first backup" in out


def test_jsonl_entity_by_entity(project: Project) -> None:
    text = (DATA / "memory.jsonl").read_text()
    project.write("memory.jsonl", text)
    project.config(f"version: 1\nfiles: [memory.jsonl]\nvault:\n  path: {project.vault}\n")
    ok(project.sync())
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    records[1]["observations"][0] = "rewritten"
    records.append({"type": "relation", "from": "entity_0", "to": "entity_1", "relationType": "mentors"})
    project.write("memory.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    out = ok(project.run("diff", "memory.jsonl")).stdout
    assert f'~ entity "entity_1": observations[0]: "{json.loads(text.splitlines()[1])["observations"][0]}" -> "rewritten"' in out
    assert "+ relation entity_0 -mentors-> entity_1 = {" in out


def test_text_files_get_a_unified_diff(project: Project) -> None:
    project.write("MEMORY.md", "# notes\nold line\n")
    project.config(f"version: 1\nfiles: [MEMORY.md]\nvault:\n  path: {project.vault}\n")
    ok(project.sync())
    project.write("MEMORY.md", "# notes\nnew line\n")
    out = ok(project.run("diff")).stdout
    assert "-old line\n+new line" in out


def test_bad_when_exits_2(project: Project) -> None:
    ok(project.sync())
    for args in (("--from", "tomorrowish"), ("--to", "2026-02-30")):
        proc = project.run("diff", *args)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr and "cannot read the time" in proc.stderr


def test_unknown_file_exits_1(project: Project) -> None:
    ok(project.sync())
    proc = project.run("diff", "never.json")
    assert proc.returncode == 1 and "never.json is neither in" in proc.stderr
    assert "did you mean" not in proc.stderr
    proc = project.run("diff", "memroy.json")
    assert proc.returncode == 1 and "did you mean memory.json?" in proc.stderr


def test_between_two_revs_short_and_full_as_log_prints_them(project: Project) -> None:
    made = make_versions(project, 3)
    short = [line.split()[0] for line in ok(project.run("log")).stdout.splitlines() if not line.startswith(" ")]
    assert short == [rev[:12] for rev in made[::-1]]
    for old, new in ((short[2], short[1]), (made[0], made[1])):
        out = ok(project.run("diff", "memory.json", "--from", old, "--to", new)).stdout
        assert "~ version: 0 -> 1" in out and "-> live" not in out
        assert f"{made[0][:12]} (" in out and f"{made[1][:12]} (" in out
    out = ok(project.run("diff", "--from", short[2])).stdout  # a rev against the live files
    assert "~ version: 0 -> 2" in out and "-> live" in out
    out = ok(project.run("diff", "--from", "main~2", "--to", f"@{commit_time(project, made[2])}")).stdout
    assert "~ version: 0 -> 2" in out  # a rev on one side, a time on the other


def test_a_rev_the_vault_does_not_hold_exits_1(project: Project) -> None:
    make_versions(project, 1)
    proc = project.run("diff", "--from", "0123456789abcdef")
    assert proc.returncode == 1 and "no backup '0123456789abcdef'" in proc.stderr
