"""Fixtures for the contract tests, and the schemathesis.toml that hands
their ids to the operations.

Usage: schemathesis_fixtures.py BASE_URL OUT_TOML (ADMIN_EMAIL and
ADMIN_PASSWORD in the environment: the superadmin .ci/schemathesis.sh made).

Each path parameter is pinned to a fixture that exists, so the operations of
an organization's sub-resources get past `404`. An operation that destroys
or disables what it names (DELETE, ban, deactivate, revoke) gets a fixture of
its own, so that it cannot take the shared ones away from the operations
that run after it. The superadmin is never a target, and `POST /auth/logout`
and `DELETE /me/sessions[/{id}]` end a throwaway session instead of the
superadmin's.
"""

import base64
import json
import os
import sys
import urllib.error
import urllib.request

BASE, OUT = sys.argv[1], sys.argv[2]
API = BASE + "/api/v1"
token = None


def call(method, path, body=None, bearer=True, expect=(200, 201, 204)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(API + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if bearer and token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    if status not in expect:
        sys.exit(f"fixture {method} {path} answered {status}: {raw.decode(errors='replace')}")
    return json.loads(raw) if raw else None


def login(email, password):
    return call("POST", "/auth/login", {"email": email, "password": password}, bearer=False)["access_token"]


token = login(os.environ["ADMIN_EMAIL"], os.environ["ADMIN_PASSWORD"])
password = "contract-test-password"


def user(tag):
    return call("POST", "/users", {"email": f"{tag}@contract.example.com", "password": password, "name": tag})["id"]


def org(tag):
    return call("POST", "/orgs", {"name": f"Contract {tag}", "slug": f"contract-{tag}"})["id"]


# The shared organization and what it holds.
org_id = org("main")
role = call("POST", f"/orgs/{org_id}/roles", {"name": "front-desk", "permissions": ["users:read"]})
call("POST", f"/orgs/{org_id}/permissions", {"name": "reports:read", "description": "Read reports"})
call("POST", f"/orgs/{org_id}/permissions", {"name": "reports:write"})
location = call("POST", f"/orgs/{org_id}/locations", {"name": "Front", "timezone": "Europe/Copenhagen"})
member = user("member")
call("POST", f"/orgs/{org_id}/members", {"user_id": member, "role": "member"})
key = call("POST", f"/orgs/{org_id}/api-keys", {"name": "contract", "permissions": ["users:read"]})
invitation = call("POST", f"/orgs/{org_id}/invitations", {"email": "invitee@contract.example.com"})

# What the destructive operations may take away.
doomed_org = org("doomed")
doomed_role = call("POST", f"/orgs/{org_id}/roles", {"name": "doomed"})
doomed_location = call("POST", f"/orgs/{org_id}/locations", {"name": "Doomed", "timezone": "UTC"})
doomed_member = user("doomed-member")
call("POST", f"/orgs/{org_id}/members", {"user_id": doomed_member})
doomed_key = call("POST", f"/orgs/{org_id}/api-keys", {"name": "doomed"})
doomed_org_invitation = call("POST", f"/orgs/{org_id}/invitations", {"email": "doomed@contract.example.com"})
target_user = user("target")
doomed_user = user("doomed")
platform_invitation = call("POST", "/invitations", {"email": "platform-invitee@contract.example.com"})
doomed_platform_invitation = call("POST", "/invitations", {"email": "platform-doomed@contract.example.com"})
# An entry of the target's IP allowlist for the DELETE to take away.
doomed_allowed_ip = call("POST", f"/users/{target_user}/allowed-ips", {"cidr": "192.0.2.1"})
throwaway = user("throwaway")
throwaway_token = login("throwaway@contract.example.com", password)
# Whose sessions `DELETE /me/sessions[/{id}]` end: a second session of theirs is the pinned `{id}`.
user("sessions")
sessions_token = login("sessions@contract.example.com", password)
spare_token = login("sessions@contract.example.com", password)
spare_session = json.loads(base64.urlsafe_b64decode(spare_token.split(".")[1] + "=="))["sid"]
outbox = call("GET", "/outbox")["data"]
message = outbox[0]["id"] if outbox else "00000000-0000-7000-8000-000000000000"


def q(value):
    return json.dumps(value)


# Where a check cannot apply to an operation: the operation, the check, and
# why. Each entry switches that one check off for that one operation.
POSITIVE = "positive_data_acceptance"
EXCLUDED = {
    # Business rules that the schema cannot express.
    "GET /api/v1/users": (POSITIVE, "`filter` (SCIM grammar), `sort`/`fields` (no repeats), `after` (a cursor "
                          "the server issued) and `page` with `after` are refused by rules JSON Schema cannot state"),
    "GET /api/v1/users/count": (POSITIVE, "`filter` is a SCIM expression: its grammar is not a JSON Schema"),
    "GET /api/v1/orgs/{id}/members": (POSITIVE, "the query of GET /users: `filter`, `sort`, `fields`, `after`"),
    "POST /api/v1/auth/register": (POSITIVE, "the password policy is configuration (and must not be the email)"),
    "POST /api/v1/users": (POSITIVE, "`role` and `location_id` must name ones of the organization; "
                           "the password policy is configuration"),
    "PATCH /api/v1/users/{id}": (POSITIVE, "`role`, `location_id`, `managed_by` must name existing ones"),
    "PUT /api/v1/users/{id}": (POSITIVE, "`role` and `location_id` must name existing ones"),
    "POST /api/v1/me/password": (POSITIVE, "`current_password` must be the caller's password"),
    "POST /api/v1/me/email": (POSITIVE, "`current_password` must be the caller's password"),
    "POST /api/v1/orgs": (POSITIVE, "`owner_id` must name an existing user"),
    "PATCH /api/v1/orgs/{id}": (POSITIVE, "`password_policy` must be at least as strict as the platform's "
                                "(configuration)"),
    "POST /api/v1/orgs/{id}/roles": (POSITIVE, "`permissions` must be built in or registered"),
    "PATCH /api/v1/orgs/{id}/roles/{role}": (POSITIVE, "`permissions` must be built in or registered; built-in "
                                             "roles keep their names"),
    "POST /api/v1/orgs/{id}/members": (POSITIVE, "`user_id`, `role` and `location_id` must name existing ones"),
    "PATCH /api/v1/orgs/{id}/members/{user}": (POSITIVE, "`role` and `location_id` must name existing ones"),
    "PUT /api/v1/orgs/{id}/members/{user}/permissions": (POSITIVE, "`permissions` must be built in or registered"),
    "POST /api/v1/orgs/{id}/api-keys": (POSITIVE, "`permissions` must be registered and held by the creator; "
                                        "`expires_at` must be in the future"),
    "POST /api/v1/orgs/{id}/invitations": (POSITIVE, "`role` and `location_id` must name existing ones"),
    "POST /api/v1/auth/logout": (POSITIVE, "`refresh_token` is required exactly when the bearer token is not "
                                 "valid (as after the first logout): a schema cannot tie a body member to a header"),
    "POST /api/v1/orgs/{id}/permissions": (POSITIVE, "a built-in permission (`users:read`) has the shape of one "
                                           "to register but is refused"),
    # A picture's bytes: `format: binary` cannot say "a JPEG, PNG or WebP",
    # so generated bytes are `415 unsupported_image` (or `422 invalid_image`).
    "PUT /api/v1/me/avatar": (POSITIVE, "the bytes must be a JPEG, PNG or WebP picture"),
    "PUT /api/v1/users/{id}/avatar": (POSITIVE, "the bytes must be a JPEG, PNG or WebP picture"),
    "PATCH /api/v1/me/settings": (POSITIVE, "`reminder_advance` must be an ISO 8601 duration of at most a year, "
                                  "`default_location_id` a location of the user's organizations, `notifications` "
                                  "names `^[a-z][a-z0-9_]{0,39}$` (at most 50) and `app` at most 8 KiB: rules beyond "
                                  "the schema"),
    "PATCH /api/v1/users/{id}/settings": (POSITIVE, "as PATCH /me/settings"),
    "POST /api/v1/me/push-tokens": (POSITIVE, "the token's format depends on `provider` (Expo, FCM, APNs, an https "
                                    "Web Push endpoint)"),
    "GET /api/v1/push-tokens": (POSITIVE, "exactly one of `user_id` and `email` must be given"),
    "POST /api/v1/me/mfa/totp": (POSITIVE, "`current_password` must be the caller's password"),
    "DELETE /api/v1/me/mfa/totp": (POSITIVE, "`current_password` must be the caller's password and `code` a current "
                                   "one-time code"),
    "POST /api/v1/auth/mfa/verify": (POSITIVE, "`challenge` must be one the server issued, with a current code"),
    "POST /api/v1/users/{id}/allowed-ips": (POSITIVE, "`cidr` must be an IPv4 or IPv6 address or CIDR range: "
                                            "JSON Schema has formats for addresses, none for ranges"),
    "POST /api/v1/users/security": (POSITIVE, "exactly one of `user_ids` and `emails` must be given"),
    "POST /api/v1/allowed-ips": (POSITIVE, "exactly one of `user_ids` and `emails` must be given, and `cidr` must "
                                 "be an address or CIDR range"),
    "POST /api/v1/allowed-ips/remove": (POSITIVE, "as POST /allowed-ips"),
}
# A link token must be one the server mailed: a well-formed unknown one is
# `400 link_token_invalid` (or `410` once used). Still checked, with those allowed.
TOKEN_STATUSES = [200, 201, 202, 204, 400, 401, 403, 404, 409, 410, 429]
EXPECTED = {
    "POST /api/v1/auth/email/verify": TOKEN_STATUSES,
    "POST /api/v1/auth/password/reset": TOKEN_STATUSES,
    "POST /api/v1/auth/invitations/accept": TOKEN_STATUSES,
    "POST /api/v1/auth/org-invitations/accept": TOKEN_STATUSES,
}

operations = {}


def operation(name, **params):
    """Pins the path parameters of the operation `name` ("METHOD /path")."""
    operations.setdefault(name, {}).update(params)


def table(name, params):
    lines = ["[[operations]]", f"include-name = {q(name)}"]
    if params:
        pairs = ", ".join(f"{q(k)} = {q(v)}" for k, v in params.items())
        lines.append(f"parameters = {{ {pairs} }}")
    if name in EXCLUDED:
        check, why = EXCLUDED[name]
        lines.insert(0, f"# {check}: {why}")
        lines.append(f"checks.{check}.enabled = false")
    if name in EXPECTED:
        lines.append(f"checks.{POSITIVE}.expected-statuses = {q(EXPECTED[name])}")
    return "\n".join(lines) + "\n"


O = "/api/v1/orgs/{id}"
shared_org = {"path.id": org_id}
for method, path in [
    ("GET", O), ("PATCH", O),
    ("GET", O + "/roles"), ("POST", O + "/roles"),
    ("GET", O + "/permissions"), ("POST", O + "/permissions"),
    ("GET", O + "/locations"), ("POST", O + "/locations"),
    ("GET", O + "/members"), ("POST", O + "/members"),
    ("GET", O + "/api-keys"), ("POST", O + "/api-keys"),
    ("GET", O + "/invitations"), ("POST", O + "/invitations"),
]:
    operation(f"{method} {path}", **shared_org)
operation(f"DELETE {O}", **{"path.id": doomed_org})
for method in ["GET", "PATCH"]:
    operation(f"{method} {O}/roles/{{role}}", **shared_org, **{"path.role": role["id"]})
    operation(f"{method} {O}/locations/{{location}}", **shared_org, **{"path.location": location["id"]})
    operation(f"{method} {O}/members/{{user}}", **shared_org, **{"path.user": member})
operation(f"DELETE {O}/roles/{{role}}", **shared_org, **{"path.role": doomed_role["id"]})
operation(f"DELETE {O}/locations/{{location}}", **shared_org, **{"path.location": doomed_location["id"]})
operation(f"DELETE {O}/members/{{user}}", **shared_org, **{"path.user": doomed_member})
operation(f"DELETE {O}/permissions/{{name}}", **shared_org, **{"path.name": "reports:write"})
operation(f"GET {O}/members/{{user}}/permissions", **shared_org, **{"path.user": member})
operation(f"PUT {O}/members/{{user}}/permissions", **shared_org, **{"path.user": member})
operation(f"POST {O}/members/{{user}}/activate", **shared_org, **{"path.user": member})
operation(f"POST {O}/members/{{user}}/deactivate", **shared_org, **{"path.user": doomed_member})
operation(f"GET {O}/api-keys/{{key}}", **shared_org, **{"path.key": key["id"]})
operation(f"DELETE {O}/api-keys/{{key}}", **shared_org, **{"path.key": doomed_key["id"]})
operation(f"DELETE {O}/invitations/{{invitation}}", **shared_org,
          **{"path.invitation": doomed_org_invitation["id"]})

U = "/api/v1/users/{id}"
for method, path in [("GET", U), ("PATCH", U), ("PUT", U), ("POST", U + "/activate"),
                     ("POST", U + "/password-reset")]:
    operation(f"{method} {path}", **{"path.id": target_user})
for method, path in [("DELETE", U), ("POST", U + "/deactivate"), ("POST", U + "/ban")]:
    operation(f"{method} {path}", **{"path.id": doomed_user})
for method in ["GET", "PUT", "DELETE"]:
    operation(f"{method} {U}/avatar", **{"path.id": target_user})
# The target never signs in: it has no sessions to lose (a generated `sid` is `404`).
for method, path in [("GET", U + "/sessions"), ("DELETE", U + "/sessions"), ("DELETE", U + "/sessions/{sid}")]:
    operation(f"{method} {path}", **{"path.id": target_user})
for method, path in [("GET", U + "/allowed-ips"), ("POST", U + "/allowed-ips"), ("PATCH", U + "/security"),
                     ("GET", U + "/settings"), ("PATCH", U + "/settings")]:
    operation(f"{method} {path}", **{"path.id": target_user})
operation(f"DELETE {U}/allowed-ips/{{entry}}", **{"path.id": target_user, "path.entry": doomed_allowed_ip["id"]})
# `null` is the default picture (no other image exists in this run).
operation("GET /api/v1/images/{id}", **{"path.id": "null"})
operation("DELETE /api/v1/invitations/{id}", **{"path.id": doomed_platform_invitation["id"]})
operation("POST /api/v1/outbox/{id}/retry", **{"path.id": message})
for name in list(EXCLUDED) + list(EXPECTED):
    operation(name)


# The checks, here rather than on the command line: a check named there
# cannot be switched off for one operation.
CHECKS = ["not_a_server_error", "status_code_conformance", "response_schema_conformance",
          "content_type_conformance", "response_headers_conformance", "negative_data_rejection", POSITIVE]


def write(path, bearer, names):
    with open(path, "w") as f:
        f.write(f"""# Written by .ci/schemathesis_fixtures.py for one run.
[auth.openapi.bearer]
bearer = {q(bearer)}

[checks]
enabled = false
""")
        f.write("".join(f"{check}.enabled = true\n" for check in CHECKS) + "\n")
        f.write("\n".join(table(name, operations.get(name, {})) for name in names))


# What ends the session of its bearer token: logout, and ending one's own
# sessions (`scope=all`, or by an id that schemathesis takes from the
# answers of `GET /me/sessions`). .ci/schemathesis.sh names them too.
ENDING_SESSIONS = ["DELETE /api/v1/me/sessions", "DELETE /api/v1/me/sessions/{id}"]
operation("DELETE /api/v1/me/sessions/{id}", **{"path.id": spare_session})
# The main run: every operation but those, as the superadmin.
write(OUT, token, sorted(name for name in operations if name not in ["POST /api/v1/auth/logout"] + ENDING_SESSIONS))
# They get runs of their own, each as a throwaway account, so that the
# superadmin's token lasts the whole main run.
write(OUT.replace(".toml", "-logout.toml"), throwaway_token, ["POST /api/v1/auth/logout"])
write(OUT.replace(".toml", "-sessions.toml"), sessions_token, ["DELETE /api/v1/me/sessions/{id}"])
print(f"fixtures: organization {org_id}; {len(operations)} operations configured")
