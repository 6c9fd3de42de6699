# Unit runs: the module against a mock of the provider. No credentials, no API calls; the mock
# takes the provider's real schema, so attribute names and types are checked as usual.
mock_provider "treeherder" {
  # Computed attributes get these values at (mocked) apply instead of random strings.
  mock_resource "treeherder_scheduler_job" {
    defaults = {
      id     = "mock-job"
      app_id = "00000000-0000-4000-8000-000000000001"
    }
  }
  mock_resource "treeherder_formation" {
    defaults = {
      app_id = "00000000-0000-4000-8000-000000000001"
    }
  }
}

variables {
  app = "treeherder-stage"
  jobs = {
    cycle_data = {
      command   = "./manage.py cycle_data"
      frequency = "every_day_at_4:30"
      dyno_size = "Standard-2X"
    }
    update_bugscache = {
      command   = "./manage.py update_bugscache"
      frequency = "every_hour_at_0"
    }
  }
  web = {
    quantity        = 2
    size            = "Standard-2X"
    web_concurrency = 4
  }
  settings = {
    LOG_LEVEL = "INFO"
  }
  secrets = {
    PULSE_AUTH = "mock-pulse-secret"
  }
}

run "plans_one_scheduler_job_per_entry" {
  command = plan

  assert {
    condition     = length(treeherder_scheduler_job.this) == 2
    error_message = "one treeherder_scheduler_job per entry of var.jobs"
  }
  assert {
    condition     = treeherder_scheduler_job.this["cycle_data"].frequency == "every_day_at_4:30"
    error_message = "the job's frequency is passed as written"
  }
  assert {
    condition     = treeherder_scheduler_job.this["cycle_data"].dyno_size == "Standard-2X"
    error_message = "a job's dyno_size is passed when given"
  }
}

run "plans_the_web_formation" {
  command = plan

  assert {
    condition     = treeherder_formation.web.type == "web" && treeherder_formation.web.quantity == 2
    error_message = "two web dynos"
  }
  assert {
    condition     = treeherder_formation.web.web_concurrency == 4
    error_message = "web_concurrency is passed to the formation"
  }
}

run "secrets_are_nested_sensitive_values_only" {
  command = plan

  # sensitive_vars is a map of nested objects whose `value` the schema marks sensitive.
  assert {
    condition     = issensitive(treeherder_config_vars.this.sensitive_vars["PULSE_AUTH"].value)
    error_message = "a secret's value is sensitive in the plan"
  }
  assert {
    condition     = nonsensitive(treeherder_config_vars.this.sensitive_vars["PULSE_AUTH"].value) == "mock-pulse-secret"
    error_message = "the secret reaches sensitive_vars"
  }
  assert {
    condition     = !contains(keys(treeherder_config_vars.this.vars), "PULSE_AUTH")
    error_message = "a secret never goes to the plain vars"
  }
  assert {
    condition     = treeherder_config_vars.this.vars["LOG_LEVEL"] == "INFO"
    error_message = "plain settings go to vars"
  }
}

run "mocked_apply_fills_the_outputs" {
  command = apply

  assert {
    condition     = output.job_ids == { cycle_data = "mock-job", update_bugscache = "mock-job" }
    error_message = "job_ids maps each job to its (mocked) id"
  }
  assert {
    condition     = output.app_id == "00000000-0000-4000-8000-000000000001"
    error_message = "app_id comes from the formation"
  }
  assert {
    condition     = output.secret_names == toset(["PULSE_AUTH"])
    error_message = "secret_names lists the names, not the values"
  }
}

run "refuses_zero_web_dynos" {
  command = plan

  variables {
    web = {
      quantity = 0
      size     = "Standard-1X"
    }
  }

  expect_failures = [var.web]
}
