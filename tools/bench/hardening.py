#!/usr/bin/env python3
"""Hardening benchmarks against a running `qiming serve` (see hardening.sh).

  hardening.py logins BASE_URL SERVER_PID ACCOUNTS_FILE N
      N students (from ACCOUNTS_FILE, "<username> <password>" lines) sign in
      at the same moment from one address (a school behind one router),
      while a probe reads /healthz every 20 ms: the server's peak RSS
      (VmHWM), login outcomes, and the probe's p50/p99.
  hardening.py idle BASE_URL N SECONDS
      N idle sockets that never send a request, held for SECONDS, while the
      probe reads /healthz: how many the server closed, and the probe's p99.
  hardening.py flood BASE_URL FLOOD_PAIRS_FILE CLASSMATE_PAIRS_FILE HOSTILE_FILE REFERENCE_FILE K
      A flooding student submits K expensive programs; then a classmate
      submits the reference. Prints the classmate's wait (submit -> done).
"""
import http.client
import json
import socket
import statistics
import sys
import threading
import time
import urllib.parse


def conn(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def request(base, method, path, token=None, body=None):
    c = conn(base)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    c.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else None)


class Probe(threading.Thread):
    """Reads /healthz every 20 ms and records latencies (ms); failures as None."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.base, self.samples, self.stop = base, [], False

    def run(self):
        while not self.stop:
            t = time.perf_counter()
            try:
                status, _ = request(self.base, "GET", "/healthz")
                self.samples.append((time.perf_counter() - t) * 1000 if status == 200 else None)
            except Exception:  # noqa: BLE001 - a failed probe is a data point
                self.samples.append(None)
            time.sleep(0.02)

    def report(self):
        ok = sorted(s for s in self.samples if s is not None)
        failed = sum(1 for s in self.samples if s is None)
        if not ok:
            return f"probe: {failed} failed, none answered"
        p = lambda q: ok[min(len(ok) - 1, int(q * len(ok)))]  # noqa: E731
        return f"/healthz during the load: {len(ok)} answered, {failed} failed; p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {ok[-1]:.1f} ms"


def rss_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def logins(base, pid, accounts_file, n):
    n = int(n)
    accounts = [line.split() for line in open(accounts_file) if line.strip()][:n]
    n = len(accounts)
    before = rss_kib(pid, "VmRSS")
    probe = Probe(base)
    probe.start()
    outcomes, lock = {}, threading.Lock()
    barrier = threading.Barrier(n)
    def one(user, password):
        barrier.wait()
        try:
            status, _ = request(base, "POST", "/api/login", body={"username": user, "password": password})
        except Exception as e:  # noqa: BLE001
            status = type(e).__name__
        with lock:
            outcomes[status] = outcomes.get(status, 0) + 1
    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=(u, p)) for u, p in accounts]
    for t in threads:
        t.start()
    peak_during = 0
    while any(t.is_alive() for t in threads):
        peak_during = max(peak_during, rss_kib(pid, "VmRSS"))
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    time.sleep(0.5)
    probe.stop = True
    probe.join()
    after = rss_kib(pid, "VmRSS")
    print(f"{n} concurrent logins in {elapsed:.1f} s: outcomes {dict(sorted((str(k), v) for k, v in outcomes.items()))}")
    print(f"server RSS: before {before // 1024} MB, peak during {peak_during // 1024} MB (VmHWM {rss_kib(pid, 'VmHWM') // 1024} MB), after {after // 1024} MB")
    print(probe.report())


def idle(base, n, seconds):
    n, seconds = int(n), float(seconds)
    u = urllib.parse.urlparse(base)
    socks = []
    for _ in range(n):
        try:
            s = socket.create_connection((u.hostname, u.port), timeout=5)
            s.setblocking(False)
            socks.append(s)
        except OSError:
            break
    probe = Probe(base)
    probe.start()
    time.sleep(seconds)
    probe.stop = True
    probe.join()
    closed = 0
    for s in socks:
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print(f"{len(socks)} idle sockets held {seconds:.0f} s: the server closed {closed}")
    print(probe.report())


def wait_done(base, token, sid):
    c = conn(base)
    c.request("GET", f"/api/submissions/{sid}/events", headers={"Authorization": "Bearer " + token})
    r = c.getresponse()
    while True:
        line = r.fp.readline()
        if not line:
            raise RuntimeError("stream ended before the result")
        if line.startswith(b"data:") and (b'"status":"done"' in line or b'"status":"failed"' in line):
            c.close()
            return


def flood(base, flood_pairs, classmate_pairs, hostile_file, reference_file, k):
    k = int(k)
    flooder, faid = open(flood_pairs).readline().split()
    mate, maid = open(classmate_pairs).readline().split()
    hostile, reference = open(hostile_file).read(), open(reference_file).read()
    for _ in range(k):
        status, sub = request(base, "POST", f"/api/assignments/{faid}/submissions", flooder, {"language": "rhai", "program": hostile})
        assert status == 202, (status, sub)
    time.sleep(0.5)  # the workers are busy with the flood now
    t = time.perf_counter()
    status, sub = request(base, "POST", f"/api/assignments/{maid}/submissions", mate, {"language": "rhai", "program": reference})
    assert status == 202, (status, sub)
    wait_done(base, mate, sub["id"])
    print(f"classmate's wait behind {k} expensive submissions from one student: {(time.perf_counter() - t):.2f} s (submit -> graded)")


if __name__ == "__main__":
    {"logins": logins, "idle": idle, "flood": flood}[sys.argv[1]](*sys.argv[2:])
