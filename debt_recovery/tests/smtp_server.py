"""A small real SMTP server on localhost for the tests: Odoo's mail queue
hands its emails to it over a socket, as to any mail server. It keeps what it
accepted and refuses the recipients it is told do not exist (550)."""

import socketserver
import threading
from contextlib import contextmanager


class _SmtpHandler(socketserver.StreamRequestHandler):
    def _reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        server = self.server
        self._reply("220 localhost ESMTP test server")
        sender, recipients, data = None, [], None
        while line := self.rfile.readline():
            if data is not None:
                if line.rstrip(b"\r\n") == b".":
                    server.messages.append(
                        {"from": sender, "to": recipients, "data": b"".join(data)}
                    )
                    sender, recipients, data = None, [], None
                    self._reply("250 2.0.0 Message accepted for delivery")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            command = line[:4].upper().decode(errors="replace")
            argument = line[5:].strip().decode(errors="replace")
            if command == "EHLO":
                self._reply("250-localhost")
                self._reply("250 8BITMIME")
            elif command == "HELO":
                self._reply("250 localhost")
            elif command == "MAIL":
                sender = argument.partition(":")[2].strip().strip("<>").split(">")[0]
                self._reply("250 2.1.0 OK")
            elif command == "RCPT":
                address = argument.partition(":")[2].strip().strip("<>").split(">")[0]
                if address.lower() in server.unknown:
                    self._reply(f"550 5.1.1 <{address}>: mailbox unavailable")
                else:
                    recipients.append(address)
                    self._reply("250 2.1.5 OK")
            elif command == "DATA":
                if not recipients:
                    self._reply("554 5.5.1 No valid recipients")
                    continue
                data = []
                self._reply("354 End data with <CR><LF>.<CR><LF>")
            elif command in ("RSET", "NOOP"):
                sender, recipients = (None, []) if command == "RSET" else (sender, recipients)
                self._reply("250 2.0.0 OK")
            elif command == "QUIT":
                self._reply("221 2.0.0 Bye")
                return
            else:
                self._reply("502 5.5.2 Command not implemented")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, unknown=()):
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages = []
        self.unknown = {address.lower() for address in unknown}


@contextmanager
def smtp_server(env, unknown=()):
    """Serve SMTP on a free localhost port, with an outgoing mail server of
    Odoo pointing at it (first in sequence) while the block runs. Yields the
    server: ``messages`` holds what it accepted; the addresses of ``unknown``
    are refused as mailboxes that do not exist."""
    server = _SmtpServer(unknown)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    mail_server = (
        env["ir.mail_server"]
        .sudo()
        .create(
            {
                "name": "Test SMTP server",
                "smtp_host": "127.0.0.1",
                "smtp_port": server.server_address[1],
                "smtp_encryption": "none",
                "sequence": 0,
            }
        )
    )
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        mail_server.unlink()
