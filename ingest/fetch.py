"""Fetching a URL: http(s) only, with size and time limits."""
from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import FetchError

#: Articles are tens of kilobytes; 10 MB is ten times the largest page of the extraction
#: benchmark and stops a download of a video or an archive early.
MAX_BYTES = 10 * 1024 * 1024
TIMEOUT_SECONDS = 20
USER_AGENT = "Mozilla/5.0 (compatible; bilingual-kb/0.1; +https://pypi.org/project/trafilatura/)"
#: Content types that may hold an article.
TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown")


@dataclass(frozen=True)
class Fetched:
    url: str
    data: bytes
    content_type: str


def is_url(source: str) -> bool:
    return urlsplit(source).scheme.lower() in ("http", "https")


def fetch(url: str, *, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES) -> Fetched:
    """Download ``url``; raise :class:`FetchError` naming it on any failure."""
    if not is_url(url):
        raise FetchError(url, "only http:// and https:// URLs can be fetched")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            if content_type and not content_type.split(";")[0].strip().lower().startswith(TEXT_TYPES):
                raise FetchError(url, f"not a web page or text (Content-Type: {content_type})")
            data = response.read(max_bytes + 1)
            final_url = response.geturl()
    except urllib.error.HTTPError as exc:
        raise FetchError(url, f"HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(url, f"could not fetch: {reason}") from exc
    if len(data) > max_bytes:
        raise FetchError(url, f"larger than the {max_bytes // (1024 * 1024)} MB limit")
    return Fetched(final_url, data, content_type)
