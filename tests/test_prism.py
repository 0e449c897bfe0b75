"""The fine-tuning and chat requests labelcycle sends, checked against OpenAI's own API
description served by the Prism mock server (which answers 422 to a request the spec rejects).

Needs ``.ci/node/node_modules/.bin/prism`` (install it with ``bash .ci/prism.sh``) and
``../shared/openai-openapi/openapi.yaml``; skipped when either is missing. Prism takes about
half a minute to load the spec, so the server is shared by the module's tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from finetune.chat_eval import evaluate_chat_model
from finetune.client import ClientFactory, ProviderError
from finetune.jobs import JobManager
from weak_supervision.registry import Registry

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SPEC = Path(os.environ.get("LABELCYCLE_OPENAI_SPEC",
                           ROOT.parent / "shared" / "openai-openapi" / "openapi.yaml"))
KEY = "sk-prism-test-key-0123456789abcdef"
START_TIMEOUT = 180.0


def _prism_binary() -> str | None:
    local = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "prism"
    if local.exists():
        return str(local)
    return shutil.which("prism")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen) -> None:
    """Stop Prism and anything it started (its own process group)."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def prism_url(tmp_path_factory: pytest.TempPathFactory):
    binary = _prism_binary()
    if binary is None:
        if os.environ.get("CI") and SPEC.is_file():
            pytest.fail("prism is not installed in CI: .ci/run must run `bash .ci/prism.sh`")
        pytest.skip("prism not installed; run `bash .ci/prism.sh`")
    if shutil.which("node") is None:
        pytest.skip("node not found; prism needs Node.js")
    if not SPEC.is_file():
        pytest.skip(f"OpenAI OpenAPI description not found at {SPEC}")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [binary, "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"prism exited with {proc.returncode} before listening:\n{tail}")
            if b"Prism is listening" in log_path.read_bytes():
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    pass
            if time.monotonic() > deadline:
                pytest.fail(f"prism did not listen on port {port} within {START_TIMEOUT:.0f} s")
            time.sleep(0.2)
        # Prism serves the spec's paths without the server's /v1 prefix.
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


@pytest.fixture(autouse=True)
def _isolated_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _factory(url: str) -> ClientFactory:
    return ClientFactory(base_url=url, api_key=KEY, max_retries=0, timeout=30)


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    line = json.dumps({"messages": [{"role": "user", "content": "Free money!!!"},
                                    {"role": "assistant", "content": "spam"}]})
    path = tmp_path / "train.jsonl"
    path.write_text((line + "\n") * 10, encoding="utf-8")
    return path


def test_prism_accepts_upload_job_lifecycle_requests(prism_url, tmp_path, train_file):
    manager = JobManager(Registry(tmp_path / "registry.sqlite"), _factory(prism_url),
                         max_attempts=1)
    file_id = manager.upload(train_file)  # POST /files (multipart)
    assert isinstance(file_id, str) and file_id
    assert manager.upload(train_file) == file_id  # GET /files/{id}: still there, not re-sent
    record = manager.submit(  # POST /fine_tuning/jobs with method, hyperparameters, metadata
        file_id, model="gpt-4o-mini-2024-07-18", validation_file=file_id, n_epochs=3,
        batch_size="auto", learning_rate_multiplier=0.1, suffix="labelcycle",
        metadata={"run_id": "20261121-101500-ab12cd", "lf_set": "f00d"})
    assert record.job_id
    job_id = record.job_id
    assert manager.status(job_id).status  # GET /fine_tuning/jobs/{id}
    events = manager.events(job_id, limit=5)  # GET /fine_tuning/jobs/{id}/events
    assert events and all("message" in e for e in events)
    checkpoints = manager.checkpoints(job_id)  # GET /fine_tuning/jobs/{id}/checkpoints
    assert checkpoints and "step_number" in checkpoints[0]
    assert manager.cancel(job_id).job_id == job_id  # POST /fine_tuning/jobs/{id}/cancel


def test_prism_accepts_the_duplicate_check_and_chat_completions(prism_url, tmp_path):
    client = _factory(prism_url)()
    jobs = client.list_jobs(metadata={"labelcycle_submit_id": "abc"}, limit=10)
    assert isinstance(jobs, list)
    result = evaluate_chat_model(  # POST /chat/completions
        [{"text": "Free money!!!", "label": "spam"}], model="gpt-4o-mini-2024-07-18",
        labels=["spam", "ham"], client_factory=_factory(prism_url),
        system_prompt="Answer spam or ham.", user_template="{text}",
        cache_dir=tmp_path / "cache", max_retries=0,
        request_params={"max_completion_tokens": 5})
    assert result.n == 1 and result.n_requests == 1


def test_prism_rejects_a_request_outside_the_spec(prism_url):
    client = _factory(prism_url)()
    with pytest.raises(ProviderError) as info:
        client.create_job(model="gpt-4o-mini-2024-07-18", training_file="file-abc",
                          method={"type": "not-a-method"})
    assert info.value.status_code == 422
