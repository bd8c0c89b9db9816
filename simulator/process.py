"""Run the sandbox in a child process on a free loopback port (tests, the demo, benchmarks)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

READY = re.compile(r"sandbox listening on (http://\S+)")


class SandboxProcess:
    def __init__(self, seed: int = 7, scale: float = 1.0, faults: str = "none", work_budget: int | None = None,
                 startup_timeout_s: float = 120.0, world: str = "default", identity: str | None = None,
                 no_channel: float | None = None) -> None:
        args = [sys.executable, "-m", "simulator", "serve", "--host", "127.0.0.1", "--port", "0",
                "--seed", str(seed), "--scale", str(scale), "--faults", faults, "--world", world]
        if identity is not None:  # else serve's default (simulator/identity.py, DEFAULT_IDENTITY)
            args += ["--identity", identity]
        if no_channel is not None:  # else the world's form's own p(∅) (simulator/causal.py)
            args += ["--no-channel-chance", repr(no_channel)]
        if work_budget is not None:
            args += ["--work-budget", str(work_budget)]
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.proc = subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output: list[str] = []
        self.url = self._wait_ready(startup_timeout_s)
        # Keep draining the pipe so a chatty server can never block on a full buffer.
        threading.Thread(target=self._drain, daemon=True).start()

    def _wait_ready(self, timeout_s: float) -> str:
        found: list[str] = []

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.output.append(line)
                match = READY.search(line)
                if match:
                    found.append(match.group(1))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout_s)
        if not found:
            self.stop()
            raise RuntimeError("sandbox did not start:\n" + "".join(self.output))
        return found[0]

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def vendor_url(self, vendor: str) -> str:
        return f"{self.url}/{vendor}"

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return call_control(self.url, method, path, body)

    def truth(self) -> dict[str, dict[str, int]]:
        return self.control("GET", "truth")["counts"]

    def advance(self, hours: float) -> None:
        self.control("POST", f"advance?hours={hours}")

    def set_faults(self, profile: str | None = None, **settings: Any) -> None:
        self.control("POST", "faults", {"profile": profile, **settings})

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def call_control(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call a sandbox's `/_sim/` endpoint; JSON in, JSON (or JSON Lines as a list) out."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url.rstrip('/')}/_sim/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read().decode()
        kind = response.headers.get("Content-Type", "")
    if kind.startswith("application/x-ndjson"):
        return [json.loads(line) for line in text.splitlines() if line]
    return json.loads(text)


@contextmanager
def running_sandbox(**kwargs: Any) -> Iterator[SandboxProcess]:
    sandbox = SandboxProcess(**kwargs)
    try:
        yield sandbox
    finally:
        sandbox.stop()
