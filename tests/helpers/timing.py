"""A SIGALRM deadline for tests of code that could block forever (a FIFO opened, a reader that hangs)."""

import contextlib
import signal


@contextlib.contextmanager
def alarm_after(seconds: int, error: type[BaseException] = TimeoutError):
    """Raise ``error`` inside the block if it has not finished after ``seconds`` (interrupts a blocking open())."""

    def on_alarm(signum, frame):
        raise error(f"no result after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
