# Rotate th_admin's password on treeherder-stage (the runbook's "Changing MySQL passwords"):
# a new random password, set in MySQL over TLS, proven to log in, then written into the
# app's DATABASE_URL (only its password part) in the same apply. Terraform >= 1.11: the
# password is in neither the state nor the plan file.
ephemeral "treeherder_password" "th_admin" {
  length = 40
}

resource "treeherder_database_password" "stage" {
  app                 = "treeherder-stage"
  username            = "th_admin" # optional: a DATABASE_URL holding another user fails the plan
  password_wo         = ephemeral.treeherder_password.th_admin.result
  password_wo_version = 1 # bump to rotate again
}

# After a reset from a production snapshot: no password given = "sync", i.e. make MySQL
# accept the password the app's DATABASE_URL already holds (set with the provider's admin
# login when the URL's password no longer works).
resource "treeherder_database_password" "prototype" {
  app = "treeherder-prototype"
}
