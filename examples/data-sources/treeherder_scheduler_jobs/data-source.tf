# The jobs made in the dashboard, with the import command of each (no `job=` number copied
# from a URL). A `treeherder_scheduler_job` with the listed command, frequency and dyno size,
# imported by the listed id, plans no change.
data "treeherder_scheduler_jobs" "prod" {
  app = "treeherder-prod" # name or UUID
}

output "import_commands" {
  value = [
    for job in data.treeherder_scheduler_jobs.prod.jobs :
    "terraform import treeherder_scheduler_job.job_${job.id} ${job.import_id}"
  ]
}

