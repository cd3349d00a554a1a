"""The one Logger and Metrics of every function (Powertools, configured by POWERTOOLS_* variables).

The Tracer lives apart (aimanager.tracing): importing the X-Ray SDK costs ~110-150 ms of cold start (measured,
docs/benchmarks.md), so only the worker, whose model calls deserve sub-segments, uses it; the API functions
rely on `Tracing: Active` (Lambda and API Gateway segments) without the SDK.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
# A missing namespace would make every add_metric raise: metrics must never fail a request.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "AiManager")
