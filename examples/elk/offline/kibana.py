"""A stand-in for Kibana (tscompose's examples/elk, compose.offline.yaml): reads config/kibana.yml (server.host,
server.name, elasticsearch.hosts, elasticsearch.username and .password, with ${VAR} from the environment) and serves
on 5601:

  GET /api/status   200 with status.overall.level "available" when it can log in to Elasticsearch as its user and
                    the cluster is not red; else 503 "unavailable" with the reason (as Kibana does while it waits)
  GET /             a page naming the cluster it reaches"""

import base64
import json
import os
import re
import signal
import socket
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOME = os.environ.get("STAND_IN_HOME", "/usr/share/kibana")
VERSION = os.environ.get("ELASTIC_VERSION", "8.17.4")


def log(msg):
    print(f"[kibana] {msg}", flush=True)


def read_settings():
    """Top-level `key: value` lines, `[ a, b ]` flow lists, ${VAR} substitution."""
    settings = {"server.host": "localhost", "server.port": "5601", "server.name": socket.gethostname(),
                "elasticsearch.hosts": ["http://localhost:9200"]}
    with open(os.path.join(HOME, "config", "kibana.yml")) as f:
        for line in f:
            line = line.split(" #", 1)[0].rstrip()
            if not line or line.startswith(("#", " ", "-")) or ":" not in line:
                continue
            k, _, v = line.partition(":")
            v = re.sub(r"\$\{([^}]+)\}", lambda m: os.environ.get(m.group(1), ""), v.strip())
            if v.startswith("["):
                v = [x.strip().strip("\"'") for x in v.strip("[]").split(",") if x.strip()]
            else:
                v = v.strip("\"'")
            settings[k.strip()] = v
    return settings


SETTINGS = read_settings()


def elasticsearch():
    """(level, summary, cluster) from GET /_cluster/health as elasticsearch.username."""
    hosts = SETTINGS["elasticsearch.hosts"]
    url = (hosts[0] if isinstance(hosts, list) else hosts).rstrip("/") + "/_cluster/health"
    headers = {}
    if SETTINGS.get("elasticsearch.username"):
        creds = f"{SETTINGS['elasticsearch.username']}:{SETTINGS.get('elasticsearch.password', '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(creds.encode()).decode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as res:
            health = json.load(res)
    except urllib.error.HTTPError as e:
        return "unavailable", f"Elasticsearch answered {e.code} to {SETTINGS.get('elasticsearch.username', 'anonymous')}", None
    except (OSError, ValueError) as e:
        return "unavailable", f"Unable to connect to Elasticsearch at {url}: {e}", None
    if health.get("status") == "red":
        return "unavailable", "Elasticsearch cluster is red", health.get("cluster_name")
    return "available", "Elasticsearch is available", health.get("cluster_name")


class Handler(BaseHTTPRequestHandler):
    server_version = "kibana-stand-in"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, ctype, data):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        level, summary, cluster = elasticsearch()
        if path == "/api/status":
            body = {"name": SETTINGS["server.name"], "version": {"number": VERSION, "build_flavor": "tscompose-stand-in"},
                    "status": {"overall": {"level": level, "summary": summary if level != "available" else "All services and plugins are available"},
                               "core": {"elasticsearch": {"level": level, "summary": summary}}}}
            # Compact JSON, as Kibana writes it (the healthcheck greps for "level":"available").
            data = json.dumps(body, separators=(",", ":")).encode()
            return self.send(200 if level == "available" else 503, "application/json; charset=utf-8", data)
        if path == "/":
            text = f"<!doctype html><title>Kibana stand-in</title><h1>Kibana stand-in</h1><p>{summary}" + \
                   (f" (cluster {cluster})" if cluster else "") + "</p>\n"
            return self.send(200 if level == "available" else 503, "text/html; charset=utf-8", text.encode())
        self.send(404, "application/json", b'{"statusCode":404,"error":"Not Found","message":"Not Found"}')


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    hosts = SETTINGS["elasticsearch.hosts"]
    log(f"stand-in for Kibana {VERSION}: {SETTINGS['server.name']}, Elasticsearch at {hosts}, "
        f"user {SETTINGS.get('elasticsearch.username', '-')}")
    server = ThreadingHTTPServer((SETTINGS["server.host"], int(SETTINGS["server.port"])), Handler)
    server.daemon_threads = True
    log(f"listening on {SETTINGS['server.host']}:{SETTINGS['server.port']}")
    server.serve_forever()
