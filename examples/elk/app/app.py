"""A stand-in application that ships its log lines to Logstash: every LOG_INTERVAL seconds one JSON object per line
on a TCP connection to LOGSTASH_HOST:LOGSTASH_PORT (the pipeline's `tcp` input with `codec => json_lines`).
It reconnects when the connection drops; a line that could not be sent is sent again."""

import json
import os
import signal
import socket
import sys
import time
from datetime import datetime, timezone

HOST = os.environ.get("LOGSTASH_HOST", "logstash")
PORT = int(os.environ.get("LOGSTASH_PORT", "50000"))
INTERVAL = float(os.environ.get("LOG_INTERVAL", "2"))
NAME = socket.gethostname()


def connect():
    while True:
        try:
            s = socket.create_connection((HOST, PORT), timeout=10)
            print(f"connected to {HOST}:{PORT}", flush=True)
            return s
        except OSError as e:
            print(f"cannot connect to {HOST}:{PORT}: {e}; again in 2 s", flush=True)
            time.sleep(2)


def main():
    sock = connect()
    seq = 0
    while True:
        seq += 1
        event = {
            "message": f"request {seq} handled",
            "app": "elk-example-app",
            "host_name": NAME,
            "seq": seq,
            "level": "info",
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        }
        line = (json.dumps(event) + "\n").encode()
        while True:
            try:
                sock.sendall(line)
                break
            except OSError as e:
                print(f"send failed: {e}; reconnecting", flush=True)
                sock.close()
                sock = connect()
        print(f"sent: {event['message']}", flush=True)
        time.sleep(INTERVAL)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
