"""Admin API on users (§6.2, §17.3): editors with plan and quotas, other actors, API key rotation and revocation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.users import AdminUserIn, ApiKeyOut, UserIn, UserList, UserOut, UserUpdate
from aimanager.observability import logger
from aimanager.services import users
from aimanager.settings import get_settings

bind_tables(get_settings())
app = rest_resolver()
# The permission each route needs (§17.4), checked before anything else; a route not listed is refused.
PERMISSIONS = {
    ("GET", "/api/admin/editors"): "admin.editors",
    ("POST", "/api/admin/editors"): "admin.editors",
    ("GET", "/api/admin/editors/{editor_id}"): "admin.editors",
    ("PUT", "/api/admin/editors/{editor_id}"): "admin.editors",
    ("DELETE", "/api/admin/editors/{editor_id}"): "admin.editors",
    ("GET", "/api/admin/users"): "admin.users",
    ("POST", "/api/admin/users"): "admin.users",
    ("GET", "/api/admin/users/{user_id}"): "admin.users",
    ("POST", "/api/admin/users/{user_id}/api-key"): "admin.users",
    ("DELETE", "/api/admin/users/{user_id}/api-key"): "admin.users",
}
Role = Literal["admin", "editeur", "artisan", "particulier", "metreur", "fabricant"]


@app.get(
    "/api/admin/editors",
    summary="List editors",
    tags=["Admin"],
    responses=responses(200, UserList, "The editors"),
)
def list_editors() -> Response[str]:
    return ok(users.list_users("editeur"))


@app.post(
    "/api/admin/editors",
    summary="Create an editor (its API key is shown once)",
    tags=["Admin"],
    responses=responses(201, UserOut, "The editor, with its API key (shown once)", e409="Email already used"),
)
def create_editor(body: Annotated[UserIn, Body()]) -> Response[str]:
    return ok(users.create_editor(body), status=201)


@app.get(
    "/api/admin/editors/<editor_id>",
    summary="An editor, with plan and effective limits",
    tags=["Admin"],
    responses=responses(200, UserOut, "The editor", e404="Unknown editor"),
)
def get_editor(editor_id: str) -> Response[str]:
    return ok(users.get_user(editor_id, "editeur"))


@app.put(
    "/api/admin/editors/<editor_id>",
    summary="Update an editor (plan, quotas, profile, is_active)",
    tags=["Admin"],
    responses=responses(200, UserOut, "The editor as updated", e404="Unknown editor"),
)
def update_editor(editor_id: str, body: Annotated[UserUpdate, Body()]) -> Response[str]:
    return ok(users.update_user(editor_id, body, "editeur"))


@app.delete(
    "/api/admin/editors/<editor_id>",
    summary="Deactivate an editor (its key is revoked)",
    tags=["Admin"],
    responses=responses(200, UserOut, "The editor, deactivated", e404="Unknown editor"),
)
def delete_editor(editor_id: str) -> Response[str]:
    return ok(users.deactivate_user(editor_id, "editeur"))


@app.get(
    "/api/admin/users",
    summary="List users of a role",
    tags=["Admin"],
    responses=responses(200, UserList, "The users of this role"),
)
def list_users(role: Annotated[Role, Query()]) -> Response[str]:
    return ok(users.list_users(role))


@app.post(
    "/api/admin/users",
    summary="Create a user with roles",
    tags=["Admin"],
    responses=responses(201, UserOut, "The user, with its API key when its roles hold one", e409="Email already used"),
)
def create_user(body: Annotated[AdminUserIn, Body()]) -> Response[str]:
    return ok(users.create_any(body), status=201)


@app.get(
    "/api/admin/users/<user_id>",
    summary="A user",
    tags=["Admin"],
    responses=responses(200, UserOut, "The user", e404="Unknown user"),
)
def get_user(user_id: str) -> Response[str]:
    return ok(users.get_user(user_id))


@app.post(
    "/api/admin/users/<user_id>/api-key",
    summary="Rotate a user's API key (shown once; the old one dies at once)",
    tags=["Admin"],
    responses=responses(
        201, ApiKeyOut, "The new key (shown once)", e404="Unknown user", e409="No role of this user holds a key"
    ),
)
def rotate_key(user_id: str) -> Response[str]:
    return ok(users.rotate_api_key(user_id), status=201)


@app.delete(
    "/api/admin/users/<user_id>/api-key",
    summary="Revoke a user's API key",
    tags=["Admin"],
    responses=responses(200, UserOut, "The user, without a key", e404="Unknown user"),
)
def revoke_key(user_id: str) -> Response[str]:
    return ok(users.revoke_api_key(user_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context, permissions=PERMISSIONS)
