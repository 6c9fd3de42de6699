# Restart the log parser and misc workers of treeherder-prod (the runbook's "Restarting
# dynos", `heroku ps:restart`). A new `at` makes a new restart; the apply waits until the
# restarted dynos are up again.
resource "treeherder_dyno_restart" "workers" {
  app           = "treeherder-prod"
  process_types = ["worker_log_parser", "worker_misc"] # omit to restart every dyno
  triggers      = { at = "2026-12-02T10:00Z" }
  wait          = true

  timeouts {
    create = "10m"
  }
}

output "restarted_dynos" {
  # e.g. { "worker_log_parser.1" = "up", "worker_misc.1" = "up" }
  value = treeherder_dyno_restart.workers.dynos
}
