"""A real SMTP server on localhost that keeps a tally of what it received.

Started by bench/measure.py (in its own process, so that the measured Odoo
process does not share its interpreter) while the send probe runs:

    python bench/smtp_sink.py --port PORT --log FILE

Every message accepted (after the DATA command, before the 250 reply that
lets Odoo mark the mail sent) appends one JSON line to FILE: its recipients
and size. Its PDF parts are counted and decoded after the reply, by a thread
of their own (so that the sender does not wait on it), one JSON line per
message in FILE.pdf. ``READY`` on stdout means that it listens.
"""

import argparse
import email
import email.policy
import json
import queue
import signal
import threading

from aiosmtpd.controller import Controller


class Tally:
    def __init__(self, path):
        self.handle = open(path, "a", encoding="ascii")  # noqa: SIM115 (closed on exit)
        self.pdf_handle = open(path + ".pdf", "a", encoding="ascii")  # noqa: SIM115
        self.todo = queue.Queue()
        self.worker = threading.Thread(target=self._count_pdfs, daemon=True)
        self.worker.start()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        content = envelope.original_content or envelope.content or b""
        self.handle.write(json.dumps({"rcpt": len(envelope.rcpt_tos), "bytes": len(content)}))
        self.handle.write("\n")
        self.handle.flush()
        self.todo.put(content)
        return "250 Message accepted for delivery"

    def _count_pdfs(self):
        while True:
            content = self.todo.get()
            message = email.message_from_bytes(content, policy=email.policy.compat32)
            pdfs = [
                part.get_payload(decode=True) or b""
                for part in message.walk()
                if part.get_content_type() == "application/pdf"
            ]
            line = json.dumps({"pdf": len(pdfs), "pdf_bytes": sum(map(len, pdfs))})
            self.pdf_handle.write(line + "\n")
            self.pdf_handle.flush()

    def close(self):
        self.handle.close()
        self.pdf_handle.close()


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
    tally.close()


if __name__ == "__main__":
    main()
