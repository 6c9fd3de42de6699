# Treeherder's Heroku Scheduler jobs on treeherder-prod, which the runbook says must be edited
# by hand in the dashboard (Resources → Heroku Scheduler).
#
# These jobs ALREADY EXIST on treeherder-prod (in the sandbox too: it seeds the same three
# jobs on every app). Applying this file into an empty state would create a second copy of
# each job, and every task would then run twice. So the first run imports them instead; the
# job id is the `job=` number in the dashboard's URL (in the sandbox: 1007, 1008, 1009):
#
#   terraform import treeherder_scheduler_job.update_bugscache            treeherder-prod:1007
#   terraform import treeherder_scheduler_job.cycle_data                  treeherder-prod:1008
#   terraform import treeherder_scheduler_job.run_intermittents_commenter treeherder-prod:1009
#
# After the imports the plan is empty: the values below are what Heroku holds. From then on
# a change here (say cycle_data at 4:30 instead of 5:00) is an in-place update of the job.
# Other apps (treeherder-stage, treeherder-prototype) carry their own copies of these jobs;
# manage them the same way, with `app` set to that app.
#
# WARNING: once imported, these jobs belong to this configuration. `terraform destroy` (or
# deleting a block below) DELETES the production Scheduler job, and the task stops running.
# To stop managing a job without deleting it, use `terraform state rm ADDRESS` instead.

resource "treeherder_scheduler_job" "update_bugscache" {
  app       = "treeherder-prod"
  command   = "./manage.py update_bugscache"
  frequency = "every_hour_at_0"
}

resource "treeherder_scheduler_job" "cycle_data" {
  app       = "treeherder-prod"
  command   = "./manage.py cycle_data"
  frequency = "every_day_at_5:00" # UTC
}

resource "treeherder_scheduler_job" "run_intermittents_commenter" {
  app       = "treeherder-prod"
  command   = "./manage.py run_intermittents_commenter"
  frequency = "every_day_at_0:00" # UTC
  dyno_size = "Standard-1X"
}
