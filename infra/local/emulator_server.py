"""moto's server with DynamoDB requests serialized, as DynamoDB serializes writes to an item (decision 0026).

moto's threaded server runs conditional writes as read-then-write and a transaction as deep-copy, apply,
restore-on-failure, without a lock: two threads can both pass `n < limit`, and a cancelled transaction's restore
can erase another thread's write. DynamoDB gives neither anomaly, so the emulator must not either: every DynamoDB
request runs under one lock (other services stay concurrent). Run as `python -m infra.local.emulator_server`,
with moto.server's own arguments.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

_DYNAMODB_TARGET = "DynamoDB_"


class SerializedDynamoDB:
    """WSGI middleware: DynamoDB calls (X-Amz-Target DynamoDB_20120810.*) one at a time."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(_DYNAMODB_TARGET):
            return self.app(environ, start_response)
        with self.lock:
            # The body is produced inside the lock: moto does its work while building the response.
            return list(self.app(environ, start_response))

    def __getattr__(self, name: str) -> Any:  # moto's server reads attributes of its app (debug, ...)
        return getattr(self.app, name)


def main(argv: list[str] | None = None) -> None:
    import moto.server
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication

    def serialized(*args: Any, **kwargs: Any) -> Any:
        return SerializedDynamoDB(original(*args, **kwargs))

    moto.server.DomainDispatcherApplication = serialized  # type: ignore[attr-defined,assignment]
    moto.server.main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
