"""A stand-in for Elasticsearch (tscompose's examples/elk, compose.offline.yaml): one node answering the part of the
REST API this example uses, on port 9200, with its data in /usr/share/elasticsearch/data (the compose volume), so
users and documents survive a restart.

  GET  /                               node and version
  GET  /_cluster/health                status green
  GET  /_nodes/process, /_nodes/stats/process   mlockall, max_file_descriptors (what the ulimits gave the process)
  GET  /_security/_authenticate        who you are
  PUT  /_security/role/NAME            role from JSON ({"indices": [{"names": [...], "privileges": [...]}]})
  POST /_security/user/NAME            create/update user ({"password", "roles"})
  POST /_security/user/NAME/_password  set a password (the built-in kibana_system too)
  GET  /_security/user/NAME
  POST /INDEX/_doc, PUT /INDEX/_doc/ID, POST /_bulk, POST /INDEX/_bulk   index documents
  GET  /INDEX/_search?q=FIELD:VALUE&size=N, GET /INDEX/_count?q=...    INDEX may hold * and commas
  GET  /_cat/indices?format=json

Security is on as xpack.security.enabled says: every request needs HTTP basic auth. 'elastic' is the superuser, with
the bootstrap password ELASTIC_PASSWORD until it is changed; other users may read cluster state, and write or read
the indices their roles name. Settings come from config/elasticsearch.yml and from environment variables with a dot
in their name (as the real image maps them)."""

import base64
import ctypes
import fnmatch
import hashlib
import json
import os
import resource
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

HOME = os.environ.get("STAND_IN_HOME", "/usr/share/elasticsearch")
DATA = os.path.join(HOME, "data")
VERSION = os.environ.get("ELASTIC_VERSION", "8.17.4")
RESERVED = ["elastic", "kibana_system", "logstash_system", "beats_system", "apm_system", "remote_monitoring_user"]
lock = threading.Lock()


def log(msg):
    print(f"[elasticsearch] {msg}", flush=True)


def read_settings():
    """Flat `key: value` lines of elasticsearch.yml, then environment variables with a dot in their name."""
    settings = {}
    try:
        with open(os.path.join(HOME, "config", "elasticsearch.yml")) as f:
            for line in f:
                line = line.split("#", 1)[0].rstrip()
                if not line or line.startswith((" ", "-")) or ":" not in line:
                    continue
                k, _, v = line.partition(":")
                settings[k.strip()] = v.strip().strip("\"'")
    except FileNotFoundError:
        pass
    settings.update({k: v for k, v in os.environ.items() if "." in k})
    return settings


SETTINGS = read_settings()
CLUSTER = SETTINGS.get("cluster.name", "docker-cluster")
NODE = SETTINGS.get("node.name", socket.gethostname())
SECURITY = SETTINGS.get("xpack.security.enabled", "true") == "true"


def lock_memory():
    """bootstrap.memory_lock: mlockall(2), which the memlock ulimit decides (as the real node does through JNA)."""
    if SETTINGS.get("bootstrap.memory_lock") != "true":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mlockall(1 | 2) != 0:  # MCL_CURRENT | MCL_FUTURE
        log(f"memory locking requested but failed: {os.strerror(ctypes.get_errno())} (memlock ulimit too low?)")
        return False
    return True


def hashed(password):
    return hashlib.sha256(password.encode()).hexdigest()


class Store:
    """Users, roles (JSON files) and indices (one JSON-lines file each) in the data directory."""

    def __init__(self):
        os.makedirs(os.path.join(DATA, "indices"), exist_ok=True)
        self.uuid = self._load("cluster.json", {"uuid": uuid.uuid4().hex[:22]})["uuid"]
        self._save("cluster.json", {"uuid": self.uuid})
        self.users = self._load("users.json", {})
        self.roles = self._load("roles.json", {})
        if "elastic" not in self.users:
            self.users["elastic"] = {"roles": ["superuser"], "hash": hashed(os.environ.get("ELASTIC_PASSWORD", ""))}
            self._save("users.json", self.users)
        self.indices = {}
        for name in sorted(os.listdir(os.path.join(DATA, "indices"))):
            with open(os.path.join(DATA, "indices", name)) as f:
                self.indices[name[: -len(".ndjson")]] = [json.loads(line) for line in f if line.strip()]
        docs = ", ".join(f"{k} ({len(v)} docs)" for k, v in self.indices.items())
        log(f"data: {len(self.users)} users, {len(self.roles)} roles, indices: {docs or 'none'}")

    def _load(self, name, default):
        try:
            with open(os.path.join(DATA, name)) as f:
                return json.load(f)
        except FileNotFoundError:
            return default

    def _save(self, name, value):
        tmp = os.path.join(DATA, name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(value, f)
        os.replace(tmp, os.path.join(DATA, name))

    def set_user(self, name, password=None, roles=None):
        u = self.users.setdefault(name, {"roles": []})
        if password is not None:
            u["hash"] = hashed(password)
        if roles is not None:
            u["roles"] = roles
        self._save("users.json", self.users)

    def set_role(self, name, body):
        self.roles[name] = body
        self._save("roles.json", self.roles)

    def add(self, index, doc_id, source):
        docs = self.indices.setdefault(index, [])
        doc = {"_id": doc_id or uuid.uuid4().hex[:20], "_source": source}
        docs.append(doc)
        with open(os.path.join(DATA, "indices", index + ".ndjson"), "a") as f:
            f.write(json.dumps(doc) + "\n")
        return doc["_id"], len(docs)


def matches(source, q):
    if not q:
        return True
    field, _, value = q.partition(":")
    v = source
    for part in field.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return v is not None and (str(v) == value or fnmatch.fnmatchcase(str(v), value))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "elasticsearch-stand-in"

    def log_message(self, fmt, *args):
        log(f"{self.address_string()} {fmt % args}")

    def send(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-elastic-product", "Elasticsearch")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def error(self, status, kind, reason, headers=None):
        self.send(status, {"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
                           "status": status}, headers)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def user(self):
        """The authenticated user's name, or None (answered 401)."""
        if not SECURITY:
            return "elastic"
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            name, _, password = base64.b64decode(auth[6:]).decode(errors="replace").partition(":")
            u = store.users.get(name)
            if u and u.get("hash") == hashed(password):
                return name
            reason = f"unable to authenticate user [{name}] for REST request [{self.path}]"
        else:
            reason = f"missing authentication credentials for REST request [{self.path}]"
        self.error(401, "security_exception", reason, {"WWW-Authenticate": 'Basic realm="security" charset="UTF-8"'})
        return None

    def allowed(self, user, index, privilege):
        """superuser: everything; others: what their roles grant on the index."""
        roles = store.users.get(user, {}).get("roles", [])
        if "superuser" in roles:
            return True
        for r in roles:
            for grant in store.roles.get(r, {}).get("indices", []):
                privs = set(grant.get("privileges", []))
                if privilege in privs or "all" in privs or (privilege == "create_doc" and privs & {"write", "create", "index"}):
                    if any(fnmatch.fnmatchcase(index, n) for n in grant.get("names", [])):
                        return True
        self.error(403, "security_exception",
                   f"action [indices:data/{'write' if privilege == 'create_doc' else 'read'}] is unauthorized for user [{user}] on indices [{index}]")
        return False

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def route(self, method):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = [unquote(p) for p in url.path.split("/") if p]
        raw = self.body()
        user = self.user()
        if user is None:
            return
        try:
            with lock:
                self.dispatch(method, parts, query, raw, user)
        except (ValueError, KeyError) as e:
            self.error(400, "parse_exception", f"{type(e).__name__}: {e}")

    def dispatch(self, method, parts, query, raw, user):
        superuser = "superuser" in store.users.get(user, {}).get("roles", [])
        if not parts:
            return self.send(200, {"name": NODE, "cluster_name": CLUSTER, "cluster_uuid": store.uuid,
                                   "version": {"number": VERSION, "build_flavor": "default",
                                               "build_type": "tscompose-stand-in"},
                                   "tagline": "You Know, for Search"})
        if parts == ["_cluster", "health"]:
            return self.send(200, {"cluster_name": CLUSTER, "status": "green", "timed_out": False,
                                   "number_of_nodes": 1, "number_of_data_nodes": 1,
                                   "active_primary_shards": len(store.indices), "active_shards": len(store.indices)})
        if parts[0] == "_nodes" and parts[-1] == "process":
            limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            info = {"name": NODE, "process": {"id": os.getpid(), "mlockall": MLOCKALL,
                                               "max_file_descriptors": limit}}
            return self.send(200, {"cluster_name": CLUSTER, "nodes": {store.uuid: info}})
        if parts == ["_security", "_authenticate"]:
            u = store.users[user]
            return self.send(200, {"username": user, "roles": u["roles"], "enabled": True})
        if parts[0] == "_security":
            if not superuser:
                return self.error(403, "security_exception", f"action [cluster:admin/xpack/security] is unauthorized for user [{user}]")
            if parts[1] == "role" and len(parts) == 3 and method in ("PUT", "POST"):
                created = parts[2] not in store.roles
                store.set_role(parts[2], json.loads(raw))
                return self.send(200, {"role": {"created": created}})
            if parts[1] == "user" and len(parts) == 3 and method == "GET":
                u = store.users.get(parts[2])
                if u is None and parts[2] not in RESERVED:
                    return self.send(404, {})
                u = u or {"roles": []}
                return self.send(200, {parts[2]: {"username": parts[2], "roles": u["roles"], "enabled": True,
                                                   "metadata": {"_reserved": True} if parts[2] in RESERVED else {}}})
            if parts[1] == "user" and len(parts) == 3 and method in ("PUT", "POST"):
                if parts[2] in RESERVED:
                    return self.error(400, "illegal_argument_exception", f"user [{parts[2]}] is reserved and only the password can be changed")
                body = json.loads(raw)
                created = parts[2] not in store.users
                store.set_user(parts[2], body.get("password"), body.get("roles", []))
                return self.send(200, {"created": created})
            if parts[1] == "user" and len(parts) == 4 and parts[3] == "_password" and method in ("PUT", "POST"):
                if parts[2] not in store.users and parts[2] not in RESERVED:
                    return self.error(404, "resource_not_found_exception", f"user [{parts[2]}] not found")
                store.set_user(parts[2], json.loads(raw)["password"])
                return self.send(200, {})
            return self.error(400, "illegal_argument_exception", f"no handler for [{method} {self.path}] in the stand-in")
        if parts[:2] == ["_cat", "indices"]:
            rows = [{"health": "green", "status": "open", "index": k, "docs.count": str(len(v))}
                    for k, v in sorted(store.indices.items())]
            return self.send(200, rows)
        if parts[-1] == "_bulk" and method in ("POST", "PUT"):
            return self.bulk(parts[0] if len(parts) == 2 else None, raw, user)
        if len(parts) >= 2 and parts[1] == "_doc" and method in ("POST", "PUT"):
            index = parts[0]
            if not self.allowed(user, index, "create_doc"):
                return None
            doc_id, n = store.add(index, parts[2] if len(parts) > 2 else None, json.loads(raw))
            return self.send(201, {"_index": index, "_id": doc_id, "_version": 1, "result": "created", "_seq_no": n - 1})
        if len(parts) == 2 and parts[1] in ("_search", "_count"):
            names = [n for pattern in parts[0].split(",") for n in store.indices if fnmatch.fnmatchcase(n, pattern)]
            if not names and "*" not in parts[0]:
                return self.error(404, "index_not_found_exception", f"no such index [{parts[0]}]")
            for n in names:
                if not self.allowed(user, n, "read"):
                    return None
            q = query.get("q")
            if raw:
                match = json.loads(raw).get("query", {}).get("match", {})
                if match:
                    (k, v), = match.items()
                    q = f"{k}:{v.get('query') if isinstance(v, dict) else v}"
            hits = [{"_index": n, "_id": d["_id"], "_score": 1.0, "_source": d["_source"]}
                    for n in names for d in store.indices[n] if matches(d["_source"], q)]
            if parts[1] == "_count":
                return self.send(200, {"count": len(hits)})
            size = int(query.get("size", 10))
            return self.send(200, {"took": 1, "timed_out": False,
                                   "hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits[-size:] if size else []}})
        return self.error(400, "illegal_argument_exception", f"no handler for [{method} {self.path}] in the stand-in")

    def bulk(self, default_index, raw, user):
        lines = [line for line in raw.decode().split("\n") if line.strip()]
        items = []
        errors = False
        for action_line, source_line in zip(lines[0::2], lines[1::2]):
            (op, meta), = json.loads(action_line).items()
            index = meta.get("_index", default_index)
            roles_ok = self.allowed_quiet(user, index)
            if op not in ("index", "create") or not roles_ok:
                errors = True
                err = {"type": "security_exception", "reason": f"action [indices:data/write/bulk[s]] is unauthorized for user [{user}] on indices [{index}]"} \
                    if not roles_ok else {"type": "illegal_argument_exception", "reason": f"bulk action {op} not in the stand-in"}
                items.append({op: {"_index": index, "status": 403 if not roles_ok else 400, "error": err}})
                continue
            doc_id, n = store.add(index, meta.get("_id"), json.loads(source_line))
            items.append({op: {"_index": index, "_id": doc_id, "result": "created", "status": 201, "_seq_no": n - 1}})
        return self.send(200, {"took": 1, "errors": errors, "items": items})

    def allowed_quiet(self, user, index):
        roles = store.users.get(user, {}).get("roles", [])
        if "superuser" in roles:
            return True
        for r in roles:
            for grant in store.roles.get(r, {}).get("indices", []):
                if set(grant.get("privileges", [])) & {"write", "create", "index", "create_doc", "all"} and \
                        any(fnmatch.fnmatchcase(index, n) for n in grant.get("names", [])):
                    return True
        return False


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log(f"stand-in for Elasticsearch {VERSION}: cluster {CLUSTER}, node {NODE}, security {'on' if SECURITY else 'off'}")
    MLOCKALL = lock_memory()
    log(f"mlockall: {MLOCKALL}; open files limit: {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}")
    store = Store()
    server = ThreadingHTTPServer(("0.0.0.0", 9200), Handler)
    server.daemon_threads = True
    log("started, listening on 0.0.0.0:9200")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
