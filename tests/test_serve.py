"""The service over real HTTP: a uvicorn server on a free localhost port, urllib as the client."""

import io
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import smooth_image

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from pydeblur import psf  # noqa: E402
from pydeblur.io import decode_image, encode_image  # noqa: E402
from pydeblur.operators import convolve  # noqa: E402
from pydeblur.restoration import wiener  # noqa: E402
from pydeblur.serve import create_app  # noqa: E402

SPEC = "motion:length=9,angle=30"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(**options):
    port = _free_port()
    config = uvicorn.Config(create_app(**options), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def url():
    server, thread, address = start_server(max_pixels=200_000, max_upload_mb=1, concurrency=1, queue=2)
    yield address
    server.should_exit = True
    thread.join(10)


def request(url, path, *, fields=None, files=None, method=None):
    """(status, headers, body) of a GET, or of a multipart POST when fields or files are given."""
    data, headers = None, {}
    if fields is not None or files is not None:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in (fields or {}).items():
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            parts.append(f"{head}{value}\r\n".encode())
        for name, (filename, content) in (files or {}).items():
            head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n')
            parts.append(head.encode() + content + b"\r\n")
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    req = urllib.request.Request(url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def blurry():
    return np.clip(convolve(smooth_image((64, 80, 3), seed=2), psf.motion(9, 30), boundary="reflect"),
                   0, 1).astype(np.float32)


def test_health_page_and_methods(url):
    status, _, body = request(url, "/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, headers, body = request(url, "/")
    assert status == 200 and headers["content-type"].startswith("text/html") and b"/v1/restore" in body
    assert b"http://" not in body and b"https://" not in body  # nothing from a CDN: it works offline
    methods = {m["name"]: m for m in json.loads(request(url, "/v1/methods")[2])["methods"]}
    assert methods["wiener"]["needs_psf"] and not methods["blind"]["needs_psf"]
    assert "balance" in methods["wiener"]["parameters"] and "workers" not in methods["wiener"]["parameters"]
    assert set(methods["srn"]["parameters"]) == {"precision", "tile", "tile_overlap", "tile_batch"}


def test_restore_returns_what_the_library_computes(url, blurry):
    upload = encode_image(blurry, ".png")
    status, headers, body = request(url, "/v1/restore", fields={"method": "wiener", "psf": SPEC},
                                    files={"image": ("photo.png", upload)})
    assert status == 200 and headers["content-type"] == "image/png"
    assert float(headers["x-restore-seconds"]) <= float(headers["x-total-seconds"])
    served, bits = decode_image(body, "out.png")
    photo, _ = decode_image(upload, "photo.png")
    from pydeblur.methods import parse_psf

    expected = np.clip(wiener(photo, parse_psf(SPEC)), 0, 1)
    assert bits == 8 and np.abs(served - expected).max() <= 1 / 255 + 1e-6


def test_sixteen_bit_and_float_uploads_keep_their_depth(url, blurry):
    for suffix, depth, media in ((".png", 16, "image/png"), (".tif", 32, "image/tiff")):
        upload = encode_image(blurry, suffix, bit_depth=depth)
        status, headers, body = request(url, "/v1/restore", fields={"method": "wiener", "psf": SPEC},
                                        files={"image": (f"p{suffix}", upload)})
        assert status == 200 and headers["content-type"] == media
        assert decode_image(body, f"out{suffix}")[1] == depth


def test_json_format_carries_the_blind_kernel(url, blurry):
    fields = {"method": "blind", "options": '{"psf_size": 15}'}
    status, headers, body = request(url, "/v1/restore?format=json", fields=fields,
                                    files={"image": ("p.png", encode_image(blurry, ".png"))})
    reply = json.loads(body)
    assert status == 200 and reply["image"].startswith("data:image/png;base64,") and "kernel" in reply
    assert 0 <= reply["psf_confidence"] <= 1 and reply["note"] is None
    from pydeblur.blind._deblur import resolve_final_step

    assert reply["final_step"] == resolve_final_step("auto")
    assert float(headers["x-psf-confidence"]) == pytest.approx(reply["psf_confidence"], abs=1e-3)


def test_kernel_upload(url, blurry):
    kernel = io.BytesIO()
    np.save(kernel, psf.motion(9, 30))
    files = {"image": ("p.png", encode_image(blurry, ".png")), "psf_file": ("k.npy", kernel.getvalue())}
    status, _, _ = request(url, "/v1/restore", fields={"method": "wiener"}, files=files)
    assert status == 200


@pytest.mark.parametrize("fields,files,code,match", [
    ({"method": "nope"}, "photo", 404, "unknown method"),
    ({"method": "wiener"}, "photo", 400, "psf"),
    ({"method": "wiener", "psf": "/etc/passwd"}, "photo", 400, "reads no paths"),
    ({"method": "wiener", "psf": "spiral:size=3"}, "photo", 400, "spiral"),
    ({"method": "wiener", "psf": SPEC, "options": "{bad"}, "photo", 400, "not JSON"),
    ({"method": "wiener", "psf": SPEC, "options": '{"workers": 64}'}, "photo", 400, "cannot be set"),
    ({"method": "srn", "options": '{"weights": "/tmp/x"}'}, "photo", 400, "cannot be set"),
    ({"method": "wiener", "psf": SPEC}, "text", 400, "not a readable"),
    ({"method": "wiener", "psf": SPEC}, "huge", 400, "limit"),
    ({"method": "wiener", "psf": SPEC, "options": '{"balance": -1}'}, "photo", 422, "balance"),
    ({"method": "wiener"}, None, 422, "image"),
])
def test_errors_are_json_with_a_4xx_code(url, blurry, fields, files, code, match):
    uploads = {"photo": {"image": ("p.png", encode_image(blurry, ".png"))},
               "text": {"image": ("p.png", b"hello")},
               "huge": {"image": ("p.png", encode_image(np.zeros((500, 500), np.float32), ".png"))},
               None: {}}[files]
    status, headers, body = request(url, "/v1/restore", fields=fields, files=uploads)
    assert status == code and headers["content-type"] == "application/json"
    assert match in json.loads(body)["error"]


def test_upload_over_the_size_limit_is_refused_unread(url):
    import http.client

    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/v1/restore")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(1_200_000))
    connection.endheaders()  # the body is never sent: the answer must come without it
    reply = connection.getresponse()
    assert reply.status == 413 and "limit" in json.loads(reply.read())["error"]
    connection.close()


def test_concurrent_clients_are_served_or_told_to_retry(url):
    photo = encode_image(np.random.default_rng(0).random((300, 300), dtype=np.float32), ".png")

    def call(_):
        fields = {"method": "tv", "psf": SPEC, "options": '{"max_iter": 150}'}
        return request(url, "/v1/restore", fields=fields, files={"image": ("p.png", photo)})

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(call, range(8)))
    codes = [status for status, _, _ in replies]
    assert set(codes) <= {200, 503} and codes.count(200) >= 3 and 503 in codes
    refused = [headers for status, headers, _ in replies if status == 503]
    assert all(h["retry-after"].isdigit() for h in refused)
    assert request(url, "/health")[0] == 200  # still up
