variable "app" {
  description = "The Heroku app, by name or UUID."
  type        = string
  default     = "treeherder-prototype"
}

variable "pulse_auth" {
  description = "Pulse credentials; the workflows set TF_VAR_pulse_auth from the secret PULSE_AUTH."
  type        = string
  sensitive   = true
}
