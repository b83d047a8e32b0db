"""Flags that only the module's Python code can raise.

A context key is no guard: any caller over RPC sends the context it likes.
A ``CodeFlag`` lives in a ``ContextVar`` of the running thread: the module
raises it around the code it trusts (``with FLAG.raised():``), and nothing a
client sends can.
"""

from contextlib import contextmanager
from contextvars import ContextVar


class CodeFlag:
    def __init__(self, name):
        self._var = ContextVar(name, default=False)

    def __bool__(self):
        return self._var.get()

    @contextmanager
    def raised(self):
        """The flag is up for the code inside, and down again after it."""
        token = self._var.set(True)
        try:
            yield
        finally:
            self._var.reset(token)
