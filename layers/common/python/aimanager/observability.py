"""The one Logger and Metrics of every function (Powertools, configured by POWERTOOLS_* variables).

No Powertools Tracer: importing the X-Ray SDK costs ~110-150 ms of cold start per function (measured, see
docs/benchmarks.md); every function has `Tracing: Active` in the template, so Lambda and API Gateway still
trace each invocation end to end.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
# A missing namespace would make every add_metric raise: metrics must never fail a request.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "AiManager")
