"""``python -m text2pixi.web.server``: the gateway and, on loopback, the playground, served by waitress.

The gateway (:mod:`text2pixi.web.gateway`) and the playground (:mod:`text2pixi.web.playground`) are
assembled here, above both, so neither imports the other's caller.
"""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import Sequence
from types import FrameType

from pydantic import ValidationError
from waitress import serve

from text2pixi.core.errors import PlaygroundModeInvalid, validation_message
from text2pixi.settings import GatewaySettings
from text2pixi.web import playground
from text2pixi.web.gateway import Gateway, create_app

logger = logging.getLogger("text2pixi.web.gateway")


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m text2pixi.web.server``: serve the gateway with waitress until interrupted.

    Every flag overrides its ``TEXT2PIXI_GATEWAY_*`` variable (:class:`text2pixi.settings.GatewaySettings`).
    """
    defaults = GatewaySettings.model_fields
    parser = argparse.ArgumentParser(prog="python -m text2pixi.web.server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help=f"default: $TEXT2PIXI_GATEWAY_HOST or {defaults['host'].default}")
    parser.add_argument("--port", type=int, default=None,
                        help=f"default: $TEXT2PIXI_GATEWAY_PORT or {defaults['port'].default}")
    parser.add_argument("--functions", default=None,
                        help="name=http://host:port,... (default: $TEXT2PIXI_GATEWAY_FUNCTIONS)")
    parser.add_argument("--namespace", default=None,
                        help=f"function namespace (default: {defaults['namespace'].default})")
    parser.add_argument("--timeout", type=float, default=None,
                        help=f"upstream timeout in seconds (default: {defaults['timeout'].default:g})")
    parser.add_argument("--threads", type=int, default=None,
                        help=f"default: $TEXT2PIXI_GATEWAY_THREADS or {defaults['threads'].default}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    flags = {"host": args.host, "port": args.port, "functions": args.functions, "namespace": args.namespace,
             "timeout": args.timeout, "threads": args.threads}
    try:
        config = GatewaySettings(**{k: v for k, v in flags.items() if v is not None})
    except ValidationError as exc:
        parser.exit(2, f"error: {validation_message(exc, root='settings')}\n")
    if not config.functions:
        logger.warning("no functions configured; set --functions or TEXT2PIXI_GATEWAY_FUNCTIONS")
    gateway = Gateway(config)
    signal.signal(signal.SIGTERM, _stop)  # waitress stops cleanly on SystemExit, not on a bare SIGTERM
    logger.info("gateway on http://%s:%d for %s", config.host, config.port,
                ", ".join(f"{k}={v}" for k, v in config.functions.items()) or "no functions")
    app = create_app(gateway)
    try:
        if playground.install(app, gateway, bind_host=config.host):
            logger.info("playground on http://%s:%d/ui/", config.host, config.port)
    except PlaygroundModeInvalid as exc:
        parser.exit(2, f"error: {exc}\n")
    try:
        # lookahead 1: a connection stays readable while its request runs, so a relayed event stream
        # (status/ID/events) sees its client leave and closes its upstream call.
        serve(app, host=config.host, port=config.port, threads=config.threads, channel_request_lookahead=1,
              _quiet=True)
    finally:
        gateway.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
