"""fetch: refused addresses, schemes and credentials; redirects, limits and errors, on real local servers."""
from __future__ import annotations

import gzip
import http.server
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from urllib.parse import unquote

import pytest

import ingest.fetch as fetch_module
from ingest import FetchError, discover, load
from ingest.errors import EmptyArticle, RefusedURL
from ingest.fetch import address_problem, fetch

PAGE = ("<html><head><title>Event ops</title></head><body><article><h1>Event ops</h1>"
        + "<p>An event team sets goals, books speakers and measures turnout after the day.</p>" * 6
        + "</article></body></html>").encode("utf-8")


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes: /page.html, /文章.html, /to?url (302), /raw-to?url (302, Location in raw UTF-8),
    /loop-a <-> /loop-b, /chain/N, /image, /big, /stream (no Content-Length), /gzip, /status/N,
    /cut and /cut-chunked (connection closed halfway through the page). Records each request's
    path and Host header."""

    seen: list[tuple[str, str]] = []

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def send(self, status: int, body: bytes = b"", content_type: str = "text/html; charset=utf-8",
             headers: dict | None = None, length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = unquote(self.path)
        Handler.seen.append((path, self.headers.get("Host", "")))
        if path in ("/page.html", "/文章.html"):
            self.send(200, PAGE)
        elif path.startswith("/to?"):
            self.send(302, headers={"Location": path[len("/to?"):]})
        elif path.startswith("/raw-to?"):  # send_header would refuse a non-Latin-1 value
            self.close_connection = True
            self.wfile.write(b"HTTP/1.0 302 Found\r\nLocation: " + path[len("/raw-to?"):].encode("utf-8")
                             + b"\r\nContent-Length: 0\r\n\r\n")
        elif path in ("/loop-a", "/loop-b"):
            self.send(301, headers={"Location": "/loop-b" if path == "/loop-a" else "/loop-a"})
        elif path.startswith("/chain/"):
            self.send(302, headers={"Location": f"/chain/{int(path.rsplit('/', 1)[1]) + 1}"})
        elif path == "/image":
            self.send(200, b"\x89PNG\r\n\x1a\n" + bytes(100), content_type="image/png")
        elif path == "/big":
            self.send(200, b"<p>" + b"x" * 5000 + b"</p>")
        elif path == "/stream":
            self.close_connection = True
            self.send(200, b"<p>" + b"x" * 5000 + b"</p>", length=False)
        elif path == "/gzip":
            self.send(200, gzip.compress(PAGE), headers={"Content-Encoding": "gzip"})
        elif path == "/cut":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE[:len(PAGE) // 2])
        elif path == "/cut-chunked":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(PAGE) // 2, PAGE[:len(PAGE) // 2]))  # no last chunk
        elif path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            self.send(status, b"<p>error page</p>", headers={"Retry-After": "120"} if status == 429 else None)
        else:
            self.send(404, b"not found")


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Handler.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def no_env_override(monkeypatch):
    monkeypatch.delenv("KB_ALLOW_PRIVATE_URLS", raising=False)


@pytest.fixture
def public_loopback(monkeypatch):
    """Make 127.0.0.1 count as public (a stand-in for a public site), every other address as usual,
    and resolve the names in the returned dict (name -> addresses) without DNS."""
    names: dict[str, list[str]] = {}
    real_problem, real_resolve = fetch_module.address_problem, fetch_module.resolve
    monkeypatch.setattr(fetch_module, "address_problem", lambda a: None if a == "127.0.0.1" else real_problem(a))
    monkeypatch.setattr(fetch_module, "resolve", lambda host, port: names.get(host) or real_resolve(host, port))
    return names


# --- addresses ------------------------------------------------------------------------------

@pytest.mark.parametrize("address, problem", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.0.0.5", "private"), ("172.16.3.4", "private"), ("192.168.1.1", "private"), ("fd12:3456::1", "private"),
    ("169.254.169.254", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"), ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"), ("100.64.0.1", "carrier-grade NAT"), ("100.127.255.254", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"), ("::ffff:10.0.0.5", "private"), ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "cloud metadata"), ("2002:a00:5::1", "private"), ("64:ff9b::7f00:1", "loopback"),
    ("192.0.2.7", "private"),  # documentation range: Python counts it as private
])
def test_non_public_addresses_are_named(address, problem):
    assert problem in address_problem(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert address_problem(address) is None


# --- refusals before any connection -----------------------------------------------------------

def test_loopback_server_is_refused_by_default_and_fetched_when_allowed(server, monkeypatch):
    with pytest.raises(RefusedURL, match=r"refused: 127\.0\.0\.1 is a loopback address; set KB_ALLOW_PRIVATE_URLS=1 to allow") as info:
        fetch(f"{server}/page.html")
    assert str(info.value).startswith(f"{server}/page.html: ")
    assert Handler.seen == []  # refused before connecting
    assert fetch(f"{server}/page.html", allow_private=True).data == PAGE
    monkeypatch.setenv("KB_ALLOW_PRIVATE_URLS", "1")
    assert load(f"{server}/page.html").title == "Event ops"


def test_localhost_name_is_refused_with_the_address_it_resolves_to(server):
    port = server.rsplit(":", 1)[1]
    with pytest.raises(FetchError, match=r"refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address"):
        load(f"http://localhost:{port}/page.html")


def test_every_address_of_a_name_is_checked(monkeypatch):
    monkeypatch.setattr(fetch_module, "resolve", lambda host, port: ["93.184.216.34", "10.0.0.5"])
    with pytest.raises(FetchError, match=r"refused: example\.internal resolves to 10\.0\.0\.5, a private address; "
                                         r"set KB_ALLOW_PRIVATE_URLS=1 to allow"):
        fetch("https://example.internal/post")


def test_connection_goes_to_the_checked_address_and_keeps_the_host_name(server, public_loopback, monkeypatch):
    port = server.rsplit(":", 1)[1]
    answers = iter([["127.0.0.1"], ["10.0.0.5"]])  # a rebinding resolver: public first, private after
    calls = []

    def rebinding(host, _port):
        calls.append(host)
        return next(answers)

    monkeypatch.setattr(fetch_module, "resolve", rebinding)
    fetched = fetch(f"http://site.example:{port}/page.html")
    assert fetched.data == PAGE and calls == ["site.example"]  # looked up once, connected to that address
    assert Handler.seen == [("/page.html", f"site.example:{port}")]


@pytest.mark.parametrize("url, message", [
    ("file:///etc/passwd", "only http:// and https:// URLs are fetched, not file:; give the file's path instead"),
    ("ftp://example.com/article.txt", "only http:// and https:// URLs are fetched, not ftp:"),
    ("javascript:alert(1)", "only http:// and https:// URLs are fetched, not javascript:"),
    ("gopher://example.com/1", "not gopher:"),
    ("data:text/html,<p>hi</p>", "not data:"),
    ("http://user:secret@example.com/post", "the URL holds a user name or password"),
    ("https://token@example.com/post", "the URL holds a user name or password"),
    ("http:///no-host", "no host name in the URL"),
    ("http://[::1/broken", "not a valid URL"),
])
def test_refused_urls_are_named_and_never_resolved(monkeypatch, url, message):
    monkeypatch.setattr(fetch_module, "resolve", lambda *a: pytest.fail("resolved a refused URL"))
    assert discover([url]) == [url]  # passed on, so that load says what is wrong
    with pytest.raises(FetchError, match=re.escape(message)) as info:  # RefusedURL or, if unparsable, FetchError
        load(url)
    assert str(info.value).startswith(re.sub(r"//[^/?#]*@", "//***@", url) + ": ")  # credentials hidden


def test_a_password_in_a_url_is_not_echoed():
    with pytest.raises(FetchError) as info:
        load("http://user:secret@example.com/post")
    assert str(info.value) == ("http://***@example.com/post: refused: the URL holds a user name or password; "
                               "remove them") and info.value.source == "http://***@example.com/post"


def test_unresolvable_host(monkeypatch):
    def fail(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(fetch_module, "resolve", fail)
    with pytest.raises(FetchError, match=r"https://no-such-host\.example/x: cannot resolve host "
                                         r"no-such-host\.example \(Name or service not known\)"):
        load("https://no-such-host.example/x")


# --- redirects --------------------------------------------------------------------------------

def test_redirect_to_a_private_address_is_refused(server, public_loopback):
    public_loopback["internal.example"] = ["10.0.0.5"]
    with pytest.raises(FetchError, match=r"refused: redirected to http://internal\.example/admin: internal\.example "
                                         r"resolves to 10\.0\.0\.5, a private address"):
        fetch(f"{server}/to?http://internal.example/admin")
    with pytest.raises(FetchError, match=r"redirected to http://169\.254\.169\.254/latest/meta-data/: "
                                         r"169\.254\.169\.254 is the cloud metadata address"):
        fetch(f"{server}/to?http://169.254.169.254/latest/meta-data/")
    with pytest.raises(FetchError, match=r"redirected to ftp://example\.com/x: only http"):
        fetch(f"{server}/to?ftp://example.com/x")
    assert [p for p, _ in Handler.seen] == ["/to?http://internal.example/admin",
                                            "/to?http://169.254.169.254/latest/meta-data/", "/to?ftp://example.com/x"]


def test_the_cloud_metadata_address_is_refused_even_where_private_addresses_are_allowed(server, public_loopback):
    public_loopback["metadata.internal"] = ["169.254.169.254"]
    for target, where in [("http://169.254.169.254/latest/meta-data/", r"169\.254\.169\.254 is"),
                          ("http://metadata.internal/computeMetadata/v1/", r"metadata\.internal resolves to 169\.254\.169\.254,")]:
        with pytest.raises(RefusedURL, match=rf"refused: redirected to .*: {where} the cloud metadata address$"):
            fetch(f"{server}/to?{target}", allow_private=True)  # with KB_ALLOW_PRIVATE_URLS=1 it was fetched


def test_redirect_within_the_site_is_followed(server, public_loopback):
    fetched = fetch(f"{server}/to?/page.html")
    assert fetched.url == f"{server}/page.html" and fetched.data == PAGE
    assert load(f"{server}/to?/page.html").source == f"{server}/page.html"
    with pytest.raises(EmptyArticle, match=rf"^{re.escape(server)}/to\?/status/200: no article text") as info:
        load(f"{server}/to?/status/200")  # the error names the URL given, not where it led
    assert info.value.source == f"{server}/to?/status/200"


def test_redirect_loop_is_reported(server):
    with pytest.raises(FetchError, match=rf"redirect loop: {server}/loop-a → {server}/loop-b → {server}/loop-a"):
        fetch(f"{server}/loop-a", allow_private=True)


def test_too_many_redirects(server):
    with pytest.raises(FetchError, match=r"more than 5 redirects: .*/chain/0 → .*/chain/6$"):
        fetch(f"{server}/chain/0", allow_private=True)
    assert fetch(f"{server}/to?/page.html", allow_private=True, max_redirects=1).data == PAGE


# --- answers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("status, message", [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error"),
                                             (304, "HTTP 304 Not Modified"),
                                             (429, "HTTP 429 Too Many Requests; the site asks to wait 120 s before trying again$")])
def test_http_errors(server, status, message):
    with pytest.raises(FetchError, match=message) as info:
        load(f"{server}/status/{status}", allow_private=True)
    assert f"{server}/status/{status}" in str(info.value)


def test_non_html_content_type(server):
    with pytest.raises(FetchError, match=r"not a web page or text \(Content-Type: image/png\)"):
        load(f"{server}/image", allow_private=True)


def test_body_over_the_size_limit(server):
    with pytest.raises(FetchError, match=r"refused: the page is 4\.9 kB, over the 1000 bytes limit"):
        fetch(f"{server}/big", allow_private=True, max_bytes=1000)
    with pytest.raises(FetchError, match=r"refused: the page is over the 1000 bytes limit"):
        fetch(f"{server}/stream", allow_private=True, max_bytes=1000)
    assert len(fetch(f"{server}/stream", allow_private=True, max_bytes=6000).data) == 5007


def test_timeout_when_the_server_never_answers():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections in the kernel, never reads or answers
    try:
        with pytest.raises(FetchError, match=r"no answer from 127\.0\.0\.1 within 0\.3 s"):
            fetch(f"http://127.0.0.1:{silent.getsockname()[1]}/", allow_private=True, timeout=0.3)
    finally:
        silent.close()


def drip_server(head: bytes, seconds: float = 5.0) -> tuple[str, threading.Thread]:
    """A server that answers one request with ``head``, then a byte every 0.1 s for ``seconds``
    (each byte well within the fetch's per-read timeout), then closes; returns (URL, thread)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, listener:
            conn.recv(65536)
            try:
                conn.sendall(head)
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    conn.sendall(b"x")
                    time.sleep(0.1)
            except OSError:  # the client gave up
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/slow", thread


@pytest.mark.parametrize("head", [
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: ",  # headers dripped
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<p>",  # body dripped
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<p>",
], ids=["headers", "body", "body-with-length"])
def test_total_time_bounds_a_server_dripping_bytes(monkeypatch, head):
    monkeypatch.setattr(fetch_module, "TOTAL_SECONDS", 1)
    url, thread = drip_server(head)
    started = time.monotonic()
    with pytest.raises(FetchError, match=rf"^{re.escape(url)}: took longer than 1 s in all; gave up$"):
        fetch(url, allow_private=True, timeout=0.5)
    assert 0.9 < time.monotonic() - started < 2.5  # the server would have dripped for 5 s
    thread.join(2)


def test_a_page_cut_short_is_an_error(server):
    with pytest.raises(FetchError, match=rf"^{re.escape(server)}/cut: the page was cut short: "
                                         rf"{len(PAGE) // 2} bytes of {len(PAGE)} bytes arrived$"):
        load(f"{server}/cut", allow_private=True)
    with pytest.raises(FetchError, match=rf"^{re.escape(server)}/cut-chunked: the page was cut short: "
                                         rf"{len(PAGE) // 2} bytes arrived before the connection closed$"):
        load(f"{server}/cut-chunked", allow_private=True)


def test_connection_refused():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens on this port now
    with pytest.raises(FetchError, match=rf"could not connect to 127\.0\.0\.1 port {port}: connection refused"):
        fetch(f"http://127.0.0.1:{port}/", allow_private=True)


def test_a_redirect_in_raw_utf8_is_followed_and_shown_readable(server):
    fetched = fetch(f"{server}/raw-to?/文章.html", allow_private=True)  # Location: /文章.html, unencoded
    assert fetched.data == PAGE and fetched.url == f"{server}/文章.html"
    assert Handler.seen[-1][0] == "/文章.html"
    with pytest.raises(FetchError, match=rf"redirected to {re.escape(server)}/缺失: HTTP 404 Not Found$"):
        fetch(f"{server}/raw-to?/缺失", allow_private=True)


def test_non_ascii_path_and_unrequested_gzip(server):
    fetched = fetch(f"{server}/文章.html", allow_private=True)
    assert fetched.data == PAGE and Handler.seen[-1][0] == "/文章.html"
    assert fetch(f"{server}/gzip", allow_private=True).data == PAGE


# --- https: the connection goes to the checked address, TLS checks the name --------------------

@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on 127.0.0.1 with a self-signed certificate for site.example; yields (port, cert)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=site.example",
                    "-addext", "subjectAltName=DNS:site.example", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Handler.seen = []
    yield httpd.server_address[1], cert
    httpd.shutdown()
    httpd.server_close()


def test_https_uses_the_host_name_for_sni_and_the_certificate(tls_server, public_loopback, monkeypatch):
    port, cert = tls_server
    with pytest.raises(FetchError, match=r"TLS certificate of 127\.0\.0\.1 not valid \(self.signed certificate"):
        fetch(f"https://127.0.0.1:{port}/page.html")  # an untrusted certificate is refused
    trusted = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(fetch_module.ssl, "create_default_context", lambda: trusted)
    public_loopback["site.example"] = ["127.0.0.1"]
    public_loopback["other.example"] = ["127.0.0.1"]
    assert fetch(f"https://site.example:{port}/page.html").data == PAGE
    assert Handler.seen[-1] == ("/page.html", f"site.example:{port}")
    with pytest.raises(FetchError, match=r"TLS certificate of other\.example not valid \(Hostname mismatch"):
        fetch(f"https://other.example:{port}/page.html")
