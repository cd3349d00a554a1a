"""The Powertools Tracer (X-Ray SDK, ~110 ms of import): only the worker imports it, for its model calls."""

from __future__ import annotations

from aws_lambda_powertools import Tracer

tracer = Tracer()
