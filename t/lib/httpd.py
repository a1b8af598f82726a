#!/usr/bin/env python3
"""A small HTTP server for tests: serves a directory on 127.0.0.1.

It binds a free port and prints it on stdout (and into --port-file), then
serves GET and HEAD with single byte ranges ("bytes=N-" and "bytes=N-M").
Rules make chosen paths misbehave the way real servers do:

  --rule PATH=404            respond with that status (any 4xx or 5xx code)
  --rule PATH=stall:N        send the headers and N bytes, then nothing
  --rule PATH=truncate:N     announce the full length, send N bytes, close
  --rule PATH=norange        ignore Range headers and send the whole file
  --rule PATH=html           respond 200 with an HTML page

A ":COUNT" suffix (stall:1000:1) limits a rule to the first COUNT requests
for that path; later ones are served normally.  Every request is appended
to --log as "METHOD PATH RANGE" so a test can check what the client asked.
The server exits by itself after --lifetime seconds (default 600).
"""

import argparse
import http.server
import os
import socketserver
import sys
import threading
import time


class Rule:
    def __init__(self, text):
        parts = text.split(":")
        self.kind = parts[0]
        self.arg = None
        self.remaining = None
        if self.kind in ("stall", "truncate"):
            if len(parts) < 2:
                raise ValueError(f"rule '{text}' needs a byte count")
            self.arg = int(parts[1])
            parts = parts[2:]
        else:
            parts = parts[1:]
        if not (self.kind.isdigit() and 400 <= int(self.kind) <= 599) and \
                self.kind not in ("stall", "truncate", "norange", "html"):
            raise ValueError(f"unknown rule '{text}'")
        if parts:
            self.remaining = int(parts[0])

    def take(self, lock):
        """Return True when the rule applies to this request, counting it."""
        with lock:
            if self.remaining is None:
                return True
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ktstr-test-httpd"

    def log_message(self, fmt, *args):
        pass

    def record(self):
        log = self.server.request_log
        if not log:
            return
        line = f"{self.command} {self.path} {self.headers.get('Range', '-')}\n"
        with self.server.lock, open(log, "a", encoding="utf-8") as out:
            out.write(line)

    def do_HEAD(self):
        self.serve(send_body=False)

    def do_GET(self):
        self.serve(send_body=True)

    def send_plain(self, status, text, extra=()):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve(self, send_body):
        self.record()
        path = self.path.split("?", 1)[0]
        rule = self.server.rules.get(path)
        if rule and not rule.take(self.server.lock):
            rule = None
        if rule and rule.kind.isdigit():
            self.send_plain(int(rule.kind), f"status {rule.kind}\n")
            return
        if rule and rule.kind == "html":
            page = "<html><body>maintenance</body></html>\n"
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return

        local = os.path.realpath(os.path.join(self.server.root, path.lstrip("/")))
        if not local.startswith(self.server.root + os.sep) or not os.path.isfile(local):
            self.send_plain(404, "not found\n")
            return
        size = os.path.getsize(local)
        start, end, status = 0, size - 1, 200
        wanted = self.headers.get("Range")
        if wanted and not (rule and rule.kind == "norange"):
            parsed = parse_range(wanted, size)
            if parsed is None:
                self.send_plain(416, "range not satisfiable\n",
                                [("Content-Range", f"bytes */{size}")])
                return
            start, end = parsed
            status = 206

        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if not send_body:
            return

        limit = end - start + 1
        if rule and rule.kind in ("stall", "truncate"):
            limit = min(limit, rule.arg)
        with open(local, "rb") as data:
            data.seek(start)
            left = limit
            while left > 0:
                chunk = data.read(min(65536, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
        self.wfile.flush()
        if rule and rule.kind == "stall":
            # Keep the connection open and silent until the client gives
            # up or the server shuts down.
            while not self.server.stopping.is_set():
                if self.server.stopping.wait(0.2):
                    break
                try:
                    self.connection.settimeout(0)
                    if self.connection.recv(1) == b"":
                        break
                except BlockingIOError:
                    pass
                except OSError:
                    break
            self.close_connection = True
        elif rule and rule.kind == "truncate":
            self.close_connection = True


def parse_range(text, size):
    """Return (start, end) of a single "bytes=" range, or None if unusable."""
    if not text.startswith("bytes=") or "," in text:
        return None
    first, _, last = text[6:].partition("-")
    try:
        if first == "":
            count = int(last)
            return (max(0, size - count), size - 1) if count > 0 and size else None
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="directory to serve")
    parser.add_argument("--port-file", help="also write the port here")
    parser.add_argument("--log", help="append one line per request here")
    parser.add_argument("--rule", action="append", default=[], help="PATH=BEHAVIOUR")
    parser.add_argument("--lifetime", type=float, default=600, help="seconds before exiting")
    args = parser.parse_args()

    server = Server(("127.0.0.1", 0), Handler)
    server.root = os.path.realpath(args.root)
    server.request_log = args.log
    server.lock = threading.Lock()
    server.stopping = threading.Event()
    server.rules = {}
    for text in args.rule:
        path, _, behaviour = text.partition("=")
        try:
            server.rules[path] = Rule(behaviour)
        except ValueError as error:
            parser.error(str(error))

    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(f"{port}\n")
        os.rename(tmp, args.port_file)
    print(port, flush=True)

    def stop_later():
        time.sleep(args.lifetime)
        server.stopping.set()
        server.shutdown()

    threading.Thread(target=stop_later, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    server.stopping.set()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
