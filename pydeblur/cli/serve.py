"""``pydeblur serve``: the REST API and web page of :mod:`pydeblur.serve`."""

from __future__ import annotations

from ._exit import EXIT_OK, UsageError, positive_int


def add_parser(commands) -> None:
    """Register ``serve`` on the command's subparsers."""
    parser = commands.add_parser(
        "serve", help="a deblurring web service (REST API and a web page)",
        description="Serve POST /v1/restore, GET /v1/methods, GET /health and a web page at / with uvicorn "
                    "(needs pydeblur[serve]). Binds to localhost unless --host says otherwise.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-pixels", type=positive_int, default=16_000_000,
                        help="largest image accepted, from its header (default 16,000,000)")
    parser.add_argument("--max-upload-mb", type=float, default=50.0, help="largest request body (default 50)")
    parser.add_argument("--concurrency", type=positive_int, default=1,
                        help="restorations at once (default 1)")
    parser.add_argument("--queue", type=int, default=8,
                        help="requests that may wait; beyond them 503 + Retry-After (default 8)")


def run(args) -> int:
    from ..serve import run as serve

    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be in 1..65535, got {args.port}.")
    if args.max_upload_mb <= 0:
        raise UsageError(f"--max-upload-mb must be positive, got {args.max_upload_mb}.")
    if args.queue < 0:
        raise UsageError(f"--queue must be >= 0, got {args.queue}.")
    serve(host=args.host, port=args.port, max_pixels=args.max_pixels, max_upload_mb=args.max_upload_mb,
          concurrency=args.concurrency, queue=args.queue)
    return EXIT_OK
