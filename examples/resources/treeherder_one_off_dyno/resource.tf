# Reset the Redis cache of treeherder-stage (the runbook's "Resetting the Redis cache": the
# one-off `./manage.py clear_cache` on the app owning the Heroku Redis add-on). The apply
# follows the dyno to its end, streams the command's output into Terraform's log and fails
# if the exit status is not 0. A new `snapshot` runs it again.
resource "treeherder_one_off_dyno" "clear_cache" {
  app          = "treeherder-stage"
  command      = "./manage.py clear_cache"
  size         = "standard-2x" # any case
  env          = { DJANGO_LOG_LEVEL = "INFO" }
  time_to_live = 3600 # seconds; Heroku stops the dyno after this (at most 86400)
  triggers     = { snapshot = "2026-12-02" }

  timeouts {
    create = "30m"
  }
}

# A long job started and left to run (`heroku run:detached`): the apply returns once the
# dyno is started; see its output with `heroku logs --app treeherder-prod --dyno <name>`.
resource "treeherder_one_off_dyno" "cycle_data" {
  app      = "treeherder-prod"
  command  = "./manage.py cycle_data"
  detached = true
  triggers = { run = "1" }
}

output "clear_cache_result" {
  # e.g. { dyno = "run.1234", exit_status = 0, output = "Cache cleared." }
  value = {
    dyno        = treeherder_one_off_dyno.clear_cache.name
    exit_status = treeherder_one_off_dyno.clear_cache.exit_status
    output      = treeherder_one_off_dyno.clear_cache.output_tail
  }
}
