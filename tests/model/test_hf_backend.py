"""The transformers backend on a tiny model built offline: load, stream, cancel, chat template."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("transformers")

from tracefix.server.model.backend import BackendSettings, GenerationRequest, ModelError
from tracefix.server.model.hf_backend import TransformersBackend

from tiny_model import ASSISTANT_MARKER, build_scripted_model

MESSAGES = [{"role": "system", "content": "You fix Python code."},
            {"role": "user", "content": "def gcd(a, b): ..."}]


def backend_for(folder: str, **settings) -> TransformersBackend:
    return TransformersBackend(BackendSettings(kind="transformers", model=folder, device="cpu",
                                               **settings))


def test_loads_from_disk_in_the_background_with_progress(tiny_llama):
    backend = backend_for(tiny_llama)
    seen: list[tuple[str, int | None]] = []
    future = backend.start_loading(lambda message, percent: seen.append((message, percent)))
    future.result(timeout=120)
    assert backend.loaded
    assert seen[-1][1] == 100
    assert any("cpu" in message for message, _ in seen)
    # Loading again is a no-op that returns at once: the model loads once.
    assert backend.start_loading() is future
    assert backend.context_window == 2048


def test_prompt_goes_through_the_chat_template(tiny_llama):
    from transformers import AutoTokenizer

    backend = backend_for(tiny_llama)
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    expected = ("<|im_start|>system\nYou fix Python code.<|im_end|>\n"
                "<|im_start|>user\ndef gcd(a, b): ...<|im_end|>\n" + ASSISTANT_MARKER)
    assert backend.count_tokens(MESSAGES) == len(tokenizer.encode(expected))


def test_streams_each_sample_and_repeats_with_a_seed(tiny_llama):
    backend = backend_for(tiny_llama)
    deltas: dict[int, list[str]] = {0: [], 1: []}
    request = GenerationRequest(MESSAGES, n=2, temperature=1.0, max_new_tokens=24, seed=7)
    first = backend.generate(request, on_delta=lambda i, text: deltas[i].append(text))
    assert len(first) == 2
    for i, completion in enumerate(first):
        assert len(deltas[i]) > 1, "text arrived in one piece, not streamed"
        assert "".join(deltas[i]) == completion.text
        assert completion.finish_reason in ("stop", "length")
        assert 0 < completion.tokens <= 24
    assert first[0].text != first[1].text  # different samples
    again = backend.generate(request)
    assert [c.text for c in again] == [c.text for c in first]


def test_greedy_decoding_is_deterministic(tiny_llama):
    backend = backend_for(tiny_llama)
    request = GenerationRequest(MESSAGES, n=2, temperature=0, max_new_tokens=12)
    texts = [c.text for c in backend.generate(request)]
    assert texts[0] == texts[1]


def test_cancel_stops_generation_mid_answer(tiny_llama):
    backend = backend_for(tiny_llama)
    backend.load()
    cancel = threading.Event()
    pieces: list[str] = []

    def on_delta(sample: int, text: str) -> None:
        pieces.append(text)
        if len(pieces) == 3:
            cancel.set()

    request = GenerationRequest(MESSAGES, n=3, temperature=1.0, max_new_tokens=400, seed=1)
    completions = backend.generate(request, on_delta=on_delta, cancel=cancel.is_set)
    assert completions[0].finish_reason == "cancelled"
    assert completions[0].tokens < 400
    # The samples not yet started are not generated at all.
    assert [c.finish_reason for c in completions[1:]] == ["cancelled", "cancelled"]
    assert completions[1].text == ""


def test_scripted_replay_model_answers_through_generate(tmp_path, hf_home):
    """The stand-in model of the end-to-end tests really produces its script via generate()."""
    answer = "At step (4) n is 0.\n```python\ndef f(n):\n    return n + 1\n```\n"
    folder = build_scripted_model(str(tmp_path / "replay"), answer)
    backend = backend_for(folder, trust_remote_code=True)
    [completion] = backend.generate(GenerationRequest(MESSAGES, n=1, temperature=0.7,
                                                      max_new_tokens=200))
    assert completion.text == answer
    assert completion.finish_reason == "stop"


def test_remote_code_is_refused_unless_trusted(tmp_path, hf_home):
    folder = build_scripted_model(str(tmp_path / "replay"), "hello")
    backend = backend_for(folder)  # trust_remote_code defaults to False
    with pytest.raises(ModelError) as caught:
        backend.load()
    assert caught.value.key == "model.hf.load_failed"
    assert "trust_remote_code" in str(caught.value)


def test_missing_folder_says_what_to_fix(tmp_path, hf_home):
    backend = backend_for(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelError) as caught:
        backend.load()
    assert "no-such-model" in str(caught.value)
    assert "There is no folder" in str(caught.value)
    assert "Repo id" not in str(caught.value)  # transformers' misleading hub-id complaint
    assert "フォルダーがありません" in caught.value.render("ja")


def test_offline_hub_id_fails_with_hint(hf_home, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    backend = backend_for("tracefix-tests/no-such-model")
    with pytest.raises(ModelError) as caught:
        backend.load()
    assert "HF_HUB_OFFLINE" in str(caught.value)
    assert "tracefix-tests/no-such-model" in str(caught.value)


def test_unavailable_device_is_refused(tiny_llama):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    backend = TransformersBackend(BackendSettings(kind="transformers", model=tiny_llama,
                                                  device="cuda:0"))
    with pytest.raises(ModelError) as caught:
        backend.load()
    assert caught.value.key == "model.hf.no_device"
