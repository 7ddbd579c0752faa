#!/usr/bin/env python3
"""Submit-to-result latency: submits at a steady rate and times each
submission from the POST until its live status stream (SSE) says `done`.

Usage: latency.py BASE_URL PAIRS_FILE PROGRAM_FILE RATE_PER_S COUNT
PAIRS_FILE lines: "<token> <assignment id>". Prints p50, p90, p99, max (ms).
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

base, pairs_file, program_file, rate, count = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
url = urllib.parse.urlparse(base)
pairs = [line.split() for line in open(pairs_file) if line.strip()]
program = open(program_file).read()
results, failures = [], []
lock = threading.Lock()


def one(token, aid):
    start = time.perf_counter()
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        body = json.dumps({"language": "rhai", "program": program})
        conn.request("POST", f"/api/assignments/{aid}/submissions", body, {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = conn.getresponse()
        sub = json.loads(r.read())
        if r.status != 202:
            raise RuntimeError(f"{r.status} {sub}")
        conn.request("GET", f"/api/submissions/{sub['id']}/events", headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        while True:
            line = r.fp.readline()
            if not line:
                raise RuntimeError("stream ended before the result")
            if line.startswith(b"data:") and (b'"status":"done"' in line or b'"status":"failed"' in line):
                break
        conn.close()
        with lock:
            results.append((time.perf_counter() - start) * 1000)
    except Exception as e:  # noqa: BLE001 - reported below
        with lock:
            failures.append(str(e))


threads = []
t0 = time.perf_counter()
for i in range(count):
    token, aid = pairs[i % len(pairs)]
    due = t0 + i / rate
    time.sleep(max(0.0, due - time.perf_counter()))
    th = threading.Thread(target=one, args=(token, aid))
    th.start()
    threads.append(th)
for th in threads:
    th.join()
results.sort()
if not results:
    sys.exit(f"no results; failures: {failures[:3]}")


def pct(p):
    return results[min(len(results) - 1, int(p / 100 * len(results)))]


print(f"latency_ms n={len(results)} p50={pct(50):.0f} p90={pct(90):.0f} p99={pct(99):.0f} max={results[-1]:.0f} failures={len(failures)}")
