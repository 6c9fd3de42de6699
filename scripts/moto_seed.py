"""Seeds the moto RDS/EC2 emulator with the shape of Treeherder's production database.

Creates (when missing) VPC `treeherder-prod-vpc` with two subnets, security group
`treeherder_heroku-sg`, DB subnet group `treeherder-dbgrp`, parameter group `treeherder-mysql57`
and instance `treeherder-prod` (MySQL 5.7, db.m4.xlarge). Its snapshots look like production's,
dated relative to today (UTC) through scripts/moto_server.py's control route, since moto dates
every snapshot "now" and never leaves one `creating`:

* automated `rds:treeherder-prod-YYYY-MM-DD-03-00` at 03:00 on each of the 3 days before today;
* automated `rds:treeherder-prod-<today>-03-00`, still `creating` with no create time: the
  newest by name, which "latest available snapshot" logic must skip;
* manual `treeherder-prod-manual-1` (5 days ago, 14:30) and `treeherder-prod-manual-2`
  (yesterday, 11:20: the newest available snapshot of all).

The automated snapshot moto makes when it creates the instance (dated "now") is deleted, so it
does not shadow the seeded ones. Idempotent: a second run creates nothing new and puts the
seeded snapshots back to their seeded state; snapshots a test added are left alone. Prints a
JSON summary on stdout: ids, the seeded snapshots as DescribeDBSnapshots returns them, and the
expected "latest available" answers among them (`latest_automated`, `latest_manual`,
`latest_any`); a test that adds a newer snapshot changes those answers itself.

Usage: python moto_seed.py ENDPOINT_URL
"""

import json
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
from botocore.exceptions import ClientError

REGION = "us-east-1"
INSTANCE = "treeherder-prod"
SUBNET_GROUP = "treeherder-dbgrp"
PARAMETER_GROUP = "treeherder-mysql57"
SECURITY_GROUP = "treeherder_heroku-sg"
VPC_NAME = "treeherder-prod-vpc"
# The Name tag older seeds gave the VPC; a world started by them is re-tagged.
OLD_VPC_NAMES = ["treeherder-vpc"]
# Automated backups run at 03:00 UTC, as production's backup window.
BACKUP_HOUR = 3


def client(service, endpoint):
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def error_code(err):
    return err.response.get("Error", {}).get("Code", "")


def describe_or_empty(call, key, **kwargs):
    """Returns the list under KEY of a Describe call, or [] when the call says "not found"."""
    try:
        return call(**kwargs)[key]
    except ClientError as err:
        if "NotFound" in error_code(err):
            return []
        raise


def ensure_network(ec2):
    """Returns (vpc_id, [subnet ids], security group id), creating what is missing."""
    vpcs = ec2.describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": [VPC_NAME] + OLD_VPC_NAMES}]
    )["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
        names = [t["Value"] for t in vpcs[0].get("Tags", []) if t["Key"] == "Name"]
        if names != [VPC_NAME]:
            ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": VPC_NAME}])
    else:
        vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": VPC_NAME}])

    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    if len(subnets) < 2:
        for cidr, zone in (("10.20.1.0/24", "us-east-1a"), ("10.20.2.0/24", "us-east-1b")):
            if not any(s["CidrBlock"] == cidr for s in subnets):
                ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    subnet_ids = sorted(s["SubnetId"] for s in subnets)

    groups = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [SECURITY_GROUP]}]
    )["SecurityGroups"]
    if groups:
        sg_id = groups[0]["GroupId"]
    else:
        sg_id = ec2.create_security_group(
            GroupName=SECURITY_GROUP,
            Description="MySQL access from Heroku dynos",
            VpcId=vpc_id,
        )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=sg_id,
            IpPermissions=[{
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "Heroku (no static egress IPs)"}],
            }],
        )
    return vpc_id, subnet_ids, sg_id


def ensure_rds(rds, subnet_ids, sg_id):
    # moto answers some Describe calls for a missing name with an empty list instead of an
    # error, so both shapes count as "missing".
    if not describe_or_empty(rds.describe_db_subnet_groups, "DBSubnetGroups", DBSubnetGroupName=SUBNET_GROUP):
        rds.create_db_subnet_group(
            DBSubnetGroupName=SUBNET_GROUP,
            DBSubnetGroupDescription="Treeherder database subnets",
            SubnetIds=subnet_ids,
        )

    if not describe_or_empty(
        rds.describe_db_parameter_groups, "DBParameterGroups", DBParameterGroupName=PARAMETER_GROUP
    ):
        rds.create_db_parameter_group(
            DBParameterGroupName=PARAMETER_GROUP,
            DBParameterGroupFamily="mysql5.7",
            Description="Treeherder MySQL 5.7 settings",
        )

    if not describe_or_empty(rds.describe_db_instances, "DBInstances", DBInstanceIdentifier=INSTANCE):
        rds.create_db_instance(
            DBInstanceIdentifier=INSTANCE,
            DBInstanceClass="db.m4.xlarge",
            Engine="mysql",
            EngineVersion="5.7.23",
            DBName="treeherder",
            AllocatedStorage=500,
            StorageType="gp2",
            MasterUsername="th_admin",
            MasterUserPassword="moto-does-not-check-this-password",
            DBSubnetGroupName=SUBNET_GROUP,
            DBParameterGroupName=PARAMETER_GROUP,
            VpcSecurityGroupIds=[sg_id],
            BackupRetentionPeriod=1,
            MultiAZ=True,
            PubliclyAccessible=True,
            Tags=[{"Key": "app", "Value": "treeherder"}, {"Key": "env", "Value": "prod"}],
        )


def planned_snapshots(now):
    """The seeded snapshots as control-route bodies, dated relative to NOW (aware, UTC)."""
    today = now.date()

    def at(day, hour, minute):
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.utc)

    def automated_id(day):
        return f"rds:{INSTANCE}-{day:%Y-%m-%d}-{BACKUP_HOUR:02d}-00"

    def body(snapshot_id, snapshot_type, status, created_at):
        return {
            "db_instance_identifier": INSTANCE,
            "snapshot_id": snapshot_id,
            "snapshot_type": snapshot_type,
            "status": status,
            "created_at": None if created_at is None else created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
        }

    plan = []
    for days_ago in (3, 2, 1):
        day = today - timedelta(days=days_ago)
        plan.append(body(automated_id(day), "automated", "available", at(day, BACKUP_HOUR, 0)))
    plan.append(body(automated_id(today), "automated", "creating", None))
    plan.append(body("treeherder-prod-manual-1", "manual", "available", at(today - timedelta(days=5), 14, 30)))
    plan.append(body("treeherder-prod-manual-2", "manual", "available", at(today - timedelta(days=1), 11, 20)))
    return plan


def put_snapshot(endpoint, snapshot):
    """POSTs one snapshot to moto_server.py's control route; returns its JSON answer."""
    request = urllib.request.Request(
        f"{endpoint}/__treeherder/snapshots",
        data=json.dumps(snapshot).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        sys.exit(f"moto control route refused {snapshot['snapshot_id']}: {err.code} {err.read().decode()}")


def ensure_snapshots(rds, endpoint, now):
    """Puts the planned snapshots in place; returns their ids."""
    plan = planned_snapshots(now)
    planned_ids = {s["snapshot_id"] for s in plan}
    instance = rds.describe_db_instances(DBInstanceIdentifier=INSTANCE)["DBInstances"][0]
    # moto's own automated snapshot of the instance, taken at its creation "now": it would be
    # the newest available one and hide the seeded dates.
    for snapshot in rds.describe_db_snapshots(DBInstanceIdentifier=INSTANCE, SnapshotType="automated")["DBSnapshots"]:
        created = snapshot.get("SnapshotCreateTime")
        if (
            snapshot["DBSnapshotIdentifier"] not in planned_ids
            and created is not None
            and abs((created - instance["InstanceCreateTime"]).total_seconds()) < 60
        ):
            rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot["DBSnapshotIdentifier"])
    for snapshot in plan:
        put_snapshot(endpoint, snapshot)
    return planned_ids


def iso(value):
    return None if value is None else value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def latest_available(snapshots, snapshot_type=None):
    """Id of the newest available snapshot (of SNAPSHOT_TYPE), skipping ones without a time."""
    candidates = [
        s for s in snapshots
        if s["Status"] == "available"
        and s.get("SnapshotCreateTime") is not None
        and snapshot_type in (None, s["SnapshotType"])
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda s: s["SnapshotCreateTime"])["DBSnapshotIdentifier"]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: moto_seed.py ENDPOINT_URL")
    endpoint = sys.argv[1]
    ec2 = client("ec2", endpoint)
    rds = client("rds", endpoint)
    vpc_id, subnet_ids, sg_id = ensure_network(ec2)
    ensure_rds(rds, subnet_ids, sg_id)
    seeded_ids = ensure_snapshots(rds, endpoint, datetime.now(timezone.utc))
    # Only the seed's own snapshots, as moto describes them: ones tests added (and may be
    # changing meanwhile) are theirs to account for.
    snapshots = [
        s for s in rds.describe_db_snapshots(DBInstanceIdentifier=INSTANCE)["DBSnapshots"]
        if s["DBSnapshotIdentifier"] in seeded_ids
    ]
    print(json.dumps({
        "region": REGION,
        "vpc_id": vpc_id,
        "subnet_ids": subnet_ids,
        "security_group_id": sg_id,
        "db_subnet_group": SUBNET_GROUP,
        "db_parameter_group": PARAMETER_GROUP,
        "db_instance": INSTANCE,
        "vpc_name": VPC_NAME,
        "snapshots": sorted(
            (
                {
                    "id": s["DBSnapshotIdentifier"],
                    "type": s["SnapshotType"],
                    "status": s["Status"],
                    "created_at": iso(s.get("SnapshotCreateTime")),
                }
                for s in snapshots
            ),
            key=lambda s: s["id"],
        ),
        "latest_automated": latest_available(snapshots, "automated"),
        "latest_manual": latest_available(snapshots, "manual"),
        "latest_any": latest_available(snapshots),
    }, indent=2))


if __name__ == "__main__":
    main()
