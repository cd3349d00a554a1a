"""The docs function: Swagger UI with local assets only, and the committed document as JSON and YAML."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, load_event
from tests.unit.aws import load_handler
from tests.unit.functions.test_widget_flow import Ctx

DOCS = ROOT / "functions" / "api_docs"


def get(path: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("api_docs/valid.json"))
    event["path"] = event["requestContext"]["path"] = path
    return load_handler("api_docs").handler(event, Ctx())  # type: ignore[no-any-return]


def test_swagger_ui_page_loads_only_local_assets() -> None:
    resp = get("/api/docs")
    assert resp["statusCode"] == 200
    assert resp["multiValueHeaders"]["Content-Type"][0].startswith("text/html")
    html = resp["body"]
    assert 'id="swagger-ui"' in html
    # Then every script and stylesheet is one this function serves: no CDN at run time
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    for asset in re.findall(r'(?:src|href)="docs/assets/([^"]+)"', html):
        served = get(f"/api/docs/assets/{asset}")
        assert served["statusCode"] == 200, asset
        assert len(served["body"]) > 100
    csp = resp["multiValueHeaders"]["Content-Security-Policy"][0]
    assert "script-src 'self'" in csp and "http" not in csp


def test_the_document_is_served_as_json_and_yaml() -> None:
    as_json = get("/api/docs/openapi.json")
    as_yaml = get("/api/docs/openapi.yaml")
    assert as_json["statusCode"] == as_yaml["statusCode"] == 200
    doc = json.loads(as_json["body"])
    assert doc == json.loads((DOCS / "openapi.json").read_text())
    assert yaml.safe_load(as_yaml["body"]) == doc
    assert doc["openapi"].startswith("3.")
    assert as_yaml["multiValueHeaders"]["Content-Type"][0] == "application/yaml"


@pytest.mark.parametrize("name", ["../app.py", "..%2Fapp.py", "openapi.json", "nope.js"])
def test_only_listed_assets_are_served(name: str) -> None:
    resp = get(f"/api/docs/assets/{name}")
    assert resp["statusCode"] == 404
    assert json.loads(resp["body"])["success"] is False


def test_a_package_built_without_assets_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_handler("api_docs")
    monkeypatch.setattr(module, "HERE", ROOT / "does-not-exist")
    event = copy.deepcopy(load_event("api_docs/valid.json"))
    event["path"] = "/api/docs/assets/swagger-ui.css"
    resp = module.handler(event, Ctx())
    assert resp["statusCode"] == 503 and json.loads(resp["body"])["error"]["code"] == "docs_not_built"
