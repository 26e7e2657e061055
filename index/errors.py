"""Errors raised by the knowledge base. Every message names the value or file at fault."""


class KnowledgeBaseError(Exception):
    """Base class of the knowledge base's errors."""


class EncoderMismatch(KnowledgeBaseError):
    """The knowledge base was built with another encoder than the one asked for."""

    def __init__(self, path: str, built_with: str, asked_for: str) -> None:
        super().__init__(
            f"{path} was built with encoder {built_with!r}, not {asked_for!r}. Vectors of two "
            f"encoders cannot be mixed: open it without a model to use {built_with!r}, or re-embed "
            f"every article with `ingest rebuild --kb {path} --model {asked_for}`."
        )
        self.built_with = built_with
        self.asked_for = asked_for


class EncoderError(KnowledgeBaseError):
    """An encoder could not be loaded (unknown model name, missing package, unreachable hub)."""


class NoKnowledgeBase(KnowledgeBaseError):
    """A knowledge base was opened for reading where there is none (a mistyped directory)."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"no knowledge base in {path}: add articles first (`ingest add SOURCE --kb {path}`), or give "
            f"the directory that holds one (--kb or $KB_DIR)."
        )
        self.path = path


class NotFound(KnowledgeBaseError):
    """No article with the given id."""


class CorruptIndex(KnowledgeBaseError):
    """A file of the knowledge base is unreadable or from an unknown format."""


class Busy(KnowledgeBaseError):
    """Another writer held the knowledge base's writer lock for longer than the wait allowed."""

    def __init__(self, path: str, pid: int | None, waited: float) -> None:
        by = f"process {pid}" if pid is not None else "another process"
        super().__init__(
            f"{path} is being written by {by}; gave up after waiting {waited:g} s. Try again when it "
            f"is done, or wait longer with $KB_LOCK_TIMEOUT (seconds)."
        )
        self.path = path
        self.pid = pid
        self.waited = waited


class VectorStoreError(KnowledgeBaseError):
    """A vector store was asked for that does not exist or cannot be reached."""
