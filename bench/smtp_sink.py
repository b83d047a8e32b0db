"""A real SMTP server on localhost that keeps a tally of what it received.

Started by bench/measure.py (in its own process, so that the measured Odoo
process does not share its interpreter) while the send probe runs:

    python bench/smtp_sink.py --port PORT --log FILE

Every message accepted (after the DATA command, before the 250 reply that
lets Odoo mark the mail sent) appends one JSON line to FILE: its recipients,
its size, and the number and decoded bytes of its PDF parts. ``READY`` on stdout means that
it listens.
"""

import argparse
import email
import email.policy
import json
import signal
import threading

from aiosmtpd.controller import Controller


class Tally:
    def __init__(self, path):
        self.handle = open(path, "a", encoding="ascii")  # noqa: SIM115 (closed on exit)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        content = envelope.original_content or envelope.content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        pdfs = [
            part.get_payload(decode=True) or b""
            for part in message.walk()
            if part.get_content_type() == "application/pdf"
        ]
        line = json.dumps(
            {
                "rcpt": len(envelope.rcpt_tos),
                "bytes": len(content),
                "pdf": len(pdfs),
                "pdf_bytes": sum(map(len, pdfs)),
            }
        )
        with self.lock:
            self.handle.write(line + "\n")
            self.handle.flush()
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    tally = Tally(args.log)
    # 64 MiB: an email with its PDFs is far below; Odoo's own limit is 25 MB.
    controller = Controller(tally, hostname="127.0.0.1", port=args.port, data_size_limit=2**26)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    signal.signal(signal.SIGINT, lambda *_args: stop.set())
    print("READY", flush=True)
    stop.wait()
    controller.stop()
    tally.handle.close()


if __name__ == "__main__":
    main()
