# The runbook's imperative operations as reviewed events. Each block runs once when applied
# and again only when one of its arguments changes: bump a `triggers` value in a reviewed
# change to do it again. Destroying (or deleting) a block only forgets it: nothing is undone
# on Heroku.

# "Resetting the Redis cache": the one-off `./manage.py clear_cache` on the app owning the
# Heroku Redis add-on. The apply waits for the command to exit, streams its output into
# Terraform's log (TF_LOG=INFO) and fails if it does not exit 0; `output_tail` keeps its
# last lines in the state. Bump `snapshot` to clear the cache again.
resource "treeherder_one_off_dyno" "clear_cache" {
  app      = "treeherder-stage"
  command  = "./manage.py clear_cache"
  size     = "standard-1x"
  triggers = { snapshot = "2026-12-02" }

  timeouts {
    create = "30m"
  }
}

# "Restarting dynos": the log parsers and the misc worker of treeherder-prod, waiting until
# they are up again. Bump `at` (to when you restart) when a restart is needed again: after
# a stuck queue, a memory leak (R14 errors in `heroku logs`), or a config change that needs
# no new release. Deploys and config-var changes restart dynos on their own; don't bump it
# for those.
resource "treeherder_dyno_restart" "workers" {
  app           = "treeherder-prod"
  process_types = ["worker_log_parser", "worker_misc"]
  triggers      = { at = "2026-12-02T10:00Z" }
  wait          = true

  timeouts {
    create = "10m"
  }
}

output "clear_cache_exit_status" {
  value = treeherder_one_off_dyno.clear_cache.exit_status
}
