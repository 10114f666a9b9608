"""Model backends and everything between a failure and a model's verified fixes.

prompt (failure context → chat messages, fitted to the context window) → backend
(transformers or an OpenAI-compatible endpoint; n streamed, cancellable samples) →
answer (reasoning and code split apart) → fixmap (code → minimal edits of the original
file) → source (candidates for the engine's sandbox validation).

Importing this package imports neither torch nor transformers; only the local backend
does, when it is constructed.
"""
