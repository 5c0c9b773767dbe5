"""The application behind the proxy in the forward-auth suites: answers every request with
the method, path and headers it received, as JSON (so a test sees exactly what the proxy let
through). Python 3 standard library only.

    python3 echo.py PORT
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({
            "method": self.command,
            "path": self.path,
            # Every value of every header, names lower-cased (a header sent twice shows twice).
            "headers": [[name.lower(), value] for name, value in self.headers.items()],
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = answer

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo)
    print(f"echo listening on 127.0.0.1:{sys.argv[1]}", flush=True)
    server.serve_forever()
