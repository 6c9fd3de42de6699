# Expire old data every night at 04:30 UTC on the production app.
resource "treeherder_scheduler_job" "cycle_data" {
  app       = "treeherder-prod" # name or UUID; changing it moves the job (replacement)
  command   = "./manage.py cycle_data"
  frequency = "every_day_at_4:30" # every_ten_minutes | every_hour_at_<0|10|20|30|40|50> | every_day_at_<H>:<00|30>
  dyno_size = "Standard-2X"       # optional, default "Standard-1X"
}

# Refresh the Bugzilla cache every hour, on the hour.
resource "treeherder_scheduler_job" "update_bugscache" {
  app       = "treeherder-prod"
  command   = "./manage.py update_bugscache"
  frequency = "every_hour_at_0"
}
