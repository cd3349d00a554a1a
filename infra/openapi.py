"""`make openapi`: ONE OpenAPI document for the whole API, generated from template.yaml's routes and each function's
Powertools resolver (the pydantic models its handlers validate with), written where the docs function ships it.

`python -m infra.openapi` writes functions/api_docs/openapi.{json,yaml}; `--check` fails when they are stale.
Routes come from the template (the API that exists); a route whose function has a Powertools resolver gets the
operation that resolver generates, renamed to the template's path; any other route (a plain handler) gets a minimal
operation from the template. Security comes from the route's authorizer's identity headers (decision 0022).
"""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
DOCS_DIR = ROOT / "functions" / "api_docs"
JSON_PATH = DOCS_DIR / "openapi.json"
YAML_PATH = DOCS_DIR / "openapi.yaml"

TITLE = "AI-Manager API"
VERSION = "1.0.0"
DESCRIPTION = (
    "White-label AI agents (Expert BTP) as an embeddable chat widget. Every response uses the envelope "
    '`{"success": true, "data": ...}` or `{"success": false, "error": {"code", "message"}}`. Widget routes need the '
    "deployment key and an Origin (or Referer) on the deployment's allowlist; editor and admin routes an API key "
    "(`X-API-Key`); artisan routes a bearer token."
)

# How an authorizer's identity header maps to a security scheme of the document.
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "deploymentKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Deployment-Key",
        "description": "A deployment's public key (`dpl_...`); the request's Origin/Referer host must be allowed.",
    },
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "An editor's or admin's key."},
    "bearer": {"type": "http", "scheme": "bearer", "description": "An artisan's signed token."},
}
SCHEME_OF_HEADER = {"x-deployment-key": "deploymentKey", "x-api-key": "apiKey", "authorization": "bearer"}

ERROR_ENVELOPE_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
ANY_DATA_REF = {"$ref": "#/components/schemas/AnyData"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


@dataclass(frozen=True)
class Route:
    method: str  # lower case
    path: str  # as the template declares it, e.g. /api/widget/v1/message/{id}/status
    function: str  # logical id
    code_uri: str  # functions/<name>/
    authorizer: str | None  # None: no authorizer (Auth: NONE)
    description: str

    @property
    def doc_path(self) -> str:
        """OpenAPI has no greedy `{proxy+}`: it is `{proxy}` in the document."""
        return self.path.replace("+}", "}")


# ------------------------------------------------------------------ the template


def _load_template() -> dict[str, Any]:
    from cfnlint.decode import decode

    template, matches = decode(str(TEMPLATE))
    if matches or template is None:
        raise SystemExit(f"template.yaml does not parse: {matches}")
    return dict(template)


def _default_authorizer(template: dict[str, Any], api_id: str) -> str | None:
    api = template["Resources"].get(api_id, {})
    return (api.get("Properties", {}).get("Auth") or {}).get("DefaultAuthorizer")


def _api_id(props: dict[str, Any]) -> str:
    ref = props.get("RestApiId")
    return str(ref.get("Ref")) if isinstance(ref, dict) else "ServerlessRestApi"


def template_routes(template: dict[str, Any] | None = None) -> list[Route]:
    """Every Api event of every function in the template, sorted by path then method."""
    template = template or _load_template()
    routes: list[Route] = []
    for logical_id, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties", {})
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            ep = event["Properties"]
            auth = (ep.get("Auth") or {}).get("Authorizer", _default_authorizer(template, _api_id(ep)))
            routes.append(
                Route(
                    method=str(ep["Method"]).lower(),
                    path=str(ep["Path"]),
                    function=logical_id,
                    code_uri=str(props.get("CodeUri", "")),
                    authorizer=None if auth in (None, "NONE") else str(auth),
                    description=str(props.get("Description", "")),
                )
            )
    return sorted(routes, key=lambda r: (r.path, r.method))


def _security_for(template: dict[str, Any], route: Route) -> list[dict[str, list[str]]]:
    """Alternatives (OR) from the authorizer's identity headers; [] for a route without authorizer."""
    if route.authorizer is None:
        return []
    for res in template["Resources"].values():
        if res.get("Type") != "AWS::Serverless::Api":
            continue
        authorizers = (res.get("Properties", {}).get("Auth") or {}).get("Authorizers") or {}
        if route.authorizer in authorizers:
            headers = (authorizers[route.authorizer].get("Identity") or {}).get("Headers") or []
            schemes = [SCHEME_OF_HEADER[h.lower()] for h in headers if h.lower() in SCHEME_OF_HEADER]
            return [{s: []} for s in schemes]
    return []


# ------------------------------------------------------------------ the functions' resolvers


def _prepare_import_environment() -> None:
    """Function modules read settings and bind tables at import; none of that touches the network."""
    for layer in (ROOT / "layers" / "common" / "python", ROOT):
        if str(layer) not in sys.path:
            sys.path.insert(0, str(layer))
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "AiManager")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "aimanager")


def _function_schema(code_uri: str) -> dict[str, Any] | None:
    """The OpenAPI schema the function's Powertools resolver generates, or None for a plain handler."""
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    module_name = ".".join(Path(code_uri.rstrip("/")).parts) + ".app"
    module = importlib.import_module(module_name)
    app = getattr(module, "app", None)
    if not isinstance(app, ApiGatewayResolver):
        return None
    return dict(json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION)))


_PARAM = re.compile(r"\{([^}]+)\}")


def _shape(path: str) -> str:
    return _PARAM.sub("{}", path.replace("+}", "}"))


def _operation_for(schema: dict[str, Any], route: Route) -> dict[str, Any] | None:
    """The resolver's operation for this route (same method, same path shape), its path parameters renamed to the
    template's names (API Gateway's names are the API's)."""
    for path, item in (schema.get("paths") or {}).items():
        if _shape(path) != _shape(route.path) or route.method not in item:
            continue
        op = copy.deepcopy(item[route.method])
        renames = dict(zip(_PARAM.findall(path), _PARAM.findall(route.doc_path), strict=True))
        for param in op.get("parameters", []):
            if param.get("in") == "path":
                param["name"] = renames.get(param["name"], param["name"])
        return dict(op)
    return None


def _plain_operation(route: Route) -> dict[str, Any]:
    """A route whose handler is not a Powertools resolver: what the template says of it."""
    op: dict[str, Any] = {
        "summary": route.description or f"{route.method.upper()} {route.path}",
        "operationId": f"{route.function}_{route.method}",
        "responses": {},
    }
    params = _PARAM.findall(route.doc_path)
    if params:
        op["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
    if route.method == "options":
        op["responses"]["204"] = {"description": "Preflight accepted (CORS headers echo the allowed Origin)."}
    else:
        op["responses"]["200"] = {"description": "Success", "content": {"application/json": {"schema": ANY_DATA_REF}}}
    return op


# ------------------------------------------------------------------ one document


def _tag_of(path: str) -> str:
    parts = path.strip("/").split("/")
    area = parts[1] if len(parts) > 1 and parts[0] == "api" else parts[0]
    return {"widget": "Widget", "editor": "Editor", "admin": "Admin", "artisan": "Artisan", "docs": "Docs"}.get(
        area, area.capitalize() or "Other"
    )


def _normalise_responses(op: dict[str, Any]) -> None:
    """Every error is our envelope (the resolver maps validation errors to a 422 envelope, not Powertools' shape);
    a success the route does not describe is an envelope around some JSON."""
    responses: dict[str, Any] = op.setdefault("responses", {})
    for status, response in list(responses.items()):
        content = response.get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        if status.startswith(("4", "5")):
            # A page route's refusal pages keep their own type (text/html); JSON is always the error envelope.
            pages = {kind: body for kind, body in content.items() if kind != "application/json"}
            json_error = {"application/json": {"schema": ERROR_ENVELOPE_REF}}
            response["content"] = {**pages, **json_error} if "application/json" in content or not pages else pages
            if response.get("description") == "Validation Error":
                response["description"] = "Unknown field, missing field or wrong type (the field is named)."
        elif schema in ({"type": "string", "title": "Return"}, {"type": "string"}):
            response["content"] = {"application/json": {"schema": ANY_DATA_REF}}
    responses.setdefault(
        "4XX",
        {"description": "Refused: the error envelope", "content": {"application/json": {"schema": ERROR_ENVELOPE_REF}}},
    )


def _base_components() -> dict[str, Any]:
    from aimanager.models.envelope import AnyData, ErrorEnvelope

    schemas: dict[str, Any] = {}
    for model in (ErrorEnvelope, AnyData):
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(generated.pop("$defs", {}))
        schemas[model.__name__] = generated
    return schemas


def _merge_schemas(into: dict[str, Any], new: dict[str, Any], where: str) -> None:
    for name, schema in new.items():
        if name in into and into[name] != schema:
            raise SystemExit(f"Two different schemas are both named {name!r} (second in {where}): rename one model.")
        into[name] = schema


def _unused_schemas(doc: dict[str, Any]) -> set[str]:
    """Components nobody references any more (Powertools' HTTPValidationError once replaced)."""
    schemas = doc["components"]["schemas"]
    used: set[str] = set()
    todo = [json.dumps(doc["paths"])]
    while todo:
        for name in re.findall(r'"#/components/schemas/([^"]+)"', todo.pop()):
            if name not in used:
                used.add(name)
                todo.append(json.dumps(schemas.get(name, {})))
    return set(schemas) - used


def build_document() -> dict[str, Any]:
    _prepare_import_environment()
    template = _load_template()
    schemas = _base_components()
    paths: dict[str, dict[str, Any]] = {}
    cache: dict[str, dict[str, Any] | None] = {}
    for route in template_routes(template):
        if route.code_uri not in cache:
            cache[route.code_uri] = _function_schema(route.code_uri)
        fn_schema = cache[route.code_uri]
        op = _operation_for(fn_schema, route) if fn_schema else None
        if fn_schema:
            _merge_schemas(schemas, (fn_schema.get("components") or {}).get("schemas") or {}, route.function)
        op = op or _plain_operation(route)
        op.setdefault("tags", [_tag_of(route.path)])
        op["security"] = _security_for(template, route)
        op["x-function"] = route.function
        _normalise_responses(op)
        paths.setdefault(route.doc_path, {})[route.method] = op
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": {p: dict(sorted(item.items())) for p, item in sorted(paths.items())},
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }
    for name in _unused_schemas(doc):
        del schemas[name]
    doc["components"]["schemas"] = dict(sorted(schemas.items()))
    return dict(json.loads(json.dumps(doc)))  # plain types only (the template reader's strings are subclasses)


def render(doc: dict[str, Any]) -> tuple[str, str]:
    as_json = json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    as_yaml = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    return as_json, as_yaml


def document_routes(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for path, item in doc["paths"].items():
        for method in item:
            if method in METHODS:
                yield method, path


SWAGGER_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css")


def copy_swagger_assets() -> list[Path]:
    """Swagger UI's script and stylesheet from the swagger-ui-py package into the docs function (at build, so no CDN
    at run time and no 1.5 MB of vendored JavaScript in git). Copies only what differs; returns what it wrote."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("swagger-ui-py is not installed (requirements/dev.txt): run `make venv`.")
    source = Path(next(iter(spec.submodule_search_locations))) / "static"
    target = DOCS_DIR / "assets"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SWAGGER_ASSETS:
        data = (source / name).read_bytes()
        if not (target / name).exists() or (target / name).read_bytes() != data:
            (target / name).write_bytes(data)
            written.append(target / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the committed documents are stale")
    parser.add_argument("--assets", action="store_true", help="only copy Swagger UI's assets into the docs function")
    args = parser.parse_args(argv)
    if args.assets:
        copy_swagger_assets()
        return 0
    as_json, as_yaml = render(build_document())
    if args.check:
        stale = [
            p for p, text in ((JSON_PATH, as_json), (YAML_PATH, as_yaml)) if not p.exists() or p.read_text() != text
        ]
        if stale:
            print("Stale: " + ", ".join(str(p.relative_to(ROOT)) for p in stale) + " - run `make openapi`.")
            return 1
        return 0
    copy_swagger_assets()
    JSON_PATH.write_text(as_json)
    YAML_PATH.write_text(as_yaml)
    print(f"Wrote {JSON_PATH.relative_to(ROOT)} and {YAML_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
