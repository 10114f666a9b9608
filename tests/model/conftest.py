"""Fixtures of the model tests: tiny model folders built offline, once per session."""

from __future__ import annotations

import os

import pytest

# No hub access here: fail at once instead of retrying for ~47 s, keep output clean,
# and keep transformers' module cache (remote code) out of the user's home.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@pytest.fixture(scope="session")
def hf_home(tmp_path_factory) -> str:
    home = str(tmp_path_factory.mktemp("hf-home"))
    os.environ["HF_HOME"] = home
    os.environ["HF_MODULES_CACHE"] = os.path.join(home, "modules")
    return home


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory, hf_home) -> str:
    """Folder of a random ~1M-parameter Llama with the test tokenizer and chat template."""
    pytest.importorskip("torch")
    from tiny_model import build_tiny_llama

    return build_tiny_llama(str(tmp_path_factory.mktemp("tiny-llama")))
