"""A causal LM that replays a scripted answer: a stand-in for a real model, named as such.

No real model's weights can be downloaded here, and a random tiny model writes noise, so
the end-to-end tests need a model that *really* produces a known answer through
transformers' own `generate`. This class does: at each step it puts all probability on
the next token of its script, counted from the last assistant marker in the input. It is
saved into a model folder as remote code (`auto_map` + `trust_remote_code`), which is
how transformers loads any custom architecture, so the product's loading path is the
real one.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import GenerationMixin, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutput


class ScriptedReplayConfig(PretrainedConfig):
    model_type = "tracefix-scripted-replay"

    def __init__(self, script_ids=None, marker_ids=None, vocab_size=256, eos_token_id=None,
                 max_position_embeddings=8192, **kwargs):
        self.script_ids = list(script_ids or [])
        self.marker_ids = list(marker_ids or [])
        self.vocab_size = vocab_size
        self.max_position_embeddings = max_position_embeddings
        # generate() sizes a (never used) cache from these, as for any decoder.
        self.num_hidden_layers = 1
        self.num_attention_heads = 1
        self.hidden_size = 8
        kwargs.setdefault("use_cache", False)
        super().__init__(eos_token_id=eos_token_id, **kwargs)


class ScriptedReplayForCausalLM(PreTrainedModel, GenerationMixin):
    config_class = ScriptedReplayConfig
    base_model_prefix = "replay"
    _supports_cache_class = False

    def __init__(self, config: ScriptedReplayConfig):
        super().__init__(config)
        # One weight, so that saving, loading and device moves work as for any model.
        self.anchor = nn.Parameter(torch.zeros(1))
        self.post_init()

    def _init_weights(self, module):
        pass

    def _position(self, row: list[int]) -> int:
        marker = self.config.marker_ids
        for start in range(len(row) - len(marker), -1, -1):
            if row[start:start + len(marker)] == marker:
                return len(row) - (start + len(marker))
        return 0

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        batch, length = input_ids.shape
        logits = torch.full((batch, length, self.config.vocab_size), -1e9,
                            device=input_ids.device, dtype=torch.float32)
        for b in range(batch):
            done = self._position(input_ids[b].tolist())
            script = self.config.script_ids
            token = script[done] if done < len(script) else self.config.eos_token_id
            logits[b, -1, token] = 0.0
        return CausalLMOutput(logits=logits + self.anchor.to(torch.float32) * 0)

    def prepare_inputs_for_generation(self, input_ids, attention_mask=None, **kwargs):
        # The whole sequence every step: the script position is read from the input.
        return {"input_ids": input_ids, "attention_mask": attention_mask}
