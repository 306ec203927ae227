"""Start a real `mididrumigen serve` process in a temp home for the daemon benchmarks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class DaemonProcess:
    """A daemon subprocess and how to reach it."""

    proc: subprocess.Popen[bytes]
    url: str
    token: str
    started_to_ready_s: float

    def stop(self) -> None:
        """SIGTERM and wait."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)


def start_daemon(home: Path, **settings: str) -> DaemonProcess:
    """Run `python -m mididrumigen serve` with its own config/data dirs; wait until /health answers."""
    env = dict(
        os.environ,
        MIDIDRUMIGEN_CONFIG_DIR=str(home / "config"),
        MIDIDRUMIGEN_DATA_DIR=str(home / "data"),
        MIDIDRUMIGEN_PORT="0",
        PYTHONPATH=str(REPO),
    )
    env.update({f"MIDIDRUMIGEN_{k.upper()}": v for k, v in settings.items()})
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mididrumigen", "serve", "--log-level", "warning"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    discovery = home / "config" / "daemon.json"
    while True:
        if proc.poll() is not None:
            raise RuntimeError("daemon exited")
        try:
            info = json.loads(discovery.read_text())
            with urllib.request.urlopen(f"{info['url']}/api/v1/health", timeout=1) as resp:
                if resp.status == 200:
                    break
        except (OSError, ValueError, KeyError):
            time.sleep(0.005)
    return DaemonProcess(proc, info["url"], info["token"], time.perf_counter() - started)


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB."""
    import psutil

    return float(psutil.Process(pid).memory_info().rss) / 1e6


def family_rss_mb(pid: int) -> float:
    """Resident set size of a process and its children (the engine worker) in MB."""
    import psutil

    process = psutil.Process(pid)
    return sum(float(p.memory_info().rss) for p in [process, *process.children(recursive=True)]) / 1e6
