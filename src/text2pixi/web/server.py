"""``python -m text2pixi.web.server``: the gateway and, on loopback, the playground, served by waitress.

The gateway (:mod:`text2pixi.web.gateway`) and the playground (:mod:`text2pixi.web.playground`) are
assembled here, above both, so neither imports the other's caller.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
from collections.abc import Sequence
from types import FrameType

from waitress import serve

from text2pixi.web import playground
from text2pixi.web.gateway import (
    DEFAULT_HOST,
    DEFAULT_NAMESPACE,
    DEFAULT_PORT,
    DEFAULT_THREADS,
    DEFAULT_TIMEOUT,
    Gateway,
    GatewayConfig,
    create_app,
    parse_functions,
)

logger = logging.getLogger("text2pixi.web.gateway")


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m text2pixi.web.server``: serve the gateway with waitress until interrupted."""
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m text2pixi.web.server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env.get("TEXT2PIXI_GATEWAY_HOST", DEFAULT_HOST))
    parser.add_argument("--port", type=int, default=int(env.get("TEXT2PIXI_GATEWAY_PORT", DEFAULT_PORT)))
    parser.add_argument("--functions", default=None,
                        help="name=http://host:port,... (default: $TEXT2PIXI_GATEWAY_FUNCTIONS)")
    parser.add_argument("--namespace", default=None, help=f"function namespace (default: {DEFAULT_NAMESPACE})")
    parser.add_argument("--timeout", type=float, default=None,
                        help=f"upstream timeout in seconds (default: {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--threads", type=int, default=int(env.get("TEXT2PIXI_GATEWAY_THREADS", DEFAULT_THREADS)))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        functions = parse_functions(args.functions) if args.functions is not None else None
        config = GatewayConfig.from_env(env, functions=functions, namespace=args.namespace, timeout=args.timeout)
    except ValueError as exc:
        parser.exit(2, f"error: {exc}\n")
    if not config.functions:
        logger.warning("no functions configured; set --functions or TEXT2PIXI_GATEWAY_FUNCTIONS")
    gateway = Gateway(config)
    signal.signal(signal.SIGTERM, _stop)  # waitress stops cleanly on SystemExit, not on a bare SIGTERM
    logger.info("gateway on http://%s:%d for %s", args.host, args.port,
                ", ".join(f"{k}={v}" for k, v in config.functions.items()) or "no functions")
    app = create_app(gateway)
    try:
        if playground.install(app, gateway, bind_host=args.host):
            logger.info("playground on http://%s:%d/ui/", args.host, args.port)
    except playground.PlaygroundModeInvalid as exc:
        parser.exit(2, f"error: {exc}\n")
    try:
        serve(app, host=args.host, port=args.port, threads=args.threads, _quiet=True)
    finally:
        gateway.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
