"""rng: serves random bytes over HTTP, with a little latency (GET /<n> answers n bytes from os.urandom)."""
import os
import socket
import time

from flask import Flask, Response

app = Flask(__name__)
hostname = socket.gethostname()


@app.route("/")
def index():
    return f"RNG running on {hostname}\n"


@app.route("/<int:how_many_bytes>")
def rng(how_many_bytes):
    time.sleep(0.1)  # the latency of a real entropy service
    return Response(os.urandom(min(how_many_bytes, 1024)), content_type="application/octet-stream")


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=80, threaded=True)
