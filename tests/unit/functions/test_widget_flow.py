"""The widget slice in-process (moto): authorizer, init, message, worker, status and history handlers."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from aimanager.adapters.llm import ChatResult, ModelUnavailable
from aimanager.models.agent import AllowedDomain
from tests.conftest import load_event
from tests.unit.aws import DEMO_KEY, OTHER_KEY, World, aws_world, load_handler, seed_agent, seed_deployment


class Ctx:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:test"
    aws_request_id = "req-1"


class FakeModel:
    """Our ChatModel port, answering from the last user message; can be told to fail."""

    def __init__(self) -> None:
        self.calls: list[list[dict[str, str]]] = []
        self.fail_with: ModelUnavailable | None = None

    def chat(self, model: str, messages: list[dict[str, str]], *, temperature: float, max_tokens: int) -> ChatResult:
        self.calls.append(messages)
        if self.fail_with:
            raise self.fail_with
        return ChatResult(
            content=f"Réponse à : {messages[-1]['content']}", model=model, tokens=42, generation_time_ms=7
        )


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with aws_world(monkeypatch) as w:
        seed_agent()
        seed_deployment()
        seed_deployment(OTHER_KEY, [AllowedDomain("www.other.fr")], editor_id="usr_sage")
        yield w


def body(resp: dict[str, Any]) -> Any:
    return json.loads(resp["body"])


def header(resp: dict[str, Any], name: str) -> str | None:
    """API Gateway merges `headers` and `multiValueHeaders`; Powertools' REST resolver sets the latter."""
    merged = {
        **(resp.get("headers") or {}),
        **{k: ",".join(v) for k, v in (resp.get("multiValueHeaders") or {}).items()},
    }
    return next((v for k, v in merged.items() if k.lower() == name.lower()), None)


def init_session(key: str = DEMO_KEY, origin: str = "https://app.ebp.fr") -> dict[str, Any]:
    event = load_event("widget_init/valid.json")
    event["headers"]["Origin"] = origin
    event["body"] = json.dumps({"deployment_key": key})
    return load_handler("widget_init").handler(event, Ctx())  # type: ignore[no-any-return]


def authorizer_ctx(key: str = DEMO_KEY, origin: str = "https://app.ebp.fr") -> dict[str, Any]:
    return {
        "principalId": key,
        "deployment_key": key,
        "agent_id": "agt_expert_btp",
        "editor_id": "usr_ebp" if key == DEMO_KEY else "usr_sage",
        "origin": origin,
        "origin_host": origin.split("://", 1)[-1].split(":")[0],  # the site the authorizer checked
    }


def post_message(session_id: str, content: str, key: str = DEMO_KEY, **extra: Any) -> dict[str, Any]:
    event = load_event("widget_message/valid.json")
    event["headers"]["X-Session-ID"] = session_id
    event["requestContext"]["authorizer"] = authorizer_ctx(key)
    event["body"] = json.dumps({"content": content, **extra})
    return load_handler("widget_message").handler(event, Ctx())  # type: ignore[no-any-return]


def run_worker(world: World, model: FakeModel, receive_count: int = 1) -> dict[str, Any]:
    messages = world.sqs.receive_message(QueueUrl=world.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])[
        "Messages"
    ]
    template = load_event("message_worker/sqs_turn.json")["Records"][0]
    records = []
    for m in messages:
        r = copy.deepcopy(template)
        r.update(messageId=m["MessageId"], receiptHandle=m["ReceiptHandle"], body=m["Body"])
        r["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        records.append(r)
    worker = load_handler("message_worker")
    worker.model = model  # type: ignore[attr-defined]  # the port the handler module builds at import
    return worker.handler({"Records": records}, Ctx())  # type: ignore[no-any-return]


def get_status(message_id: str, key: str = DEMO_KEY) -> dict[str, Any]:
    event = load_event("message_status/valid.json")
    event["path"] = f"/api/widget/v1/message/{message_id}/status"
    event["pathParameters"] = {"id": message_id}
    event["requestContext"]["authorizer"] = authorizer_ctx(key)
    return load_handler("message_status").handler(event, Ctx())  # type: ignore[no-any-return]


def get_history(session_id: str, key: str = DEMO_KEY) -> dict[str, Any]:
    event = load_event("session_history/valid.json")
    event["path"] = f"/api/widget/v1/session/{session_id}/messages"
    event["pathParameters"] = {"id": session_id}
    event["requestContext"]["authorizer"] = authorizer_ctx(key)
    return load_handler("session_history").handler(event, Ctx())  # type: ignore[no-any-return]


def test_a_chat_turn_goes_queued_then_completed_with_metadata(world: World) -> None:
    # Given a session opened from an allowed site
    init = init_session()
    assert init["statusCode"] == 201, init
    data = body(init)["data"]
    assert data["branding"]["title"] == "Assistant EBP" and data["agent"]["name"] == "Expert BTP"
    assert header(init, "Access-Control-Allow-Origin") == "https://app.ebp.fr"
    session_id = data["session_id"]
    # When a message is posted
    queued = post_message(session_id, "Prix d'une salle de bain ?")
    assert queued["statusCode"] == 202, queued
    q = body(queued)["data"]
    assert q["status"] == "queued" and q["position"] == 1
    assert body(get_status(q["message_id"]))["data"]["status"] == "queued"
    # And the worker consumes the queue
    model = FakeModel()
    assert run_worker(world, model) == {"batchItemFailures": []}
    # Then the status is completed with the reply and its metadata
    status = body(get_status(q["message_id"]))["data"]
    assert status["status"] == "completed"
    assert status["content"] == "Réponse à : Prix d'une salle de bain ?"
    assert status["metadata"] == {"model": "mistral:7b", "tokens": 42, "generation_time_ms": 7}
    # And the model saw the master prompt first
    assert model.calls[0][0]["content"].startswith("Tu es Expert BTP")
    # And the history lists both messages in order
    history = body(get_history(session_id))["data"]["messages"]
    assert [(m["role"], m["content"]) for m in history] == [
        ("user", "Prix d'une salle de bain ?"),
        ("assistant", "Réponse à : Prix d'une salle de bain ?"),
    ]


def test_history_window_is_sent_to_the_model(world: World) -> None:
    # Given three answered turns (context_window_size is 4 for the seeded agent)
    session_id = body(init_session())["data"]["session_id"]
    model = FakeModel()
    for i in range(3):
        post_message(session_id, f"question {i}")
        run_worker(world, model)
    # When a fourth is answered
    post_message(session_id, "question 3")
    run_worker(world, model)
    # Then the model saw the system prompt, the last 4 messages, and the new one
    sent = [m["content"] for m in model.calls[-1][1:]]
    assert sent == [
        "question 1",
        "Réponse à : question 1",
        "question 2",
        "Réponse à : question 2",
        "question 3",
    ]


def test_a_redelivered_turn_never_produces_a_second_answer(world: World) -> None:
    # Given a completed turn
    session_id = body(init_session())["data"]["session_id"]
    message_id = body(post_message(session_id, "bonjour"))["data"]["message_id"]
    sqs_body = world.queued_bodies()[0]
    world.sqs.purge_queue(QueueUrl=world.queue_url)
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=sqs_body)
    model = FakeModel()
    run_worker(world, model)
    # When the same SQS message is delivered again
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=sqs_body)
    assert run_worker(world, model, receive_count=2) == {"batchItemFailures": []}
    # Then the model was called once and the history holds one answer
    assert len(model.calls) == 1
    assert [m["role"] for m in body(get_history(session_id))["data"]["messages"]] == ["user", "assistant"]
    assert body(get_status(message_id))["data"]["status"] == "completed"


def test_model_down_retries_then_fails_clearly_without_losing_the_message(world: World) -> None:
    # Given Ollama is down
    session_id = body(init_session())["data"]["session_id"]
    message_id = body(post_message(session_id, "toujours là ?"))["data"]["message_id"]
    model = FakeModel()
    model.fail_with = ModelUnavailable("Ollama is unreachable")
    # When the first delivery fails, Then the record is reported for retry and the turn is still processing
    # (Powertools raises when every record of the batch failed: Lambda then retries the whole batch)
    with pytest.raises(BatchProcessingError):
        run_worker(world, model, receive_count=1)
    assert body(get_status(message_id))["data"]["status"] == "processing"
    # When the last delivery (maxReceiveCount) fails too
    world.sqs.purge_queue(QueueUrl=world.queue_url)
    world.sqs.send_message(
        QueueUrl=world.queue_url, MessageBody=json.dumps({"message_id": message_id, "session_id": session_id})
    )
    assert run_worker(world, model, receive_count=3) == {"batchItemFailures": []}
    # Then the turn is failed with a clear error, and the user's message is still in the history
    status = body(get_status(message_id))["data"]
    assert status["status"] == "failed" and status["error"]["code"] == "model_unavailable"
    assert body(get_history(session_id))["data"]["messages"][0]["content"] == "toujours là ?"


def test_idempotent_post_with_client_message_id_queues_one_turn(world: World) -> None:
    session_id = body(init_session())["data"]["session_id"]
    # Given the same client_message_id sent twice (a network retry)
    first = body(post_message(session_id, "une fois", client_message_id="cli-000001"))["data"]
    second = body(post_message(session_id, "une fois", client_message_id="cli-000001"))["data"]
    # Then one message exists and one turn is queued
    assert first["message_id"] == second["message_id"]
    assert len(world.queued_bodies()) == 1
    assert len(body(get_history(session_id))["data"]["messages"]) == 1


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ("{not json", 400, "malformed_json"),
        (json.dumps({"content": "x" * 4001}), 413, "content_too_large"),
        (json.dumps({"content": "ok", "admin": True}), 422, "validation_error"),
        (json.dumps({}), 422, "validation_error"),
        (json.dumps({"content": "ok", "context": {"blob": "x" * 5000}}), 413, "context_too_large"),
        ("x" * 40000, 413, "content_too_large"),
    ],
)
def test_bad_message_input_gets_a_clear_4xx_envelope_and_writes_nothing(
    world: World, payload: str, status: int, code: str
) -> None:
    session_id = body(init_session())["data"]["session_id"]
    event = load_event("widget_message/valid.json")
    event["headers"]["X-Session-ID"] = session_id
    event["requestContext"]["authorizer"] = authorizer_ctx()
    event["body"] = payload
    resp = load_handler("widget_message").handler(event, Ctx())
    assert resp["statusCode"] == status, resp
    assert body(resp) == {
        "success": False,
        "error": {"code": code, "message": body(resp)["error"]["message"]},
    }
    assert body(resp)["error"]["message"]
    assert world.queued_bodies() == []
    assert body(get_history(session_id))["data"]["messages"] == []


def test_foreign_session_and_message_are_404(world: World) -> None:
    # Given a session and a message of the demo deployment
    session_id = body(init_session())["data"]["session_id"]
    message_id = body(post_message(session_id, "secret"))["data"]["message_id"]
    # When another deployment asks for them, Then they do not exist for it
    assert get_history(session_id, key=OTHER_KEY)["statusCode"] == 404
    assert get_status(message_id, key=OTHER_KEY)["statusCode"] == 404
    assert post_message(session_id, "intrusion", key=OTHER_KEY)["statusCode"] == 404
    assert get_history("sess_unknown")["statusCode"] == 404
    assert body(get_status("msg_unknown"))["error"]["code"] == "message_not_found"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Deployment-Key": DEMO_KEY, "Origin": "https://app.ebp.fr"}, "Allow"),
        ({"X-Deployment-Key": DEMO_KEY, "Origin": "https://shop.ebp.fr:8443"}, "Allow"),
        ({"X-Deployment-Key": DEMO_KEY, "Referer": "https://app.ebp.fr/devis?id=1"}, "Allow"),
        ({"X-Deployment-Key": DEMO_KEY, "Origin": "https://evil-ebp.fr"}, "Deny"),
        ({"X-Deployment-Key": DEMO_KEY, "Origin": "https://ebp.fr.evil.net"}, "Deny"),
        ({"X-Deployment-Key": DEMO_KEY}, "Deny"),
        ({"X-Deployment-Key": DEMO_KEY, "Origin": "http://localhost:3000"}, "Deny"),
        ({"X-Deployment-Key": "dpl_unknown", "Origin": "https://app.ebp.fr"}, "Unauthorized"),
        ({"Origin": "https://app.ebp.fr"}, "Unauthorized"),
    ],
)
def test_domain_authorizer(world: World, headers: dict[str, str], expected: str) -> None:
    event = load_event("domain_authorizer/request.json")
    event["headers"] = headers
    handler = load_handler("domain_authorizer").handler
    if expected == "Unauthorized":
        with pytest.raises(Exception, match="^Unauthorized$"):
            handler(event, Ctx())
        return
    policy = handler(event, Ctx())
    assert policy["policyDocument"]["Statement"][0]["Effect"] == expected
    if expected == "Allow":
        assert policy["context"]["deployment_key"] == DEMO_KEY and policy["context"]["editor_id"] == "usr_ebp"
    else:
        assert policy["context"]["error_code"] == "origin_not_allowed"


def test_inactive_deployment_is_refused_everywhere(world: World) -> None:
    seed_deployment("dpl_test_inactive_0003", is_active=False)
    resp = init_session("dpl_test_inactive_0003")
    assert resp["statusCode"] == 401 and body(resp)["error"]["code"] == "invalid_deployment_key"
    assert header(resp, "Access-Control-Allow-Origin") is None


def test_init_refuses_other_origins_without_cors(world: World) -> None:
    resp = init_session(origin="https://evil.example")
    assert resp["statusCode"] == 403 and body(resp)["error"]["code"] == "origin_not_allowed"
    assert header(resp, "Access-Control-Allow-Origin") is None


def test_preflight_echoes_only_allowed_origins(world: World) -> None:
    handler = load_handler("cors_preflight").handler
    for origin, allowed in [
        ("https://app.ebp.fr", True),
        ("https://x.ebp.fr", True),
        ("https://www.other.fr", True),
        ("https://evil.example", False),
        ("null", False),
    ]:
        event = load_event("cors_preflight/valid.json")
        event["headers"]["Origin"] = origin
        resp = handler(event, Ctx())
        assert (resp["statusCode"] == 204) is allowed, (origin, resp)
        assert header(resp, "Access-Control-Allow-Origin") == (origin if allowed else None)


class BrokenRetriever:
    def search(self, collections: Any, query: str, limit: int) -> list[str]:
        raise RuntimeError("qdrant is down")


class RecordingRetriever:
    def __init__(self) -> None:
        self.queries: list[str] = []

    def search(self, collections: Any, query: str, limit: int) -> list[str]:
        self.queries.append(query)
        return ["Carrelage : 40 à 60 € HT/m²"]


def _delivery(world: World, content: str, receive_count: int = 1) -> Any:
    from aimanager.services.turns import Delivery

    session_id = body(init_session())["data"]["session_id"]
    message_id = body(post_message(session_id, content))["data"]["message_id"]
    return Delivery(message_id, session_id, receive_count, 3)


def test_knowledge_is_retrieved_into_the_prompt_and_a_retrieval_failure_still_answers(world: World) -> None:
    from aimanager.services.turns import answer_turn

    seed_agent(qdrant_collection="expert-btp")
    # Given a working knowledge base, Then its snippets reach the system prompt
    model, retriever = FakeModel(), RecordingRetriever()
    assert answer_turn(_delivery(world, "prix carrelage ?"), model, retriever) == "completed"
    assert retriever.queries == ["prix carrelage ?"]
    assert "Carrelage : 40 à 60 € HT/m²" in model.calls[0][0]["content"]
    # Given a broken one, Then the turn is still answered, without context
    assert answer_turn(_delivery(world, "et la peinture ?"), FakeModel(), BrokenRetriever()) == "completed"


def test_unexpected_errors_back_off_then_fail_the_turn_on_the_last_delivery(world: World) -> None:
    from aimanager.services.turns import process_delivery

    class Exploding(FakeModel):
        def chat(self, *args: Any, **kwargs: Any) -> ChatResult:
            raise KeyError("boom")

    delays: list[int] = []
    # Given a first delivery that hits a bug, Then it backs off 2 s and raises for a redelivery
    first = _delivery(world, "un", receive_count=1)
    with pytest.raises(KeyError):
        process_delivery(first, Exploding(), RecordingRetriever(), delays.append, 2)
    assert delays == [2]
    assert body(get_status(first.message_id))["data"]["status"] == "processing"
    # Given the last delivery, Then the turn is failed clearly (and the record still raises, for the DLQ)
    last = _delivery(world, "deux", receive_count=3)
    with pytest.raises(KeyError):
        process_delivery(last, Exploding(), RecordingRetriever(), delays.append, 2)
    status = body(get_status(last.message_id))["data"]
    assert status["status"] == "failed" and status["error"]["code"] == "internal_error"
    # And a model outage backs off exponentially: 2 s, then 4 s
    outage = FakeModel()
    outage.fail_with = ModelUnavailable("down")
    second = _delivery(world, "trois", receive_count=2)
    with pytest.raises(Exception, match="down"):
        process_delivery(second, outage, RecordingRetriever(), delays.append, 2)
    assert delays[-1] == 4


def test_two_racing_deliveries_store_one_answer(world: World) -> None:
    from aimanager.dal import repositories as repo

    # Given one turn picked up by two workers at once (a visibility timeout that expired mid-turn)
    d = _delivery(world, "course")
    repo.start_processing(d.session_id, d.message_id)
    repo.start_processing(d.session_id, d.message_id)
    # When both try to store their answer, Then only the first is kept
    assert repo.complete_turn(d.session_id, d.message_id, repo.Reply("première", "m", 1, 1)) is True
    assert repo.complete_turn(d.session_id, d.message_id, repo.Reply("seconde", "m", 1, 1)) is False
    assert body(get_status(d.message_id))["data"]["content"] == "première"


def test_an_idempotent_retry_after_a_crash_between_marker_and_turn_writes_the_turn(world: World) -> None:
    from aimanager.dal import repositories as repo
    from aimanager.dal.tables import MessageItem

    session_id = body(init_session())["data"]["session_id"]
    # Given a marker whose turn was never written (the function died in between)
    MessageItem(
        session_id,
        "idem#cli-crash01",
        deployment_key=DEMO_KEY,
        content="msg_0000000000000000000000000x" + session_id.removeprefix("sess_"),
        status="marker",
        created_at="t",
        updated_at="t",
    ).save()
    # When the client retries with the same client_message_id
    queued = body(post_message(session_id, "après crash", client_message_id="cli-crash01"))["data"]
    # Then the turn exists under the marker's id, and is queued once
    assert queued["message_id"].startswith("msg_0000000000000000000000000x")
    assert len(world.queued_bodies()) == 1
    assert [t.content for t in repo.session_messages(session_id)] == ["après crash"]


def test_the_authorizer_cache_delays_a_deactivation_by_at_most_its_ttl(world: World) -> None:
    from aimanager.errors import Unauthorized
    from aimanager.services import authorize

    headers = {"Origin": "https://app.ebp.fr"}
    # Given a container that has just authorized a deployment with a 60 s cache
    assert authorize.authorize_widget(DEMO_KEY, headers, "1.2.3.4", cache_ttl_s=60).deployment_key == DEMO_KEY
    # When the deployment is deactivated
    seed_deployment(is_active=False)
    # Then that container still accepts it until its cache expires, while a fresh read refuses at once
    assert authorize.authorize_widget(DEMO_KEY, headers, "1.2.3.4", cache_ttl_s=60).deployment_key == DEMO_KEY
    with pytest.raises(Unauthorized):
        authorize.authorize_widget(DEMO_KEY, headers, "1.2.3.4", cache_ttl_s=0)
    authorize.clear_cache()  # what the TTL expiry does
    with pytest.raises(Unauthorized):
        authorize.authorize_widget(DEMO_KEY, headers, "1.2.3.4", cache_ttl_s=60)


def test_every_refusal_is_logged_with_deployment_origin_and_source_ip(world: World) -> None:
    import logging

    from aimanager.observability import logger

    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    handler = Collect()
    records = handler.records
    logger.addHandler(handler)
    try:
        # Given a request from a site that is not allowed
        event = load_event("domain_authorizer/request.json")
        event["headers"] = {"X-Deployment-Key": DEMO_KEY, "Origin": "https://evil.example"}
        load_handler("domain_authorizer").handler(event, Ctx())
    finally:
        getattr(logger, "removeHandler")(handler)  # noqa: B009  # delegated to logging.Logger at run time
    # Then one warning names the deployment, the origin and the caller's IP
    refusals = [r for r in records if str(r.msg).startswith("widget request refused")]
    assert len(refusals) == 1 and refusals[0].levelname == "WARNING"
    seen = vars(refusals[0])
    assert (seen["deployment_key"], seen["origin"], seen["source_ip"]) == (
        DEMO_KEY,
        "https://evil.example",
        "203.0.113.9",
    )
