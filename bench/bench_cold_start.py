"""Cold start: process start to the first painted window, `wsdmon` beside a bare PySide6 QMainWindow.

Issue #11 target: the whole `wsdmon` process, from its start to its first painted frame, takes at
most 1.5x a bare PySide6 process that shows an empty QMainWindow. Both sides run as fresh processes,
interleaved (bare, wsdmon, bare, wsdmon, ...) in the same run, with the same environment:

- bare: `python -c BARE` (below): QApplication, an empty QMainWindow (800x600), show().
- wsdmon: `python -m wsdmon --no-discovery --journal <fresh temp file> --notify-port 0`, the real
  entry point, with its settings in a fresh temporary XDG_CONFIG_HOME.

Both detect the first painted frame the same way, with wsdmon.first_paint.FirstPaint (a paint
event on the window, then a zero timer that fires after the flush), and print its time.monotonic()
(CLOCK_MONOTONIC, one clock for all processes on Linux) as `first-paint T` because
WSDMON_REPORT_FIRST_PAINT=1. The bench takes time.monotonic() just before it spawns the process;
start-up = T minus that. Once the line is read the process is killed (both sides alike: what a
process does after its first frame is not measured). Runs are sequential: one process at a time.

QT_QPA_PLATFORM is offscreen unless the environment says otherwise; `--xcb` runs the same under
a private Xvfb display (xcb) too, when Xvfb is installed. Results go to bench/results/cold_start.json.

    .venv/bin/python bench/bench_cold_start.py [--quick] [--runs N] [--xcb]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import wsdmon
from wsdmon.first_paint import REPORT_ENV

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 1.5
RUN_TIMEOUT_S = 60.0  # one process, start to first paint, on a busy machine
XVFB_START_TIMEOUT_S = 10.0

BARE = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
from wsdmon.first_paint import FirstPaint
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(800, 600)
first = FirstPaint(window)
window.show()
app.exec()
"""


def spawn_to_first_paint(argv: list[str], env: dict[str, str]) -> float:
    """Start `argv`, wait for its `first-paint T` line, kill it; seconds from spawn to T."""
    with tempfile.TemporaryFile() as stderr:
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, env=env)
        try:
            painted = _read_first_paint(proc)
        finally:
            proc.kill()
            proc.wait()
        if painted is None:
            stderr.seek(0)
            tail = stderr.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"{argv[:3]} printed no first-paint line (exit {proc.returncode}):\n{tail}")
    return painted - start


def _read_first_paint(proc: subprocess.Popen[bytes]) -> float | None:
    assert proc.stdout is not None
    deadline = time.monotonic() + RUN_TIMEOUT_S
    buffered = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                return None  # the process ended without painting
            buffered += chunk
            for line in buffered.splitlines():
                if line.startswith(b"first-paint "):
                    return float(line.split()[1])
    return None


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "median_s": round(statistics.median(ordered), 4),
        "p90_s": round(p90, 4),
        "min_s": round(ordered[0], 4),
        "max_s": round(ordered[-1], 4),
    }


def measure(platform_name: str, runs: int, env: dict[str, str], scratch: Path) -> dict[str, Any]:
    env = {**env, "QT_QPA_PLATFORM": platform_name, REPORT_ENV: "1"}
    bare: list[float] = []
    app: list[float] = []
    for n in range(runs):
        run_dir = scratch / f"{platform_name}-{n}"
        (run_dir / "config").mkdir(parents=True)
        run_env = {**env, "XDG_CONFIG_HOME": str(run_dir / "config")}
        bare.append(spawn_to_first_paint([sys.executable, "-c", BARE], run_env))
        wsdmon_argv = [sys.executable, "-m", "wsdmon", "--no-discovery", "--notify-port", "0"]
        wsdmon_argv += ["--journal", str(run_dir / "journal.sqlite3")]
        app.append(spawn_to_first_paint(wsdmon_argv, run_env))
        shutil.rmtree(run_dir, ignore_errors=True)
    b, a = summary(bare), summary(app)
    return {
        "qt_platform": platform_name,
        "runs": runs,
        "bare_qmainwindow": b,
        "wsdmon": a,
        "ratio_median": round(a["median_s"] / b["median_s"], 3),
        "ratio_p90": round(a["p90_s"] / b["p90_s"], 3),
        "bare_runs_s": [round(t, 4) for t in bare],
        "wsdmon_runs_s": [round(t, 4) for t in app],
    }


def start_xvfb(scratch: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    """A private Xvfb display (-displayfd picks a free one); None if Xvfb is not installed."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        return None
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=scratch,
    )
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe, selectors.DefaultSelector() as sel:
        sel.register(pipe, selectors.EVENT_READ)
        if not sel.select(timeout=XVFB_START_TIMEOUT_S):
            proc.kill()
            proc.wait()
            return None
        display = pipe.readline().decode().strip()
    return proc, f":{display}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs per side (smoke test)")
    parser.add_argument("--runs", type=int, default=None, help="runs per side (default 15)")
    parser.add_argument("--xcb", action="store_true", help="also under a private Xvfb display")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "cold_start.json")
    args = parser.parse_args(argv)
    runs = args.runs or (2 if args.quick else 15)
    env = dict(os.environ)
    # The child imports the same wsdmon as this script (the installed one, or PYTHONPATH's).
    source = str(Path(wsdmon.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH", "")) if p)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        scratch = Path(tmp)
        rows.append(measure(env.get("QT_QPA_PLATFORM", "offscreen"), runs, env, scratch))
        if args.xcb:
            xvfb = start_xvfb(scratch)
            if xvfb is None:
                print("Xvfb is not installed or did not start: xcb skipped", file=sys.stderr)
            else:
                proc, display = xvfb
                try:
                    rows.append(measure("xcb", runs, {**env, "DISPLAY": display}, scratch))
                finally:
                    proc.terminate()
                    proc.wait()
    result = {
        "bench": "cold_start",
        "wsdmon": wsdmon.__version__,
        "python": platform.python_version(),
        "pyside6": __import__("PySide6").__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "quick": args.quick,
        "target_ratio": TARGET_RATIO,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for row in rows:
        b, a = row["bare_qmainwindow"], row["wsdmon"]
        print(
            f"{row['qt_platform']:>9}: bare QMainWindow median {b['median_s'] * 1000:.0f} ms "
            f"(p90 {b['p90_s'] * 1000:.0f}), wsdmon median {a['median_s'] * 1000:.0f} ms "
            f"(p90 {a['p90_s'] * 1000:.0f}): {row['ratio_median']:.2f}x (target {TARGET_RATIO}x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
