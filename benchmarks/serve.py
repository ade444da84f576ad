"""The service's own cost: requests per second and latency of ``pydeblur serve`` against the
same work called in-process.

A uvicorn server (``create_app(concurrency=1, queue=16)``) on a localhost port; clients
POST a 512x512 RGB PNG to ``/v1/restore`` with Wiener (motion PSF) and with the shipped
``srn-small`` network, from 1 and from 8 threads at once (20 requests each, after two
warm-up requests). The in-process row times ``make(...).restore`` on the decoded image
plus the PNG encode of the result, the work the server does apart from HTTP. The overhead
is the median single-client latency over the median in-process time, minus one.

    python benchmarks/serve.py [--quick]
"""

import socket
import sys
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import uvicorn
from _common import markdown_table, report

from pydeblur.datasets import sample_image
from pydeblur.io import decode_image, encode_image
from pydeblur.methods import make, parse_psf
from pydeblur.serve import create_app

QUICK = "--quick" in sys.argv
REQUESTS = 6 if QUICK else 20
SPEC = "motion:length=15,angle=30"
CASES = (("wiener", {"method": "wiener", "psf": SPEC}), ("srn-small", {"method": "srn"}))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _multipart(fields: dict, image: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo.png"\r\n'
            "Content-Type: image/png\r\n\r\n")
    parts.append(head.encode() + image + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _post(url, body, content_type) -> tuple[int, float]:
    start = time.perf_counter()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=600) as reply:
            reply.read()
            status = reply.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.perf_counter() - start


def main():
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(concurrency=1, queue=16), host="127.0.0.1", port=port,
                                           log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/v1/restore"
    photo = sample_image("astronaut")
    upload = encode_image(photo, ".png")
    rows = []
    for label, fields in CASES:
        deblurrer = make(fields["method"], psf=parse_psf(fields["psf"]) if "psf" in fields else None)
        local = []
        for _ in range(REQUESTS):
            start = time.perf_counter()
            image, _ = decode_image(upload, "photo.png")
            encode_image(np.clip(deblurrer.restore(image), 0, 1), ".png")
            local.append(time.perf_counter() - start)
        body, content_type = _multipart(fields, upload)
        for _ in range(2):
            _post(url, body, content_type)
        base = float(np.median(local))
        rows.append((label, "in-process", "", f"{1 / base:.2f}", f"{base * 1000:.0f}", "", ""))
        for clients in (1, 8):
            start = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                results = list(pool.map(_post, [url] * REQUESTS, [body] * REQUESTS,
                                        [content_type] * REQUESTS))
            wall = time.perf_counter() - start
            served = [t for status, t in results if status == 200]
            refused = sum(status == 503 for status, _ in results)
            p50, p95 = (np.percentile(served, q) * 1000 for q in (50, 95))
            overhead = f"**{np.median(served) / base - 1:+.1%}**" if clients == 1 else ""
            rows.append((label, f"{clients} client(s)", f"{len(served)} / {refused}",
                         f"{len(served) / wall:.2f}", f"{p50:.0f}", f"{p95:.0f}", overhead))
    server.should_exit = True
    thread.join(10)
    header = ["work (512x512 RGB)", "caller", "served / 503", "requests / s", "p50 ms", "p95 ms",
              "service overhead"]
    report("serve", "Service overhead", markdown_table(header, rows), "python benchmarks/serve.py")


if __name__ == "__main__":
    main()
