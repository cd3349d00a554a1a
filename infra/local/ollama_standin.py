"""A stand-in for Ollama that speaks its HTTP API exactly as the `ollama` client uses it, answering with
deterministic canned text, for development and tests where no real model runs."""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

STANDIN_MODEL: Final = "stand-in"
STANDIN_TAG: Final = "stand-in:latest"
STANDIN_VERSION: Final = "0.0.0-stand-in"
DEFAULT_PORT: Final = 11434
DEFAULT_EMBED_DIM: Final = 384

# Simulated costs, so callers that turn durations into timings or rates see plausible numbers.
_LOAD_NS: Final = 1_000_000
_PROMPT_TOKEN_NS: Final = 100_000
_EVAL_TOKEN_NS: Final = 10_000_000
_CONTEXT_LENGTH: Final = 4096
_MODIFIED_AT: Final = "2024-01-01T00:00:00Z"  # fixed: the same stand-in, whenever it starts
_DIGEST: Final = hashlib.sha256(STANDIN_TAG.encode()).hexdigest()
_DETAILS: Final[dict[str, Any]] = {
    "parent_model": "",
    "format": "gguf",
    "family": STANDIN_MODEL,
    "families": [STANDIN_MODEL],
    "parameter_size": "0B",
    "quantization_level": "none",
}
_MAX_QUOTE_WORDS: Final = 60
_MAX_SNIPPET_WORDS: Final = 40
_MAX_SLEEP_MS: Final = 600_000
_MAX_SCHEMA_DEPTH: Final = 12

_CONTROL = re.compile(r"\[\[standin:(sleep|error)=(\d+)\]\]")
_HEADING = re.compile(r"^[\s#>*_\-]*contexte?s?\b(.*)$", re.IGNORECASE)
_LIST_MARKER = re.compile(r"^\s*(?:[-*•>]+|\d+[.)]|\[\d+\])\s*")
_CHUNK = re.compile(r"\s*\S+")
_WORD = re.compile(r"\w+")


class StandInError(Exception):
    """An answer Ollama gives as `{"error": message}` with an HTTP status (the client's ResponseError)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Controls:
    """Per-request test controls read from `[[standin:sleep=NNN]]` and `[[standin:error=NNN]]` tokens."""

    sleep_ms: int = 0
    error_status: int | None = None


@dataclass(frozen=True)
class Prompt:
    """What a chat or generate request asks, reduced to what the canned answer is built from."""

    kind: str  # "chat" | "generate": which field carries the text ("message" or "response")
    question: str  # the last user message, or the prompt; control tokens still in
    system: str
    prompt_tokens: int
    load_only: bool  # no messages / empty prompt: Ollama only loads the model and answers done_reason "load"


# --- the canned answer: pure functions ------------------------------------------------------------------


def split_controls(text: str) -> tuple[str, Controls]:
    """The text without its control tokens, and what those tokens ask for."""
    sleep_ms = 0
    error_status: int | None = None
    for name, value in _CONTROL.findall(text):
        if name == "sleep":
            sleep_ms = min(int(value), _MAX_SLEEP_MS)
        else:
            error_status = int(value)
    return _CONTROL.sub("", text), Controls(sleep_ms, error_status)


def _clip_words(text: str, limit: int) -> str:
    words = text.split()
    return " ".join(words) if len(words) <= limit else " ".join(words[:limit]) + " …"


def _snippet_from(line: str) -> str | None:
    text = _LIST_MARKER.sub("", line, count=1)
    # A separator line ("---", "***") is not a snippet.
    return _clip_words(text, _MAX_SNIPPET_WORDS) if _WORD.search(text) else None


def context_snippet(system: str) -> str | None:
    """The first snippet after a line that starts with "Contexte"/"Context" (after a colon, or below it)."""
    lines = system.splitlines()
    for index, line in enumerate(lines):
        heading = _HEADING.match(line)
        if heading is None:
            continue
        inline = heading.group(1).partition(":")[2]
        for candidate in (inline, *lines[index + 1 :]):
            snippet = _snippet_from(candidate)
            if snippet:
                return snippet
    return None


def compose_answer(question: str, snippet: str | None) -> str:
    """The reply: in French (as the demo agent), marked as simulated, quoting the question and context."""
    answer = f"[stand-in] Réponse simulée à : «{_clip_words(question, _MAX_QUOTE_WORDS)}»."
    if snippet:
        answer += f" D'après le contexte fourni : «{snippet}»."
    return answer


def split_chunks(text: str) -> list[str]:
    """Word-sized pieces (each with the whitespace before it): joined, they give the text back."""
    return _CHUNK.findall(text)


def _first_schema(options: list[Any]) -> Any:
    return next((o for o in options if not (isinstance(o, dict) and o.get("type") == "null")), options[0])


def _resolve_ref(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, dict) else {}
    return target if isinstance(target, dict) else {}


def _typed_instance(schema: dict[str, Any], root: dict[str, Any], text: str, depth: int) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return {}
        return {name: schema_instance(sub, root, text, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        count = schema.get("minItems")
        count = min(count, 3) if isinstance(count, int) else 0
        return [schema_instance(schema.get("items"), root, text, depth + 1) for _ in range(count)]
    minimum = schema.get("minimum")
    floor = minimum if isinstance(minimum, int | float) and not isinstance(minimum, bool) else 0
    scalars: dict[str, Any] = {
        "string": text,
        "integer": math.ceil(floor),
        "number": float(floor),
        "boolean": False,
    }
    return scalars.get(str(kind))


def schema_instance(schema: Any, root: dict[str, Any], text: str, depth: int = 0) -> Any:
    """A minimal value satisfying a JSON schema (every string is `text`), for structured-output callers."""
    if not isinstance(schema, dict) or depth > _MAX_SCHEMA_DEPTH:
        return None
    schema = _resolve_ref(schema, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return schema_instance(_first_schema(options), root, text, depth + 1)
    return _typed_instance(schema, root, text, depth)


def shape_answer(answer: str, response_format: object) -> str:
    """The answer as Ollama's `format` asks: plain text, a JSON object, or an instance of a JSON schema."""
    if response_format == "json":
        return json.dumps({"stand_in": True, "answer": answer}, ensure_ascii=False)
    if isinstance(response_format, dict):
        return json.dumps(schema_instance(response_format, response_format, answer), ensure_ascii=False)
    return answer


def limit_answer(answer: str, options: dict[str, Any]) -> tuple[str, str]:
    """The answer cut at the first `stop` sequence and at `num_predict` words, with Ollama's done_reason."""
    stops = options.get("stop")
    for stop in stops if isinstance(stops, list) else []:
        cut = answer.find(stop) if isinstance(stop, str) and stop else -1
        if cut >= 0:
            answer = answer[:cut]
    chunks = split_chunks(answer)
    limit = options.get("num_predict")
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < len(chunks):
        return "".join(chunks[:limit]), "length"
    return "".join(chunks), "stop"


def _normalise(vector: list[float]) -> list[float]:
    norm = math.sqrt(math.fsum(v * v for v in vector))
    if norm == 0.0:
        return [1.0] + [0.0] * (len(vector) - 1)
    return [v / norm for v in vector]


def embed_text(text: str, dim: int) -> list[float]:
    """A unit vector hashed from the text's words: deterministic, and texts sharing words point alike."""
    vector = [0.0] * dim
    # Hashing words (not the whole text) keeps local retrieval meaningful: a question finds the snippet
    # that shares its words, which a single whole-text hash would not.
    for word in _WORD.findall(text.lower()) or [text]:
        digest = hashlib.sha256(word.encode("utf-8")).digest()
        for offset in range(0, len(digest), 4):
            index = int.from_bytes(digest[offset : offset + 3], "big") % dim
            vector[index] += 1.0 if digest[offset + 3] & 1 else -1.0
    return _normalise(vector)


def durations(prompt_tokens: int, eval_tokens: int, elapsed_ns: int) -> dict[str, int]:
    """Ollama's counters (nanoseconds): simulated per-token costs plus the time really spent (delays)."""
    prompt_eval = prompt_tokens * _PROMPT_TOKEN_NS
    evaluation = eval_tokens * _EVAL_TOKEN_NS + max(elapsed_ns, 0)
    return {
        "total_duration": _LOAD_NS + prompt_eval + evaluation,
        "load_duration": _LOAD_NS,
        "prompt_eval_count": prompt_tokens,
        "prompt_eval_duration": prompt_eval,
        "eval_count": eval_tokens,
        "eval_duration": evaluation,
    }


# --- requests: parsing and payloads ---------------------------------------------------------------------


def parse_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise StandInError(400, "missing request body")
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise StandInError(400, f"invalid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise StandInError(400, "invalid request: expected a JSON object")
    return value


def requested_model(request: dict[str, Any]) -> str:
    model = request.get("model") or request.get("name")  # "name" is what older clients send
    if not isinstance(model, str) or not model.strip():
        raise StandInError(400, "model is required")
    return model


def model_key(name: str) -> str:
    """Ollama's identity for a model name: case-insensitive, ":latest" when no tag is given."""
    name = name.strip().lower()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _text(value: object, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise StandInError(400, f"{field} must be a string")
    return value


def _word_count(*texts: str) -> int:
    return max(sum(len(t.split()) for t in texts), 1)


def chat_prompt(request: dict[str, Any]) -> Prompt:
    messages = request.get("messages") or []
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise StandInError(400, "messages must be a list of objects")
    turns = [(str(m.get("role", "")), _text(m.get("content"), "content")) for m in messages]
    question = next((content for role, content in reversed(turns) if role == "user"), "")
    system = "\n".join(content for role, content in turns if role == "system")
    return Prompt("chat", question, system, _word_count(*(c for _, c in turns)), load_only=not turns)


def generate_prompt(request: dict[str, Any]) -> Prompt:
    prompt = _text(request.get("prompt"), "prompt")
    system = _text(request.get("system"), "system")
    return Prompt("generate", prompt, system, _word_count(system, prompt), load_only=not prompt)


def stream_flag(request: dict[str, Any]) -> bool:
    stream = request.get("stream", True)  # Ollama streams unless told not to
    if stream is None:
        return True
    if not isinstance(stream, bool):
        raise StandInError(400, "stream must be a boolean")
    return stream


def request_options(request: dict[str, Any]) -> dict[str, Any]:
    options = request.get("options") or {}
    if not isinstance(options, dict):
        raise StandInError(400, "options must be an object")
    return options


def embed_inputs(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise StandInError(400, "invalid input type")


def rfc3339(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def _now() -> str:
    return rfc3339(time.time_ns())


def piece(kind: str, content: str) -> dict[str, Any]:
    """One streamed chunk of a chat or generate answer."""
    text: dict[str, Any] = (
        {"message": {"role": "assistant", "content": content}} if kind == "chat" else {"response": content}
    )
    return {"model": STANDIN_MODEL, "created_at": _now(), **text, "done": False}


def final(kind: str, content: str, done_reason: str, stats: dict[str, int]) -> dict[str, Any]:
    """The last chunk (or the whole non-streamed answer): done, with the reason and the counters."""
    return {**piece(kind, content), "done": True, "done_reason": done_reason, **stats}


def _model_entry() -> dict[str, Any]:
    return {
        "name": STANDIN_TAG,
        "model": STANDIN_TAG,
        "digest": _DIGEST,
        "size": 0,
        "details": dict(_DETAILS),
    }


def tags_payload() -> dict[str, Any]:
    return {"models": [{**_model_entry(), "modified_at": _MODIFIED_AT}]}


def ps_payload() -> dict[str, Any]:
    expires_at = rfc3339(time.time_ns() + 300 * 1_000_000_000)  # Ollama's default keep_alive: 5 minutes
    entry = {**_model_entry(), "expires_at": expires_at, "size_vram": 0, "context_length": _CONTEXT_LENGTH}
    return {"models": [entry]}


def show_payload(embed_dim: int) -> dict[str, Any]:
    return {
        "license": "",
        "modelfile": f"# {STANDIN_MODEL}: not a real model, canned answers\nFROM {STANDIN_MODEL}\n",
        "parameters": f"num_ctx                        {_CONTEXT_LENGTH}",
        "template": "{{ .Prompt }}",
        "details": dict(_DETAILS),
        "model_info": {
            "general.architecture": STANDIN_MODEL,
            "general.parameter_count": 0,
            f"{STANDIN_MODEL}.context_length": _CONTEXT_LENGTH,
            f"{STANDIN_MODEL}.embedding_length": embed_dim,
        },
        "capabilities": ["completion", "embedding"],
        "modified_at": _MODIFIED_AT,
    }


# --- HTTP -----------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streaming, as real Ollama
    # Headers and body leave in separate writes: without TCP_NODELAY, Nagle plus the client's delayed ACK
    # add ~40 ms to every keep-alive response (measured), which would pass for model time in benchmarks.
    disable_nagle_algorithm = True
    server_version = "ollama-standin"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection is closed after this many seconds

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: one stderr line per request only buries the output of the tests that use the stand-in."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    @property
    def _standin(self) -> OllamaStandIn:
        server = self.server
        assert isinstance(server, _StandInServer)
        return server.standin

    def _routes(self) -> dict[str, dict[str, Callable[[bytes], None]]]:
        return {
            "/": {"GET": self._root, "HEAD": self._root},
            "/api/version": {"GET": self._version, "HEAD": self._version},
            "/api/tags": {"GET": self._tags, "HEAD": self._tags},
            "/api/ps": {"GET": self._ps},
            "/api/show": {"POST": self._show},
            "/api/chat": {"POST": self._chat},
            "/api/generate": {"POST": self._generate},
            "/api/embed": {"POST": self._embed},
            "/api/embeddings": {"POST": self._embeddings},
        }

    def _dispatch(self) -> None:
        self._standin._count_request()
        body = self._read_body()  # always, so a keep-alive connection stays in step
        methods = self._routes().get(urlsplit(self.path).path)
        try:
            if methods is None:
                raise StandInError(404, "404 page not found")
            route = methods.get(self.command)
            if route is None:
                self._send_json(405, {"error": "405 method not allowed"}, {"Allow": ", ".join(methods)})
                return
            route(body)
        except StandInError as exc:
            self._send_json(exc.status, {"error": exc.message})

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True  # not a shape the ollama client sends; do not try to resync
            return b""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    # -- responses

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send(status, data, "application/json; charset=utf-8", headers)

    def _write_line(self, payload: object) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8") + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")

    # -- routes

    def _root(self, body: bytes) -> None:
        self._send(200, b"Ollama is running", "text/plain; charset=utf-8")

    def _version(self, body: bytes) -> None:
        self._send_json(200, {"version": STANDIN_VERSION})

    def _tags(self, body: bytes) -> None:
        self._send_json(200, tags_payload())

    def _ps(self, body: bytes) -> None:
        self._send_json(200, ps_payload())

    def _show(self, body: bytes) -> None:
        model = requested_model(parse_object(body))
        if self._standin._is_missing(model):
            raise StandInError(404, f"model '{model}' not found")  # /api/show words it this way in Ollama
        self._send_json(200, show_payload(self._standin.embed_dim))

    def _chat(self, body: bytes) -> None:
        request = self._available(parse_object(body))
        self._complete(chat_prompt(request), request)

    def _generate(self, body: bytes) -> None:
        request = self._available(parse_object(body))
        self._complete(generate_prompt(request), request)

    def _embed(self, body: bytes) -> None:
        started = time.monotonic_ns()
        request = self._available(parse_object(body))
        texts = [self._obey(text) for text in embed_inputs(request.get("input"))]
        dimensions = request.get("dimensions")
        vectors = [self._standin._embedding(text, dimensions) for text in texts]
        elapsed = time.monotonic_ns() - started
        self._send_json(
            200,
            {
                "model": STANDIN_MODEL,
                "embeddings": vectors,
                "total_duration": _LOAD_NS + elapsed,
                "load_duration": _LOAD_NS,
                "prompt_eval_count": sum(len(t.split()) for t in texts),
            },
        )

    def _embeddings(self, body: bytes) -> None:
        request = self._available(parse_object(body))
        prompt = self._obey(_text(request.get("prompt"), "prompt"))
        self._send_json(200, {"embedding": self._standin._embedding(prompt, None) if prompt else []})

    # -- shared steps

    def _available(self, request: dict[str, Any]) -> dict[str, Any]:
        model = requested_model(request)
        if self._standin._is_missing(model):
            raise StandInError(404, f'model "{model}" not found, try pulling it first')
        return request

    def _obey(self, text: str) -> str:
        """Sleep and fail as the text's control tokens ask; the text without them."""
        stripped, controls = split_controls(text)
        self._standin._pause(controls.sleep_ms)
        status = controls.error_status
        if status is None:
            return stripped
        if not 400 <= status <= 599:
            raise StandInError(400, f"[[standin:error={status}]]: the status must be between 400 and 599")
        raise StandInError(status, f"stand-in: simulated error {status} ([[standin:error={status}]])")

    def _complete(self, prompt: Prompt, request: dict[str, Any]) -> None:
        started = time.monotonic_ns()
        stream = stream_flag(request)
        options = request_options(request)
        question = self._obey(prompt.question)
        if prompt.load_only:
            self._send_json(200, final(prompt.kind, "", "load", {}))
            return
        answer = shape_answer(compose_answer(question, context_snippet(prompt.system)), request.get("format"))
        answer, done_reason = limit_answer(answer, options)
        if stream:
            self._stream(prompt, answer, done_reason, started)
            return
        self._standin._pause(self._standin.delay_ms)
        stats = durations(prompt.prompt_tokens, len(split_chunks(answer)), time.monotonic_ns() - started)
        self._send_json(200, final(prompt.kind, answer, done_reason, stats))

    def _stream(self, prompt: Prompt, answer: str, done_reason: str, started: int) -> None:
        chunks = split_chunks(answer)
        pause_ms = self._standin.delay_ms / max(len(chunks), 1)  # the delay spread over the words
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in chunks:
            self._standin._pause(pause_ms)
            self._write_line(piece(prompt.kind, chunk))
        stats = durations(prompt.prompt_tokens, len(chunks), time.monotonic_ns() - started)
        self._write_line(final(prompt.kind, "", done_reason, stats))
        self.wfile.write(b"0\r\n\r\n")


class _StandInServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], standin: OllamaStandIn) -> None:
        self.standin = standin
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a test's timeout, a cancelled stream) is expected, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class OllamaStandIn:
    """Ollama's HTTP API on a local port, answering every model as `stand-in` with deterministic text."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        delay_ms: int = 0,
        missing_models: Iterable[str] = frozenset(),
        embed_dim: int = DEFAULT_EMBED_DIM,
    ) -> None:
        if delay_ms < 0:
            raise ValueError("delay_ms must be >= 0")
        if embed_dim < 1:
            raise ValueError("embed_dim must be >= 1")
        self.host = host
        self.port = port
        self.delay_ms = delay_ms
        names = [missing_models] if isinstance(missing_models, str) else missing_models
        self.missing_models = frozenset(names)
        self.embed_dim = embed_dim
        self._missing_keys = frozenset(model_key(name) for name in self.missing_models)
        self._lock = threading.Lock()
        self._served = 0
        self._stopping = threading.Event()
        self._server: _StandInServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> OllamaStandIn:
        """Listen and serve in a daemon thread (port 0 picks a free one); a no-op when already serving."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _StandInServer((self.host, self.port), self)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="ollama-standin", daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and free the port; requests still sleeping wake up at once."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Ollama stand-in is not started")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self._server.server_port}"

    @property
    def requests_served(self) -> int:
        with self._lock:
            return self._served

    def __enter__(self) -> OllamaStandIn:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _count_request(self) -> None:
        with self._lock:
            self._served += 1

    def _is_missing(self, model: str) -> bool:
        return model_key(model) in self._missing_keys

    def _pause(self, ms: float) -> None:
        if ms > 0:
            self._stopping.wait(ms / 1000)

    def _embedding(self, text: str, dimensions: object) -> list[float]:
        vector = embed_text(text, self.embed_dim)
        if isinstance(dimensions, int) and not isinstance(dimensions, bool) and 0 < dimensions < len(vector):
            return _normalise(vector[:dimensions])  # Ollama truncates, then normalises again
        return vector


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.ollama_standin",
        description="Serve the Ollama stand-in (deterministic canned answers, no real model) until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--delay-ms", type=int, default=0, help="simulated generation time per answer")
    parser.add_argument("--embed-dim", type=int, default=DEFAULT_EMBED_DIM)
    parser.add_argument(
        "--missing-model", action="append", default=[], metavar="NAME", help="answer 404 for this model"
    )
    args = parser.parse_args(argv)
    standin = OllamaStandIn(
        host=args.host,
        port=args.port,
        delay_ms=args.delay_ms,
        missing_models=args.missing_model,
        embed_dim=args.embed_dim,
    )
    try:
        standin.start()
    except OSError as exc:
        print(f"Ollama stand-in: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    try:
        banner = f"Ollama stand-in on {standin.url} - NOT a real model: deterministic canned answers"
        print(f"{banner} (Ctrl-C to stop)", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
