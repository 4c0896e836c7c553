#!/usr/bin/env python3
"""A scripted HTTP server on 127.0.0.1 for the Tor refresher tests.

    tor_server.py SCRIPT.json LOG.jsonl     prints the port it listens on, then serves

SCRIPT.json is re-read on every request: {"generation": N, "responses": [spec, ...]}.
Responses are played in order (each `times` times, default 1; the last repeats);
writing a new generation restarts the sequence. A spec:
  status        HTTP status (default 200)
  file / body   the body: a file's bytes, or literal text
  etag, last_modified   validators sent with the response
  conditional   answer 304 when If-None-Match equals etag
  delay         seconds to wait before answering (timeouts)
  truncate      send only this many body bytes, then close (Content-Length says the full size)
Every request is appended to LOG.jsonl: path and conditional headers.
"""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCRIPT, LOG = sys.argv[1], sys.argv[2]
lock = threading.Lock()
state = {"generation": None, "index": 0, "used": 0}


def next_spec():
    with open(SCRIPT) as f:
        script = json.load(f)
    with lock:
        if script["generation"] != state["generation"]:
            state.update(generation=script["generation"], index=0, used=0)
        responses = script["responses"]
        spec = responses[min(state["index"], len(responses) - 1)]
        state["used"] += 1
        if state["used"] >= spec.get("times", 1):
            state["index"] += 1
            state["used"] = 0
        return spec


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        spec = next_spec()
        with lock, open(LOG, "a") as log:
            log.write(json.dumps({"path": self.path, "if_none_match": self.headers.get("If-None-Match"),
                                  "if_modified_since": self.headers.get("If-Modified-Since")}) + "\n")
        time.sleep(spec.get("delay", 0))
        status = spec.get("status", 200)
        if spec.get("conditional") and self.headers.get("If-None-Match") == spec.get("etag"):
            status = 304
        if "file" in spec:
            with open(spec["file"], "rb") as f:
                body = f.read()
        else:
            body = spec.get("body", "").encode()
        if status == 304:
            body = b""
        self.send_response(status)
        if spec.get("etag"):
            self.send_header("ETag", spec["etag"])
        if spec.get("last_modified"):
            self.send_header("Last-Modified", spec["last_modified"])
        self.send_header("Content-Type", "text/plain")
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        if "truncate" in spec:
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: spec["truncate"]])
            self.wfile.flush()
            self.close_connection = True
            return
        self.end_headers()
        self.wfile.write(body)


# The test process may have signals blocked, and children inherit the mask:
# unblock them so terminate() works, and exit when the parent's pipe closes.
signal.pthread_sigmask(signal.SIG_SETMASK, [])
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
