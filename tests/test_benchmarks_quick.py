"""`benchmarks/run.py --quick` runs (reduced sizes) so the benchmark cannot rot: it exits 0
and prints a ratio line for every case. No time is asserted."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import cases  # noqa: E402


def test_quick_benchmark_prints_a_ratio_per_case() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in cases.BUILDERS:
        label = "big-8mb" if name == "big" else name
        assert re.search(rf"^   ratio {re.escape(label)}: \d+\.\d+ ", proc.stdout, re.M), (name, proc.stdout[-3000:])
    assert "GitPython (git) imported: no" in proc.stdout
    assert "skipped" not in proc.stdout  # CI installs pre-commit: every case really runs
