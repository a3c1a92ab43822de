"""The one error family whose messages are meant for users."""


class MuangError(Exception):
    """A problem the user can fix (bad input, missing index, unknown name).

    The CLI prints its message on one line and exits with status 2; the UI shows it as is.
    """
