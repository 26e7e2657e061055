"""Fetching a URL safely: http(s) only, public addresses only, with size, time and redirect limits.

Whoever can reach the app can make it fetch a URL, so a URL must not become a way into the
machine's own network (server-side request forgery). Before connecting, the host name is
resolved and *every* address it resolves to is checked; the connection then goes to a checked
address (the name is not looked up a second time, so DNS rebinding between check and connect
cannot redirect it), while the ``Host`` header and TLS SNI and certificate checks keep the name.
Each redirect is a new URL and is checked the same way.

Refused: loopback, private (RFC 1918, fc00::/7), link-local (169.254/16 with the cloud metadata
address, fe80::/10), carrier-grade NAT (100.64/10), multicast, unspecified, reserved and other
non-global addresses, also when wrapped in IPv6 (``::ffff:10.0.0.5``, 6to4, NAT64). Users who
run the knowledge base on their own network allow them with ``allow_private=True`` or the
environment variable ``KB_ALLOW_PRIVATE_URLS=1``. Proxy environment variables are not used.
"""
from __future__ import annotations

import http.client
import ipaddress
import os
import re
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urljoin, urlsplit

from .errors import FetchError, RefusedURL, os_error_words

#: Articles are tens of kilobytes; 10 MB is ten times the largest page of the extraction
#: benchmark and stops a download of a video or an archive early.
MAX_BYTES = 10 * 1024 * 1024
#: Seconds to wait for a connection or for the next bytes of an answer.
TIMEOUT_SECONDS = 20
#: Seconds a whole fetch may take, redirects included: a server trickling a byte every few
#: seconds would otherwise hold a fetch for hours. Three times TIMEOUT_SECONDS. Enforced by a
#: watchdog that shuts each connection down at the deadline, so it bounds the status line and
#: headers as well as the body (only connecting is bounded by TIMEOUT_SECONDS alone).
TOTAL_SECONDS = 60
#: Browsers follow up to 20 redirects; article links take 0-2 (http→https, short link → page).
MAX_REDIRECTS = 5
#: Setting this environment variable to 1 allows private and loopback addresses.
ALLOW_PRIVATE_ENV = "KB_ALLOW_PRIVATE_URLS"
USER_AGENT = "Mozilla/5.0 (compatible; bilingual-kb/0.1; +https://pypi.org/project/trafilatura/)"
#: Content types that may hold an article.
TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown")
SCHEMES = ("http", "https")
REDIRECTS = (301, 302, 303, 307, 308)
#: Bytes read at a time, between checks of the size limit.
CHUNK_BYTES = 64 * 1024
CLOUD_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
#: Refused even with KB_ALLOW_PRIVATE_URLS=1: it holds no article, and on a cloud machine it
#: hands out the machine's credentials (a review fetched it through a redirect with the variable set).
METADATA_PROBLEM = "the cloud metadata address"
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: Something with a URL scheme (``ftp://x``, ``javascript:...``), not a Windows drive (``C:\\``).
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
_BARE_SCHEMES = {"javascript", "data", "mailto", "vbscript", "about", "blob", "file"}


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    data: bytes
    content_type: str


def is_url(source: str) -> bool:
    """True for an http(s) URL, the only kind :func:`fetch` downloads."""
    match = _SCHEME.match(source)
    return bool(match) and match.group(1).lower() in SCHEMES


def looks_like_url(source: str) -> bool:
    """True for anything written as a URL (``ftp://``, ``file:``, ``javascript:``...), fetchable or not."""
    match = _SCHEME.match(source)
    return bool(match) and (source[match.end():].startswith("//") or match.group(1).lower() in _BARE_SCHEMES)


def private_allowed(allow_private: bool = False) -> bool:
    """``allow_private``, or the environment variable KB_ALLOW_PRIVATE_URLS set to 1 (or true/yes)."""
    return allow_private or os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in ("1", "true", "yes")


def address_problem(address: str) -> str | None:
    """Why an IP address may not be fetched from ("a private address"), or None for a public one."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None)
        if embedded is not None:
            return address_problem(str(embedded))
    if ip in CLOUD_METADATA:
        return METADATA_PROBLEM
    for test, what in ((ip.is_unspecified, "an unspecified address"), (ip.is_loopback, "a loopback address"),
                       (ip.is_link_local, "a link-local address"), (ip.is_multicast, "a multicast address"),
                       (ip.version == 4 and ip in CGNAT, "a carrier-grade NAT (shared) address"),
                       (ip.is_reserved, "a reserved address"), (ip.is_private, "a private address"),
                       (not ip.is_global, "a non-public address")):
        if test:
            return what
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order (raises socket.gaierror)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to an address already checked, whatever the name resolves to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address; SNI and certificate verification use the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.address, self.tls = address, context

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class _Watchdog:
    """Shuts a socket down when the whole fetch's time is up.

    A socket timeout restarts with every byte received, and ``read(n)`` waits for all n bytes, so
    a server dripping a byte a second passes every per-read check; shutting the socket down makes
    whatever read is blocked (status line, headers or body, http or https) return at once.
    """

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self.sock, self.fired, self.lock = sock, False, threading.Lock()
        self.timer = threading.Timer(max(seconds, 0.0), self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self) -> None:
        with self.lock:  # not after stop(): the socket may be closed and its number reused
            if self.sock is None:
                return
            self.fired = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed by the server
                pass

    def stop(self) -> None:
        """Called before the connection is closed; afterwards the watchdog never touches the socket."""
        self.timer.cancel()
        with self.lock:
            self.sock = None


def human_size(n: int) -> str:
    """A byte count in words: "12.3 MB", "2.0 kB", "300 bytes"."""
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.1f} kB" if n >= 1024 else f"{n} bytes"


def _parse(url: str, source: str, hop: str) -> SplitResult:
    """Check the parts of ``url`` that can be checked without the network."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(source, f"{hop}not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = f"{scheme}:" if scheme else "no scheme"
        hint = "; give the file's path instead" if scheme == "file" else ""
        raise RefusedURL(source, f"refused: {hop}only http:// and https:// URLs are fetched, not {shown}{hint}")
    if parts.username is not None or parts.password is not None:
        shown = source if hop else re.sub(r"//[^/?#]*@", "//***@", source, count=1)  # do not echo a password
        raise RefusedURL(shown, f"refused: {hop}the URL holds a user name or password; remove them")
    if not parts.hostname:
        raise FetchError(source, f"{hop}no host name in the URL")
    if port == 0:
        raise FetchError(source, f"{hop}port 0 is not a valid port")
    return parts


def _ascii_host(host: str, source: str, hop: str) -> str:
    """The host name as sent on the wire (IDNA for non-ASCII names such as 例子.中国)."""
    try:
        return host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise FetchError(source, f"{hop}invalid host name {host!r}") from exc


def _vetted_addresses(host: str, port: int, source: str, hop: str, allow_private: bool) -> list[str]:
    try:
        addresses = resolve(host, port)
    except socket.gaierror as exc:
        raise FetchError(source, f"{hop}cannot resolve host {host} ({exc.strerror or exc})") from exc
    except (UnicodeError, ValueError) as exc:
        raise FetchError(source, f"{hop}invalid host name {host!r}") from exc
    if not addresses:
        raise FetchError(source, f"{hop}host {host} has no address")
    literal = all(address == host.strip("[]") for address in addresses)
    for address in addresses:
        problem = address_problem(address.split("%")[0])
        where = f"{address} is" if literal else f"{host} resolves to {address},"
        if problem == METADATA_PROBLEM:
            raise RefusedURL(source, f"refused: {hop}{where} {problem}")
        if problem and not allow_private:
            raise RefusedURL(source, f"refused: {hop}{where} {problem}; set {ALLOW_PRIVATE_ENV}=1 to allow")
    return addresses


def _connect(parts: SplitResult, host: str, port: int, addresses: list[str], timeout: float,
             source: str, hop: str) -> http.client.HTTPConnection:
    error: OSError | None = None
    for address in addresses:
        where = host if host == address else f"{host} ({address})"
        try:
            if parts.scheme.lower() == "https":
                conn: http.client.HTTPConnection = _PinnedHTTPSConnection(host, port, address, timeout,
                                                                           ssl.create_default_context())
            else:
                conn = _PinnedHTTPConnection(host, port, address, timeout)
        except (http.client.HTTPException, ValueError) as exc:  # a control character in the host
            raise FetchError(source, f"{hop}not a valid URL ({exc})") from exc
        try:
            conn.connect()
            return conn
        except ssl.SSLCertVerificationError as exc:
            conn.close()
            raise FetchError(source, f"{hop}TLS certificate of {host} not valid ({exc.verify_message})") from exc
        except (TimeoutError, socket.timeout) as exc:
            conn.close()
            error = exc
            problem = f"no connection to {where} port {port} within {timeout:g} s"
        except OSError as exc:
            conn.close()
            error = exc
            problem = f"could not connect to {where} port {port}: {os_error_words(exc)}"
    raise FetchError(source, f"{hop}{problem}") from error


def _read(response: http.client.HTTPResponse, max_bytes: int, source: str, hop: str) -> bytes:
    length = response.getheader("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise FetchError(source, f"{hop}refused: the page is {human_size(int(length))}, "
                                 f"over the {human_size(max_bytes)} limit")
    chunks, size = [], 0
    try:
        while size <= max_bytes:
            chunk = response.read(min(CHUNK_BYTES, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except http.client.IncompleteRead as exc:  # a chunked body that stops before its last chunk
        raise FetchError(source, f"{hop}the page was cut short: {human_size(size + len(exc.partial))} "
                                 "arrived before the connection closed") from exc
    # read(n) returns what came before the connection closed without complaint; http.client
    # counts in ``length`` the bytes of Content-Length still missing (0 or None when complete).
    if size <= max_bytes and response.length:
        raise FetchError(source, f"{hop}the page was cut short: {human_size(size)} of "
                                 f"{human_size(size + response.length)} arrived")
    data = b"".join(chunks)
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):  # not asked for, but some servers send it anyway
        try:
            inflater = zlib.decompressobj(47 if "gzip" in encoding else 15)
            data = inflater.decompress(data, max_bytes + 1)  # bounded: no decompression bomb
        except zlib.error as exc:
            raise FetchError(source, f"{hop}damaged {encoding} content") from exc
    elif encoding != "identity":
        raise FetchError(source, f"{hop}content encoded as {encoding!r}, which is not supported")
    if len(data) > max_bytes:
        raise FetchError(source, f"{hop}refused: the page is over the {human_size(max_bytes)} limit")
    return data


def fetch(url: str, *, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES,
          allow_private: bool = False, max_redirects: int = MAX_REDIRECTS) -> Fetched:
    """Download ``url`` (http or https), following up to ``max_redirects`` redirects.

    Refuses URLs with credentials, other schemes, and hosts resolving to a non-public address
    (unless ``allow_private`` or KB_ALLOW_PRIVATE_URLS=1), at every redirect hop. ``timeout``
    bounds each connection and each wait for bytes; ``TOTAL_SECONDS`` (or ``timeout`` if longer)
    bounds the whole fetch after connecting. Raises :class:`FetchError` naming ``url`` and saying
    why in plain words on any failure.
    """
    allow = private_allowed(allow_private)
    total = max(TOTAL_SECONDS, timeout)
    deadline = time.monotonic() + total
    chain = [url]
    current, hop = url, ""
    while True:
        if time.monotonic() >= deadline:  # spent by earlier hops
            raise _too_long(url, hop, total)
        parts = _parse(current, url, hop)
        host = _ascii_host(parts.hostname, url, hop)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        addresses = _vetted_addresses(host, port, url, hop, allow)
        conn = _connect(parts, host, port, addresses, timeout, url, hop)
        watchdog = _Watchdog(conn.sock, deadline - time.monotonic())
        target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~") + (
            "?" + quote(parts.query, safe="/%:@!$&'()*+,;=~?") if parts.query else "")
        try:
            conn.request("GET", target, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity",
                                                 "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5"})
            response = conn.getresponse()
            status, reason = response.status, response.reason
            location = _utf8_header(response.getheader("Location"))
            content_type = response.getheader("Content-Type", "")
            if status in REDIRECTS and location:
                following = urljoin(current, location.strip())
                if following in chain:
                    raise FetchError(url, "redirect loop: " + " → ".join(chain[chain.index(following):] + [following]))
                if len(chain) > max_redirects:
                    raise FetchError(url, f"more than {max_redirects} redirects: " + " → ".join(chain + [following]))
                chain.append(following)
                current, hop = following, f"redirected to {following}: "
                continue
            if status >= 300:
                wait = response.getheader("Retry-After", "").strip()
                later = f"; the site asks to wait {wait} s before trying again" if wait.isdigit() else ""
                raise FetchError(url, f"{hop}HTTP {status} {reason}".rstrip() + later)
            kind = content_type.split(";")[0].strip().lower()
            if kind and not kind.startswith(TEXT_TYPES):
                raise FetchError(url, f"{hop}not a web page or text (Content-Type: {content_type})")
            data = _read(response, max_bytes, url, hop)
        except (FetchError, OSError, http.client.HTTPException, ValueError) as exc:
            # (ValueError: a TLS read racing the shutdown finds its SSL object gone)
            if watchdog.fired:  # whatever the shutdown looked like: a cut page, a closed connection...
                raise _too_long(url, hop, total) from exc
            if isinstance(exc, (FetchError, ValueError)):
                raise
            raise _failure(exc, url, hop, host, timeout) from exc
        finally:
            watchdog.stop()
            conn.close()
        if watchdog.fired:  # a page without a length ends at the shutdown as if complete
            raise _too_long(url, hop, total)
        return Fetched(current, data, content_type)


def _too_long(url: str, hop: str, total: float) -> FetchError:
    return FetchError(url, f"{hop}took longer than {total:g} s in all; gave up")


def _utf8_header(value: str | None) -> str | None:
    """A header as its sender meant it: http.client decodes headers as Latin-1, but servers (Chinese
    sites among them) send ``Location: /文章`` in raw UTF-8, which browsers follow as such."""
    if value is None or value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:  # really Latin-1 (or broken): keep what http.client made of it
        return value


def _failure(exc: OSError | http.client.HTTPException, url: str, hop: str, host: str,
             timeout: float) -> FetchError:
    """The error in words for a failure while asking or reading (not at the deadline)."""
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return FetchError(url, f"{hop}no answer from {host} within {timeout:g} s")
    if isinstance(exc, http.client.RemoteDisconnected):
        return FetchError(url, f"{hop}{host} closed the connection without answering")
    if isinstance(exc, http.client.HTTPException):
        return FetchError(url, f"{hop}bad HTTP answer from {host} ({type(exc).__name__}: {exc})")
    return FetchError(url, f"{hop}could not fetch from {host}: {os_error_words(exc)}")
