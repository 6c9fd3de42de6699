variable "pulse_auth" {
  type      = string
  sensitive = true
}

# The stage app's own settings. Add-on vars (DATABASE_URL, REDIS_URL) and keys set in the
# dashboard are left alone.
resource "treeherder_config_vars" "stage" {
  app = "treeherder-stage" # name or UUID; another app replaces the resource

  vars = {
    NEW_RELIC_APP_NAME = "treeherder-stage"
    LOG_LEVEL          = "INFO"
  }

  # Plans name each key; the values show as (sensitive value).
  sensitive_vars = {
    PULSE_AUTH = { value = var.pulse_auth }
  }

  timeouts {
    update = "30m" # how long to wait for the release phase (default 20m)
  }
}
