"""Exit codes of the ``pydeblur`` command: the one home of the list."""

EXIT_OK = 0  #: success
EXIT_FAILED = 1  #: the command failed: bad input, unreadable file, refused overwrite
EXIT_USAGE = 2  #: the command line itself was wrong
EXIT_PARTIAL = 3  #: a batch command failed on some of its files
EXIT_INTERRUPTED = 130  #: stopped by Ctrl-C (SIGINT)


class UsageError(ValueError):
    """A bad option value found after parsing: exits with EXIT_USAGE, like argparse's own errors."""
