"""The web page in a real headless Chromium, driven over the DevTools protocol."""

import json
import shutil
import socket
import subprocess
import time
import urllib.request

import numpy as np
import pytest
from conftest import smooth_image

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
sync_client = pytest.importorskip("websockets.sync.client")

from test_serve import start_server  # noqa: E402

from pydeblur import psf  # noqa: E402
from pydeblur.io import imwrite  # noqa: E402
from pydeblur.operators import convolve  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DevTools:
    """The smallest DevTools client: numbered commands on one page's websocket."""

    def __init__(self, socket):
        self.socket = socket
        self.next_id = 0

    def __call__(self, method: str, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str):
        return self("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.2)
        status = self.evaluate("document.getElementById('status').textContent")
        raise AssertionError(f"timed out waiting for {expression}; the page says: {status}")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (.ci/run installs Debian's)")
def test_page_uploads_a_photo_and_shows_the_result(tmp_path):
    server, thread, url = start_server()
    photo = tmp_path / "photo.png"
    blurred = convolve(smooth_image((60, 90, 3), seed=1), psf.motion(9, 30), boundary="reflect")
    imwrite(photo, np.clip(blurred, 0, 1))
    port = _free_port()
    browser = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                                f"--remote-debugging-port={port}", f"--user-data-dir={tmp_path / 'profile'}",
                                "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, pages = time.time() + 30, []
        while not pages:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as reply:
                    pages = [t for t in json.load(reply) if t["type"] == "page"]
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)
        with sync_client.connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=20) as socket_:
            drive_the_page(DevTools(socket_), url, photo)
    finally:
        browser.terminate()
        browser.wait(10)
        server.should_exit = True
        thread.join(10)


def drive_the_page(tab, url, photo):
    tab("Page.navigate", url=url + "/")
    tab.wait_for("document.readyState === 'complete' && $('method').options.length > 5")
    root = tab("DOM.getDocument")["root"]["nodeId"]
    node = tab("DOM.querySelector", nodeId=root, selector="#file")["nodeId"]
    tab("DOM.setFileInputFiles", nodeId=node, files=[str(photo)])
    tab.wait_for("!$('run').disabled")
    tab.evaluate("$('method').value = 'wiener'; $('method').dispatchEvent(new Event('change')); "
                 "$('psf').value = 'motion:length=9,angle=30'; $('run').click(); true")
    tab.wait_for("$('status').textContent.startsWith('Done')")
    assert tab.evaluate("$('after').src.startsWith('data:image/png;base64,')")
    tab.wait_for("$('after').complete && $('after').naturalWidth > 0")
    assert tab.evaluate("[$('after').naturalWidth, $('after').naturalHeight]") == [90, 60]
    assert tab.evaluate("$('download').href.startsWith('data:image/png')")
    tab.evaluate("$('psf').value = 'spiral:turns=3'; $('run').click(); true")  # the server's 400, shown
    tab.wait_for("$('status').className.includes('error')")
    assert "400" in tab.evaluate("$('status').textContent")
