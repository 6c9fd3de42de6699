//! A database of its own per test on the PostgreSQL of scripts/postgres-up.sh
//! (`$TREEHERDER_PG_URL`, set by scripts/test-env.sh), through `psql`: the `pg` backend's state
//! table and who holds or waits for its locks. Dropped (connections and all) at the end.

use std::process::Command;

use reqwest::Url;
use serde_json::Value;

pub struct TestDatabase {
    admin: Url,
    pub name: String,
}

/// A stored state: its serial, lineage and resources' addresses.
#[derive(Debug, Clone)]
pub struct StoredState {
    pub serial: u64,
    pub lineage: String,
    pub resources: Vec<String>,
}

impl TestDatabase {
    pub fn create(prefix: &str) -> TestDatabase {
        let url = std::env::var("TREEHERDER_PG_URL").unwrap_or_else(|_| {
            panic!(
                "TREEHERDER_PG_URL is not set: run `make up` and eval \"$(scripts/test-env.sh)\""
            )
        });
        let admin = Url::parse(&url).expect("TREEHERDER_PG_URL is a URL");
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let db = TestDatabase { admin, name };
        db.psql(db.admin.as_str(), &format!("CREATE DATABASE {}", db.name));
        db
    }

    /// The connection string of this database for lib/pq (Terraform's backend), naming the
    /// client `application_name` in pg_stat_activity.
    pub fn conn_str(&self, application_name: &str) -> String {
        let mut url = self.admin.clone();
        url.set_path(&format!("/{}", self.name));
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "application_name")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(pairs)
            .append_pair("application_name", application_name);
        url.to_string()
    }

    fn psql(&self, url: &str, sql: &str) -> String {
        let out = Command::new("psql")
            .args([url, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql (scripts/install-system-packages.sh installs it)");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `sql`'s rows in this database, `|`-separated.
    pub fn query(&self, sql: &str) -> String {
        self.psql(&self.conn_str("ci-workflows-test"), sql)
    }

    /// The states the backend stored, by workspace name.
    pub fn states(&self) -> Vec<(String, StoredState)> {
        let rows = self.query(
            "SELECT name || chr(9) || translate(encode(convert_to(data, 'UTF8'), 'base64'), E'\\n', '') \
             FROM terraform_remote_state.states ORDER BY name",
        );
        rows.lines()
            .map(|row| {
                let (name, data) = row.split_once('\t').expect("name and data");
                let json = base64_decode(data);
                let state: Value = serde_json::from_slice(&json).expect("state JSON");
                let resources = state["resources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| r["mode"] == "managed")
                    .flat_map(|r| {
                        let address = format!(
                            "{}.{}",
                            r["type"].as_str().unwrap_or_default(),
                            r["name"].as_str().unwrap_or_default()
                        );
                        let count = r["instances"].as_array().map_or(0, Vec::len);
                        std::iter::repeat_n(address, count)
                    })
                    .collect();
                let stored = StoredState {
                    serial: state["serial"].as_u64().expect("serial"),
                    lineage: state["lineage"].as_str().expect("lineage").to_string(),
                    resources,
                };
                (name.to_string(), stored)
            })
            .collect()
    }

    /// The `default` workspace's state, which must be the only one.
    pub fn default_state(&self) -> StoredState {
        let states = self.states();
        assert_eq!(states.len(), 1, "one state stored: {states:?}");
        let (name, state) = states.into_iter().next().expect("a state");
        assert_eq!(name, "default");
        state
    }

    /// Sessions of client `application_name` that hold a granted advisory lock (the `pg`
    /// backend's state lock).
    pub fn lock_holders(&self, application_name: &str) -> u64 {
        self.count(&format!(
            "SELECT count(DISTINCT a.pid) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid \
             WHERE a.datname = current_database() AND a.application_name = '{application_name}' \
             AND l.locktype = 'advisory' AND l.granted"
        ))
    }

    /// Sessions of client `application_name` whose last statement was the backend's lock
    /// attempt (`pg_try_advisory_lock` of the state's row and of -1, the creation lock) or, when
    /// the row's lock was taken, its release of the creation lock (`pg_advisory_unlock(-1)`),
    /// and that hold no advisory lock: they asked for the state's lock and were refused.
    pub fn refused_lockers(&self, application_name: &str) -> u64 {
        self.count(&format!(
            "SELECT count(*) FROM pg_stat_activity a \
             WHERE a.datname = current_database() AND a.application_name = '{application_name}' \
             AND (a.query LIKE '%pg_try_advisory_lock%' OR a.query LIKE '%pg_advisory_unlock(-1)%') \
             AND NOT EXISTS (SELECT 1 FROM pg_locks l \
             WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)"
        ))
    }

    fn count(&self, sql: &str) -> u64 {
        self.query(sql).parse().expect("a count")
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    let compact: String = text.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .expect("base64")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Best effort: a failed drop must not hide the test's own failure.
        let _ = Command::new("psql")
            .args([
                self.admin.as_str(),
                "-X",
                "-Atq",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}
