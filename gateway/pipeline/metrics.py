"""Counters for ``GET /metrics`` in Prometheus' text format: counts and timings only.

Labels are the client protocol, provider, model and status or error class. A model name comes
from the client, so the number of label sets is capped; past the cap new models count as
"other" (a scraper must never be able to make the gateway hold unbounded memory).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from gateway.core.usage import Usage

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
MAX_SERIES = 2000


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    return ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))


class Metrics:
    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, str, str], int] = {}
        self._errors: dict[tuple[str, str], int] = {}
        self._latency: dict[tuple[str, str], list[float]] = {}  # per bucket counts, then sum, count
        self._tokens: dict[tuple[str, str, str], int] = {}
        self._models: set[str] = set()

    def _model(self, model: str) -> str:
        if model in self._models:
            return model
        if len(self._models) >= MAX_SERIES:
            return "other"
        self._models.add(model)
        return model

    def answered(self, protocol: str, provider: str, model: str, status: int, seconds: float, error: str = "") -> None:
        model = self._model(model)
        key = (protocol, provider, model, str(status))
        self._requests[key] = self._requests.get(key, 0) + 1
        if error:
            ekey = (provider, error)
            self._errors[ekey] = self._errors.get(ekey, 0) + 1
        if status < 400:
            lkey = (provider, model)
            hist = self._latency.get(lkey)
            if hist is None:
                hist = self._latency[lkey] = [0.0] * (len(BUCKETS) + 3)  # buckets, +Inf, sum, count
            hist[bisect_left(BUCKETS, seconds)] += 1
            hist[-2] += seconds
            hist[-1] += 1

    def tokens(self, provider: str, model: str, usage: Usage | None) -> None:
        if usage is None:
            return
        model = self._model(model)
        for kind, count in (
            ("prompt", usage.prompt_tokens),
            ("completion", usage.completion_tokens),
            ("cached", usage.cached_tokens),
            ("reasoning", usage.reasoning_tokens),
        ):
            if count:
                key = (provider, model, kind)
                self._tokens[key] = self._tokens.get(key, 0) + count

    def render(self, gauges: Iterable[tuple[str, str, str, dict[str, str], float]] = ()) -> str:
        """The exposition text; ``gauges`` adds (name, type, help, labels, value) samples."""
        out: list[str] = []

        def family(name: str, kind: str, text: str) -> None:
            out.append(f"# HELP {name} {text}")
            out.append(f"# TYPE {name} {kind}")

        family(
            "switchboard_requests_total",
            "counter",
            "Requests answered, by client protocol, provider, model and HTTP status.",
        )
        for key, count in sorted(self._requests.items()):
            out.append(
                f"switchboard_requests_total{{{_labels(('protocol', 'provider', 'model', 'status'), key)}}} {count}"
            )
        family("switchboard_errors_total", "counter", "Requests that ended in an error, by provider and error class.")
        for ekey, count in sorted(self._errors.items()):
            out.append(f"switchboard_errors_total{{{_labels(('provider', 'class'), ekey)}}} {count}")
        family("switchboard_request_duration_seconds", "histogram", "Time to answer successful requests.")
        for lkey, hist in sorted(self._latency.items()):
            series = _labels(("provider", "model"), lkey)
            running = 0
            for bound, in_bucket in zip((*BUCKETS, float("inf")), hist[:-2], strict=True):
                running += int(in_bucket)
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(f'switchboard_request_duration_seconds_bucket{{{series},le="{le}"}} {running}')
            out.append(f"switchboard_request_duration_seconds_sum{{{series}}} {hist[-2]:.6f}")
            out.append(f"switchboard_request_duration_seconds_count{{{series}}} {int(hist[-1])}")
        family("switchboard_tokens_total", "counter", "Tokens counted, by provider, upstream model and kind.")
        for tkey, count in sorted(self._tokens.items()):
            out.append(f"switchboard_tokens_total{{{_labels(('provider', 'model', 'kind'), tkey)}}} {count}")
        seen: set[str] = set()
        for name, kind, text, labels, value in gauges:
            if name not in seen:
                seen.add(name)
                family(name, kind, text)
            rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            out.append(f"{name}{{{rendered}}} {value:g}" if rendered else f"{name} {value:g}")
        return "\n".join(out) + "\n"
