"""Recording limits and options, shared by both recording backends."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class TraceConfig:
    root: str  # absolute; only files below it (and not in site-packages) are traced
    k: int = 3  # loop compression keeps the first k and the last k hits of each line
    max_events: int = 1_000_000  # line events seen before recording stops
    max_bytes: int = 4_000_000  # rendered value bytes kept before recording stops
    max_seconds: float = 20.0  # wall time spent recording one test
    value_width: int = 120  # max characters of one rendered value
    container_items: int = 20  # max items rendered from one container
    backend: str = "auto"  # "auto" | "settrace" | "monitoring"

    @classmethod
    def from_options(cls, root: str, **options: object) -> "TraceConfig":
        """Build from command-line style options where None means "default"."""
        given = {name: value for name, value in options.items() if value is not None}
        config = cls(root=root, **given)  # type: ignore[arg-type]
        config.validate()
        return config

    def validate(self) -> None:
        if self.k < 1:
            raise ValueError(f"tracefix: k={self.k} is invalid; loop compression needs k >= 1")
        for name in ("max_events", "max_bytes", "max_seconds", "value_width", "container_items"):
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"tracefix: {name}={value} is invalid; it must be positive")
        if self.backend not in ("auto", "settrace", "monitoring"):
            raise ValueError(
                f"tracefix: backend={self.backend!r} is invalid; "
                "use 'auto', 'settrace' or 'monitoring'"
            )
        if self.backend == "monitoring" and sys.version_info < (3, 12):
            raise ValueError(
                "tracefix: backend='monitoring' needs Python 3.12 or newer "
                f"(this is {sys.version.split()[0]}); use 'settrace' or 'auto'"
            )

    def resolved_backend(self) -> str:
        if self.backend != "auto":
            return self.backend
        return "monitoring" if sys.version_info >= (3, 12) else "settrace"

    def to_json(self) -> dict[str, object]:
        return asdict(self)
