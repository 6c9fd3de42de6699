# Import a job created in the dashboard by "<app name or UUID>:<job id>"; the job id is the
# `job=` number in the dashboard's Scheduler URL (…/resources/scheduler?job=1008).
terraform import treeherder_scheduler_job.cycle_data treeherder-prod:1008
