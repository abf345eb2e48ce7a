"""The one exception type that carries a user-facing message.

Anything the user can fix (a missing file, a wrong key, a bad value) is raised as
``SZSLError`` with a single-line message naming the file or field and what was
expected. The CLI turns it into ``szsl: error: <message>`` and exit code 2.
"""


class SZSLError(ValueError):
    """A user-facing error: bad input, bad file, bad option value."""

    def __init__(self, message: str):
        # Keep the message on one line whatever the caller passed in.
        super().__init__(" ".join(str(message).split()))


class SZSLTypeError(SZSLError, TypeError):
    """An input of the wrong kind (a sparse matrix, a dict inside X): also a TypeError, as scikit-learn raises it."""
