# Treeherder's infrastructure runbook as code. `make demo` applies this directory against
# the local sandbox (Heroku, Heroku Scheduler, MariaDB with TLS); the provider reads its
# settings from the environment (HEROKU_API_KEY, HEROKU_API_URL, TREEHERDER_MYSQL_*), so
# the same files work against the real services from CI.

terraform {
  required_providers {
    treeherder = {
      source = "treeherder/treeherder"
    }
  }
}

provider "treeherder" {}
