"""A stand-in for Logstash (tscompose's examples/elk, compose.offline.yaml): reads config/logstash.yml and the
pipeline in /usr/share/logstash/pipeline/*.conf (Logstash's config language: sections, plugins, `key => value`
with strings, numbers, arrays and hashes; no conditionals) and runs the part of it this example uses:

  input  tcp { port codec => line|json_lines }   udp { port codec => plain|json }   (beats: not in the stand-in)
  filter mutate { add_field => { ... } }
  output elasticsearch { hosts user password index }   (_bulk, basic auth, ${VAR} from the environment;
         a batch that fails is sent again, with back-off, until Elasticsearch takes it)
         stdout { }

Its monitoring API listens on api.http.host:9600 once the inputs do: GET / (node info, status green),
GET /_node/stats/events (events in, filtered, out)."""

import base64
import json
import os
import queue
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOME = os.environ.get("STAND_IN_HOME", "/usr/share/logstash")
VERSION = os.environ.get("ELASTIC_VERSION", "8.17.4")
STATS = {"in": 0, "filtered": 0, "out": 0}
stats_lock = threading.Lock()


def log(msg):
    print(f"[logstash] {msg}", flush=True)


def count(key, n=1):
    with stats_lock:
        STATS[key] += n


# ---------------------------------------------------------------------------------------------------------------
# The config language

TOKEN = re.compile(r'\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|=>|[{}\[\],]|[^\s{}\[\],#"\'=]+|=')


def tokenize(text):
    out = []
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"cannot read the pipeline at offset {pos}: {text[pos:pos + 20]!r}")
        t = m.group(0)
        pos = m.end()
        if t.isspace() or t.startswith("#"):
            continue
        out.append(t)
    return out


class Parser:
    def __init__(self, text):
        self.toks = tokenize(text)
        self.pos = 0

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self, want=None):
        t = self.peek()
        if t is None or (want is not None and t != want):
            raise ValueError(f"pipeline: expected {want or 'more'}, found {t!r}")
        self.pos += 1
        return t

    def word(self):
        t = self.take()
        if t[0] in "\"'":
            return t[1:-1].encode().decode("unicode_escape")
        if t in ("{", "}", "[", "]", ",", "=>"):
            raise ValueError(f"pipeline: unexpected {t!r}")
        return t

    def value(self):
        t = self.peek()
        if t == "[":
            self.take("[")
            items = []
            while self.peek() != "]":
                items.append(self.value())
                if self.peek() == ",":
                    self.take(",")
            self.take("]")
            return items
        if t == "{":
            self.take("{")
            h = {}
            while self.peek() != "}":
                k = self.word()
                self.take("=>")
                h[k] = self.value()
                if self.peek() == ",":
                    self.take(",")
            self.take("}")
            return h
        w = self.word()
        if t[0] not in "\"'" and re.fullmatch(r"-?\d+", w):
            return int(w)
        return w

    def config(self):
        sections = {"input": [], "filter": [], "output": []}
        while self.peek() is not None:
            section = self.word()
            if section not in sections:
                raise ValueError(f"pipeline: unknown section {section!r}")
            self.take("{")
            while self.peek() != "}":
                plugin = self.word()
                if plugin in ("if", "else"):
                    raise ValueError("pipeline: conditionals are not in the stand-in")
                self.take("{")
                settings = {}
                while self.peek() != "}":
                    k = self.word()
                    self.take("=>")
                    settings[k] = self.value()
                self.take("}")
                sections[section].append((plugin, settings))
            self.take("}")
        return sections


def env_subst(value):
    """${VAR} and ${VAR:default}, as Logstash substitutes them in settings."""
    def repl(m):
        name, _, default = m.group(1).partition(":")
        if name not in os.environ and not default:
            raise ValueError(f"pipeline: environment variable {name} is not set")
        return os.environ.get(name, default)
    return re.sub(r"\$\{([^}]+)\}", repl, value) if isinstance(value, str) else value


def sprintf(value, event):
    """%{field}, %{[a][b]} and %{+YYYY.MM.dd} (the event's date)."""
    def repl(m):
        ref = m.group(1)
        if ref.startswith("+"):
            fmt = ref[1:].replace("YYYY", "%Y").replace("MM", "%m").replace("dd", "%d").replace("HH", "%H")
            return datetime.now(timezone.utc).strftime(fmt)
        v = event
        for part in re.findall(r"[^\[\]]+", ref):
            v = v.get(part) if isinstance(v, dict) else None
        return m.group(0) if v is None else str(v)
    return re.sub(r"%\{([^}]+)\}", repl, value)


# ---------------------------------------------------------------------------------------------------------------
# Events through the pipeline

def decode(line, codec, source):
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    event = None
    if codec in ("json_lines", "json"):
        try:
            event = json.loads(text)
        except ValueError:
            pass
        if not isinstance(event, dict):
            event = {"message": text, "tags": ["_jsonparsefailure"]}
    else:
        event = {"message": text}
    event.setdefault("@timestamp", datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    event.setdefault("@version", "1")
    event.setdefault("input", {"source": source})
    return event


class Pipeline:
    def __init__(self, config):
        self.filters = config["filter"]
        self.outputs = [make_output(name, s) for name, s in config["output"]]

    def push(self, event):
        count("in")
        for name, s in self.filters:
            if name == "mutate":
                for k, v in (s.get("add_field") or {}).items():
                    event[sprintf(k, event)] = sprintf(str(v), event)
            else:
                log(f"filter {name} is not in the stand-in: skipped")
        count("filtered")
        for out in self.outputs:
            out.put(event)


class StdoutOutput:
    def put(self, event):
        print(json.dumps(event), flush=True)


class ElasticsearchOutput:
    """Batches of up to 125 events to POST /_bulk; what is not taken is sent again (back-off up to 10 s)."""

    def __init__(self, s):
        hosts = s.get("hosts", "localhost:9200")
        host = (hosts if isinstance(hosts, list) else [hosts])[0]
        self.url = (host if "://" in host else "http://" + host).rstrip("/")
        self.auth = None
        if "user" in s:
            creds = f"{env_subst(s['user'])}:{env_subst(s.get('password', ''))}"
            self.auth = "Basic " + base64.b64encode(creds.encode()).decode()
        self.index = env_subst(s.get("index", "logstash-%{+YYYY.MM.dd}"))
        self.queue = queue.Queue()
        log(f"output elasticsearch: {self.url}, index {self.index}, user {env_subst(s.get('user', '-'))}")
        threading.Thread(target=self.run, daemon=True).start()

    def put(self, event):
        self.queue.put(event)

    def run(self):
        pending = []
        delay = 1
        while True:
            if not pending:
                pending.append(self.queue.get())
            deadline = time.monotonic() + 0.05
            while len(pending) < 125:
                try:
                    pending.append(self.queue.get(timeout=max(0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                pending = self.send(pending)
            except (OSError, ValueError) as e:
                log(f"output elasticsearch: {e}; {len(pending)} events kept, again in {delay} s")
                time.sleep(delay)
                delay = min(delay * 2, 10)
                continue
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 10)
            else:
                delay = 1

    def send(self, events):
        """Returns the events to send again."""
        body = "".join(json.dumps({"index": {"_index": sprintf(self.index, e)}}) + "\n" + json.dumps(e) + "\n" for e in events)
        req = urllib.request.Request(self.url + "/_bulk", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/x-ndjson", **({"Authorization": self.auth} if self.auth else {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                answer = json.load(res)
        except urllib.error.HTTPError as e:
            raise OSError(f"HTTP {e.code} {e.read()[:300].decode(errors='replace')}") from None
        again = []
        for event, item in zip(events, answer.get("items", [])):
            (result,) = item.values()
            status = result.get("status", 500)
            if status < 300:
                count("out")
            elif status in (403, 429) or status >= 500:
                again.append(event)
                log(f"output elasticsearch: {status} {result.get('error', {}).get('reason')}: sent again")
            else:
                log(f"output elasticsearch: dropped an event: {status} {result.get('error')}")
        return again


def make_output(name, s):
    if name == "elasticsearch":
        return ElasticsearchOutput(s)
    if name == "stdout":
        return StdoutOutput()
    raise ValueError(f"output {name} is not in the stand-in")


def start_input(name, s, pipeline):
    if name == "tcp":
        port, codec = int(s["port"]), s.get("codec", "line")

        class Lines(socketserver.StreamRequestHandler):
            def handle(self):
                peer = f"{self.client_address[0]}:{self.client_address[1]}"
                log(f"input tcp {port}: connection from {peer}")
                for line in self.rfile:
                    if line.strip():
                        pipeline.push(decode(line, codec, f"tcp {peer}"))
                log(f"input tcp {port}: {peer} closed")

        server = socketserver.ThreadingTCPServer((s.get("host", "0.0.0.0"), port), Lines, bind_and_activate=False)
        server.allow_reuse_address = True
        server.daemon_threads = True
        server.server_bind()
        server.server_activate()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        log(f"input tcp: listening on {port} (codec {codec})")
    elif name == "udp":
        port, codec = int(s["port"]), s.get("codec", "plain")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((s.get("host", "0.0.0.0"), port))

        def loop():
            while True:
                data, peer = sock.recvfrom(65536)
                pipeline.push(decode(data, "json" if codec in ("json", "json_lines") else "plain", f"udp {peer[0]}"))

        threading.Thread(target=loop, daemon=True).start()
        log(f"input udp: listening on {port} (codec {codec})")
    else:
        log(f"input {name} (port {s.get('port', '-')}) is not in the stand-in: skipped")


# ---------------------------------------------------------------------------------------------------------------
# The monitoring API

def api_handler(settings, node_id):
    class Api(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            pass

        def do_GET(self):
            path = self.path.split("?")[0].rstrip("/")
            info = {"host": socket.gethostname(), "version": VERSION, "http_address": f"0.0.0.0:{settings['api.http.port']}",
                    "id": node_id, "name": settings.get("node.name", socket.gethostname()), "ephemeral_id": node_id,
                    "status": "green", "snapshot": False, "pipeline": {"workers": 1, "batch_size": 125, "batch_delay": 50}}
            if path == "":
                body = info
            elif path in ("/_node/stats", "/_node/stats/events"):
                with stats_lock:
                    body = {**info, "events": dict(STATS)}
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Api


def read_settings():
    settings = {"api.http.host": "127.0.0.1", "api.http.port": "9600", "path.config": os.path.join(HOME, "pipeline")}
    try:
        with open(os.path.join(HOME, "config", "logstash.yml")) as f:
            for line in f:
                line = line.split("#", 1)[0].rstrip()
                if line and not line.startswith((" ", "-")) and ":" in line:
                    k, _, v = line.partition(":")
                    settings[k.strip()] = v.strip().strip("\"'")
    except FileNotFoundError:
        pass
    return settings


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings = read_settings()
    folder = settings["path.config"]
    files = sorted(f for f in os.listdir(folder) if f.endswith(".conf"))
    log(f"stand-in for Logstash {VERSION}: pipeline main from {folder}: {', '.join(files) or 'no .conf file'}")
    config = {"input": [], "filter": [], "output": []}
    for f in files:
        with open(os.path.join(folder, f)) as fh:
            for k, v in Parser(fh.read()).config().items():
                config[k] += v
    pipeline = Pipeline(config)
    for name, s in config["input"]:
        start_input(name, s, pipeline)
    api = ThreadingHTTPServer((settings["api.http.host"], int(settings["api.http.port"])), api_handler(settings, str(uuid.uuid4())))
    api.daemon_threads = True
    log(f"pipeline main started; API on {settings['api.http.host']}:{settings['api.http.port']}")
    api.serve_forever()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
