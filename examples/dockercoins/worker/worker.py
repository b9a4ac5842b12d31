"""worker: loops getting 32 random bytes from rng, hashing them with hasher and counting in redis.

Each unit of work increments `hashes` and this second's `hashes:<epoch second>` (kept a minute, read by webui for the
rate); a hash starting with "0" is a coin, kept in the `wallet` hash. It sleeps 0.1 s per unit, so more workers hash
more. HTTP goes through the standard library (urllib); connection errors (a service restarting) are logged and
retried.
"""
import logging
import os
import socket
import time
from urllib.request import Request, urlopen

from redis import Redis, RedisError

logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(message)s")
log = logging.getLogger("worker")
redis = Redis("redis")
hostname = socket.gethostname()


def get_random_bytes():
    with urlopen("http://rng/32", timeout=10) as r:
        return r.read()


def hash_bytes(data):
    req = Request("http://hasher/", data=data, headers={"Content-Type": "application/octet-stream"})
    with urlopen(req, timeout=10) as r:
        return r.read().decode()


def work_once():
    time.sleep(0.1)
    random_bytes = get_random_bytes()
    hex_hash = hash_bytes(random_bytes)
    second = f"hashes:{int(time.time())}"
    pipe = redis.pipeline()
    pipe.incr("hashes").incr(second).expire(second, 60)
    coin = hex_hash.startswith("0")
    if coin:
        pipe.hset("wallet", hex_hash, random_bytes)
    pipe.execute()
    return coin


def work_loop():
    deadline, done, coins = time.time() + 1, 0, 0
    while True:
        coins += work_once()
        done += 1
        if time.time() > deadline:
            log.info("%s: %d units of work done, %d coins found", hostname, done, coins)
            deadline, done, coins = time.time() + 1, 0, 0


if __name__ == "__main__":
    while True:
        try:
            work_loop()
        except (OSError, RedisError) as exc:  # URLError, HTTPError and timeouts are OSErrors
            log.warning("%s; retrying in 1 s", exc)
            time.sleep(1)
