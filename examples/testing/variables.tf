variable "app" {
  description = "The Heroku app, by name or UUID."
  type        = string
}

variable "jobs" {
  description = "Scheduler jobs by name: command, frequency and optional dyno size."
  type = map(object({
    command   = string
    frequency = string
    dyno_size = optional(string)
  }))
  default = {}
}

variable "web" {
  description = "The web formation: at least one dyno, its size and optionally gunicorn's workers."
  type = object({
    quantity        = number
    size            = string
    web_concurrency = optional(number)
  })

  validation {
    condition     = var.web.quantity >= 1
    error_message = "web.quantity must be at least 1: this module never scales the web dynos to zero."
  }
}

variable "settings" {
  description = "Plain config vars, shown in plans."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Secret config vars; their values never show in plans."
  type        = map(string)
  sensitive   = true
  default     = {}
}
