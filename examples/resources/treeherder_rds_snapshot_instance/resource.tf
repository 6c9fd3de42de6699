# The runbook's "Creating a temporary instance" in one apply: restore the latest automated
# snapshot of treeherder-prod (resolved when the plan is made, and named in it) with the
# runbook's settings, wait until the instance is available, set a new master password, and
# reboot it if its parameter group waits for one. Terraform >= 1.11: the password is in
# neither the state nor the plan file.
ephemeral "treeherder_password" "tmp" {
  length = 40 # RDS for MySQL takes at most 41 characters
}

resource "treeherder_rds_snapshot_instance" "bug1469837" {
  identifier      = "treeherder-dev-bug1469837"
  source_instance = "treeherder-prod" # or snapshot_identifier = "<a snapshot>"

  instance_class       = "db.m4.xlarge" # as dev/stage
  db_subnet_group_name = "treeherder-dbgrp"
  publicly_accessible  = true
  parameter_group_name = "treeherder-mysql57"
  # treeherder_heroku-sg, by id (RDS takes ids, not names); replaces the default group.
  vpc_security_group_ids = ["sg-0123456789abcdef0"]

  master_password_wo         = ephemeral.treeherder_password.tmp.result
  master_password_wo_version = 1 # bump to set a new password

  bug                 = 1469837 # tagged on the instance: delete it when the bug is closed
  skip_final_snapshot = true    # a throwaway copy: no final snapshot on destroy

  # A restore takes 15-20 minutes by the runbook; these leave room for a slow one.
  timeouts {
    create = "60m"
    update = "80m"
    delete = "60m"
  }
}

output "endpoint" {
  value = treeherder_rds_snapshot_instance.bug1469837.endpoint
}
