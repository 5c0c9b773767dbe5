#!/usr/bin/env python3
"""Runs Crafty 4's API clients from PyPI, unchanged, against a fresh passgate (SPEC §12, §14).

  crafty-controller-api 0.1.4  (`Crafty`: requests, `Authorization: Bearer`, a JSON body on
                                every call, paths without a trailing slash)
  crafty-async-client 0.1.0    (`crafty_client.client.CraftyClient`: aiohttp, a base URL)
  crafty-client 2.0.0          (`crafty_client.crafty4.Crafty4`: the token in the query
                                string, refused on purpose)

Every check prints one line; the script exits 1 if any failed. Called by run.sh, which
installs the clients and ends the server by its id.
"""

import argparse
import asyncio
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
from harness import ADMIN, Http, Server, install_signal_exit, log, new_password  # noqa: E402

import requests  # noqa: E402  (installed with crafty-controller-api)
from crafty_controller_api import Crafty  # noqa: E402
from crafty_client.client import CraftyClient  # noqa: E402
from crafty_client.crafty4 import Crafty4  # noqa: E402

RESULTS = {"passed": 0, "failed": 0}


def check(cond, what, detail=""):
    RESULTS["passed" if cond else "failed"] += 1
    log(("ok   " if cond else "FAIL ") + what + ("" if cond else f"  [{detail}]"))


def api(server, method, path, token=None, body=None, scheme="Bearer"):
    headers = {"Authorization": f"{scheme} {token}"} if token else {}
    r = requests.request(method, server.base + "/api/v2" + path, headers=headers, json=body,
                         timeout=30)
    return r.status_code, r.json()


def key_create(binary, server, username, *flags):
    env = dict(os.environ, PASSGATE_DATABASE_URL=server.url, PASSGATE_LOG="warn")
    out = subprocess.run([binary, "key", "create", username, "--name", "console", *flags],
                         env=env, capture_output=True, text=True, timeout=60, check=True).stdout
    return next(word for word in out.split() if word.startswith("pgk_"))


async def async_client(server, token):
    async with CraftyClient(server.base, token, ssl=False) as client:
        users = await client._request("GET", "/api/v2/users/")
        ids = await client._request("GET", "/api/v2/users/", params={"ids": "true"})
        index = await client._request("GET", "/api/v2/")
        roles = await client._request("GET", "/api/v2/roles/", params={"ids": "true"})
        return users, ids, index, roles


def run(args):
    server = Server(args.binary, args.workdir, os.path.join(args.workdir, "clients.db"))
    server.start()
    try:
        temporary = server.admin_initial_password
        # A flagged user signs in through the client; the gate holds every other call.
        flagged = Crafty(host="127.0.0.1", port=server.port, username=ADMIN, password=temporary)
        check(bool(flagged.token), "crafty-controller-api signs in with the temporary password")
        check(flagged.users() == [], "the gate holds the flagged client (users() is empty)")
        status, body = api(server, "GET", "/users/", flagged.token)
        check(status == 403 and body["error"] == "PASSWORD_CHANGE_REQUIRED",
              "a trailing-slash twin is held too", (status, body))
        # The forced change through the API, as the README tells a flagged user.
        password = new_password("c")
        status, body = api(server, "PATCH", "/users/@me/", flagged.token, {"password": password},
                           scheme="bearer")
        check(status == 200 and "token" in body["data"], "forced change via PATCH /users/@me/",
              (status, body))

        admin = Crafty(host="127.0.0.1", port=server.port, username=ADMIN, password=password)
        check([u["username"] for u in admin.users()] == [ADMIN], "users()")
        me = admin.user(1)
        check(me.get("username") == ADMIN and me.get("roles") == [], "user(1)", me)
        public = admin.user_public_data(1)
        check(sorted(public) == ["created", "enabled", "lang", "roles", "superuser", "user_id",
                                 "username"], "user_public_data(1)", public)
        check(admin._make_request(path="/users/1/pfp") is None,
              "pfp answers null (a deliberate difference: user_picture() cannot use it)")

        # Crafty's user body and key creation.
        status, body = api(server, "POST", "/users/", admin.token, {
            "username": "mgr", "password": new_password("m"), "email": "mgr@example.org",
            "enabled": True, "superuser": False, "lang": "en_EN", "manager": None, "roles": [],
            "hints": False, "theme": "dark", "server_order": "", "dashboard_columns": "server",
            "permissions": [{"name": "USER_CONFIG", "quantity": -1, "enabled": True}]})
        check(status == 201, "POST /users/ with Crafty's fields", (status, body))
        mgr_id = int(body["data"]["user_id"])
        shown = admin.user(mgr_id)
        check((shown.get("theme"), shown.get("hints")) == ("dark", False),
              "Crafty's fields come back as given", shown)
        status, body = api(server, "PATCH", "/users/@me/key/", admin.token, {
            "name": "automation", "server_permissions_mask": "00000000",
            "crafty_permissions_mask": "010", "full_access": True})
        check(status == 200 and isinstance(body["data"].get("id"), int), "PATCH /users/@me/key/",
              (status, body))
        key = body["data"]["token"]
        status, body = api(server, "GET", "/users/@me/key/", key)
        check(status == 200 and body["data"][0]["crafty_permissions"] == "010",
              "the key list carries Crafty's names", body)
        status, body = api(server, "GET", f"/users/@me/key/{body['data'][0]['id']}/", key)
        check(status == 410 and body["error"] == "KEY_NOT_RETRIEVABLE",
              "a key's secret is not handed out again", (status, body))

        # Roles (SPEC §14): Crafty's body, the client's role calls, roles on user bodies.
        status, body = api(server, "POST", "/roles/", admin.token, {
            "name": "Ops", "servers": [], "manager": None, "mfa_required": False})
        check(status == 200 and isinstance(body["data"].get("role_id"), int),
              "POST /roles/ with Crafty's body answers the id as a number", (status, body))
        role_id = body["data"]["role_id"]
        roles = admin.roles()
        check([(r["role_id"], r["role_name"], r["mfa_required"]) for r in roles or []]
              == [(role_id, "ops", False)], "roles()", roles)
        role = admin.role(role_id)
        check(role.get("role_name") == "ops" and role.get("manager") is None, "role(id)", role)
        check(admin.role_servers(role_id) == [], "role_servers(id) is empty")
        status, body = api(server, "PATCH", f"/users/{mgr_id}/", admin.token, {"roles": [role_id]})
        check(status == 200 and body["data"]["roles"] == [role_id], "PATCH /users/{id} roles",
              (status, body))
        check(admin.role_users(role_id) == [mgr_id], "role_users(id)")
        shown = admin.user(mgr_id)
        check([r.get("role_name") for r in shown.get("roles", [])] == ["ops"],
              "user(id) carries role objects", shown)
        check(admin.role(424242) == {}, "role() of an unknown role is empty")
        status, body = api(server, "GET", "/roles/424242", admin.token)
        check((status, body.get("error")) == (404, "ROLE_NOT_FOUND"),
              "an unknown role is 404 ROLE_NOT_FOUND (Crafty: 500)", (status, body))
        status, body = api(server, "PATCH", f"/users/{mgr_id}/", admin.token, {"roles": [424242]})
        check((status, body.get("error")) == (400, "INVALID_ROLES"),
              "an unknown role id in a user body is refused", (status, body))
        check(admin.role_users(role_id) == [mgr_id], "... and nothing changed")

        users, ids, index, role_ids = asyncio.run(async_client(server, key))
        check(sorted(u["username"] for u in users) == [ADMIN, "mgr"], "async client: users", users)
        check(sorted(ids) == [1, mgr_id], "async client: ?ids=true", ids)
        check(index.get("version"), "async client: GET /api/v2/", index)
        check(role_ids == [role_id], "async client: GET /roles/?ids=true", role_ids)

        # A key made at the console works with the token-only client.
        console = key_create(args.binary, server, "mgr", "--user-config")
        as_mgr = Crafty(host="127.0.0.1", port=server.port, token=console)
        check([u["username"] for u in as_mgr.users()] == ["mgr"], "passgate key create", console)
        check(as_mgr.roles() is None, "a key without ROLES_CONFIG reads no roles")
        status, body = api(server, "GET", "/roles/", console)
        check((status, body.get("error")) == (403, "ACCESS_DENIED"),
              "... it is told 403 ACCESS_DENIED", (status, body))

        # API keys are exempt from the gate: reset admin with a forced change.
        status, _ = api(server, "POST", "/users/1/reset-password", console)
        check(status == 403, "a manager's key cannot reset a superuser")
        http_ = Http(server)
        r = http_.api("POST", f"/users/{mgr_id}/reset-password",
                      {"require_password_change": True}, token=admin.token)
        check(r.status == 200, "reset mgr with a forced change", r)
        http_.close()
        check([u["username"] for u in as_mgr.users()] == ["mgr"], "a flagged user's key still works")

        # crafty-client 2.0.0 sends the token in the query string: refused on purpose.
        status, error = Crafty4(server.base, key)._make_get_request("/api/v2/users/")
        check((status, error) == ("error", "ACCESS_DENIED"), "?token= is refused", (status, error))
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    install_signal_exit()
    run(args)
    log(f"crafty clients: {RESULTS['passed']} passed, {RESULTS['failed']} failed")
    sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()
