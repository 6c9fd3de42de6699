# The integration run: the real provider applies the module, then `terraform test` destroys
# what it made. The provider takes its settings from the environment (HEROKU_API_KEY, ...):
# run it against a sandbox or a throwaway app, never production.
provider "treeherder" {}

variables {
  app = "treeherder-prototype"
  jobs = {
    module_test = {
      command   = "./manage.py check"
      frequency = "every_day_at_3:00"
    }
  }
  web = {
    quantity = 1
    size     = "Standard-1X"
  }
  settings = {
    MODULE_TEST = "applied"
  }
  secrets = {
    MODULE_TEST_SECRET = "integration-secret-5b7d"
  }
}

run "applies_against_the_api" {
  command = apply

  assert {
    condition     = output.job_ids["module_test"] != ""
    error_message = "the Scheduler gave the job an id"
  }
  assert {
    condition     = treeherder_scheduler_job.this["module_test"].app_id == output.app_id
    error_message = "the job and the formation are on the same app"
  }
  assert {
    condition     = treeherder_config_vars.this.release_version != null
    error_message = "setting the config vars made a release"
  }
}
