#!/usr/bin/env python3
"""Sets up a school for the server benchmarks through the public API.

Creates a region, a school, a teacher, a class of N students (who set their
own passwords) and A assignments of wall-stop with 100 attempts each, then
writes, one per line:
  submit.txt  "<token> <assignment id>"  pairs for the submission load
  read.txt    "<token> <submission id>"  pairs for the status-read load
  accounts.txt "<username> <password>" of every student
Usage: setup.py BASE_URL ADMIN_PASSWORD OUT_DIR [STUDENTS] [ASSIGNMENTS]
"""
import json
import sys
import urllib.request

base, admin_password, out = sys.argv[1], sys.argv[2], sys.argv[3]
students = int(sys.argv[4]) if len(sys.argv) > 4 else 100
assignments = int(sys.argv[5]) if len(sys.argv) > 5 else 10
REFERENCE = open(sys.argv[6]).read() if len(sys.argv) > 6 else "stop();"


def call(method, path, token=None, body=None, content_type="application/json"):
    data = None
    headers = {}
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req) as r:
        text = r.read().decode()
        return json.loads(text) if text else None


def login(user, password):
    return call("POST", "/api/login", body={"username": user, "password": password})["token"]


admin = login("admin", admin_password)
region = call("POST", "/api/regions", admin, {"name": "基准市", "kind": "city"})
school = call("POST", "/api/schools", admin, {"name": "基准学校", "region_id": region["id"]})
call("POST", "/api/users", admin, {"username": "bench-teacher", "display_name": "T", "role": "teacher", "school_id": school["id"], "password": "ocean-lamp-31"})
teacher = login("bench-teacher", "ocean-lamp-31")
klass = call("POST", "/api/classes", teacher, {"name": "基准班"})
roster = "学号,姓名\n" + "".join(f"{9000 + i},学生{i}\n" for i in range(students))
created = call("POST", f"/api/classes/{klass['id']}/roster", teacher, roster, "text/csv")["created"]
aids = [call("POST", f"/api/classes/{klass['id']}/assignments", teacher, {"lab_id": "wall-stop", "due_at": 4_000_000_000, "attempt_limit": 100})["id"] for _ in range(assignments)]
tokens = []
with open(f"{out}/accounts.txt", "w") as f:
    for c in created:
        f.write(f"{c['username']} river-kite-47\n")
for c in created:
    first = login(c["username"], c["password"])
    call("POST", "/api/password", first, {"current_password": c["password"], "new_password": "river-kite-47"})
    tokens.append(login(c["username"], "river-kite-47"))
with open(f"{out}/submit.txt", "w") as f:
    for t in tokens:
        for a in aids[1:]:
            f.write(f"{t} {a}\n")
with open(f"{out}/read.txt", "w") as f:
    # One graded submission per student on the first assignment, to read back.
    for t in tokens:
        s = call("POST", f"/api/assignments/{aids[0]}/submissions", t, {"language": "rhai", "program": REFERENCE})
        f.write(f"{t} {s['id']}\n")
with open(f"{out}/latency.txt", "w") as f:
    for t in tokens:
        f.write(f"{t} {aids[0]}\n")
print(f"{len(tokens)} students, {len(aids)} assignments")
