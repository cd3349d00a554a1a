"""The Ollama stand-in, driven through the real `ollama` client as the platform's adapters drive Ollama."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import ollama
import pytest
from pydantic import BaseModel

from infra.local.ollama_standin import DEFAULT_EMBED_DIM, OllamaStandIn, context_snippet

ROOT = Path(__file__).resolve().parents[3]
MISSING = "llama-absent"
SYSTEM_WITH_CONTEXT = (
    "Tu es l'assistant d'un artisan.\n\n"
    "Contexte (base de connaissances) :\n"
    "- Le devis est valable 30 jours.\n"
    "- Les déplacements sont offerts dans un rayon de 20 km."
)
QUESTION = "Combien de temps mon devis est-il valable ?"
EXPECTED_WITH_CONTEXT = (
    "[stand-in] Réponse simulée à : «Combien de temps mon devis est-il valable ?». "
    "D'après le contexte fourni : «Le devis est valable 30 jours.»."
)


def conversation(question: str = QUESTION, system: str = SYSTEM_WITH_CONTEXT) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def standin() -> Iterator[OllamaStandIn]:
    with OllamaStandIn(missing_models={MISSING}) as server:
        yield server


@pytest.fixture
def client(standin: OllamaStandIn) -> Iterator[ollama.Client]:
    with ollama.Client(host=standin.url) as ollama_client:
        yield ollama_client


# --- chat -----------------------------------------------------------------------------------------------


def test_chat_quotes_the_question_and_the_first_context_snippet_and_says_it_is_the_stand_in(
    client: ollama.Client,
) -> None:
    # Given a system prompt carrying retrieved context, as the message worker builds it
    messages = conversation()

    # When the agent asks any model for a non-streamed answer
    reply = client.chat(model="llama3.1:8b", messages=messages, stream=False)

    # Then the answer is the deterministic French stand-in text, reported as the `stand-in` model
    assert reply.message.role == "assistant"
    assert reply.message.content == EXPECTED_WITH_CONTEXT
    assert reply.model == "stand-in"
    assert reply.done is True
    assert reply.done_reason == "stop"


def test_chat_counters_are_consistent_with_the_answer(client: ollama.Client) -> None:
    # Given a question with context
    messages = conversation()

    # When it is answered
    reply = client.chat(model="llama3.1", messages=messages, stream=False)

    # Then one token per generated word, one per prompt word, and durations that add up
    content = reply.message.content or ""
    assert reply.eval_count == len(content.split())
    assert reply.prompt_eval_count == sum(len(m["content"].split()) for m in messages)
    assert reply.load_duration and reply.prompt_eval_duration and reply.eval_duration and reply.total_duration
    assert reply.total_duration >= reply.load_duration + reply.prompt_eval_duration + reply.eval_duration
    assert reply.created_at and reply.created_at.endswith("Z")


def test_chat_without_context_only_quotes_the_last_user_message(client: ollama.Client) -> None:
    # Given a history whose last user message is the new question, and no context in the system prompt
    messages = [
        {"role": "system", "content": "Tu es un assistant poli."},
        {"role": "user", "content": "Bonjour"},
        {"role": "assistant", "content": "Bonjour, que puis-je faire ?"},
        {"role": "user", "content": "Quels   sont vos\nhoraires ?"},
    ]

    # When it is answered
    reply = client.chat(model="mistral", messages=messages, stream=False)

    # Then only the last user message is quoted (whitespace collapsed), with no context sentence
    assert reply.message.content == "[stand-in] Réponse simulée à : «Quels sont vos horaires ?»."


def test_chat_streams_word_chunks_that_join_into_the_non_streamed_answer(client: ollama.Client) -> None:
    # Given the non-streamed answer to a question
    whole = client.chat(model="llama3.1", messages=conversation(), stream=False).message.content

    # When the same question is streamed
    parts = list(client.chat(model="llama3.1", messages=conversation(), stream=True))

    # Then the pieces are single words, only the last is done, and they join into the same answer
    pieces, last = parts[:-1], parts[-1]
    assert len(pieces) == len((whole or "").split()) > 1
    assert all(not p.done and len((p.message.content or "").split()) == 1 for p in pieces)
    assert "".join(p.message.content or "" for p in pieces) == whole
    assert last.done is True and last.done_reason == "stop" and last.message.content == ""
    assert last.eval_count == len(pieces)


def test_chat_streams_when_the_request_does_not_say(standin: OllamaStandIn) -> None:
    # Given a raw request without `stream`, which Ollama treats as streaming
    body = {"model": "llama3.1", "messages": [{"role": "user", "content": "Salut"}]}

    # When it is posted
    response = httpx.post(f"{standin.url}/api/chat", json=body)

    # Then the answer comes as NDJSON lines, the last one done
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert response.headers["content-type"] == "application/x-ndjson"
    assert len(lines) > 2 and lines[-1]["done"] is True and not lines[0]["done"]
    assert "".join(line["message"]["content"] for line in lines) == "[stand-in] Réponse simulée à : «Salut»."


def test_chat_is_deterministic(client: ollama.Client) -> None:
    # Given the same conversation sent twice, to two separately started stand-ins
    with OllamaStandIn() as other, ollama.Client(host=other.url) as other_client:
        # When both answer
        first = client.chat(model="a", messages=conversation(), stream=False).message.content
        second = other_client.chat(model="b", messages=conversation(), stream=False).message.content

    # Then the answers are identical, and a different question gets a different answer
    different = client.chat(model="a", messages=conversation("Autre chose ?"), stream=False).message.content
    assert first == second == EXPECTED_WITH_CONTEXT
    assert different != first


def test_num_predict_truncates_the_answer_to_that_many_words(client: ollama.Client) -> None:
    # Given a token budget of 4
    options = {"num_predict": 4, "temperature": 0.2}

    # When the question is answered with and without streaming
    reply = client.chat(model="llama3.1", messages=conversation(), stream=False, options=options)
    streamed = list(client.chat(model="llama3.1", messages=conversation(), stream=True, options=options))

    # Then only the first 4 words come back, ended for length
    assert reply.message.content == "[stand-in] Réponse simulée à"
    assert reply.eval_count == 4 and reply.done_reason == "length"
    assert "".join(p.message.content or "" for p in streamed) == reply.message.content
    assert streamed[-1].done_reason == "length"


def test_no_messages_only_loads_the_model(client: ollama.Client) -> None:
    # Given a chat request without messages (how Ollama clients preload a model)
    # When it is sent
    reply = client.chat(model="llama3.1", messages=[], stream=False)

    # Then the model is reported loaded, with nothing generated
    assert reply.done_reason == "load" and reply.message.content == ""


def test_json_format_answers_a_json_object(client: ollama.Client) -> None:
    # Given a caller asking for JSON output
    # When the question is answered
    reply = client.chat(model="llama3.1", messages=conversation(), stream=False, format="json")

    # Then the content parses as JSON and still carries the stand-in answer
    assert json.loads(reply.message.content or "") == {"stand_in": True, "answer": EXPECTED_WITH_CONTEXT}


def test_schema_format_answers_an_instance_of_the_schema(client: ollama.Client) -> None:
    # Given a caller asking for structured output, with nested models (pydantic's $defs and $ref)
    class Line(BaseModel):
        label: str
        quantity: int

    class PreQuote(BaseModel):
        summary: str
        urgent: bool
        lines: list[Line]
        note: str | None = None

    # When the question is answered
    reply = client.chat(model="llama3.1", messages=conversation(), stream=False, format=PreQuote.model_json_schema())

    # Then the content validates against the schema
    parsed = PreQuote.model_validate_json(reply.message.content or "")
    assert parsed.summary == EXPECTED_WITH_CONTEXT and parsed.urgent is False


@pytest.mark.parametrize(
    ("system", "snippet"),
    [
        ("Context: the quote is valid 30 days.", "the quote is valid 30 days."),
        ("## Contexte récupéré\n\n1. Premier extrait.\n2. Second.", "Premier extrait."),
        ("Règles.\nCONTEXTE :\n---\n[1] Extrait numéroté", "Extrait numéroté"),
        ("**Contextes** :\n* puce étoile", "puce étoile"),
        ("Utilise le contexte ci-dessous.\nAucun titre ici.", None),
        ("Contexte :\n\n   \n", None),
    ],
)
def test_context_snippet_is_the_first_line_after_a_context_heading(system: str, snippet: str | None) -> None:
    # Given a system prompt with (or without) a context heading
    # When the snippet is looked for
    found = context_snippet(system)

    # Then it is the first meaningful line after the heading, list marker removed
    assert found == snippet


# --- generate -------------------------------------------------------------------------------------------


def test_generate_answers_the_prompt_with_the_system_context(client: ollama.Client) -> None:
    # Given a prompt and a system prompt with context
    # When generate is called, streamed and not
    reply = client.generate(model="llama3.1", prompt=QUESTION, system=SYSTEM_WITH_CONTEXT, stream=False)
    parts = list(client.generate(model="llama3.1", prompt=QUESTION, system=SYSTEM_WITH_CONTEXT, stream=True))

    # Then both give the same stand-in answer in `response`
    assert reply.response == EXPECTED_WITH_CONTEXT
    assert reply.model == "stand-in" and reply.done_reason == "stop"
    assert reply.eval_count == len(EXPECTED_WITH_CONTEXT.split())
    assert "".join(p.response or "" for p in parts) == EXPECTED_WITH_CONTEXT
    assert parts[-1].done is True


# --- embeddings -----------------------------------------------------------------------------------------


def test_embed_is_deterministic_normalised_and_of_the_configured_dimension(client: ollama.Client) -> None:
    # Given two texts
    texts = ["Le devis est valable 30 jours.", "Horaires d'ouverture du magasin"]

    # When they are embedded twice
    first = [list(v) for v in client.embed(model="nomic-embed-text", input=texts).embeddings]
    again = [list(v) for v in client.embed(model="nomic-embed-text", input=texts).embeddings]

    # Then each vector is 384 long, unit-length, the same both times, and different between texts
    assert first == again
    assert [len(v) for v in first] == [DEFAULT_EMBED_DIM, DEFAULT_EMBED_DIM]
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-9) for v in first)
    assert first[0] != first[1]


def test_embed_brings_texts_that_share_words_closer(client: ollama.Client) -> None:
    # Given a question, the snippet that answers it, and an unrelated snippet
    question = "Combien de jours le devis est valable ?"
    answer = "Le devis est valable 30 jours."
    unrelated = "Nous intervenons le samedi matin."

    # When they are embedded
    q, a, u = (list(v) for v in client.embed(model="m", input=[question, answer, unrelated]).embeddings)

    # Then local retrieval would find the answering snippet first
    assert cosine(q, a) > cosine(q, u)


def test_embed_of_a_single_string_and_the_dimensions_option(client: ollama.Client) -> None:
    # Given one string
    # When it is embedded whole and truncated to 64 dimensions
    whole = list(client.embed(model="m", input="bonjour le monde").embeddings[0])
    short = list(client.embed(model="m", input="bonjour le monde", dimensions=64).embeddings[0])

    # Then the short one is the renormalised prefix of the whole one
    norm = math.sqrt(sum(x * x for x in whole[:64]))
    assert len(short) == 64
    assert short == pytest.approx([x / norm for x in whole[:64]])


def test_embed_dimension_is_configurable() -> None:
    # Given a stand-in configured for 768-dimension embeddings
    with OllamaStandIn(embed_dim=768) as server, ollama.Client(host=server.url) as wide:
        # When a text is embedded
        vector = wide.embed(model="m", input="bonjour").embeddings[0]

    # Then the vector has that dimension
    assert len(vector) == 768


def test_legacy_embeddings_match_embed(client: ollama.Client) -> None:
    # Given the deprecated single-prompt endpoint
    # When the same text is embedded through both endpoints
    legacy = list(client.embeddings(model="m", prompt="bonjour le monde").embedding)
    current = list(client.embed(model="m", input="bonjour le monde").embeddings[0])

    # Then the vectors are the same
    assert legacy == current


# --- model listing --------------------------------------------------------------------------------------


def test_tags_show_and_ps_describe_the_stand_in_model(client: ollama.Client) -> None:
    # Given the stand-in
    # When the client lists, shows and asks for running models
    tags = client.list()
    shown = client.show("llama3.1")
    running = client.ps()

    # Then they all describe the `stand-in` model
    assert [m.model for m in tags.models] == ["stand-in:latest"]
    assert shown.details is not None and shown.details.family == "stand-in"
    assert shown.modelinfo is not None and shown.modelinfo["stand-in.embedding_length"] == DEFAULT_EMBED_DIM
    assert shown.modelfile is not None and "not a real model" in shown.modelfile
    assert [m.model for m in running.models] == ["stand-in:latest"]


# --- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [MISSING, f"{MISSING}:latest", MISSING.upper()])
def test_a_missing_model_is_404_like_ollama(client: ollama.Client, model: str) -> None:
    # Given a model configured as not pulled (any spelling Ollama treats as the same model)
    # When it is asked to chat
    with pytest.raises(ollama.ResponseError) as raised:
        client.chat(model=model, messages=conversation(), stream=False)

    # Then the client raises Ollama's 404 with Ollama's message
    assert raised.value.status_code == 404
    assert raised.value.error == f'model "{model}" not found, try pulling it first'


def test_a_missing_model_is_404_for_streams_embeddings_and_show(client: ollama.Client) -> None:
    # Given a model configured as not pulled
    calls: dict[str, Callable[[], object]] = {
        "stream": lambda: list(client.chat(model=MISSING, messages=conversation(), stream=True)),
        "generate": lambda: client.generate(model=MISSING, prompt="x", stream=False),
        "embed": lambda: client.embed(model=MISSING, input="x"),
        "show": lambda: client.show(MISSING),
    }
    for name, call in calls.items():
        # When it is used through each endpoint
        with pytest.raises(ollama.ResponseError) as raised:
            call()

        # Then each answers 404
        assert raised.value.status_code == 404, name
        assert MISSING in raised.value.error, name


@pytest.mark.parametrize("stream", [False, True])
def test_the_error_token_answers_that_status(client: ollama.Client, stream: bool) -> None:
    # Given a user message asking the stand-in to fail with 500
    messages = conversation("Question [[standin:error=500]]")

    # When it is sent
    with pytest.raises(ollama.ResponseError) as raised:
        if stream:
            list(client.chat(model="llama3.1", messages=messages, stream=True))
        else:
            client.chat(model="llama3.1", messages=messages, stream=False)

    # Then the client raises a ResponseError with that status and an Ollama-shaped message
    assert raised.value.status_code == 500
    assert "simulated error 500" in raised.value.error


def test_the_sleep_token_makes_a_client_timeout_fire(standin: OllamaStandIn) -> None:
    # Given a client with a 0.2 s timeout, and a message asking the stand-in to sleep 1.5 s
    messages = conversation("Lent ? [[standin:sleep=1500]]")

    # When the message is sent
    started = time.monotonic()
    with ollama.Client(host=standin.url, timeout=0.2) as impatient, pytest.raises(httpx.TimeoutException):
        impatient.chat(model="llama3.1", messages=messages, stream=False)

    # Then the timeout fired well before the sleep ended
    assert time.monotonic() - started < 1.2


def test_the_sleep_token_delays_the_answer_and_is_not_quoted(client: ollama.Client) -> None:
    # Given a message asking the stand-in to sleep 300 ms
    messages = conversation("Patience [[standin:sleep=300]]", system="")

    # When it is answered by a patient client
    started = time.monotonic()
    reply = client.chat(model="llama3.1", messages=messages, stream=False)

    # Then the answer came after the delay, without the control token
    assert time.monotonic() - started >= 0.3
    assert reply.message.content == "[stand-in] Réponse simulée à : «Patience»."


def test_delay_ms_slows_every_answer() -> None:
    # Given a stand-in simulating 300 ms of generation
    with OllamaStandIn(delay_ms=300) as slow, ollama.Client(host=slow.url) as slow_client:
        # When a question is answered, not streamed then streamed
        started = time.monotonic()
        slow_client.chat(model="m", messages=conversation(), stream=False)
        middle = time.monotonic()
        parts = list(slow_client.chat(model="m", messages=conversation(), stream=True))
        ended = time.monotonic()

    # Then each took at least the delay, and the stream still carries the whole answer
    assert middle - started >= 0.3 and ended - middle >= 0.3
    assert "".join(p.message.content or "" for p in parts) == EXPECTED_WITH_CONTEXT


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/api/chat", b"{not json", 400, "invalid JSON"),
        ("POST", "/api/chat", b"", 400, "missing request body"),
        ("POST", "/api/chat", b'{"messages": []}', 400, "model is required"),
        ("POST", "/api/generate", b'{"model": ""}', 400, "model is required"),
        ("POST", "/api/embed", b'{"model": "m", "input": 3}', 400, "invalid input type"),
        ("POST", "/api/nothing-here", b"{}", 404, "404 page not found"),
        ("GET", "/api/chat", b"", 405, "405 method not allowed"),
        ("DELETE", "/api/tags", b"", 405, "405 method not allowed"),
    ],
)
def test_bad_requests_get_ollama_shaped_errors(
    standin: OllamaStandIn, method: str, path: str, body: bytes, status: int, error: str
) -> None:
    # Given a malformed request
    # When it reaches the stand-in
    response = httpx.request(method, f"{standin.url}{path}", content=body)

    # Then it answers the status with a JSON `{"error": ...}` body
    assert response.status_code == status
    assert error in response.json()["error"]


# --- health, counters, lifecycle ------------------------------------------------------------------------


def test_root_and_version_answer_health_probes(standin: OllamaStandIn) -> None:
    # Given a health probe, as for a real Ollama
    # When it asks / and /api/version
    root = httpx.get(standin.url)
    head = httpx.head(standin.url)
    version = httpx.get(f"{standin.url}/api/version")

    # Then the stand-in says it is running, in Ollama's words
    assert root.status_code == 200 and root.text == "Ollama is running"
    assert head.status_code == 200
    assert "stand-in" in version.json()["version"]


def test_requests_served_counts_every_request(standin: OllamaStandIn, client: ollama.Client) -> None:
    # Given the current count
    before = standin.requests_served

    # When three requests are made, one of them failing
    client.list()
    client.chat(model="m", messages=conversation(), stream=False)
    with pytest.raises(ollama.ResponseError):
        client.show(MISSING)

    # Then the count grew by three
    assert standin.requests_served == before + 3


def test_stop_frees_the_port() -> None:
    # Given a stand-in that served a request
    server = OllamaStandIn().start()
    url = server.url
    assert httpx.get(url).text == "Ollama is running"

    # When it is stopped
    server.stop()

    # Then the client can no longer reach it
    with pytest.raises(ConnectionError):
        ollama.Client(host=url).list()
    with pytest.raises(RuntimeError):
        _ = server.url


def test_cli_prints_a_stand_in_banner_and_serves() -> None:
    # Given the CLI started on a free port
    command = [sys.executable, "-m", "infra.local.ollama_standin", "--host", "127.0.0.1", "--port", "0"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        try:
            # When its banner is read
            assert process.stdout is not None
            banner = process.stdout.readline()
            url = banner.split(" on ", 1)[1].split()[0]

            # Then it says it is not a real model, and it answers the client
            assert "stand-in" in banner and "NOT a real model" in banner
            with ollama.Client(host=url) as cli_client:
                reply = cli_client.chat(model="m", messages=conversation(), stream=False)
            assert reply.message.content == EXPECTED_WITH_CONTEXT
        finally:
            process.terminate()
