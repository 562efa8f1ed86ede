# Default configuration of the container image: a persistent server on the data volume.
listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}

storage "sqlite" {
  path = "/var/lib/ferry/ferry.db"
}

log_level = "info"
