"""Inference through the `ollama` client: the only way any function talks to a model."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol


class ModelUnavailable(Exception):
    """Ollama did not answer in time, or answered with an error: the turn may be retried."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class ChatResult:
    content: str
    model: str
    tokens: int
    generation_time_ms: int


class ChatModel(Protocol):
    def chat(
        self, model: str, messages: list[dict[str, str]], *, temperature: float, max_tokens: int
    ) -> ChatResult: ...


def tls_options(host: str) -> dict[str, Any]:
    """httpx options for the Ollama node: full certificate verification over https; over plain http there is no
    TLS at all, so the CA bundle (tens of ms of cold start to load) is not loaded for nothing."""
    return {} if host.strip().lower().startswith("https://") else {"verify": False}


class OllamaChat:
    """`ollama.Client` against OLLAMA_HOST, with a hard timeout; imported lazily (the worker alone pays for it)."""

    def __init__(self, host: str, timeout_s: float) -> None:
        import ollama

        self._ollama = ollama
        self._client = ollama.Client(host=host, timeout=timeout_s, **tls_options(host))
        self.host = host

    def chat(self, model: str, messages: list[dict[str, str]], *, temperature: float, max_tokens: int) -> ChatResult:
        import httpx

        started = time.perf_counter()
        try:
            out: Any = self._client.chat(
                model=model,
                messages=messages,
                stream=False,
                options={"temperature": temperature, "num_predict": max_tokens},
            )
        except self._ollama.ResponseError as exc:
            # 4xx (unknown model, bad request) will not heal on retry; 5xx may.
            raise ModelUnavailable(
                f"Ollama answered {exc.status_code}: {exc.error}", retryable=exc.status_code >= 500
            ) from exc
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise ModelUnavailable(f"Ollama did not answer within the timeout at {self.host}") from exc
        except (httpx.HTTPError, ConnectionError, OSError) as exc:
            raise ModelUnavailable(f"Ollama is unreachable at {self.host}: {exc}") from exc
        # Wall-clock time of the call as the platform saw it (network to the GPU node included), not
        # the model's self-reported eval time: honest for a real Ollama and for the stand-in alike.
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        return ChatResult(
            content=str(out["message"]["content"]),
            model=str(out.get("model") or model),
            tokens=int(out.get("eval_count") or 0) + int(out.get("prompt_eval_count") or 0),
            generation_time_ms=elapsed_ms,
        )
