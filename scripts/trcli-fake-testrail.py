#!/usr/bin/env python3
"""A fake TestRail API v2 for scripts/trcli-check.sh: answers what trcli asks on its way from a
JUnit file to results (project 1 "jspec", suite 1, run 1) and appends every request, with its
JSON body, to a JSON-lines log. Standard library only; listens on 127.0.0.1 and writes the port
it got to a file.

    trcli-fake-testrail.py LOG PORT_FILE CASE_ID...
"""
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG, PORT_FILE = sys.argv[1], sys.argv[2]
CASE_IDS = [int(c.lstrip("C")) for c in sys.argv[3:]]
PROJECT = {"id": 1, "name": "jspec", "suite_mode": 3, "is_completed": False}
SUITE = {"id": 1, "name": "Master", "project_id": 1}


def page(key, items):
    return {"offset": 0, "limit": 250, "size": len(items), "_links": {"next": None, "prev": None}, key: items}


def case(case_id):
    return {"id": case_id, "title": f"C{case_id}", "section_id": 1, "suite_id": 1, "template_id": 2}


def answer(method, api, body):
    name = re.split(r"[/&]", api, maxsplit=1)[0]
    if name == "get_projects":
        return page("projects", [PROJECT])
    if name == "get_project":
        return PROJECT
    if name == "get_suites":
        return [SUITE]
    if name == "get_suite":
        return SUITE
    if name == "get_sections":
        return page("sections", [{"id": 1, "name": "Sample", "suite_id": 1, "parent_id": None}])
    if name == "get_cases":
        return page("cases", [case(c) for c in CASE_IDS])
    if name == "get_case":
        return case(int(api.split("/")[1].split("&")[0]))
    if name in ("add_run", "update_run", "get_run"):
        return {"id": 1, "name": (body or {}).get("name", "run"), "suite_id": 1, "project_id": 1,
                "url": "http://fake/index.php?/runs/view/1", "is_completed": False}
    if name == "get_tests":
        return page("tests", [{"id": 100 + c, "case_id": c, "status_id": 3} for c in CASE_IDS])
    if name == "add_results_for_cases":
        results = (body or {}).get("results", [])
        return [{"id": i + 1, "test_id": 100 + r.get("case_id", 0), "status_id": r.get("status_id")}
                for i, r in enumerate(results)]
    if name == "add_attachment_to_result":
        return {"attachment_id": 1}
    if name == "close_run":
        return {"id": 1, "is_completed": True}
    if name in ("get_statuses",):
        return [{"id": i, "name": n, "label": n.title()} for i, n in
                [(1, "passed"), (2, "blocked"), (3, "untested"), (4, "retest"), (5, "failed")]]
    return {}


class Handler(BaseHTTPRequestHandler):
    def handle_one(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        api = self.path.split("/api/v2/", 1)[-1]
        try:
            body = json.loads(raw) if raw and "json" in (self.headers.get("Content-Type") or "") else None
        except ValueError:
            body = None
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"method": method, "api": api, "body": body}) + "\n")
        data = json.dumps(answer(method, api, body)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.handle_one("GET")

    def do_POST(self):
        self.handle_one("POST")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE, "w", encoding="utf-8") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
