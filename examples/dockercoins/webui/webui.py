"""webui: the hashing rate, read from redis.

GET /json answers {"hashrate": hashes per second over the last 5 whole seconds, "hashes": total, "coins": coins in
the wallet, "now": epoch seconds}; GET / is a page that shows it, refreshed every second.
"""
import time

from flask import Flask, jsonify
from redis import Redis

WINDOW = 5  # seconds
app = Flask(__name__)
redis = Redis("redis")

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>DockerCoin Miner WebUI</title></head>
<body style="font-family: sans-serif">
<h1>DockerCoin Miner WebUI</h1>
<p>Current mining speed: <b id="rate">…</b> hashes/second; <span id="coins">…</span> coins mined so far.</p>
<script>
async function refresh() {
  try {
    const s = await (await fetch("json")).json();
    document.getElementById("rate").textContent = s.hashrate.toFixed(1);
    document.getElementById("coins").textContent = s.coins;
  } catch (e) {}
}
refresh();
setInterval(refresh, 1000);
</script>
</body></html>
"""


@app.route("/")
def index():
    return PAGE


@app.route("/json")
def stats():
    now = time.time()
    second = int(now)
    pipe = redis.pipeline()
    pipe.mget([f"hashes:{s}" for s in range(second - WINDOW, second)])
    pipe.get("hashes")
    pipe.hlen("wallet")
    recent, hashes, coins = pipe.execute()
    return jsonify(hashrate=sum(int(v or 0) for v in recent) / WINDOW, hashes=int(hashes or 0), coins=coins, now=now)


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=80, threaded=True)
