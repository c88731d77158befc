#!/usr/bin/env python3
"""Static HTTP(S) server for a Helm chart repository in tests.

usage: helm_repo_server.py ROOT PORT LOG [--user U --password P] [--cert C --key K]
Serves the files under ROOT (index.yaml and chart archives) on 127.0.0.1:PORT
until killed. Every request is appended to LOG as "METHOD PATH STATUS SENT", so a
test can count downloads, followed by "credentials" when the request carried an
Authorization header and "-" when not. With --user and --password, requests without those
basic credentials get 401 with a Basic challenge, as a private chart repository
answers. With --cert and --key (PEM), it speaks HTTPS.
"""
import argparse
import base64
import functools
import http.server
import ssl
import threading

parser = argparse.ArgumentParser()
parser.add_argument("root")
parser.add_argument("port", type=int)
parser.add_argument("log")
parser.add_argument("--user")
parser.add_argument("--password")
parser.add_argument("--cert")
parser.add_argument("--key")
args = parser.parse_args()

expected = None
if args.user is not None:
    expected = "Basic " + base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
log_lock = threading.Lock()


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_):  # keep test output quiet
        pass

    def log_request(self, code="-", size="-"):
        with log_lock, open(args.log, "a", encoding="utf-8") as f:
            sent = "credentials" if self.headers.get("Authorization") else "-"
            f.write(f"{self.command} {self.path} {int(code)} {sent}\n")

    def do_GET(self):
        if expected is not None and self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="charts"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


class Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True


server = Server(("127.0.0.1", args.port), functools.partial(Handler, directory=args.root))
if args.cert:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
