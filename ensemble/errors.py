"""Errors a performer can cause and read. Anything else is a bug and may show a traceback."""


class UserError(Exception):
    """A mistake in a command, script, option or environment, explained in one line."""
