"""Fixtures for the SDK tests: the official clients against a real gateway.

One gateway and one mock upstream serve the whole test session:

* ``spgw-mock`` (``crates/mocks``) speaks every provider's wire protocol on one
  loopback port, each provider under its own path prefix. Its behaviour is
  scripted by markers in the last user message (``[[tool:NAME {...}]]``,
  ``[[json]]``, ``[[status:429]]``, ``[[retry-after:N]]``, ``[[chunks:N]]``,
  ``[[thinking]]``; see ``crates/mocks/src/lib.rs``) and it records every
  request it receives (``GET /_mock/requests``).
* ``sp-gateway`` runs in a temporary directory with a fresh SQLite database;
  every provider's ``base_url`` points at the mock and has a key, and a gateway
  API key is created for the tests.

Binaries are not built here (``scripts/test`` builds them first); they are
found under ``${CARGO_TARGET_DIR:-<repo>/target}/debug`` unless ``SPGW_BIN`` /
``SPGW_MOCK_BIN`` name them.

Fixtures (all session-wide):

``gateway``      the :class:`Gateway` below (everything in one object)
``base_url``     the gateway's root URL, e.g. ``http://127.0.0.1:41234``
                 (OpenAI SDK: ``base_url=f"{base_url}/v1"``; Anthropic SDK: ``base_url=base_url``)
``api_key``      a gateway API key
``mock_url``     the mock's root URL
``mock_requests`` ``mock_requests(provider=None)``: the requests the mock has received
``admin``        an ``httpx.Client`` logged in as admin (for ``/api/v1/...`` set-up calls)
``chat_models``  the (provider, model) pairs of ``CHAT_MODELS``

A test that takes arguments named ``provider`` and ``model`` runs once per pair
of ``CHAT_MODELS`` (see ``pytest_generate_tests``).
"""

from __future__ import annotations

import os
import pathlib
import queue
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field

import httpx
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

#: One chat model per provider, as the catalog ships them.
CHAT_MODELS = [
    ("openai", "gpt-5-mini"),
    ("anthropic", "claude-haiku-4-5"),
    ("google", "gemini-3-flash-preview"),
    ("xai", "grok-4-1-fast-non-reasoning"),
    ("deepseek", "deepseek-chat"),
    ("huggingface", "meta-llama/Llama-3.1-8B-Instruct"),
]

#: Where each provider lives on the mock (its ``base_url`` is the mock URL plus this).
MOCK_PREFIX = {
    "openai": "/openai/v1",
    "anthropic": "/anthropic",
    "google": "/google",
    "xai": "/xai/v1",
    "deepseek": "/deepseek",
    "huggingface": "/huggingface/v1",
}

ADMIN_PASSWORD = "sdk-admin-password-1"
START_TIMEOUT_S = 60


def binary(name: str, env_var: str) -> pathlib.Path:
    """A binary built by cargo, or the one ``env_var`` names."""
    if os.environ.get(env_var):
        path = pathlib.Path(os.environ[env_var])
    else:
        target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
        if not target.is_absolute():
            target = REPO / target
        path = target / "debug" / name
    if not path.is_file():
        pytest.exit(f"{path} not found: build it first (cargo build -p sp-gateway -p spgw-mocks)", returncode=2)
    return path


class Process:
    """A child process whose output is drained in the background; ``start``
    returns once a line containing ``marker`` appears, with the rest of that line."""

    def __init__(self, args: list[str], cwd: str, env: dict[str, str], log: pathlib.Path):
        self.log = log
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        self._found: queue.Queue[str] = queue.Queue()
        self._marker = ""
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("w") as out:
            for line in self.proc.stdout:
                out.write(line)
                out.flush()
                self.lines.append(line)
                if self._marker and self._marker in line:
                    self._found.put(line.split(self._marker, 1)[1].split()[0])
        self._found.put("")

    def wait_for(self, marker: str) -> str:
        self._marker = marker
        # Lines read before the marker was set.
        for line in list(self.lines):
            if marker in line:
                return line.split(marker, 1)[1].split()[0]
        try:
            found = self._found.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            found = ""
        if not found:
            self.stop()
            raise RuntimeError(f"{marker!r} never printed; output:\n{''.join(self.lines)}")
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Gateway:
    """A running gateway with every provider pointed at the mock."""

    base_url: str
    api_key: str
    mock_url: str
    admin: httpx.Client
    provider_ids: dict[str, int] = field(default_factory=dict)

    def mock_base_url(self, provider: str) -> str:
        """The ``base_url`` that points ``provider`` at the mock."""
        return self.mock_url + MOCK_PREFIX[provider]

    def mock_requests(self, provider: str | None = None) -> list[dict]:
        """Requests the mock received (``provider``, ``path``, ``headers``, ``body``), oldest first."""
        reqs = httpx.get(f"{self.mock_url}/_mock/requests", timeout=10).raise_for_status().json()
        return [r for r in reqs if provider is None or r["provider"] == provider]

    def reset_provider_key(self, provider: str) -> None:
        """Gives ``provider`` its key afresh: a key cooling after a scripted 429
        (or marked failing after a 401) is back in rotation at once."""
        self.admin.patch(
            f"/api/v1/update/provider/{self.provider_ids[provider]}", json={"api_key": f"key-{provider}-1"}
        ).raise_for_status()

    def clear_mock_requests(self) -> None:
        """Forgets what the mock has recorded."""
        httpx.delete(f"{self.mock_url}/_mock/requests", timeout=10).raise_for_status()


@pytest.fixture(scope="session")
def gateway():
    gw_bin = binary("sp-gateway", "SPGW_BIN")
    mock_bin = binary("spgw-mock", "SPGW_MOCK_BIN")
    workdir = tempfile.mkdtemp(prefix="spgw-sdk-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPGW__") and k != "CONFIG_PATH"}
    env.update(
        {
            "SPGW_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SPGW__SERVER__HOST": "127.0.0.1",
            "SPGW__SERVER__PORT": "0",
            "RUST_LOG": "warn",
        }
    )
    work = pathlib.Path(workdir)
    mock = Process([str(mock_bin), "127.0.0.1:0"], workdir, env, work / "mock.log")
    gw = None
    admin = None
    try:
        mock_url = "http://" + mock.wait_for("listening on ")
        gw = Process([str(gw_bin), "serve"], workdir, env, work / "gateway.log")
        base_url = gw.wait_for("listening on ")
        admin = httpx.Client(base_url=base_url, timeout=30)
        admin.post("/api/v1/login", json={"username": "admin", "password": ADMIN_PASSWORD}).raise_for_status()
        ids = {}
        for provider in MOCK_PREFIX:
            rows = admin.get("/api/v1/list/providers", params={"name": provider}).raise_for_status().json()["data"]
            assert rows, f"provider {provider} is in the catalog"
            ids[provider] = rows[0]["id"]
            admin.patch(
                f"/api/v1/update/provider/{ids[provider]}",
                json={"base_url": mock_url + MOCK_PREFIX[provider], "api_key": f"key-{provider}-1", "enabled": True},
            ).raise_for_status()
        key = admin.post("/api/v1/add/gateway-api-key", json={"name": "sdk-tests"}).raise_for_status().json()["key"]
        yield Gateway(base_url=base_url, api_key=key, mock_url=mock_url, admin=admin, provider_ids=ids)
    finally:
        if admin is not None:
            admin.close()
        if gw is not None:
            gw.stop()
        mock.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def base_url(gateway: Gateway) -> str:
    return gateway.base_url


@pytest.fixture(scope="session")
def api_key(gateway: Gateway) -> str:
    return gateway.api_key


@pytest.fixture(scope="session")
def mock_url(gateway: Gateway) -> str:
    return gateway.mock_url


@pytest.fixture(scope="session")
def mock_requests(gateway: Gateway):
    return gateway.mock_requests


@pytest.fixture(scope="session")
def admin(gateway: Gateway) -> httpx.Client:
    return gateway.admin


@pytest.fixture(scope="session")
def chat_models() -> list[tuple[str, str]]:
    return list(CHAT_MODELS)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if {"provider", "model"} <= set(metafunc.fixturenames):
        metafunc.parametrize(("provider", "model"), CHAT_MODELS, ids=[p for p, _ in CHAT_MODELS])
