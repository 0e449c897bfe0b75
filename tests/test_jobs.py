"""Tests of finetune/jobs.py and finetune/client.py against the fake OpenAI server, with the
real ``openai`` SDK."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from fake_openai import DEFAULT_KEY, FAIL_MARKER, FakeOpenAI

import finetune.jobs as jobs_mod
from finetune.client import ClientFactory, ProviderError, make_client, redact, resolve_api_key
from finetune.jobs import SUBMIT_ID_KEY, JobManager, jobs_frame
from labelfns.errors import ConfigError, DataError, LabelcycleError
from weak_supervision.registry import Registry

KEY = DEFAULT_KEY


@pytest.fixture
def fake() -> FakeOpenAI:
    with FakeOpenAI(api_key=KEY) as server:
        yield server


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "ws" / "registry.sqlite")


def _line(user: str, answer: str) -> str:
    return json.dumps({"messages": [{"role": "system", "content": "Label the message."},
                                    {"role": "user", "content": user},
                                    {"role": "assistant", "content": answer}]})


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(_line(f"message {i}", "spam" if i % 2 else "ham") + "\n"
                            for i in range(12)), encoding="utf-8")
    return path


def _manager(registry: Registry, server: FakeOpenAI, *, key: str = KEY, **kwargs) -> JobManager:
    options = {"poll_interval": 0.001, "max_poll_interval": 0.005, "retry_backoff": 0.001,
               "max_attempts": 4, **kwargs}
    factory = ClientFactory(base_url=server.url, api_key=key, max_retries=0, timeout=5)
    return JobManager(registry, factory, **options)


# -- client ---------------------------------------------------------------------------------


def test_make_client_key_order_argument_env_file(monkeypatch, tmp_path):
    url = "http://127.0.0.1:9/v1"
    cred = tmp_path / "config" / "labelcycle" / "credentials.toml"
    cred.parent.mkdir(parents=True)
    cred.write_text('api_key = "from-file-default-key"\n'
                    f'[base_urls."{url}/"]\napi_key = "from-file-url-key"\n', encoding="utf-8")
    cred.chmod(0o600)
    assert resolve_api_key(url) == "from-file-url-key"
    assert resolve_api_key("http://other:1/v1") == "from-file-default-key"
    monkeypatch.setenv("OPENAI_API_KEY", "from-env-key")
    assert resolve_api_key(url) == "from-env-key"
    assert resolve_api_key(url, "from-argument-key") == "from-argument-key"


def test_make_client_missing_key_names_the_three_places(tmp_path):
    with pytest.raises(ConfigError) as info:
        make_client(base_url="http://127.0.0.1:9/v1")
    text = str(info.value)
    assert "api_key=" in text and "OPENAI_API_KEY" in text
    assert str(tmp_path / "config" / "labelcycle" / "credentials.toml") in text


def test_make_client_warns_on_readable_credentials_file(tmp_path):
    cred = tmp_path / "config" / "labelcycle" / "credentials.toml"
    cred.parent.mkdir(parents=True)
    cred.write_text('api_key = "from-file-default-key"\n', encoding="utf-8")
    cred.chmod(0o644)
    with pytest.warns(UserWarning, match="chmod 600"):
        make_client(base_url="http://127.0.0.1:9/v1")


def test_client_repr_and_factory_hide_the_key():
    factory = ClientFactory(base_url="http://127.0.0.1:9/v1", api_key=KEY)
    client = factory()
    assert KEY not in repr(client) and KEY not in repr(factory)
    with pytest.raises(TypeError):
        pickle.dumps(factory)
    with pytest.raises(TypeError):
        pickle.dumps(client)
    assert redact(f"the key {KEY} leaked", KEY) == "the key *** leaked"


def test_client_converts_errors_with_status_code_and_message(fake):
    client = make_client(base_url=fake.url, api_key=KEY, max_retries=0)
    with pytest.raises(ProviderError) as info:
        client.retrieve_job("ftjob-missing")
    err = info.value
    assert err.status_code == 404 and err.code == "fine_tune_not_found"
    assert "Could not find fine-tune" in err.message and not err.retryable
    assert err.original is not None and "ftjob-missing" in str(err)


def test_client_connection_failure_is_retryable():
    client = make_client(base_url="http://127.0.0.1:9/v1", api_key=KEY, max_retries=0, timeout=2)
    with pytest.raises(ProviderError) as info:
        client.retrieve_job("ftjob-1")
    assert info.value.status_code is None and info.value.retryable


# -- upload ---------------------------------------------------------------------------------


def test_upload_same_content_is_uploaded_once(fake, registry, train_file, tmp_path):
    first = _manager(registry, fake).upload(train_file)
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(train_file.read_bytes())
    again = _manager(Registry(registry.path), fake).upload(copy)  # new process, same content
    assert again == first
    assert fake.count("POST", r"^/v1/files$") == 1
    assert fake.count("GET", rf"^/v1/files/{first}$") == 1  # checked it still exists
    other = tmp_path / "other.jsonl"
    other.write_text(_line("different", "ham") + "\n", encoding="utf-8")
    assert _manager(registry, fake).upload(other) != first
    assert fake.count("POST", r"^/v1/files$") == 2


def test_upload_to_another_base_url_uploads_again(fake, registry, train_file):
    first = _manager(registry, fake).upload(train_file)
    with FakeOpenAI(api_key=KEY) as other:
        second = _manager(registry, other).upload(train_file)
        assert other.count("POST", r"^/v1/files$") == 1
    assert fake.count("POST", r"^/v1/files$") == 1
    assert isinstance(second, str) and isinstance(first, str)


def test_upload_again_when_the_provider_lost_the_file(fake, registry, train_file):
    manager = _manager(registry, fake)
    first = manager.upload(train_file)
    del fake.files[first]
    second = manager.upload(train_file)
    assert second != first and second in fake.files
    assert manager.upload(train_file) == second


def test_upload_retries_500_then_succeeds(fake, registry, train_file):
    fake.fail("POST", r"^/v1/files$", status=500, times=2)
    file_id = _manager(registry, fake).upload(train_file)
    assert file_id in fake.files and fake.count("POST", r"^/v1/files$") == 3


def test_upload_missing_file_is_a_data_error(fake, registry, tmp_path):
    with pytest.raises(DataError, match="missing.jsonl"):
        _manager(registry, fake).upload(tmp_path / "missing.jsonl")
    assert fake.requests == []


# -- submit ---------------------------------------------------------------------------------


def test_submit_sends_method_hyperparameters_and_metadata(fake, registry, train_file):
    manager = _manager(registry, fake)
    record = manager.submit(train_file, model="gpt-4o-mini-2024-07-18", n_epochs=3,
                            batch_size="auto", learning_rate_multiplier=0.5, suffix="spam-v1",
                            metadata={"run_id": "20261121-101500-ab12cd", "lf_set": "f00d"})
    sent = [r.body for r in fake.requests if r.method == "POST" and r.path.endswith("/jobs")]
    assert len(sent) == 1
    body = sent[0]
    assert body["method"] == {"type": "supervised", "supervised": {"hyperparameters": {
        "n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": 0.5}}}
    assert body["model"] == "gpt-4o-mini-2024-07-18" and body["seed"] == 123
    assert body["suffix"] == "spam-v1" and body["training_file"] == record.training_file
    assert body["metadata"]["run_id"] == "20261121-101500-ab12cd"
    assert body["metadata"]["lf_set"] == "f00d" and len(body["metadata"][SUBMIT_ID_KEY]) == 24
    assert "hyperparameters" not in body  # only the method form
    assert record.status == "validating_files" and record.job_id in fake.jobs
    assert record.base_url == fake.url and record.request == body
    listed = manager.list_jobs()
    assert [r.job_id for r in listed] == [record.job_id]
    assert jobs_frame(listed).loc[record.job_id, "model"] == "gpt-4o-mini-2024-07-18"


@pytest.mark.parametrize("options, match", [
    ({"n_epochs": 0}, "n_epochs"),
    ({"n_epochs": 2.5}, "n_epochs"),
    ({"batch_size": "big"}, "batch_size"),
    ({"learning_rate_multiplier": -1}, "learning_rate_multiplier"),
    ({"suffix": "x" * 65}, "suffix"),
    ({"metadata": {"run": 3}}, "metadata"),
    ({"metadata": {SUBMIT_ID_KEY: "x"}}, "reserved"),
    ({"metadata": {"token": "sk-abcdefghijklmnopqrstuvwx"}}, "API key"),
    ({"metadata": {f"k{i}": "v" for i in range(16)}}, "at most 15"),
])
def test_submit_rejects_invalid_options_before_any_request(fake, registry, options, match):
    with pytest.raises(ConfigError, match=match):
        _manager(registry, fake).submit("file-000001", model="gpt-4o-mini-2024-07-18", **options)
    assert fake.requests == []


def test_submit_retry_after_lost_answer_does_not_create_a_second_job(fake, registry, train_file):
    manager = _manager(registry, fake)
    file_id = manager.upload(train_file)
    fake.fail("POST", r"^/v1/fine_tuning/jobs$", status=None, after=True)  # created, answer lost
    record = manager.submit(file_id, model="gpt-4o-mini-2024-07-18")
    assert len(fake.jobs) == 1 and record.job_id in fake.jobs
    assert fake.count("POST", r"^/v1/fine_tuning/jobs$") == 1
    assert fake.count("GET", r"^/v1/fine_tuning/jobs$") == 1  # looked for the job first


def test_submit_retries_503_then_creates_one_job(fake, registry, train_file):
    fake.fail("POST", r"^/v1/fine_tuning/jobs$", status=503, times=1)
    record = _manager(registry, fake).submit(train_file, model="gpt-4o-mini-2024-07-18")
    assert list(fake.jobs) == [record.job_id]


# -- watch ----------------------------------------------------------------------------------


def test_watch_streams_each_event_once_until_succeeded(fake, registry, train_file, monkeypatch):
    monkeypatch.setattr(jobs_mod, "_EVENT_PAGE", 2)  # force paging through the event list
    manager = _manager(registry, fake)
    record = manager.submit(train_file, model="gpt-4o-mini-2024-07-18", suffix="s")
    seen: list[dict] = []
    final = manager.watch(record.job_id, on_event=seen.append)
    assert final.status == "succeeded" and final.terminal
    assert final.fine_tuned_model == f"ft:gpt-4o-mini-2024-07-18:fake:s:{record.job_id}"
    assert final.trained_tokens == 1234 and final.finished_at is not None
    server_events = fake.jobs[record.job_id].events
    assert [e["id"] for e in seen] == [e["id"] for e in server_events]  # all, once, in order
    assert seen[0]["message"].startswith("Created fine-tuning job")
    assert seen[-1]["message"] == "The job has successfully completed"
    assert final.last_event_id == server_events[-1]["id"]
    more: list[dict] = []
    assert manager.watch(record.job_id, on_event=more.append).status == "succeeded"
    assert more == []
    checkpoints = manager.checkpoints(record.job_id)
    assert sorted(c["step_number"] for c in checkpoints) == [1, 2]
    latest = manager.events(record.job_id, limit=3)
    assert [e["id"] for e in latest] == [e["id"] for e in server_events[-3:]]


def test_watch_failed_job_returns_provider_error(fake, registry, tmp_path):
    path = tmp_path / "bad.jsonl"
    lines = [_line(f"m{i}", "ham") for i in range(11)] + [_line(FAIL_MARKER.decode(), "spam")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    manager = _manager(registry, fake)
    record = manager.watch(manager.submit(path, model="gpt-4o-mini-2024-07-18").job_id)
    assert record.status == "failed"
    assert record.error_code == "invalid_training_file"
    assert "invalid training file" in record.error_message and "Line 3" in record.error_message
    assert manager.status(record.job_id).error_code == "invalid_training_file"


def test_cancel_stops_the_job(fake, registry, train_file):
    manager = _manager(registry, fake)
    record = manager.submit(train_file, model="gpt-4o-mini-2024-07-18")
    assert manager.cancel(record.job_id).status == "cancelled"
    assert fake.count("POST", rf"^/v1/fine_tuning/jobs/{record.job_id}/cancel$") == 1
    events: list[dict] = []
    final = manager.watch(record.job_id, on_event=events.append)
    assert final.status == "cancelled" and events[-1]["message"] == "Fine-tuning job cancelled"
    with pytest.raises(ProviderError, match="already cancelled"):
        manager.cancel(record.job_id)


def test_watch_resumes_in_a_new_manager_from_the_last_event(fake, registry, train_file):
    first = _manager(registry, fake, max_wait=0)
    job_id = first.submit(train_file, model="gpt-4o-mini-2024-07-18").job_id
    seen: list[dict] = []
    with pytest.raises(LabelcycleError, match=rf"still 'running'.*watch\('{job_id}'\)"):
        first.watch(job_id, on_event=seen.append)  # one poll, then max_wait is over
    assert seen and first.status(job_id).status == "running"

    class Crash(Exception):
        pass

    def crash_on_third(event: dict) -> None:
        if len(seen) == 3:
            raise Crash  # the event is not acknowledged: it must come again
        seen.append(event)

    with pytest.raises(Crash):
        _manager(Registry(registry.path), fake).watch(job_id, on_event=crash_on_third)
    final = _manager(Registry(registry.path), fake).watch(job_id, on_event=seen.append)
    assert final.status == "succeeded"
    assert [e["id"] for e in seen] == [e["id"] for e in fake.jobs[job_id].events]


def test_watch_retries_500_and_dropped_connections(fake, registry, train_file):
    manager = _manager(registry, fake)
    job_id = manager.submit(train_file, model="gpt-4o-mini-2024-07-18").job_id
    fake.fail("GET", r"^/v1/fine_tuning/jobs/[^/]+$", status=500, times=2)
    fake.fail("GET", r"/events$", status=None, times=1)
    fake.fail("GET", r"^/v1/fine_tuning/jobs/[^/]+$", status=429, times=1,
              headers={"retry-after-ms": "1"}, code="rate_limit_exceeded")
    events: list[dict] = []
    assert manager.watch(job_id, on_event=events.append).status == "succeeded"
    assert len(events) == len(fake.jobs[job_id].events)


def test_watch_gives_up_with_a_clear_error_and_a_resumable_record(fake, registry, train_file):
    manager = _manager(registry, fake, max_attempts=3)
    job_id = manager.submit(train_file, model="gpt-4o-mini-2024-07-18").job_id
    fake.fail("GET", r"^/v1/fine_tuning/jobs/[^/]+$", status=502, times=3)
    with pytest.raises(ProviderError) as info:
        manager.watch(job_id)
    text = str(info.value)
    assert "gave up after 3 attempts" in text and "HTTP 502" in text
    assert f"watch('{job_id}')" in text and str(registry.path) in text
    assert [r.job_id for r in manager.list_jobs()] == [job_id]
    assert _manager(Registry(registry.path), fake).watch(job_id).status == "succeeded"


def test_watch_unknown_job_lists_recorded_ones(fake, registry, train_file):
    manager = _manager(registry, fake)
    job_id = manager.submit(train_file, model="gpt-4o-mini-2024-07-18").job_id
    with pytest.raises(DataError, match=job_id):
        manager.watch("ftjob-nope")


def test_watch_backs_off_while_nothing_changes(fake, registry, train_file, monkeypatch):
    fake.queued_polls = 6
    manager = _manager(registry, fake, poll_interval=0.01, max_poll_interval=0.04)
    job_id = manager.submit(train_file, model="gpt-4o-mini-2024-07-18").job_id
    waits: list[float] = []
    monkeypatch.setattr(jobs_mod.time, "sleep", waits.append)
    assert manager.watch(job_id).status == "succeeded"
    # queued (new events), 5 silent polls (doubling, capped), running and a step (reset)
    assert waits == [0.01, 0.02, 0.04, 0.04, 0.04, 0.04, 0.01, 0.01]
    assert fake.count("GET", rf"^/v1/fine_tuning/jobs/{job_id}$") == 1 + 6 + 2


# -- dry run and secrets --------------------------------------------------------------------


def test_dry_run_validates_and_sends_nothing(fake, registry, train_file, tmp_path):
    factory = ClientFactory(base_url=fake.url)  # no key anywhere: a dry run needs none
    manager = JobManager(registry, factory, dry_run=True)
    record = manager.submit(train_file, model="gpt-3.5-turbo-0125", n_epochs=2,
                            metadata={"run_id": "r1"})
    assert record.status == "dry_run" and record.job_id.startswith("dryrun-")
    assert record.request["method"]["supervised"]["hyperparameters"] == {"n_epochs": 2}
    assert record.request["training_file"].startswith("file-dryrun-")
    assert record.request["metadata"] == {"run_id": "r1"}
    assert record.validation["n_examples"] == 12 and record.validation["total_tokens"] > 0
    assert manager.watch(record.job_id) == record
    assert manager.status(record.job_id).status == "dry_run"
    assert manager.events(record.job_id) == [] and manager.checkpoints(record.job_id) == []
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []}\n' * 10, encoding="utf-8")
    with pytest.raises(DataError, match="missing_messages_list"):
        manager.submit(bad, model="gpt-3.5-turbo-0125")
    assert fake.requests == []


def test_api_key_is_never_stored_nor_shown(fake, registry, train_file, tmp_path):
    manager = _manager(registry, fake)
    good = manager.watch(manager.submit(train_file, model="gpt-4o-mini-2024-07-18").job_id)
    assert good.status == "succeeded"
    wrong_key = "sk-wrong-key-0123456789abcdefghij"
    bad = _manager(registry, fake, key=wrong_key)
    with pytest.raises(ProviderError) as info:
        bad.status(good.job_id)
    err = info.value
    assert err.status_code == 401 and not err.retryable
    assert wrong_key not in str(err) and wrong_key not in err.message
    assert "Incorrect API key provided" in str(err) and "OPENAI_API_KEY" in str(err)
    stored = b"".join(p.read_bytes() for p in registry.path.parent.iterdir() if p.is_file())
    assert stored and good.job_id.encode() in stored
    assert KEY.encode() not in stored and wrong_key.encode() not in stored
    assert KEY not in repr(manager) and KEY not in json.dumps(good.to_dict())
