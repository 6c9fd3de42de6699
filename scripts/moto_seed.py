"""Seeds the moto RDS/EC2 emulator with the shape of Treeherder's production database.

Creates (when missing) a VPC with two subnets, security group `treeherder_heroku-sg`, DB subnet
group `treeherder-dbgrp`, parameter group `treeherder-mysql57` and instance `treeherder-prod`
(MySQL 5.7, db.m4.xlarge). moto gives the instance one automated snapshot on creation (the only
way to get an automated one); two manual snapshots are added so "latest snapshot" logic has a
choice. Idempotent: a second run changes nothing. Prints a JSON summary (ids) on stdout.

Usage: python moto_seed.py ENDPOINT_URL
"""

import json
import sys

import boto3
from botocore.exceptions import ClientError

REGION = "us-east-1"
INSTANCE = "treeherder-prod"
SUBNET_GROUP = "treeherder-dbgrp"
PARAMETER_GROUP = "treeherder-mysql57"
SECURITY_GROUP = "treeherder_heroku-sg"
MANUAL_SNAPSHOTS = ["treeherder-prod-manual-1", "treeherder-prod-manual-2"]


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
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["treeherder-vpc"]}])["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
    else:
        vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": "treeherder-vpc"}])

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

    existing = {
        s["DBSnapshotIdentifier"]
        for s in rds.describe_db_snapshots(DBInstanceIdentifier=INSTANCE, SnapshotType="manual")["DBSnapshots"]
    }
    for name in MANUAL_SNAPSHOTS:
        if name not in existing:
            rds.create_db_snapshot(DBInstanceIdentifier=INSTANCE, DBSnapshotIdentifier=name)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: moto_seed.py ENDPOINT_URL")
    endpoint = sys.argv[1]
    ec2 = client("ec2", endpoint)
    rds = client("rds", endpoint)
    vpc_id, subnet_ids, sg_id = ensure_network(ec2)
    ensure_rds(rds, subnet_ids, sg_id)
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=INSTANCE)["DBSnapshots"]
    print(json.dumps({
        "region": REGION,
        "vpc_id": vpc_id,
        "subnet_ids": subnet_ids,
        "security_group_id": sg_id,
        "db_subnet_group": SUBNET_GROUP,
        "db_parameter_group": PARAMETER_GROUP,
        "db_instance": INSTANCE,
        "snapshots": sorted(
            ({"id": s["DBSnapshotIdentifier"], "type": s["SnapshotType"]} for s in snapshots),
            key=lambda s: s["id"],
        ),
    }, indent=2))


if __name__ == "__main__":
    main()
