terraform {
  required_providers {
    treeherder = {
      source = "treeherder/treeherder"
    }
  }
}

# Every setting can come from the environment instead (HEROKU_API_KEY,
# TREEHERDER_MYSQL_PASSWORD, ...), which keeps secrets out of the repository.
provider "treeherder" {
  heroku {
    # api_key = var.heroku_api_key   # or HEROKU_API_KEY
  }

  mysql {
    # The PRIMARY instance: accounts are created there and replicate to treeherder-prod-ro.
    endpoint    = "treeherder-prod.HASH.us-east-1.rds.amazonaws.com:3306"
    username    = "th_admin"
    password    = var.mysql_admin_password
    tls_ca_file = "${path.module}/global-bundle.pem"

    # Through an SSH tunnel or bastion: connect to the local address, while TLS still checks
    # the certificate against the RDS host name (or TREEHERDER_MYSQL_TUNNELS).
    # tunnels = {
    #   "treeherder-prod.HASH.us-east-1.rds.amazonaws.com:3306" = "127.0.0.1:13306"
    # }
  }

  # Amazon RDS (treeherder_rds_snapshot, treeherder_rds_snapshot_instance). Credentials come
  # from the standard AWS chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, instance metadata, ...).
  aws {
    region = "us-east-1" # or AWS_REGION
  }
}

variable "mysql_admin_password" {
  type      = string
  sensitive = true
}
