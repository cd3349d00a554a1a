"""The served OpenAPI document against the running stack: Swagger UI works offline, and schemathesis finds no 5xx
and no response that breaks the document (every route, with the keys of an editor made for the fuzzing)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import ROOT, RunningStack

pytestmark = pytest.mark.xdist_group("local_stack")

ORIGIN = "http://localhost:8080"
# Bounded for CI (2 cores): ~300 requests, about 15 s here; a fixed seed makes a failure reproducible.
MAX_EXAMPLES = 20
SEED = 20261130


def test_docs_are_served_with_local_assets(local_stack: RunningStack) -> None:
    # Given the stack, When a developer opens /api/docs
    page = local_stack.call("GET", "/api/docs", origin=None, key=None)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    # Then every asset the page loads comes from the stack itself (no CDN)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("docs/assets/") for a in assets)
    for asset in assets:
        served = local_stack.call("GET", f"/api/{asset}", origin=None, key=None)
        assert served.status_code == 200 and len(served.content) > 100, asset
    # And the document it shows is served as JSON and YAML, the same document
    as_json = local_stack.call("GET", "/api/docs/openapi.json", origin=None, key=None).json()
    as_yaml = yaml.safe_load(local_stack.call("GET", "/api/docs/openapi.yaml", origin=None, key=None).text)
    assert as_json == as_yaml == json.loads((ROOT / "functions" / "api_docs" / "openapi.json").read_text())


def _fuzz_tenant(stack: RunningStack) -> tuple[str, str]:
    """(editor API key, deployment key) of an editor made for the fuzzing alone: what schemathesis creates, changes
    or exhausts (domains, quotas, links) stays with it, never the demo data the other tests of the stack use."""
    import uuid

    import requests

    admin = {"X-API-Key": stack.demo["admin_api_key"]}
    editor = requests.post(
        f"{stack.url}/api/admin/editors",
        headers=admin,
        json={"email": f"fuzz-{uuid.uuid4().hex[:8]}@fuzz.example", "name": "Fuzz", "plan": "pro"},
        timeout=30,
    )
    assert editor.status_code == 201, editor.text
    key = editor.json()["data"]["api_key"]
    deployed = requests.post(
        f"{stack.url}/api/editor/deployments",
        headers={"X-API-Key": key},
        json={
            "agent_id": "agt_expert_btp",
            "name": "Fuzz target",
            "domains": [{"domain": "localhost", "environment": "localhost"}],
        },
        timeout=30,
    )
    assert deployed.status_code == 201, deployed.text
    return key, str(deployed.json()["data"]["deployment_key"])


def _seed_data(stack: RunningStack, deployment_key: str) -> tuple[str, str]:
    """A session and a message of the deployment, so fuzzed ids also reach the routes' core logic."""
    init = stack.call("POST", "/api/widget/v1/init", origin=ORIGIN, key=deployment_key, json={})
    assert init.status_code == 201, init.text
    session_id = str(init.json()["data"]["session_id"])
    sent = stack.call(
        "POST",
        "/api/widget/v1/message",
        origin=ORIGIN,
        key=deployment_key,
        headers={"X-Session-ID": session_id},
        json={"content": "Bonjour"},
    )
    assert sent.status_code == 202, sent.text
    return session_id, str(sent.json()["data"]["message_id"])


def test_schemathesis_finds_no_server_error_and_no_schema_violation(local_stack: RunningStack, tmp_path: Path) -> None:
    # Given the running stack, its document, the demo keys, and real ids for the path parameters
    editor_key, deployment_key = _fuzz_tenant(local_stack)
    session_id, message_id = _seed_data(local_stack, deployment_key)
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "\n".join(
            [
                "[[operations]]",
                'include-path = "/api/widget/v1/session/{id}/messages"',
                f'parameters = {{ "path.id" = "{session_id}" }}',
                "[[operations]]",
                'include-path = "/api/widget/v1/message/{id}/status"',
                f'parameters = {{ "path.id" = "{message_id}" }}',
                "[[operations]]",
                'include-path = "/api/docs/assets/{name}"',
                'parameters = { "path.name" = "init.js" }',
                "",
            ]
        )
    )
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{local_stack.url}/api/docs/openapi.json",
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "2",
        "--request-timeout",
        "20",
        "-H",
        f"Origin: {ORIGIN}",
        "-H",
        f"X-Deployment-Key: {deployment_key}",
        "-H",
        f"X-API-Key: {editor_key}",
        "-H",
        f"X-Session-ID: {session_id}",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    # When schemathesis runs every operation of the document
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    out = result.stdout + result.stderr
    # Then it finds no 5xx, no undocumented status, no response off its schema or content type
    assert result.returncode == 0, out[-6000:]
    tested = re.search(r"Tested:\s+(\d+)", out)
    documented = sum(
        1
        for item in json.loads((ROOT / "functions" / "api_docs" / "openapi.json").read_text())["paths"].values()
        for method in item
        if method != "options"
    )
    assert tested and int(tested.group(1)) == documented, out[-3000:]
