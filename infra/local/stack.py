"""The local stack: emulator, resources from template.yaml, Ollama (real or stand-in), Qdrant, functions, gateway."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra.local.model import LOCAL_REGION, StackModel

ROOT = Path(__file__).resolve().parents[2]
LAYER_DIR = ROOT / "layers" / "common" / "python"
TEMPLATE = ROOT / "template.yaml"
DEFAULT_OLLAMA = "http://127.0.0.1:11434"


@dataclass
class StackOptions:
    port: int = 3000
    host: str = "127.0.0.1"
    state_dir: Path = ROOT / ".local"
    stack_name: str = "aimanager-local"
    seed: bool = True
    persist: bool = True
    ollama_host: str = field(default_factory=lambda: os.environ.get("OLLAMA_HOST", "") or DEFAULT_OLLAMA)
    qdrant_url: str = field(default_factory=lambda: os.environ.get("QDRANT_URL", ""))
    ollama_timeout_s: int = 45
    standin_delay_ms: int = 0
    quiet: bool = False


def ollama_answers(url: str, timeout_s: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/version", timeout=timeout_s) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _first_chat_model(url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/tags", timeout=2) as resp:
            models = json.load(resp).get("models", [])
    except (urllib.error.URLError, OSError, ValueError):
        return None
    names = [m.get("name", "") for m in models if "embed" not in m.get("name", "")]
    return names[0] if names else None


class LocalStack:
    """Starts everything in dependency order; stop() undoes it in reverse and saves the data."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.notes: list[str] = []
        self._stoppers: list[Any] = []
        self.stack: StackModel | None = None
        self.demo: dict[str, Any] = {}
        self.ollama_url = options.ollama_host
        self.ollama_kind = "real"
        self.endpoint_url = ""
        self.external = False
        self.gateway: Any = None
        self.scheduler: Any = None
        self.state: Any = None
        self._stopped = threading.Event()

    # ------------------------------------------------------------------ start

    def start(self) -> LocalStack:
        opts = self.options
        opts.state_dir.mkdir(parents=True, exist_ok=True)
        (opts.state_dir / "logs").mkdir(exist_ok=True)
        try:
            self._start_emulator()
            self._start_ollama()
            self._provision()
            self._restore_and_seed()
            self._start_functions()
        except BaseException:
            self.stop(save=False)
            raise
        return self

    def _start_emulator(self) -> None:
        from infra.local.emulator import Emulator, external_endpoint

        external = external_endpoint()
        self.external = bool(external)
        if external:
            self.endpoint_url = external
            self.notes.append(f"AWS emulator: {external} (from AWS_ENDPOINT_URL)")
            return
        emulator = Emulator(log_path=self.options.state_dir / "logs" / "emulator.log").start()
        self._stoppers.append(emulator.stop)
        self.endpoint_url = emulator.endpoint_url
        self.notes.append(f"AWS emulator: moto server at {self.endpoint_url} (embedded)")

    def _start_ollama(self) -> None:
        url = self.options.ollama_host
        if ollama_answers(url):
            self.ollama_url, self.ollama_kind = url, "real"
            self.notes.append(f"Ollama: {url}")
            return
        from infra.local.ollama_standin import OllamaStandIn

        parts = urlsplit(url)
        port = parts.port or 11434
        host = parts.hostname or "127.0.0.1"
        loopback = host in ("127.0.0.1", "localhost")
        standin = None
        if loopback:
            try:
                standin = OllamaStandIn(host="127.0.0.1", port=port, delay_ms=self.options.standin_delay_ms).start()
            except OSError:
                standin = None
        if standin is None:
            standin = OllamaStandIn(host="127.0.0.1", port=0, delay_ms=self.options.standin_delay_ms).start()
        self._stoppers.append(standin.stop)
        self.ollama_url, self.ollama_kind = standin.url, "stand-in"
        self.notes.append(
            f"Ollama: STAND-IN at {standin.url} - no Ollama answered at {url}; replies are simulated, not a model's"
        )

    def _parameters(self) -> dict[str, str]:
        params = {
            "Stage": "local",
            "OllamaHost": self.ollama_url,
            "LogLevel": "INFO",
            "OllamaTimeoutSeconds": str(self.options.ollama_timeout_s),
        }
        if self.options.qdrant_url:
            params["QdrantUrl"] = self.options.qdrant_url
        else:
            params["QdrantPath"] = str(self.options.state_dir / "qdrant")
        return params

    def _provision(self) -> None:
        from infra.local.resources import provision

        self.stack = provision(
            TEMPLATE,
            self.endpoint_url,
            stack_name=self.options.stack_name,
            region=LOCAL_REGION,
            parameter_overrides=self._parameters(),
        )

    def _bind_layer(self) -> None:
        """The stack process uses the layer's own data access for seeding (as a function would)."""
        if str(LAYER_DIR) not in sys.path:
            sys.path.insert(0, str(LAYER_DIR))
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": LOCAL_REGION,
                "AWS_REGION": LOCAL_REGION,
            }
        )
        from aimanager.dal import tables

        assert self.stack is not None
        for model, logical_id in (
            (tables.AgentItem, "AgentsTable"),
            (tables.UserItem, "UsersTable"),
            (tables.DeploymentItem, "DeploymentsTable"),
            (tables.AllowedOriginItem, "AllowedOriginsTable"),
            (tables.SessionItem, "SessionsTable"),
            (tables.MessageItem, "MessagesTable"),
            (tables.UserEditorLinkItem, "UserEditorLinksTable"),
            (tables.UniqueItem, "UniquenessTable"),
            (tables.ShareLinkItem, "ShareLinksTable"),
            (tables.LinkCodeItem, "LinkCodesTable"),
            (tables.UsageItem, "UsageTable"),  # a seeded share link is counted like any other
        ):
            model.Meta.table_name = self.stack.refs[logical_id]
        # The demo share link and artisan token are signed with the stack's own secret, as the functions do.
        os.environ["SIGNING_SECRET_ARN"] = self.stack.refs["SigningSecret"]

    def _restore_and_seed(self) -> None:
        from infra.local.emulator import boto3_session
        from infra.local.state import StateStore

        assert self.stack is not None
        self._bind_layer()
        session = boto3_session(self.endpoint_url, LOCAL_REGION)
        if self.options.persist and not self.external:
            self.state = StateStore(self.options.state_dir / "state", TEMPLATE, self.stack, session)
            restored = self.state.restore()
            if restored:
                self.notes.append(
                    "Data restored from .local/state: " + ", ".join(f"{k} {v}" for k, v in sorted(restored.items()))
                )
        if self.options.seed:
            from infra.local.seed import seed

            model = (
                os.environ.get("AIMANAGER_DEMO_MODEL")
                or (_first_chat_model(self.ollama_url) if self.ollama_kind == "real" else None)
                or "mistral:7b"
            )
            data = seed(self.api_url, self.options.state_dir / "demo.json", model=model)
            self.demo = {
                **data.__dict__,
                "demo_page": f"http://localhost:{self.options.port}/demo",
                "aws_endpoint_url": self.endpoint_url,  # for scripts and tests: `aws --endpoint-url ...`
            }
            (self.options.state_dir / "demo.json").write_text(json.dumps(self.demo, indent=2) + "\n")
            self._seed_knowledge()
        if self.state is not None:
            requeued = self.state.requeue_unfinished_turns("MessagesTable", "MessageQueue")
            if requeued:
                self.notes.append(f"Re-queued {requeued} unfinished turn(s) from the last run")

    def _seed_knowledge(self) -> None:
        from aimanager.adapters.knowledge import ollama_embedder
        from infra.local.seed import seed_knowledge

        embed = ollama_embedder(self.ollama_url, os.environ.get("OLLAMA_EMBED_MODEL", "nomic-embed-text"), 30)
        try:
            from qdrant_client import QdrantClient

            client = (
                QdrantClient(url=self.options.qdrant_url)
                if self.options.qdrant_url
                else QdrantClient(path=str(self.options.state_dir / "qdrant"))
            )
            try:
                count = seed_knowledge(client, embed)
            finally:
                client.close()  # the embedded mode locks its folder: the worker opens it next
            where = self.options.qdrant_url or f"embedded, {self.options.state_dir / 'qdrant'}"
            self.notes.append(f"Qdrant: {where} - collection expert-btp, {count} snippets")
        except Exception as exc:  # RAG is optional for the demo: say why it is off, keep going
            self.notes.append(f"Qdrant: knowledge not seeded ({exc.__class__.__name__}: {exc})")

    def _start_functions(self) -> None:
        from infra.local.gateway import LocalGateway
        from infra.local.pollers import EventRulePoller, SqsPoller
        from infra.local.runtime import FunctionPool
        from infra.local.scheduler import Scheduler

        assert self.stack is not None
        base_env = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": LOCAL_REGION,
            "AWS_DEFAULT_REGION": LOCAL_REGION,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "TZ": "UTC",
            # Never read a developer's ~/.aws: the emulator's fake credentials are the only ones.
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }
        pool = FunctionPool(self.stack.functions, base_env, log_dir=self.options.state_dir / "logs")
        self._stoppers.append(pool.close)
        pool.warm_up()
        self.pool = pool
        sqs = self._client("sqs")
        pollers: list[Any] = [SqsPoller(spec, pool.invoke, sqs, region=LOCAL_REGION) for spec in self.stack.sqs_sources]
        pollers += [EventRulePoller(spec, pool.invoke, sqs, region=LOCAL_REGION) for spec in self.stack.event_rules]
        for poller in pollers:
            poller.start()
            self._stoppers.append(poller.stop)
        self.scheduler = Scheduler(self.stack.schedules, pool.invoke, region=LOCAL_REGION)
        self.scheduler.start()
        self._stoppers.append(self.scheduler.stop)
        self.gateway = LocalGateway(
            TEMPLATE, pool, host=self.options.host, port=self.options.port, parameter_overrides=self._parameters()
        )
        self._mount_local_routes()
        self.gateway.start()
        self._stoppers.append(self.gateway.stop)

    def _client(self, service: str) -> Any:
        from infra.local.emulator import aws_client

        return aws_client(service, self.endpoint_url, LOCAL_REGION)

    def _mount_local_routes(self) -> None:
        from flask import jsonify

        def schedules() -> Any:
            return jsonify({"success": True, "data": [s.name for s in self.scheduler.schedules]})

        def trigger(name: str) -> Any:
            try:
                result = self.scheduler.trigger(name)
            except KeyError as exc:
                return jsonify({"success": False, "error": {"code": "not_found", "message": str(exc)}}), 404
            return jsonify(
                {
                    "success": result.error is None,
                    "data": {"schedule": name, "payload": result.payload, "error": result.error},
                }
            )

        def demo() -> Any:
            # A host page as an editor's site would be: open it as http://localhost:<port>/demo, so that the
            # page (localhost) and the chat app (127.0.0.1) are two origins, as in production.
            page = (ROOT / "widget" / "demo.html").read_text(encoding="utf-8")
            page = page.replace("{{DEPLOYMENT_KEY}}", str(self.demo.get("deployment_key", "")))
            page = page.replace("{{API_URL}}", self.gateway.url)
            return page, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}

        self.gateway.add_local_route("/demo", demo, ["GET"])
        self.gateway.add_local_route("/_local/schedules", schedules, ["GET"])
        self.gateway.add_local_route("/_local/schedules/<name>/trigger", trigger, ["POST"])

    @property
    def demo_page_url(self) -> str:
        port = urlsplit(self.gateway.url).port if self.gateway is not None else self.options.port
        return f"http://localhost:{port}/demo"

    @property
    def api_url(self) -> str:
        port = self.gateway.port if self.gateway is not None and hasattr(self.gateway, "port") else self.options.port
        return f"http://{self.options.host}:{port}"

    # ------------------------------------------------------------------ readiness and stop

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        last = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.gateway.url}/api/health", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.1)
        raise RuntimeError(f"/api/health did not answer 200 within {timeout_s}s ({last})")

    def banner(self) -> str:
        url = self.gateway.url
        lines = ["", "AI-Manager local stack is ready", f"  API:            {url}   (health: {url}/api/health)"]
        if self.demo:
            lines += [
                f"  Deployment key: {self.demo['deployment_key']}   (allowed on localhost, 127.0.0.1)",
                f"  Editor API key: {self.demo['editor_api_key']}",
                f"  Admin API key:  {self.demo['admin_api_key']}",
                f"  Share link:     {self.demo.get('share_link_url', '')}   (artisan Durant Peinture, DUR-001)",
                f"  Demo data:      {self.options.state_dir / 'demo.json'}",
                f"  Widget demo:    {self.demo_page_url}   (the host page embedding the widget)",
            ]
        lines += [f"  {n}" for n in self.notes]
        lines += [
            f"  Logs:           {self.options.state_dir / 'logs'}/<Function>.log",
            "  Schedules:      make trigger NAME=<rule>   (list: GET /_local/schedules)",
            "  Stop:           Ctrl-C (data is saved to .local/state and restored next run)",
            "",
        ]
        return "\n".join(lines)

    def stop(self, *, save: bool = True) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        # Stop taking work first (gateway, pollers), then save, then the processes and the emulator.
        stoppers = list(reversed(self._stoppers))
        emulator_stop = stoppers.pop() if stoppers and not self.external else None
        for stop in stoppers:
            try:
                stop()
            except Exception as exc:  # keep stopping the rest
                print(f"warning: {exc}", file=sys.stderr)
        if save and self.state is not None:
            try:
                self.state.save()
            except Exception as exc:
                print(f"warning: data not saved: {exc}", file=sys.stderr)
        if emulator_stop is not None:
            emulator_stop()
