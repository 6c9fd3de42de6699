# The stage app's MySQL credentials, read from its DATABASE_URL at each run and never stored:
# here they become the password of a second account, through a write-only attribute.
ephemeral "treeherder_database_url" "stage" {
  app = "treeherder-stage"
}

resource "treeherder_readonly_user" "mirror" {
  name                = "stage_mirror"
  password_wo         = ephemeral.treeherder_database_url.stage.password
  password_wo_version = 1
}
