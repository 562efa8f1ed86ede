# Default configuration of the container image: a persistent server on the data volume.
listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}

storage "sqlite" {
  path = "/var/lib/ferry/ferry.db"
}

# The URL clients (and AWS, for secrets sync's OIDC issuer) reach this server at. Set it here,
# or with `docker run -e VAULT_API_ADDR=https://ferry.example.com`; unset, it is the listener's
# own address (http://0.0.0.0:8200), which no one outside the container can use.
# api_addr = "https://ferry.example.com"

log_level = "info"

# The web UI at http://<host>:8200/ui/ (sign in with a token or userpass).
ui = true
