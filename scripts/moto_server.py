"""moto_server with a control route for dating RDS snapshots and setting their status.

Why: moto makes every snapshot `available` at once with create time = now, has no state
transitions, and creates an automated snapshot only when an instance is created. Tests of
"the most recent available snapshot" need automated and manual snapshots at chosen times and
one still `creating` (no create time), so this launcher serves moto's own WSGI app (what the
`moto_server` console script serves) behind a small middleware that edits moto's RDS backend
in-process:

    POST /__treeherder/snapshots
    {"db_instance_identifier": "treeherder-prod", "snapshot_id": "rds:treeherder-prod-2026-11-28-03-00",
     "snapshot_type": "automated" | "manual", "status": "available" | "creating",
     "created_at": "2026-11-28T03:00:00Z" | null, "region": "us-east-1" (optional)}

creates the snapshot of an existing instance, or updates the one with that id; `created_at:
null` leaves SnapshotCreateTime out of DescribeDBSnapshots (moto's serializer skips None).
Answers 200 with the snapshot as JSON, 4xx with {"error": ...}.

    POST /__treeherder/instance-status
    {"db_instance_identifier": "treeherder-dev-bug1", "status": "creating" | null, "region": ...}

holds an instance in a status (it need not exist yet: a restore of that name is held as soon
as it is made) until a `null` status lets it go (it is then `available`), so a wait's timeout
can be seen through Terraform. Everything else goes to moto, after the automated snapshots of
deleted instances are dropped (RDS deletes them with the instance; moto keeps them).

Usage: python moto_server.py HOST PORT
"""

import json
import os
import re
import signal
import sys
from datetime import datetime, timezone

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.rds.models import rds_backends
from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

CONTROL_PREFIX = "/__treeherder/"
SNAPSHOT_TYPES = ("automated", "manual")
SNAPSHOT_STATUSES = ("available", "creating")
MAX_BODY_BYTES = 64 * 1024


class BadRequest(Exception):
    """A control request that cannot be honoured; `status` is the HTTP status to answer."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def parse_time(value):
    """ISO 8601 (`Z` or an offset) -> naive UTC, as moto stores times; None stays None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(400, "created_at must be an ISO 8601 string or null")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(400, f"created_at is not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise BadRequest(400, "created_at needs a time zone (e.g. a trailing Z)")
    return parsed.astimezone(timezone.utc).replace(tzinfo=None)


def format_time(value):
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def snapshot_json(snapshot):
    return {
        "db_instance_identifier": snapshot.db_instance_identifier,
        "snapshot_id": snapshot.db_snapshot_identifier,
        "snapshot_type": snapshot.snapshot_type,
        "status": snapshot.status,
        "created_at": format_time(snapshot.created),
        "region": snapshot.region,
        "arn": snapshot.arn,
    }


def put_snapshot(body):
    """Creates or updates one snapshot from a control request body; returns it as JSON."""
    if not isinstance(body, dict):
        raise BadRequest(400, "the body must be a JSON object")
    instance = body.get("db_instance_identifier")
    snapshot_id = body.get("snapshot_id")
    snapshot_type = body.get("snapshot_type")
    status = body.get("status")
    region = body.get("region") or "us-east-1"
    for name, value in (("db_instance_identifier", instance), ("snapshot_id", snapshot_id)):
        if not isinstance(value, str) or not value:
            raise BadRequest(400, f"{name} must be a non-empty string")
    if snapshot_type not in SNAPSHOT_TYPES:
        raise BadRequest(400, f"snapshot_type must be one of {SNAPSHOT_TYPES}")
    if status not in SNAPSHOT_STATUSES:
        raise BadRequest(400, f"status must be one of {SNAPSHOT_STATUSES}")
    if "created_at" not in body:
        raise BadRequest(400, "created_at is required (null for a snapshot still being created)")
    created_at = parse_time(body["created_at"])

    # RDS lower-cases identifiers; moto keys its dicts by what it was given.
    instance = instance.lower()
    snapshot_id = snapshot_id.lower()
    if snapshot_type == "automated":
        if not re.fullmatch(re.escape(f"rds:{instance}-") + r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}", snapshot_id):
            raise BadRequest(400, f"an automated snapshot id is rds:{instance}-YYYY-MM-DD-HH-MM")
    elif snapshot_id.startswith("rds:"):
        raise BadRequest(400, "a manual snapshot id cannot start with rds:")

    try:
        backend = rds_backends[DEFAULT_ACCOUNT_ID][region]
    except KeyError:
        raise BadRequest(400, f"unknown region {region!r}") from None
    if instance not in backend.databases:
        raise BadRequest(404, f"no DB instance {instance!r} in {region}")
    snapshot = backend.database_snapshots.get(snapshot_id)
    if snapshot is None:
        snapshot = backend.create_db_snapshot(instance, snapshot_id, snapshot_type=snapshot_type)
    elif snapshot.db_instance_identifier != instance:
        raise BadRequest(
            409, f"snapshot {snapshot_id!r} belongs to {snapshot.db_instance_identifier!r}"
        )
    snapshot.snapshot_type = snapshot_type
    snapshot.status = status
    # SnapshotCreateTime is a property over `created`; None makes moto leave both times out.
    snapshot.created = created_at
    snapshot.original_snapshot_create_time = created_at
    return snapshot_json(snapshot)


# (region, instance id) -> the status it is held in.
HELD = {}


def hold_status(body):
    """Records (or, with a null status, lifts) a hold; returns the holds as JSON."""
    if not isinstance(body, dict):
        raise BadRequest(400, "the body must be a JSON object")
    instance = body.get("db_instance_identifier")
    if not isinstance(instance, str) or not instance:
        raise BadRequest(400, "db_instance_identifier must be a non-empty string")
    status = body.get("status")
    if status is not None and not isinstance(status, str):
        raise BadRequest(400, "status must be a string or null")
    key = (body.get("region") or "us-east-1", instance.lower())
    if status is None:
        # Let go: the instance finishes what it was held in, as RDS's would.
        released = HELD.pop(key, None)
        database = rds_backends[DEFAULT_ACCOUNT_ID][key[0]].databases.get(key[1])
        if released is not None and database is not None and database.status == released:
            database.status = "available"
    else:
        HELD[key] = status
    apply_holds()
    return {"held": {f"{r}/{i}": s for (r, i), s in HELD.items()}}


def apply_holds():
    """Puts every held instance that exists back in its held status."""
    for (region, instance), status in HELD.items():
        database = rds_backends[DEFAULT_ACCOUNT_ID][region].databases.get(instance)
        if database is not None:
            database.status = status


def drop_orphan_automated_snapshots():
    """Deletes the automated snapshots of instances that no longer exist, as RDS does when an
    instance is deleted without retaining its automated backups (DeleteAutomatedBackups defaults
    to true). moto keeps them, and an instance of the same name restored again within the same
    minute then fails on its own automated snapshot's name (rds:<id>-<YYYY-MM-DD-HH-MM>)."""
    for backend in rds_backends[DEFAULT_ACCOUNT_ID].values():
        orphans = [
            snapshot_id
            for snapshot_id, snapshot in backend.database_snapshots.items()
            if snapshot.snapshot_type == "automated"
            and snapshot.db_instance_identifier not in backend.databases
        ]
        for snapshot_id in orphans:
            del backend.database_snapshots[snapshot_id]


def control(request):
    routes = {"snapshots": put_snapshot, "instance-status": hold_status}
    route = routes.get(request.path.rstrip("/")[len(CONTROL_PREFIX):])
    if route is None:
        raise BadRequest(404, f"no control route {request.path}")
    if request.method != "POST":
        raise BadRequest(405, "use POST")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise BadRequest(413, "body too large")
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError as err:
        raise BadRequest(400, f"the body is not JSON: {err}") from None
    return route(body)


class ControlMiddleware:
    """Serves CONTROL_PREFIX routes itself and hands every other request to moto."""

    def __init__(self, moto_app):
        self.moto_app = moto_app

    def __call__(self, environ, start_response):
        if not environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
            # Before moto answers: a held instance restored by the previous request shows its
            # held status from the next Describe on.
            apply_holds()
            drop_orphan_automated_snapshots()
            return self.moto_app(environ, start_response)
        try:
            status, answer = 200, control(Request(environ))
        except BadRequest as err:
            status, answer = err.status, {"error": err.message}
        response = Response(json.dumps(answer), status=status, mimetype="application/json")
        return response(environ, start_response)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: moto_server.py HOST PORT")
    host, port = sys.argv[1], int(sys.argv[2])
    # moto builds some URLs (e.g. SQS queue URLs) from MOTO_PORT, as moto_server sets it.
    os.environ.setdefault("MOTO_PORT", str(port))
    # As moto_server does: exit cleanly on SIGTERM (scripts/down.sh) and Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    moto_app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        host,
        port,
        ControlMiddleware(moto_app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
