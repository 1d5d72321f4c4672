"""What ensemble said while a test ran: its log messages, one line each, as a performer reads them."""

import contextlib
import logging


class Messages(list):
    """The messages so far; `quiet()` fails when there were any at warning level or above."""

    def __init__(self):
        super().__init__()
        self.records = []

    def warnings(self):
        return [r.getMessage() for r in self.records if r.levelno >= logging.WARNING]


class _Collect(logging.Handler):
    def __init__(self, into):
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record):
        self.into.records.append(record)
        self.into.append(record.getMessage())


@contextlib.contextmanager
def captured():
    """Collect every message of the `ensemble` loggers while inside."""
    messages = Messages()
    handler = _Collect(messages)
    logger = logging.getLogger("ensemble")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
