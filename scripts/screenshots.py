"""Screenshots of the app page (debt_recovery/static/description/), taken from
the demo database with headless Chromium, so that they show the screens as
they are.

    scripts/run.sh                                   # once: the demo database
    ~/.cache/debt_recovery/venv/bin/python scripts/screenshots.py

It serves the database (``--db``, default ``debt_recovery``) on a free port
with its own Odoo process (or uses ``--url`` when a server already runs),
logs in as admin, and saves:

- ``screenshot_board.png``: the recovery board;
- ``screenshot_customer.png``: a customer's Recovery tab (Helios Retail SARL);
- ``screenshot_letter.png``: the first page of the French formal notice that
  left for that customer, as it was kept when sent (its PDF, by pdftoppm);
- ``screenshot_communications.png``: the communications list.

Each PNG is 1280 px wide, reduced to a palette of 256 colours (Pillow).
"""

import argparse
import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import requests
import websocket
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "debt_recovery", "static", "description")
WIDTH, HEIGHT = 1280, 800
CUSTOMER = "debt_recovery.demo_partner_helios"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def odoo_server(args):
    """The URL of a server of ``args.db``: ``args.url``, or one started here."""
    if args.url:
        yield args.url.rstrip("/")
        return
    port = free_port()
    odoo_src = os.environ.get("ODOO_SRC", os.path.expanduser("~/odoo-18.0"))
    env = dict(os.environ)
    wkhtmltox = os.path.expanduser("~/.cache/debt_recovery/wkhtmltox/bin")
    env["PATH"] = f"{wkhtmltox}:{env.get('PATH', '')}"
    cmd = [
        sys.executable,
        os.path.join(odoo_src, "odoo-bin"),
        "--db_host=",
        f"--addons-path={odoo_src}/addons,{REPO}",
        "-d",
        args.db,
        f"--db-filter=^{args.db}$",
        f"--http-port={port}",
        "--max-cron-threads=0",
        "--log-level=warn",
    ]
    server = subprocess.Popen(cmd, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/web/login", timeout=5).ok:
                    break
            time.sleep(1)
        else:
            raise SystemExit("The Odoo server did not start.")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


class Odoo:
    """JSON-RPC as the web client calls it, logged in."""

    def __init__(self, url, db, login, password):
        self.url = url
        self.session = requests.Session()
        self.call("/web/session/authenticate", db=db, login=login, password=password)

    def call(self, path, **params):
        response = self.session.post(
            f"{self.url}{path}",
            json={"jsonrpc": "2.0", "method": "call", "params": params},
            timeout=120,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("error"):
            raise SystemExit(json.dumps(body["error"], indent=1)[:2000])
        return body["result"]

    def execute(self, model, method, *args, **kwargs):
        return self.call(
            f"/web/dataset/call_kw/{model}/{method}",
            model=model,
            method=method,
            args=list(args),
            kwargs=kwargs,
        )

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        rows = self.execute(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            ["res_id"],
        )
        if not rows:
            raise SystemExit(f"{xmlid} is missing: is this the demo database (scripts/run.sh)?")
        return rows[0]["res_id"]


class Chromium:
    """A headless Chromium driven over the DevTools protocol."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="dr_shots_")
        self.process = subprocess.Popen(
            [
                shutil.which("chromium") or shutil.which("chromium-browser") or "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--hide-scrollbars",
                f"--window-size={WIDTH},{HEIGHT}",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        targets = requests.get(f"http://127.0.0.1:{port}/json", timeout=10).json()
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0
        self.send("Page.enable")
        self.viewport(1)

    def viewport(self, scale):
        """A 1280 x 800 px picture of a page laid out ``1 / scale`` as wide."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=round(WIDTH / scale),
            height=round(HEIGHT / scale),
            deviceScaleFactor=scale,
            mobile=False,
        )

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(f"!!({expression})"):
                return
            time.sleep(0.25)
        raise SystemExit(f"Timed out waiting for {expression}")

    def goto(self, url, ready):
        self.send("Page.navigate", url=url)
        self.wait_for(ready)
        self.settle()

    def settle(self):
        """Wait until the web client has finished loading, then for the
        last renderings."""
        self.wait_for("!document.querySelector('.o_loading_indicator, .o_blockUI')")
        time.sleep(1.5)

    def screenshot(self, path, content=None):
        """Save the page; with ``content`` (a CSS selector), only down to the
        lowest of its elements (no empty screen below)."""
        params = {}
        if content:
            bottom = self.evaluate(
                f"Math.max(...[...document.querySelectorAll({json.dumps(content)})]"
                ".map(e => e.getBoundingClientRect().bottom))"
            )
            metrics = self.send("Page.getLayoutMetrics")["cssVisualViewport"]
            height = min(metrics["clientHeight"], bottom + 24)
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": metrics["clientWidth"],
                "height": height,
                "scale": 1,
            }
        data = self.send("Page.captureScreenshot", format="png", **params)["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))
        optimise(path)

    def close(self):
        with contextlib.suppress(Exception):
            self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)


def optimise(path, width=WIDTH):
    """``width`` px wide, 256 colours: a few hundred KB at most."""
    image = Image.open(path).convert("RGB")
    if image.width != width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(path, optimize=True)


def letter_png(odoo, partner_id, path):
    """The first page of the customer's last printed letter, as it left."""
    comms = odoo.execute(
        "debt.recovery.communication",
        "search_read",
        [("partner_id", "=", partner_id), ("letter_state", "=", "printed")],
        ["letter_attachment_id", "name"],
        order="date desc, id desc",
        limit=1,
    )
    if not comms or not comms[0]["letter_attachment_id"]:
        raise SystemExit("The demo customer has no printed letter.")
    attachment_id = comms[0]["letter_attachment_id"][0]
    pdf = odoo.session.get(f"{odoo.url}/web/content/{attachment_id}", timeout=60)
    pdf.raise_for_status()
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "letter.pdf")
        with open(source, "wb") as file:
            file.write(pdf.content)
        # 160 dpi: an A4 or Letter page is about 1300 px wide.
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "160",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                source,
                path[:-4],
            ],
            check=True,
        )
    optimise(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("DR_DB", "debt_recovery"))
    parser.add_argument("--url", help="a running server of the database (default: start one)")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args()

    with odoo_server(args) as url:
        odoo = Odoo(url, args.db, args.login, args.password)
        partner_id = odoo.ref(CUSTOMER)
        letter_png(odoo, partner_id, os.path.join(args.out, "screenshot_letter.png"))
        browser = Chromium()
        try:
            # The browser shares the session of the RPC client: logged in.
            for cookie in odoo.session.cookies:
                browser.send(
                    "Network.setCookie",
                    name=cookie.name,
                    value=cookie.value,
                    url=url,
                )
            # The board is wide: laid out on 1830 px, to show five columns.
            browser.viewport(0.7)
            browser.goto(
                f"{url}/odoo/action-debt_recovery.debt_recovery_case_action",
                "document.querySelectorAll('.o_kanban_record').length > 3",
            )
            browser.screenshot(
                os.path.join(args.out, "screenshot_board.png"), content=".o_kanban_record"
            )
            browser.viewport(1)

            browser.goto(
                f"{url}/odoo/res.partner/{partner_id}",
                "document.querySelector('.o_notebook .nav-link')",
            )
            found = browser.evaluate(
                "(() => { const tab = [...document.querySelectorAll('.o_notebook .nav-link')]"
                ".find(a => a.textContent.trim() === 'Recovery');"
                " if (tab) { tab.click(); } return !!tab; })()"
            )
            if not found:
                raise SystemExit("The customer form has no Recovery tab.")
            browser.settle()
            # The tab's content in view, under the form's title.
            browser.evaluate(
                "document.querySelector('.o_notebook').scrollIntoView({block: 'start'})"
            )
            browser.evaluate(
                "(() => { const s = document.querySelector('.o_content');"
                " if (s) { s.scrollTop = Math.max(0, s.scrollTop - 40); } })()"
            )
            time.sleep(0.5)
            browser.screenshot(os.path.join(args.out, "screenshot_customer.png"))

            browser.goto(
                f"{url}/odoo/action-debt_recovery.debt_recovery_communication_action",
                "document.querySelectorAll('.o_data_row').length > 3",
            )
            browser.screenshot(os.path.join(args.out, "screenshot_communications.png"))
        finally:
            browser.close()
    for name in sorted(os.listdir(args.out)):
        if name.startswith("screenshot_"):
            path = os.path.join(args.out, name)
            with Image.open(path) as image:
                size = os.path.getsize(path) // 1024
                print(f"{path}: {image.width}x{image.height}, {size} KB")


if __name__ == "__main__":
    main()
