# SPDX-License-Identifier: MIT
"""A small Chrome DevTools Protocol client over Chromium's debugging pipe.

Chromium started with --remote-debugging-pipe reads protocol messages (JSON,
each ending in a NUL byte) from file descriptor 3 and writes its replies and
events to file descriptor 4: no port, no websocket, nothing that another
process on the machine could reach. Standard library only.

    with Browser() as b:
        page = b.new_page(1400, 900)
        page.goto("file:///tmp/x.svg")
        print(page.eval("document.title"))

Every wait has a deadline; a browser that stops answering raises CdpError
instead of hanging the test. The browser is /usr/bin/chromium (Debian's
chromium package) or the first of chromium, chromium-browser and
google-chrome on PATH; SPROF_TEST_CHROMIUM names another. It runs headless
with a fresh profile directory, removed afterwards, and nothing that would
reach the network on its own (updates, sync, background requests).
"""

import json
import os
import select
import shutil
import subprocess
import tempfile
import time


class CdpError(Exception):
    pass


def find_chromium():
    """The Chromium (or Chrome) binary, or None."""
    env = os.environ.get("SPROF_TEST_CHROMIUM")
    if env:
        return env
    for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.access(path, os.X_OK):
            return path
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, binary=None, timeout=30.0, log_path=None):
        self.binary = binary or find_chromium()
        if not self.binary:
            raise CdpError("no chromium binary found")
        self.timeout = timeout
        self.profile_dir = tempfile.mkdtemp(prefix="sprof-chromium-")
        self.log = open(log_path or os.devnull, "wb")
        self.next_id = 1
        self.buf = b""
        self.events = []
        self.dialog_answers = []  # prompt() answers, in order
        self.dialogs = []  # the messages of the dialogs seen
        # fds 3 and 4 of the child: it reads commands from 3, writes to 4.
        # Python's own descriptors are close-on-exec (PEP 446): with
        # close_fds=False only these two, made inheritable by dup2, get
        # through (Popen's fd closing would run after preexec_fn).
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def child_fds():
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        args = [
            self.binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--mute-audio",
            "--user-data-dir=" + self.profile_dir,
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            close_fds=False,
            preexec_fn=child_fds,
        )
        os.close(to_child_r)
        os.close(from_child_w)

    # ---- transport ----

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError("chromium did not answer in time")
            r, _, _ = select.select([self.from_child], [], [], min(left, 1.0))
            if not r:
                if self.proc.poll() is not None:
                    raise CdpError("chromium exited with status %s" % self.proc.returncode)
                continue
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise CdpError("chromium closed the debugging pipe (status %s)" % self.proc.poll())
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg.decode("utf-8"))

    def _handle_event(self, msg):
        if msg.get("method") == "Page.javascriptDialogOpening":
            self.dialogs.append(msg["params"].get("message", ""))
            answer = self.dialog_answers.pop(0) if self.dialog_answers else None
            params = {"accept": answer is not None}
            if answer is not None:
                params["promptText"] = answer
            self.send("Page.handleJavaScriptDialog", params, msg.get("sessionId"), wait=False)
        self.events.append(msg)

    def send(self, method, params=None, session=None, wait=True):
        """Sends a command; returns its result (raises on an error reply)."""
        mid = self.next_id
        self.next_id += 1
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode("utf-8") + b"\0"
        while data:
            n = os.write(self.to_child, data)
            data = data[n:]
        if not wait:
            return None
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == mid:
                if "error" in reply:
                    raise CdpError("%s: %s" % (method, reply["error"].get("message")))
                return reply.get("result", {})
            if "method" in reply:
                self._handle_event(reply)

    def wait_event(self, method, session=None, timeout=None):
        """The params of the first event named method (seen before or now)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method and (session is None or ev.get("sessionId") == session):
                    del self.events[i]
                    return ev.get("params", {})
            msg = self._read_message(deadline)
            if "method" in msg:
                self._handle_event(msg)

    # ---- pages ----

    def new_page(self, width=1400, height=900):
        targets = self.send("Target.getTargets")["targetInfos"]
        pages = [t for t in targets if t.get("type") == "page"]
        if pages:
            target = pages[0]["targetId"]
        else:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.send("Page.enable")
        page.send("Runtime.enable")
        page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        return page

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    self.send("Browser.close", wait=False)
                except OSError:
                    pass
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            for fd in (self.to_child, self.from_child):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.log.close()
            shutil.rmtree(self.profile_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    def __init__(self, browser, session):
        self.b = browser
        self.session = session

    def send(self, method, params=None):
        return self.b.send(method, params, self.session)

    def goto(self, url):
        self.send("Page.navigate", {"url": url})
        self.b.wait_event("Page.loadEventFired", self.session)

    def eval(self, expression):
        """The value of a JavaScript expression (JSON-serializable)."""
        r = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text")
            raise CdpError("javascript error: %s" % text)
        return r["result"].get("value")

    def mouse(self, kind, x, y, button="none", clicks=0):
        self.send(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": x, "y": y, "button": button, "clickCount": clicks},
        )

    def click(self, x, y):
        self.mouse("mouseMoved", x, y)
        self.mouse("mousePressed", x, y, "left", 1)
        self.mouse("mouseReleased", x, y, "left", 1)

    def center_of(self, js_element):
        """Client coordinates of the middle of the element an expression gives."""
        r = self.eval(
            "(function(){var e=%s; if(!e) return null; var r=e.getBoundingClientRect();"
            "return [r.left + r.width / 2, r.top + r.height / 2];})()" % js_element
        )
        if r is None:
            raise CdpError("no element for %s" % js_element)
        return r

    def key(self, key, code, keycode, modifiers=0):
        base = {"key": key, "code": code, "windowsVirtualKeyCode": keycode, "modifiers": modifiers}
        self.send("Input.dispatchKeyEvent", dict(base, type="rawKeyDown"))
        self.send("Input.dispatchKeyEvent", dict(base, type="keyUp"))
