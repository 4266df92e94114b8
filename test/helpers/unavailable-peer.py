"""An HTTP server that answers every request 503 Service Unavailable, as a
load balancer with no healthy backend does. It reads each request's body first
(so the client sees the answer, not a reset), prints "listening <port>" once
and "hit <method> <path>" for each request, unbuffered."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Unavailable(BaseHTTPRequestHandler):
    def handle_one(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                self.rfile.read(size + 2)
                if size == 0:
                    break
        else:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
        print(f"hit {self.command} {self.path}", flush=True)
        body = b'{"detail":"no healthy upstream"}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = handle_one

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
