"""Build tiny models offline for the tests: a random Llama and a scripted replay model.

Both share a byte-level BPE tokenizer trained with `tokenizers` on the fixed corpus in
data/corpus.txt, wrapped as `PreTrainedTokenizerFast` with a ChatML-style chat template,
and are saved with `save_pretrained`, so the product loads them with `from_pretrained`
exactly as it loads a real model folder.
"""

from __future__ import annotations

import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "data", "corpus.txt")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
ASSISTANT_MARKER = "<|im_start|>assistant\n"


def build_tokenizer(folder: str):
    """Train the byte-level BPE tokenizer and save it as a fast tokenizer into `folder`."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    raw = ByteLevelBPETokenizer()
    raw.train([CORPUS], vocab_size=4096, min_frequency=1, special_tokens=SPECIALS,
              show_progress=False)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw._tokenizer, bos_token="<|endoftext|>", eos_token="<|im_end|>",
        pad_token="<|endoftext|>", unk_token="<|endoftext|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.model_max_length = 2048
    tokenizer.save_pretrained(folder)
    return tokenizer


def build_tiny_llama(folder: str, seed: int = 0) -> str:
    """A randomly initialised ~1M-parameter Llama with the test tokenizer, saved to `folder`."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(folder)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=128, intermediate_size=256,
                         num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def build_scripted_model(folder: str, answer: str) -> str:
    """A model folder whose model answers every prompt with `answer` (see scripted_replay)."""
    from scripted_replay import ScriptedReplayConfig, ScriptedReplayForCausalLM

    tokenizer = build_tokenizer(folder)
    config = ScriptedReplayConfig(
        script_ids=tokenizer.encode(answer, add_special_tokens=False),
        marker_ids=tokenizer.encode(ASSISTANT_MARKER, add_special_tokens=False),
        vocab_size=len(tokenizer), eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)
    config.auto_map = {"AutoConfig": "modeling_scripted_replay.ScriptedReplayConfig",
                       "AutoModelForCausalLM": "modeling_scripted_replay.ScriptedReplayForCausalLM"}
    ScriptedReplayForCausalLM(config).save_pretrained(folder)
    shutil.copy(os.path.join(HERE, "scripted_replay.py"),
                os.path.join(folder, "modeling_scripted_replay.py"))
    return folder
