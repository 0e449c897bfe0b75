"""A small fake OpenAI-compatible HTTP server for tests (standard library only).

It listens on 127.0.0.1 on a free port, in a thread, and speaks enough of the API for the real
``openai`` SDK: files, fine-tuning jobs (with events, checkpoints and cancel) and chat
completions. Everything it received is in ``server.requests``.

- A job moves ``validating_files`` -> ``running`` -> ``succeeded`` over successive
  ``GET /v1/fine_tuning/jobs/{id}`` polls, adding events (listed newest first, ``after`` pages
  towards older ones, as OpenAI does) and checkpoints.
- A job whose training file contains ``FAIL_MARKER`` fails with ``invalid_training_file``.
- Chat answers come from ``server.chat_answers`` (user message -> answer).
- ``server.fail(method, path_regex, status=..., times=...)`` makes the next matching requests
  fail (429 with ``retry-after-ms``, 500, or ``status=None`` to drop the connection).
- A wrong API key gets a 401 whose message repeats the key, to check that it is redacted.

Use it as a context manager::

    with FakeOpenAI(api_key="sk-test-...") as server:
        client = make_client(base_url=server.url, api_key="sk-test-...", max_retries=0)
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FAIL_MARKER = b"FAIL_THIS_JOB"
DEFAULT_KEY = "sk-fake-test-key-1234567890abcdef"


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int | None
    times: int
    headers: dict[str, str]
    code: str | None
    message: str
    after: bool


@dataclass
class _Job:
    data: dict[str, Any]
    steps: int = 0
    queued_left: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    checkpoints: list[dict[str, Any]] = field(default_factory=list)  # oldest first


class FakeOpenAI:
    """The fake server; see the module docstring.

    Parameters
    ----------
    api_key : str
        The only key accepted.
    running_polls : int
        Polls a job stays ``running`` (one training step each) before it succeeds.

    Set ``queued_polls`` to keep new jobs ``queued``, silently, for that many polls.
    """

    def __init__(self, *, api_key: str = DEFAULT_KEY, running_polls: int = 2) -> None:
        self.api_key = api_key
        self.running_polls = running_polls
        self.queued_polls = 0
        self.requests: list[Received] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.jobs: dict[str, _Job] = {}
        self.chat_answers: dict[str, str] = {}
        self.default_answer = "no idea"
        self.lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1)
        self._clock = itertools.count(1_700_000_000)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to give the SDK (``http://127.0.0.1:PORT/v1``)."""
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # -- test controls --------------------------------------------------------------------

    def fail(self, method: str, path_regex: str, *, status: int | None = 500, times: int = 1,
             headers: dict[str, str] | None = None, code: str | None = None,
             message: str = "The server had an error while processing your request.",
             after: bool = False) -> None:
        """Make the next ``times`` requests matching ``method`` and ``path_regex`` fail.

        ``status=None`` drops the connection without an answer; with ``after=True`` the
        request is carried out first (its answer is lost, as when a network fails late).
        """
        with self.lock:
            self._faults.append(_Fault(method.upper(), re.compile(path_regex), status, times,
                                       dict(headers or {}), code, message, after))

    def count(self, method: str, path_regex: str = ".*") -> int:
        """How many requests matched (faulted ones included)."""
        pattern = re.compile(path_regex)
        return sum(r.method == method.upper() and bool(pattern.search(r.path))
                   for r in self.requests)

    # -- helpers used by the handler ------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):06d}"

    def _now(self) -> int:
        return next(self._clock)

    def _event(self, job: _Job, message: str, *, level: str = "info",
               kind: str = "message", data: Any = None) -> None:
        job.events.append({"object": "fine_tuning.job.event", "id": self._new_id("ftevent"),
                           "created_at": self._now(), "level": level, "message": message,
                           "type": kind, "data": data})

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.times > 0 and fault.method == method and fault.pattern.search(path):
                    fault.times -= 1
                    return fault
        return None

    def _advance(self, job: _Job) -> None:
        """One poll's worth of progress."""
        data = job.data
        if data["status"] in ("succeeded", "failed", "cancelled"):
            return
        content = self.contents.get(data["training_file"], b"")
        if data["status"] == "validating_files":
            if FAIL_MARKER in content:
                data["status"] = "failed"
                data["finished_at"] = self._now()
                data["error"] = {"code": "invalid_training_file", "param": "training_file",
                                 "message": "The job failed due to an invalid training file. "
                                            "Line 3: missing assistant message."}
                self._event(job, "Training file validation failed", level="error")
                return
            self._event(job, "Validated training file")
            if self.queued_polls > 0:
                data["status"] = "queued"
                job.queued_left = self.queued_polls
                self._event(job, "Job queued")
                return
            data["status"] = "running"
            self._event(job, "Fine-tuning job started")
            return
        if data["status"] == "queued":  # silent polls: no event, no change
            job.queued_left -= 1
            if job.queued_left <= 0:
                data["status"] = "running"
                self._event(job, "Fine-tuning job started")
            return
        job.steps += 1
        step = job.steps
        if step <= self.running_polls:
            self._event(job, f"Step {step}: training loss={1.0 / step:.3f}", kind="metrics",
                        data={"step": step, "train_loss": 1.0 / step})
            job.checkpoints.append({
                "object": "fine_tuning.job.checkpoint", "id": self._new_id("ftckpt"),
                "created_at": self._now(), "fine_tuning_job_id": data["id"],
                "fine_tuned_model_checkpoint": f"ft:{data['model']}:fake::{data['id']}:ckpt-{step}",
                "step_number": step, "metrics": {"step": float(step), "train_loss": 1.0 / step}})
            if step < self.running_polls:
                return
        suffix = data.get("user_provided_suffix") or ""
        data["status"] = "succeeded"
        data["finished_at"] = self._now()
        data["trained_tokens"] = 1234
        data["fine_tuned_model"] = f"ft:{data['model']}:fake:{suffix}:{data['id']}"
        self._event(job, f"New fine-tuned model created: {data['fine_tuned_model']}")
        self._event(job, "The job has successfully completed")


def _error_body(message: str, *, kind: str = "invalid_request_error",
                code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the log
        pass

    # -- plumbing -------------------------------------------------------------------------

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
            form: dict[str, Any] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                form[name] = {"filename": filename, "content": payload} if filename else \
                    payload.decode()
            return form
        if raw and "json" in ctype:
            return json.loads(raw)
        return raw.decode() if raw else None

    def _handle(self, method: str) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        path = parts.path
        query = dict(parse_qsl(parts.query))
        body = self._read_body()
        logged = body
        if isinstance(body, dict) and isinstance(body.get("file"), dict):
            logged = {**body, "file": {"filename": body["file"]["filename"],
                                       "bytes": len(body["file"]["content"])}}
        with fake.lock:
            fake.requests.append(Received(method, path, query, logged, dict(self.headers)))
        fault = fake._take_fault(method, path)
        if fault is not None and fault.after:
            with fake.lock:
                self._route(method, path, query, body)
        if fault is not None:
            if fault.status is None:  # a network failure: close without answering
                self.close_connection = True
                return
            kind = "rate_limit_error" if fault.status == 429 else "server_error"
            self._send(fault.status, _error_body(fault.message, kind=kind, code=fault.code),
                       fault.headers)
            return
        auth = self.headers.get("Authorization", "")
        if auth != f"Bearer {fake.api_key}":
            token = auth.removeprefix("Bearer ")
            self._send(401, _error_body(f"Incorrect API key provided: {token}.",
                                        code="invalid_api_key"))
            return
        with fake.lock:
            status, answer = self._route(method, path, query, body)
        self._send(status, answer)

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    # -- the API --------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str],
               body: Any) -> tuple[int, Any]:
        fake = self.fake
        if method == "POST" and path == "/v1/files":
            return self._upload(body)
        m = re.fullmatch(r"/v1/files/([^/]+)", path)
        if m:
            file = fake.files.get(m.group(1))
            if file is None:
                return 404, _error_body(f"No such File object: {m.group(1)}")
            if method == "DELETE":
                del fake.files[m.group(1)]
                return 200, {"id": m.group(1), "object": "file", "deleted": True}
            return 200, file
        if path == "/v1/fine_tuning/jobs":
            return self._create_job(body) if method == "POST" else self._list_jobs(query)
        m = re.fullmatch(r"/v1/fine_tuning/jobs/([^/]+)(/[a-z]+)?", path)
        if m:
            job = fake.jobs.get(m.group(1))
            if job is None:
                return 404, _error_body(f"Could not find fine-tune: {m.group(1)}",
                                        code="fine_tune_not_found")
            action = m.group(2)
            if action is None and method == "GET":
                fake._advance(job)
                return 200, job.data
            if action == "/cancel" and method == "POST":
                if job.data["status"] in ("succeeded", "failed", "cancelled"):
                    return 400, _error_body(f"Job has already {job.data['status']}; it cannot "
                                            "be cancelled.", code="invalid_state")
                job.data["status"] = "cancelled"
                job.data["finished_at"] = fake._now()
                fake._event(job, "Fine-tuning job cancelled")
                return 200, job.data
            if action == "/events" and method == "GET":
                return 200, self._page(list(reversed(job.events)), query)
            if action == "/checkpoints" and method == "GET":
                return 200, self._page(list(reversed(job.checkpoints)), query)
        if method == "POST" and path == "/v1/chat/completions":
            return self._chat(body)
        return 404, _error_body(f"Unknown request URL: {method} {path}")

    @staticmethod
    def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
        """A cursor page: items after the one whose id is ``after``."""
        limit = int(query.get("limit", 20))
        if "after" in query:
            ids = [item["id"] for item in items]
            start = ids.index(query["after"]) + 1 if query["after"] in ids else len(items)
            items = items[start:]
        return {"object": "list", "data": items[:limit], "has_more": len(items) > limit}

    def _upload(self, form: Any) -> tuple[int, Any]:
        fake = self.fake
        if not isinstance(form, dict) or not isinstance(form.get("file"), dict) \
                or not form.get("purpose"):
            return 400, _error_body("file and purpose are required", param="file")
        file_id = fake._new_id("file")
        content = form["file"]["content"]
        fake.contents[file_id] = content
        fake.files[file_id] = {"id": file_id, "object": "file", "bytes": len(content),
                               "created_at": fake._now(), "filename": form["file"]["filename"],
                               "purpose": form["purpose"], "status": "processed"}
        return 200, fake.files[file_id]

    def _create_job(self, body: Any) -> tuple[int, Any]:
        fake = self.fake
        if not isinstance(body, dict) or not body.get("model") or not body.get("training_file"):
            return 400, _error_body("model and training_file are required")
        for key in ("training_file", "validation_file"):
            if body.get(key) is not None and body[key] not in fake.files:
                return 400, _error_body(f"invalid {key}: {body[key]}", param=key,
                                        code="invalid_file")
        job_id = fake._new_id("ftjob")
        method = body.get("method") or {"type": "supervised", "supervised": {}}
        hyper = {"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"}
        hyper.update((method.get(method.get("type"), {}) or {}).get("hyperparameters") or {})
        data = {
            "object": "fine_tuning.job", "id": job_id, "model": body["model"],
            "created_at": fake._now(), "finished_at": None, "fine_tuned_model": None,
            "organization_id": "org-fake", "result_files": [], "status": "validating_files",
            "validation_file": body.get("validation_file"),
            "training_file": body["training_file"], "hyperparameters": hyper,
            "method": {"type": method.get("type", "supervised"),
                       method.get("type", "supervised"): {"hyperparameters": hyper}},
            "trained_tokens": None, "error": None, "seed": body.get("seed", 0),
            "user_provided_suffix": body.get("suffix"), "metadata": body.get("metadata"),
            "integrations": [], "estimated_finish": None,
        }
        job = _Job(data)
        fake.jobs[job_id] = job
        fake._event(job, f"Created fine-tuning job: {job_id}")
        return 200, data

    def _list_jobs(self, query: dict[str, str]) -> tuple[int, Any]:
        wanted = {k[len("metadata["):-1]: v for k, v in query.items()
                  if k.startswith("metadata[") and k.endswith("]")}
        jobs = [j.data for j in reversed(list(self.fake.jobs.values()))
                if all((j.data.get("metadata") or {}).get(k) == v for k, v in wanted.items())]
        return 200, self._page(jobs, query)

    def _chat(self, body: Any) -> tuple[int, Any]:
        fake = self.fake
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
            return 400, _error_body("model and messages are required")
        user = next((m.get("content") for m in reversed(body["messages"])
                     if m.get("role") == "user"), "")
        answer = fake.chat_answers.get(user, fake.default_answer)
        return 200, {
            "id": fake._new_id("chatcmpl"), "object": "chat.completion",
            "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": answer, "refusal": None}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
        }
