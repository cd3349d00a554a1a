"""Route documentation from the models the handlers use: the success envelope and the error envelope."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from aimanager.models.envelope import Envelope, ErrorEnvelope


def responses(status: int, model: type[BaseModel], description: str, **errors: str) -> dict[int, OpenAPIResponse]:
    """`responses=` of a route: `status` answers `Envelope[model]`; each error status (keyword `e404="..."`) the
    error envelope. Statuses a route does not name are documented as the generic 4XX error by the generator."""
    out: dict[int, OpenAPIResponse] = {
        status: {"description": description, "content": {"application/json": {"model": Envelope[model]}}}  # type: ignore[valid-type]
    }
    for name, why in errors.items():
        out[int(name.removeprefix("e"))] = {
            "description": why,
            "content": {"application/json": {"model": ErrorEnvelope}},
        }
    return out
