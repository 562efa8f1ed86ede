"""The auth flows Python clients run, through hvac (Debian's python3-hvac 0.11), against a
Ferry listening on VAULT_ADDR. Prints one JSON object: each step's result, or the hvac
exception it raised (class and `errors`), for the TypeScript test to check."""
import json
import os
import sys

import hvac

addr = os.environ["VAULT_ADDR"]
inputs = json.loads(sys.stdin.read())
root = hvac.Client(url=addr, token=os.environ["VAULT_TOKEN"])
results = {}


def step(name, fn):
    try:
        results[name] = {"ok": fn()}
    except hvac.exceptions.VaultError as err:
        # hvac keeps `errors` for the statuses it knows; for others (409) the message holds them.
        results[name] = {"error": type(err).__name__, "errors": err.errors if err.errors is not None else err.args[0]}


def written(response):
    """A write's outcome: hvac hands back the HTTP response for a 204, the JSON for a 200 (warnings)."""
    return response.status_code if hasattr(response, "status_code") else {"warnings": response.get("warnings")}


def anonymous():
    return hvac.Client(url=addr)


# sys/auth
step("enable_approle", lambda: root.sys.enable_auth_method("approle", description="machines").status_code)
step("enable_userpass", lambda: root.sys.enable_auth_method("userpass").status_code)
step("enable_jwt", lambda: root.sys.enable_auth_method("jwt", config={"default_lease_ttl": "30m"}).status_code)
step("enable_again", lambda: root.sys.enable_auth_method("approle").status_code)
step("list", lambda: root.sys.list_auth_methods())
step("tuning", lambda: root.sys.read_auth_method_tuning("jwt"))

# AppRole: comma-joined lists, enable_local_secret_ids, a metadata dict sent as a JSON string.
step(
    "create_role",
    lambda: root.auth.approle.create_or_update_approle(
        "ci", token_policies=["ci", "deploy"], token_ttl="20m", secret_id_num_uses=2, secret_id_bound_cidrs=["127.0.0.0/8"]
    ).status_code,
)
step("read_role", lambda: root.auth.approle.read_role("ci")["data"])
role_id = root.auth.approle.read_role_id("ci")["data"]["role_id"]
secret = root.auth.approle.generate_secret_id("ci", metadata={"job": "42"})["data"]
step("secret", lambda: {k: type(v).__name__ for k, v in secret.items()})
step("accessors", lambda: root.auth.approle.list_secret_id_accessors("ci")["data"]["keys"] == [secret["secret_id_accessor"]])
step("lookup", lambda: root.auth.approle.read_secret_id("ci", secret["secret_id"])["data"]["metadata"])


def approle_login():
    client = anonymous()
    response = client.auth.approle.login(role_id=role_id, secret_id=secret["secret_id"])
    return {"auth": response["auth"], "authenticated": client.is_authenticated(), "token_set": client.token == response["auth"]["client_token"]}


step("approle_login_1", approle_login)
step("approle_login_2", approle_login)
step("approle_login_3", approle_login)
step("approle_unknown", lambda: anonymous().auth.approle.login(role_id="nope", secret_id="nope"))
step("approle_no_secret", lambda: anonymous().auth.approle.login(role_id=role_id))

# userpass
step("create_user", lambda: root.auth.userpass.create_or_update_user("alice", password="correct horse", policies="admins").status_code)


def userpass_login(password):
    def run():
        client = anonymous()
        response = client.auth.userpass.login("alice", password)
        return {"auth": response["auth"], "authenticated": client.is_authenticated()}

    return run


step("userpass_login", userpass_login("correct horse"))
step("userpass_wrong", userpass_login("wrong"))

# JWT: a CI role bound to one repository.
step("jwt_config", lambda: root.auth.jwt.configure(oidc_discovery_url=inputs["issuer"], bound_issuer=inputs["issuer"]).status_code)
step(
    "jwt_role",
    lambda: written(root.auth.jwt.create_role(
        "ci",
        role_type="jwt",
        user_claim="actor",
        allowed_redirect_uris=[],
        bound_audiences=["https://github.com/org"],
        bound_claims={"repository": "org/name"},
        claim_mappings={"repository": "repository"},
        token_policies=["ci"],
        token_ttl="15m",
    )),
)
step("jwt_read_role", lambda: root.auth.jwt.read_role("ci")["data"]["bound_claims"])
for name, token in inputs["jwts"].items():
    step("jwt_" + name, lambda token=token: anonymous().auth.jwt.jwt_login("ci", token)["auth"])

step("disable_approle", lambda: root.sys.disable_auth_method("approle").status_code)
step("approle_after_disable", lambda: hvac.Client(url=addr, token=results["approle_login_1"]["ok"]["auth"]["client_token"]).is_authenticated())

print(json.dumps(results))
