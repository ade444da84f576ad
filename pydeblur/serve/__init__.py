"""``pydeblur serve``: a REST API and a web page over every registered method (extra ``[serve]``).

:func:`create_app` returns the ASGI application (FastAPI); :func:`run` serves it with
uvicorn. Endpoints:

- ``GET /``: a page to upload a photo, pick a method and see before / after (offline:
  plain HTML and JavaScript shipped in this package, nothing from a CDN).
- ``GET /health``: ``{"status": "ok", "version": ...}``.
- ``GET /v1/methods``: every method with its kind, whether it needs a PSF, and its parameters.
- ``POST /v1/restore``: multipart ``image`` (file), ``method``, optional ``psf`` (a spec such
  as ``motion:length=15,angle=30``) or ``psf_file`` (an uploaded ``.npy`` or image kernel),
  optional ``options`` (a JSON object of the method's parameters). Returns the restored
  image (PNG; 16-bit PNG for a 16-bit upload, float TIFF for a float TIFF) with the
  timings in ``X-Restore-Seconds`` / ``X-Total-Seconds``; with ``?format=json`` a JSON
  object holding the image, the kernel, its confidence and any reason it was not trusted
  (blind methods; the confidence also in ``X-PSF-Confidence``) and timings.

Safety: nothing the request holds is a path the server reads, nothing is written to
the file system (uploads are decoded in memory), the body is cut off past
``max_upload_mb`` and the pixel count checked from the header before decoding; at most
``concurrency`` restorations run at once, ``queue`` more wait, and the rest are told
``503`` with ``Retry-After``. Errors are JSON ``{"error": ...}`` with a 4xx status that
says what to fix.
"""

import asyncio
import base64
import io
import json
import threading
import time
from importlib import resources
from typing import Annotated

import numpy as np

#: Parameters a request may not set: files, devices, threads, callbacks (and the PSF, sent apart).
FORBIDDEN_OPTIONS = ("psf", "callback", "workers", "denoiser", "device", "tune_range")
#: A network's only settable parameters: the rest are training settings or reach the file system.
NETWORK_OPTIONS = ("precision", "tile", "tile_overlap", "tile_batch")


def settable_options(name: str) -> dict:
    """The parameters a request may set for method ``name``, with their defaults."""
    from ..methods import METHODS

    method = METHODS[name]
    params = method.load()().get_params()
    if method.kind == "network":
        return {k: params[k] for k in NETWORK_OPTIONS}
    return {k: v for k, v in params.items() if k not in FORBIDDEN_OPTIONS}


def _require():
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401
    except ImportError:
        raise ImportError("pydeblur serve needs its extra: pip install 'pydeblur[serve]' (FastAPI, uvicorn, "
                          "python-multipart).") from None


class _BodyLimit:
    """ASGI middleware: a request body larger than ``limit`` bytes is answered 413 unread."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await _send_error(send, 413, self._message())
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            return await self.app(scope, counted, send)
        except _TooLarge:
            return await _send_error(send, 413, self._message())

    def _message(self) -> str:
        return (f"upload larger than the server's limit of {self.limit / 1e6:.0f} MB; send a smaller file "
                "(or start the server with a larger --max-upload-mb).")


class _TooLarge(Exception):
    pass


async def _send_error(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _Gate:
    """At most ``concurrency`` restorations at once and ``queue`` waiting; the rest are refused."""

    def __init__(self, concurrency: int, queue: int):
        self.running = threading.Semaphore(concurrency)
        self.admitted = 0
        self.limit = concurrency + queue
        self.lock = threading.Lock()

    def enter(self) -> bool:
        with self.lock:
            if self.admitted >= self.limit:
                return False
            self.admitted += 1
            return True

    def leave(self) -> None:
        with self.lock:
            self.admitted -= 1


def _json_safe(value):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return repr(value)


def describe_methods() -> list[dict]:
    """Every registered method: name, kind, whether it needs a PSF, its parameters' defaults."""
    from ..methods import METHODS

    out = []
    for name, method in METHODS.items():
        entry = {"name": name, "kind": method.kind, "needs_psf": method.needs_psf,
                 "default_weights": method.weights}
        try:
            entry["parameters"] = {k: _json_safe(v) for k, v in settable_options(name).items()}
            entry["available"] = method.kind != "network" or method.weights is not None
        except ImportError as error:  # the torch extra is not installed
            entry["parameters"], entry["available"], entry["reason"] = {}, False, str(error)
        out.append(entry)
    return out


def _png_data_url(image: np.ndarray) -> str:
    from ..io import encode_image

    return "data:image/png;base64," + base64.b64encode(encode_image(np.clip(image, 0, 1), ".png")).decode()


def create_app(*, max_pixels: int = 16_000_000, max_upload_mb: float = 50.0, concurrency: int = 1,
               queue: int = 8, retry_after: int = 5):
    """The ASGI application of ``pydeblur serve`` (FastAPI).

    Parameters
    ----------
    max_pixels : int
        Largest image accepted, read from its header before decoding.
    max_upload_mb : float
        Largest request body; larger ones get 413 before they are read.
    concurrency : int
        Restorations that run at once (each in a worker thread).
    queue : int
        Requests that may wait for a free slot; beyond them ``503`` with ``Retry-After``.
    retry_after : int
        Seconds a refused client is told to wait.
    """
    _require()
    from fastapi import FastAPI, File, Form, Request, UploadFile
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response

    from .. import __version__
    from .._validation import check_number

    max_pixels = check_number(max_pixels, name="max_pixels", low=1, integer=True)
    max_upload_mb = check_number(max_upload_mb, name="max_upload_mb", low=0, low_inclusive=False)
    concurrency = check_number(concurrency, name="concurrency", low=1, integer=True)
    queue = check_number(queue, name="queue", low=0, integer=True)
    gate = _Gate(concurrency, queue)
    app = FastAPI(title="pydeblur", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    page = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")

    def error(status: int, message: str, **headers) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc):
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "body" for e in exc.errors())
        return error(422, f"missing or malformed form fields: {fields}. POST /v1/restore takes multipart "
                          "fields image (file), method, and optionally psf, psf_file, options (JSON).")

    @app.get("/", response_class=HTMLResponse)
    async def index():
        return page

    @app.get("/health")
    async def health():
        return {"status": "ok", "version": __version__}

    @app.get("/v1/methods")
    async def methods():
        return {"methods": describe_methods()}

    @app.post("/v1/restore")
    async def restore(request: Request, image: Annotated[UploadFile, File()], method: Annotated[str, Form()],
                      psf: Annotated[str | None, Form()] = None,
                      psf_file: Annotated[UploadFile | None, File()] = None,
                      options: Annotated[str | None, Form()] = None):
        start = time.perf_counter()
        want_json = request.query_params.get("format") == "json"
        try:
            job = _parse(method, psf, await psf_file.read() if psf_file else None,
                         psf_file.filename if psf_file else None, options)
            data = await image.read()
            from ..io import decode_image

            photo, bit_depth = decode_image(data, image.filename or "upload", alpha="drop",
                                            max_pixels=max_pixels)
        except (ValueError, TypeError) as exc:
            return error(400, str(exc))
        except _Unknown as exc:
            return error(404, str(exc))
        if not gate.enter():
            return error(503, f"the server is busy ({gate.limit} requests running or queued); retry in "
                              f"{retry_after} s.", **{"Retry-After": str(retry_after)})
        try:
            restored, kernel, trust, seconds = await asyncio.to_thread(_run_gated, gate, job, photo)
        except (ValueError, TypeError) as exc:
            return error(422, str(exc))
        except MemoryError:
            return error(413, "the image is too large for this server's memory; send a smaller one.")
        finally:
            gate.leave()
        total = time.perf_counter() - start
        timing = {"X-Restore-Seconds": f"{seconds:.4f}", "X-Total-Seconds": f"{total:.4f}",
                  "X-Method": method}
        if trust is not None:
            timing["X-PSF-Confidence"] = f"{trust[0]:.3f}"
        if want_json:
            body = {"method": method, "image": _png_data_url(restored), "shape": list(restored.shape),
                    "restore_seconds": seconds, "total_seconds": total}
            if kernel is not None:
                from ..psf import to_image

                body["kernel"] = _png_data_url(np.sqrt(to_image(kernel, scale=max(1, 96 // kernel.shape[0]))))
                body["psf_confidence"], body["note"], body["final_step"] = trust
            return JSONResponse(body, headers=timing)
        content, media = _encoded(restored, bit_depth)
        return Response(content, media_type=media, headers=timing)

    return _BodyLimit(app, int(max_upload_mb * 1e6))


class _Unknown(Exception):
    """A method name the server does not have (404)."""


def _parse(method: str, psf: str | None, psf_bytes: bytes | None, psf_name: str | None, options: str | None):
    """Validate a request's method, PSF and options; the Deblurrer to run (not yet fitted)."""
    from ..methods import METHODS, make, parse_psf

    if method not in METHODS:
        raise _Unknown(f"unknown method {method!r}; GET /v1/methods lists them ({', '.join(METHODS)}).")
    params = {}
    if options:
        try:
            params = json.loads(options)
        except json.JSONDecodeError as exc:
            raise ValueError(f"options is not JSON ({exc}); send an object such as "
                             '{"lam": 1000}.') from None
        if not isinstance(params, dict):
            raise ValueError("options must be a JSON object of the method's parameters.")
        settable = settable_options(method)
        refused = sorted(set(params) - set(settable))
        if refused:
            raise ValueError(f"options {', '.join(refused)} cannot be set for {method!r} through the server; "
                             f"settable: {', '.join(settable)}.")
    if psf is not None and psf_bytes is not None:
        raise ValueError("give psf (a spec) or psf_file (an upload), not both.")
    kernel = None
    if psf_bytes is not None:
        kernel = _kernel_from_upload(psf_bytes, psf_name or "")
    elif psf:
        if "/" in psf or "\\" in psf or psf.lower().endswith((".npy", ".png", ".jpg", ".tif", ".tiff")):
            raise ValueError("psf must be a spec such as 'motion:length=15,angle=30'; the server reads no "
                             "paths: upload a kernel file as psf_file instead.")
        kernel = parse_psf(psf)
    if METHODS[method].kind == "network" and METHODS[method].weights is None:
        raise ValueError(f"method {method!r} ships no weights; the server cannot run it.")
    blind = METHODS[method].kind == "blind"
    if blind:  # fitting sets psf_: every request gets its own
        return make(method, psf=kernel, **params), True
    psf_key = None if kernel is None else (kernel.shape, kernel.tobytes())
    key = (method, psf_key, json.dumps(params, sort_keys=True))
    return _built(key, lambda: make(method, psf=kernel, **params)), False


_BUILT: dict = {}
_BUILT_LOCK = threading.Lock()


def _built(key, build, keep: int = 8):
    """A Deblurrer built once per (method, PSF, options) and reused (restore changes no state):
    a network's weights are not reloaded for every request."""
    with _BUILT_LOCK:
        if key in _BUILT:
            _BUILT[key] = _BUILT.pop(key)  # most recently used last
            return _BUILT[key]
    deblurrer = build()
    with _BUILT_LOCK:
        _BUILT[key] = deblurrer
        while len(_BUILT) > keep:
            _BUILT.pop(next(iter(_BUILT)))
    return deblurrer


def _kernel_from_upload(data: bytes, name: str) -> np.ndarray:
    from ..io import decode_image

    if name.lower().endswith(".npy"):
        try:
            kernel = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise ValueError(f"psf_file {name!r} is not a readable .npy array ({exc}).") from None
    else:
        kernel, _ = decode_image(data, name or "kernel.png", alpha="drop", max_pixels=4_000_000)
        kernel = kernel if kernel.ndim == 2 else kernel.mean(axis=2)
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.sum() <= 0:
        raise ValueError(f"psf_file {name!r} must be a 2-D non-negative kernel with a positive sum.")
    return kernel / kernel.sum()


def _run_gated(gate: _Gate, job, photo):
    deblurrer, blind = job
    with gate.running:
        start = time.perf_counter()
        restored = deblurrer.fit_restore(photo) if blind else deblurrer.restore(photo)
        seconds = time.perf_counter() - start
        trust = (deblurrer.psf_confidence_, deblurrer.trust_note(), deblurrer.final_step_) if blind else None
        return np.asarray(restored, dtype=np.float32), getattr(deblurrer, "psf_", None), trust, seconds


def _encoded(restored: np.ndarray, bit_depth: int) -> tuple[bytes, str]:
    from ..io import encode_image

    if bit_depth == 32:
        return encode_image(restored, ".tif", bit_depth=32), "image/tiff"
    return encode_image(np.clip(restored, 0, 1), ".png", bit_depth=bit_depth), "image/png"


def run(*, host: str = "127.0.0.1", port: int = 8000, **options) -> None:
    """Serve :func:`create_app` with uvicorn (localhost unless ``host`` says otherwise)."""
    _require()
    import uvicorn

    uvicorn.run(create_app(**options), host=host, port=port, log_level="info")
