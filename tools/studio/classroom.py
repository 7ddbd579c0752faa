#!/usr/bin/env python3
"""Sets up a demo classroom on a running Qiming server and signs a student in
for the studio's connected-mode screenshot (tools/studio/screenshots.sh).

usage: classroom.py BASE_URL ADMIN_PASSWORD STUDIO_DATA_DIR...
Writes session.json (the server and the student's token, as the studio keeps
it after signing in) into each studio data folder.
"""
import json
import pathlib
import time
import sys
import urllib.request

base, admin_pw, *data_dirs = sys.argv[1:]


def call(method, path, token=None, body=None, content_type="application/json"):
    data = None if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return json.loads(text) if text else None


def login(user, pw):
    return call("POST", "/api/login", body={"username": user, "password": pw})["token"]


admin = login("admin", admin_pw)
region = call("POST", "/api/regions", admin, {"name": "示范市", "kind": "city"})
school = call("POST", "/api/schools", admin, {"name": "启明小学", "region_id": region["id"]})
call("POST", "/api/users", admin, {"username": "wang", "display_name": "王老师", "role": "teacher", "school_id": school["id"], "password": "teacher-pw-8841"})
teacher = login("wang", "teacher-pw-8841")
klass = call("POST", "/api/classes", teacher, {"name": "五年级（2）班"})
for lab, days in [("wall-stop", 2), ("first-drive", 6), ("square", 13)]:
    call("POST", f"/api/classes/{klass['id']}/assignments", teacher, {"lab_id": lab, "due_at": int(time.time()) + days * 86400 + 5 * 3600})
roster = call("POST", f"/api/classes/{klass['id']}/roster", teacher, "学号,姓名\n1,小明\n", "text/csv")
user, pw = roster["created"][0]["username"], roster["created"][0]["password"]
first = login(user, pw)
call("POST", "/api/password", first, {"current_password": pw, "new_password": "student-pw-5512"})
token = login(user, "student-pw-5512")
for d in data_dirs:
    path = pathlib.Path(d)
    path.mkdir(parents=True, exist_ok=True)
    (path / "session.json").write_text(json.dumps({"server": base, "username": user, "token": token}))
print(user)
