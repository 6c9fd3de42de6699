//! The initial world: Treeherder's three Heroku apps as they looked before the move off
//! Heroku (process types from the last Procfile), a `treeherder` pipeline and Scheduler jobs.
//! Ids are stable so tests and docs can refer to them.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::state::{
    Account, Addon, App, Collaborator, Coupling, Formation, Pipeline, Release, SandboxState,
    SchedulerJob, Slug, Team, User,
};

/// A stable, v4-shaped UUID for seeded object `n` of kind `kind`.
pub fn seed_id(kind: u16, n: u64) -> Uuid {
    Uuid::from_fields(
        0x7e4e_0000,
        kind,
        0x4000,
        &(0x8000_0000_0000_0000u64 | n).to_be_bytes(),
    )
}

const KIND_APP: u16 = 1;
const KIND_FORMATION: u16 = 2;
const KIND_RELEASE: u16 = 3;
const KIND_SLUG: u16 = 4;
const KIND_COLLABORATOR: u16 = 5;
const KIND_ADDON: u16 = 6;
const KIND_PIPELINE: u16 = 7;
const KIND_COUPLING: u16 = 8;
const KIND_USER: u16 = 9;
/// Kind for add-on services and plans (catalog entries).
pub const KIND_CATALOG: u16 = 10;

const SEED_TIME: &str = "2021-03-01T12:00:00Z";

const CELERY: &str = "REMAP_SIGTERM=SIGQUIT newrelic-admin run-program celery worker -A treeherder --without-gossip --without-mingle --without-heartbeat";

/// (size, quantity) of one formation.
type Scale = (&'static str, i64);

/// (process type, command, scale on [prototype, stage, prod]).
fn process_types() -> Vec<(&'static str, String, [Scale; 3])> {
    let worker = |queues: &str, concurrency: u32| {
        format!("{CELERY} -Q {queues} --concurrency={concurrency}")
    };
    vec![
        (
            "web",
            "newrelic-admin run-program gunicorn treeherder.config.wsgi:application --timeout 20"
                .to_string(),
            [("Standard-1X", 1), ("Standard-2X", 2), ("Performance-M", 3)],
        ),
        (
            "celery_scheduler",
            "REMAP_SIGTERM=SIGQUIT newrelic-admin run-program celery beat -A treeherder"
                .to_string(),
            [("Standard-1X", 1), ("Standard-1X", 1), ("Standard-1X", 1)],
        ),
        (
            "pulse_listener_pushes",
            "newrelic-admin run-program ./manage.py pulse_listener_pushes".to_string(),
            [("Standard-1X", 1), ("Standard-1X", 1), ("Standard-1X", 1)],
        ),
        (
            "pulse_listener_tasks",
            "newrelic-admin run-program ./manage.py pulse_listener_tasks".to_string(),
            [("Standard-1X", 1), ("Standard-1X", 1), ("Standard-2X", 2)],
        ),
        (
            "worker_store_pulse_data",
            worker("store_pulse_pushes,store_pulse_tasks", 3),
            [("Standard-1X", 1), ("Standard-2X", 2), ("Standard-2X", 4)],
        ),
        (
            "worker_log_parser",
            worker("log_parser", 7),
            [("Standard-1X", 1), ("Standard-2X", 2), ("Performance-M", 4)],
        ),
        (
            "worker_log_parser_fail_raw_sheriffed",
            worker("log_parser_fail_raw_sheriffed", 1),
            [("Standard-1X", 1), ("Standard-1X", 1), ("Standard-1X", 1)],
        ),
        (
            "worker_log_parser_fail_raw_unsheriffed",
            worker("log_parser_fail_raw_unsheriffed", 1),
            [("Standard-1X", 1), ("Standard-1X", 1), ("Standard-1X", 1)],
        ),
        (
            "worker_log_parser_fail_json_sheriffed",
            worker("log_parser_fail_json_sheriffed", 7),
            [("Standard-1X", 1), ("Standard-1X", 1), ("Standard-2X", 1)],
        ),
        (
            "worker_log_parser_fail_json_unsheriffed",
            worker("log_parser_fail_json_unsheriffed", 7),
            [("Standard-1X", 1), ("Standard-1X", 1), ("Standard-2X", 1)],
        ),
        (
            "worker_misc",
            worker(
                "default,generate_perf_alerts,pushlog,seta_analyze_failures",
                3,
            ),
            [("Standard-1X", 1), ("Standard-1X", 1), ("Standard-2X", 2)],
        ),
    ]
}

/// (service, plan, config vars, cents per month).
const ADDONS: &[(&str, &str, &[&str], i64)] = &[
    (
        "heroku-redis",
        "heroku-redis:premium-0",
        &["REDIS_URL"],
        1500,
    ),
    ("scheduler", "scheduler:standard", &[], 0),
    (
        "papertrail",
        "papertrail:choklad",
        &["PAPERTRAIL_API_TOKEN"],
        0,
    ),
    ("cloudamqp", "cloudamqp:tiger", &["CLOUDAMQP_URL"], 1900),
];

/// Builds the seed state.
pub fn seed_state() -> SandboxState {
    let account = Account {
        id: seed_id(KIND_USER, 1),
        email: "sandbox-owner@treeherder.example".to_string(),
        name: "Sandbox Owner".to_string(),
        created_at: SEED_TIME.to_string(),
    };
    let mut next_job_id = 1001;
    let mut apps = Vec::new();
    for (i, name) in [
        "treeherder-prototype",
        "treeherder-stage",
        "treeherder-prod",
    ]
    .iter()
    .enumerate()
    {
        apps.push(seed_app(i, name, &account, &mut next_job_id));
    }
    let pipeline = Pipeline {
        id: seed_id(KIND_PIPELINE, 1),
        name: "treeherder".to_string(),
        created_at: SEED_TIME.to_string(),
        updated_at: SEED_TIME.to_string(),
    };
    let couplings = [(1usize, "staging"), (2, "production")]
        .iter()
        .map(|(i, stage)| Coupling {
            id: seed_id(KIND_COUPLING, *i as u64),
            app_id: apps[*i].id,
            pipeline_id: pipeline.id,
            stage: (*stage).to_string(),
            created_at: SEED_TIME.to_string(),
            updated_at: SEED_TIME.to_string(),
        })
        .collect();
    SandboxState {
        account,
        apps,
        pipelines: vec![pipeline],
        couplings,
        promotions: Vec::new(),
        next_job_id,
        next_run_number: 1000,
        users: seed_users(),
        collaborator_linger_gets: DEFAULT_COLLABORATOR_LINGER_GETS,
        one_off_commands: super::heroku::one_off::seed_commands(),
        one_off_runs: Vec::new(),
        log_sessions: Vec::new(),
        dyno_restart: Default::default(),
        github: super::github::seed(),
    }
}

fn seed_app(index: usize, name: &str, account: &Account, next_job_id: &mut u64) -> App {
    let n = index as u64 + 1;
    let short = name.trim_start_matches("treeherder-");
    let mut config_vars = BTreeMap::new();
    let fake = |s: &str| s.to_string();
    config_vars.insert(
        fake("DATABASE_URL"),
        format!("mysql://th_admin:sandbox-db-password@treeherder-{short}.abcdefghij.us-east-1.rds.amazonaws.com:3306/treeherder"),
    );
    config_vars.insert(
        fake("REDIS_URL"),
        format!("redis://h:sandbox-redis-password@ec2-10-0-0-{n}.compute-1.amazonaws.com:6379"),
    );
    config_vars.insert(
        fake("CLOUDAMQP_URL"),
        format!("amqps://treeherder:sandbox-amqp-password@tiger.rmq.cloudamqp.com/{short}"),
    );
    config_vars.insert(
        fake("PAPERTRAIL_API_TOKEN"),
        format!("sandbox-papertrail-{n}"),
    );
    config_vars.insert(fake("NEW_RELIC_APP_NAME"), name.to_string());
    config_vars.insert(fake("SITE_URL"), format!("https://{name}.herokuapp.com"));
    config_vars.insert(
        fake("TREEHERDER_DJANGO_SECRET_KEY"),
        format!("sandbox-secret-{n}"),
    );
    config_vars.insert(
        fake("BUGZILLA_API_URL"),
        "https://bugzilla.mozilla.org".to_string(),
    );
    config_vars.insert(fake("WEB_CONCURRENCY"), "5".to_string());

    let mut process_map = BTreeMap::new();
    process_map.insert("release".to_string(), "./bin/pre_deploy".to_string());
    let mut formations = Vec::new();
    for (j, (ptype, command, sizes)) in process_types().into_iter().enumerate() {
        let (size, quantity) = sizes[index.min(2)];
        process_map.insert(ptype.to_string(), command.clone());
        formations.push(Formation {
            id: seed_id(KIND_FORMATION, n * 100 + j as u64),
            process_type: ptype.to_string(),
            command,
            quantity,
            size: size.to_string(),
            created_at: SEED_TIME.to_string(),
            updated_at: SEED_TIME.to_string(),
        });
    }
    let slugs: Vec<Slug> = [
        ("6e1b7c2a", "Bug 1700001 - Update dependencies"),
        ("9f04d1ab", "Bug 1700002 - Fix log parser"),
    ]
    .iter()
    .enumerate()
    .map(|(k, (commit, description))| Slug {
        id: seed_id(KIND_SLUG, n * 10 + k as u64),
        process_types: process_map.clone(),
        commit: Some(format!("{commit}{n:032}").chars().take(40).collect()),
        commit_description: Some((*description).to_string()),
        size: 180_000_000 + k as i64 * 1_000_000,
        created_at: SEED_TIME.to_string(),
    })
    .collect();
    let addon_plan_names: Vec<String> = ADDONS.iter().map(|a| a.1.to_string()).collect();
    let releases = vec![
        Release {
            id: seed_id(KIND_RELEASE, n * 10 + 1),
            version: 1,
            description: "Initial release".to_string(),
            slug_id: None,
            status: "succeeded".to_string(),
            config_vars: BTreeMap::new(),
            addon_plan_names: Vec::new(),
            created_at: SEED_TIME.to_string(),
            updated_at: SEED_TIME.to_string(),
            output_stream_url: None,
        },
        Release {
            id: seed_id(KIND_RELEASE, n * 10 + 2),
            version: 2,
            description: "Deploy 6e1b7c2a".to_string(),
            slug_id: Some(slugs[0].id),
            status: "succeeded".to_string(),
            config_vars: config_vars.clone(),
            addon_plan_names: addon_plan_names.clone(),
            created_at: SEED_TIME.to_string(),
            updated_at: SEED_TIME.to_string(),
            output_stream_url: None,
        },
        Release {
            id: seed_id(KIND_RELEASE, n * 10 + 3),
            version: 3,
            description: "Deploy 9f04d1ab".to_string(),
            slug_id: Some(slugs[1].id),
            status: "succeeded".to_string(),
            config_vars: config_vars.clone(),
            addon_plan_names,
            created_at: SEED_TIME.to_string(),
            updated_at: SEED_TIME.to_string(),
            output_stream_url: None,
        },
    ];
    let collaborators = vec![
        Collaborator {
            id: seed_id(KIND_COLLABORATOR, n * 10 + 1),
            user_id: account.id,
            email: account.email.clone(),
            role: "admin".to_string(),
            created_at: SEED_TIME.to_string(),
            updated_at: SEED_TIME.to_string(),
            permissions: all_permissions(),
            lingering_gets: None,
        },
        Collaborator {
            id: seed_id(KIND_COLLABORATOR, n * 10 + 2),
            user_id: seed_id(KIND_USER, 2),
            email: "treeherder-admin@mozilla.example".to_string(),
            role: "admin".to_string(),
            created_at: SEED_TIME.to_string(),
            updated_at: SEED_TIME.to_string(),
            permissions: all_permissions(),
            lingering_gets: None,
        },
    ];
    let addons = ADDONS
        .iter()
        .enumerate()
        .map(|(k, (service, plan, vars, cents))| Addon {
            id: seed_id(KIND_ADDON, n * 10 + k as u64),
            name: format!("{service}-{short}-{}", 1000 + n * 10 + k as u64),
            service_id: seed_id(KIND_CATALOG, 100 + k as u64),
            service_name: (*service).to_string(),
            plan_id: seed_id(KIND_CATALOG, 200 + k as u64),
            plan_name: (*plan).to_string(),
            config_vars: vars.iter().map(|v| (*v).to_string()).collect(),
            cents: *cents,
            created_at: SEED_TIME.to_string(),
            updated_at: SEED_TIME.to_string(),
        })
        .collect();
    let mut jobs = Vec::new();
    for (command, every, at) in [
        ("./manage.py update_bugscache", 60, 0),
        ("./manage.py cycle_data", 1440, 300),
        ("./manage.py run_intermittents_commenter", 1440, 0),
    ] {
        jobs.push(SchedulerJob {
            id: next_job_id.to_string(),
            command: command.to_string(),
            dyno_size: "Standard-1X".to_string(),
            every,
            at,
            created_at: SEED_TIME.to_string(),
            updated_at: SEED_TIME.to_string(),
        });
        *next_job_id += 1;
    }
    let mut app = App {
        id: seed_id(KIND_APP, n),
        name: name.to_string(),
        region: "us".to_string(),
        stack: "heroku-18".to_string(),
        build_stack: "heroku-18".to_string(),
        maintenance: false,
        created_at: SEED_TIME.to_string(),
        updated_at: SEED_TIME.to_string(),
        released_at: Some(SEED_TIME.to_string()),
        config_vars,
        formations,
        dynos: Vec::new(),
        releases,
        slugs,
        collaborators,
        addons,
        jobs,
        team: Some(treeherder_team()),
        builds: Vec::new(),
    };
    let types: Vec<String> = app
        .formations
        .iter()
        .map(|f| f.process_type.clone())
        .collect();
    for t in types {
        app.sync_dynos(&t);
    }
    app
}

/// The team owning Treeherder's three apps (Mozilla's Heroku Enterprise team).
pub const TEAM_NAME: &str = "mozilla";
/// GETs that still show a just-deleted collaborator, until changed through the control API.
pub const DEFAULT_COLLABORATOR_LINGER_GETS: u32 = 2;
// Far from the other kinds, which grow one by one.
const KIND_TEAM: u16 = 31;

/// The team of the seeded apps.
pub fn treeherder_team() -> Team {
    Team {
        id: seed_id(KIND_TEAM, 1),
        name: TEAM_NAME.to_string(),
    }
}

fn all_permissions() -> Vec<String> {
    ["deploy", "manage", "operate", "view"]
        .iter()
        .map(|p| (*p).to_string())
        .collect()
}

/// Accounts that can be invited: two team admins (already collaborators on every app), two
/// team members and one outside collaborator. Any other e-mail is unknown to Heroku.
fn seed_users() -> Vec<User> {
    [
        (2, "treeherder-admin@mozilla.example", Some("admin")),
        (3, "alice@mozilla.example", Some("member")),
        (4, "bob@mozilla.example", Some("member")),
        (5, "carol@contractor.example", None),
    ]
    .iter()
    .map(|(n, email, role)| User {
        id: seed_id(KIND_USER, *n),
        email: (*email).to_string(),
        team_roles: role
            .map(|r| BTreeMap::from([(TEAM_NAME.to_string(), r.to_string())]))
            .unwrap_or_default(),
    })
    .collect()
}
