"""Bursts of requests at a real portal: `python -m tests.portal.burst URL THREADS` from another
process, or ``open_all`` and ``post_all`` from a test.

Plain http.client connections, one per thread: cheap enough that hundreds start at once on a
small machine. The command waits for a line on stdin (so several processes fire together),
opens URL once from each thread, and prints one JSON line: how many opens reached the setup
form and how many were sent to the login page as no longer valid.
"""
from __future__ import annotations

import http.client
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

FORM = 'id="credentials-form"'


def _request(url: str, method: str = "GET", body: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers=headers or {})
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode()
    finally:
        connection.close()


def open_once(url: str) -> str:
    """Open a link as a new browser: 'form' when it led to the setup form, else where it led."""
    status, headers, _ = _request(url)
    location = headers.get("location", "")
    if status != 303 or location != "/setup":
        return location or str(status)
    cookie = headers["set-cookie"].split(";", 1)[0]
    base = url.split("/setup/", 1)[0]
    _, _, page = _request(base + "/setup", headers={"Cookie": cookie})
    return "form" if FORM in page else "no form"


def open_all(url: str, threads: int) -> list[str]:
    """Open ``url`` once from each of ``threads`` threads, all released together."""
    start = threading.Barrier(threads)

    def one(_: int) -> str:
        start.wait(timeout=60)
        return open_once(url)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, range(threads)))


def post_all(url: str, forms: list[dict[str, str]], cookie: str, address: str) -> list[int]:
    """POST each form to ``url`` from its own thread with one browser's cookie, all at once,
    as from ``address`` (the portal trusts X-Forwarded-For from a proxy on its own host);
    the statuses in the order given."""
    start = threading.Barrier(len(forms))
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
               "X-Forwarded-For": address}

    def one(form: dict[str, str]) -> int:
        start.wait(timeout=60)
        return _request(url, "POST", urlencode(form), headers)[0]

    with ThreadPoolExecutor(max_workers=len(forms)) as pool:
        return list(pool.map(one, forms))


def main() -> None:
    url, threads = sys.argv[1], int(sys.argv[2])
    sys.stdin.readline()
    outcomes = open_all(url, threads)
    print(json.dumps({"forms": outcomes.count("form"), "login page": outcomes.count("/?note=link")}))


if __name__ == "__main__":
    main()
