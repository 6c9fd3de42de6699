output "job_ids" {
  description = "The Scheduler's job id of each job, by name."
  value       = { for name, job in treeherder_scheduler_job.this : name => job.id }
}

output "app_id" {
  description = "The app's UUID."
  value       = treeherder_formation.web.app_id
}

output "secret_names" {
  description = "The names of the secret config vars (the names are not secret; the values are)."
  value       = nonsensitive(toset(keys(var.secrets)))
}
