"""Model settings: pyproject.toml, editor settings and CLI flags, and their errors."""

from __future__ import annotations

import pytest

from tracefix.server.model.backend import BackendSettings
from tracefix.server.model.config import (ConfigError, ModelOptions, apply, describe,
                                          load_options, make_backend)


def write_pyproject(root, body: str) -> None:
    (root / "pyproject.toml").write_text(body, encoding="utf-8")


def test_no_settings_means_the_builtin_engine(tmp_path):
    options = load_options(str(tmp_path))
    assert options == ModelOptions()
    assert not options.enabled


def test_pyproject_then_editor_then_cli(tmp_path):
    write_pyproject(tmp_path, """
[project]
name = "demo"

[tool.tracefix.model]
model = "Qwen/Qwen2.5-Coder-1.5B-Instruct"
device = "cuda:1"
dtype = "bfloat16"
samples = 8
temperature = 0.6
""")
    options = load_options(str(tmp_path), editor={"samples": 2, "maxNewTokens": 300},
                           cli={"temperature": 0.0})
    assert options.backend.kind == "transformers"  # inferred from `model`
    assert options.backend.model == "Qwen/Qwen2.5-Coder-1.5B-Instruct"
    assert (options.backend.device, options.backend.dtype) == ("cuda:1", "bfloat16")
    assert (options.samples, options.max_new_tokens, options.temperature) == (2, 300, 0.0)


def test_endpoint_selects_the_openai_backend(tmp_path):
    options = load_options(str(tmp_path), editor={"endpoint": "http://127.0.0.1:8000/v1",
                                                  "apiKeyEnv": "MY_KEY"})
    assert options.backend.kind == "openai"
    assert options.backend.api_key_env == "MY_KEY"


@pytest.mark.parametrize("raw, key, value", [
    ({"samples": 0}, "samples", "0"),
    ({"samples": "four"}, "samples", "'four'"),
    ({"temperature": -1}, "temperature", "-1"),
    ({"device": "gpu"}, "device", "'gpu'"),
    ({"dtype": "fp8"}, "dtype", "'fp8'"),
    ({"trustRemoteCode": "yes"}, "trustRemoteCode", "'yes'"),
    ({"kind": "llamafile"}, "kind", "'llamafile'"),
])
def test_bad_values_name_the_key_and_the_value(raw, key, value):
    with pytest.raises(ConfigError) as caught:
        apply(ModelOptions(), raw, "editor settings")
    message = str(caught.value)
    assert f"editor settings: {key}" in message
    assert value in message
    assert "expected" in message
    assert "無効" in caught.value.render("ja")


def test_missing_model_and_bad_endpoint_are_explained(tmp_path):
    with pytest.raises(ConfigError, match="needs `model`"):
        load_options(str(tmp_path), editor={"kind": "transformers"})
    with pytest.raises(ConfigError, match="ftp://example"):
        load_options(str(tmp_path), editor={"endpoint": "ftp://example"})


def test_broken_pyproject_names_the_file(tmp_path):
    write_pyproject(tmp_path, "[tool.tracefix.model\nmodel = 1\n")
    with pytest.raises(ConfigError) as caught:
        load_options(str(tmp_path))
    assert str(tmp_path / "pyproject.toml") in str(caught.value)


def test_unknown_keys_are_logged_not_fatal(caplog):
    options = apply(ModelOptions(), {"model": "m", "colour": "blue"}, "pyproject.toml")
    assert options.backend.model == "m"
    assert "colour" in caplog.text


def test_make_backend_picks_the_kind_without_loading(tmp_path):
    pytest.importorskip("transformers")
    backend = make_backend(BackendSettings(kind="transformers", model=str(tmp_path / "absent")))
    assert type(backend).__name__ == "TransformersBackend"
    assert not backend.loaded  # constructing loads nothing; the first request does
    remote = make_backend(BackendSettings(kind="openai", endpoint="http://127.0.0.1:9/v1"),
                          api_key="sk-test-secret")
    assert type(remote).__name__ == "OpenAIBackend"
    assert "sk-test-secret" not in repr(remote)
    with pytest.raises(ConfigError):
        make_backend(BackendSettings())


def test_describe_holds_no_secret():
    options = apply(ModelOptions(), {"endpoint": "http://127.0.0.1:8000/v1"}, "cli")
    assert "api_key" not in describe(options)["backend"]
    assert describe(options)["backend"]["api_key_env"] == "TRACEFIX_API_KEY"
