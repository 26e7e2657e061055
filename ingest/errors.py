"""Errors raised by ingest. Every message names the input that caused it."""


def os_error_words(exc: OSError) -> str:
    """An OS error in lower-case words ("connection refused", "permission denied"), for messages."""
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


class IngestError(Exception):
    """An input could not be turned into an article. ``source`` is the file, URL or value at fault."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem

    def __reduce__(self):
        # Rebuilt from (source, problem), so that errors raised in worker processes
        # (ingest.parallel) come back whole; the default would pass the message alone.
        return type(self), (self.source, self.problem)


class UnsupportedSource(IngestError):
    """The input is of a kind ingest does not read (a PDF, an image, an unknown extension...)."""


class EmptyArticle(IngestError):
    """Nothing that looks like article text was left after cleaning."""


class FetchError(IngestError):
    """A URL could not be fetched (network error, HTTP error, wrong content type, too large)."""


class RefusedURL(FetchError):
    """A URL refused before any request, for safety: its host is on a private or loopback
    network (see KB_ALLOW_PRIVATE_URLS), its scheme is not http(s), or it holds credentials.
    Retrying will not help; the message says what to change."""
