# A new password at every run, never stored: hand it to a write-only attribute and bump the
# version companion to rotate.
ephemeral "treeherder_password" "redash" {
  length = 40
}

resource "treeherder_readonly_user" "redash" {
  name                = "redash"
  password_wo         = ephemeral.treeherder_password.redash.result
  password_wo_version = 1
}
