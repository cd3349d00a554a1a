"""`python -m infra.local run | trigger NAME`: the local stack's command line (what `make run` calls)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from infra.local.stack import ROOT, LocalStack, StackOptions


def _run(args: argparse.Namespace) -> int:
    options = StackOptions(
        port=args.port,
        host=args.host,
        seed=not args.no_seed,
        persist=not args.no_persist,
        state_dir=Path(args.state_dir).resolve(),
        standin_delay_ms=args.standin_delay_ms,
    )
    stack = LocalStack(options)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        stack.start()
        stack.wait_healthy()
    except Exception as exc:
        print(f"The local stack could not start: {exc}", file=sys.stderr)
        stack.stop(save=False)
        return 1
    print(stack.banner(), flush=True)
    done.wait()
    print(f"Stopping: saving data to {options.state_dir / 'state'} ...", flush=True)
    stack.stop()
    print("Stopped.", flush=True)
    return 0


def _trigger(args: argparse.Namespace) -> int:
    url = f"http://{args.host}:{args.port}/_local/schedules/{args.name}/trigger"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b""), timeout=60) as resp:
            print(json.dumps(json.load(resp), indent=2, ensure_ascii=False))
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode(), file=sys.stderr)
    except urllib.error.URLError as exc:
        print(f"No local stack answers at {url}: {exc.reason}. Start it with `make run`.", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the whole stack with demo data")
    run.add_argument("--port", type=int, default=3000)
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--state-dir", default=str(ROOT / ".local"))
    run.add_argument("--no-seed", action="store_true", help="do not write the demo data")
    run.add_argument("--no-persist", action="store_true", help="start empty and save nothing on stop")
    run.add_argument("--standin-delay-ms", type=int, default=0, help="simulated generation time of the stand-in")
    run.set_defaults(func=_run)
    trigger = sub.add_parser("trigger", help="fire a schedule of the running stack now")
    trigger.add_argument("name")
    trigger.add_argument("--port", type=int, default=3000)
    trigger.add_argument("--host", default="127.0.0.1")
    trigger.set_defaults(func=_trigger)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
