//! A handle on the world's moto (`scripts/moto-up.sh`): its control route for snapshots at
//! chosen times and states (`scripts/moto_server.py`), its RDS Query API, and the seed's
//! summary (`.run/moto/seed.json`, with the expected "latest snapshot" answers).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::paths::repo_root;
use super::world::World;

/// The RDS API version moto's Query protocol answers.
const RDS_API_VERSION: &str = "2014-10-31";

/// The start of a configuration using the RDS resources against the world's moto: the
/// provider, polling every 100 ms (moto answers at once; the default 15 s would only slow the
/// tests). Settings come from the world's environment.
pub const RDS_PROVIDER_CONFIG: &str = r#"
terraform {
  required_providers {
    treeherder = { source = "treeherder/treeherder" }
  }
}

provider "treeherder" {
  aws {
    poll_interval = "100ms"
  }
}
"#;

/// Every text value of the XML element `name` in one of moto's answers, in order.
pub fn xml_elements(xml: &str, name: &str) -> Vec<String> {
    // `name` is an element name (letters only), so the pattern is always valid.
    regex::Regex::new(&format!("<{name}>([^<]*)</{name}>"))
        .map(|pattern| {
            pattern
                .captures_iter(xml)
                .map(|c| c[1].to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The first text value of the XML element `name` in one of moto's answers.
pub fn xml_element(xml: &str, name: &str) -> Option<String> {
    xml_elements(xml, name).into_iter().next()
}
/// moto accepts any signature but routes a Query call by the credential scope's service, so
/// an unsigned request carries a syntactically valid SigV4 header naming `rds`.
const RDS_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=0";

/// Why a moto call failed. Messages carry moto's answer (it holds no secrets: dummy keys).
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    /// The world has no `TREEHERDER_MOTO_URL` (it was loaded without [`super::Service::Moto`]).
    #[error("the world has no TREEHERDER_MOTO_URL: load it with Service::Moto")]
    NotInWorld,
    /// moto could not be reached.
    #[error("{url}: {source}")]
    Http {
        /// The URL called.
        url: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// moto answered with an error status.
    #[error("{url}: {status} {body}")]
    Refused {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// moto's answer.
        body: String,
    },
    /// The control route's answer was not the snapshot JSON.
    #[error("{url}: unexpected answer {body}: {source}")]
    BadAnswer {
        /// The URL called.
        url: String,
        /// moto's answer.
        body: String,
        /// The decoding error.
        source: serde_json::Error,
    },
    /// The seed summary could not be read or parsed.
    #[error("{path}: {reason} (run scripts/moto-up.sh)")]
    Seed {
        /// The summary's path.
        path: PathBuf,
        /// The I/O or JSON error.
        reason: String,
    },
}

/// `SnapshotType` of an RDS DB snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotType {
    /// Taken by RDS's backup window; ids are `rds:<instance>-YYYY-MM-DD-HH-MM`.
    Automated,
    /// Taken on request (CreateDBSnapshot).
    Manual,
}

/// The snapshot states the control route can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotStatus {
    /// Usable for a restore.
    Available,
    /// Still being taken: RDS gives it no create time yet.
    Creating,
}

/// A snapshot to create or update through the control route.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotSeed {
    /// The existing moto instance the snapshot is of.
    #[serde(rename = "db_instance_identifier")]
    pub instance: String,
    /// The snapshot id (automated ones: `rds:<instance>-YYYY-MM-DD-HH-MM`).
    #[serde(rename = "snapshot_id")]
    pub id: String,
    /// Automated or manual.
    pub snapshot_type: SnapshotType,
    /// Available or still creating.
    pub status: SnapshotStatus,
    /// RFC 3339 UTC time such as `2026-11-28T03:00:00Z`; `None` leaves SnapshotCreateTime out
    /// of DescribeDBSnapshots, as RDS does for a snapshot being created.
    pub created_at: Option<String>,
}

/// A snapshot as the control route reports it after the change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MotoSnapshot {
    /// The instance the snapshot is of.
    pub db_instance_identifier: String,
    /// The snapshot id, lower-cased as RDS does.
    pub snapshot_id: String,
    /// Automated or manual.
    pub snapshot_type: SnapshotType,
    /// Available or creating.
    pub status: SnapshotStatus,
    /// The create time (`YYYY-MM-DDTHH:MM:SSZ`), `None` while creating.
    pub created_at: Option<String>,
    /// The region holding it.
    pub region: String,
    /// Its ARN.
    pub arn: String,
}

/// A cloneable handle on the world's moto.
#[derive(Debug, Clone)]
pub struct MotoControl {
    http: reqwest::Client,
    url: String,
}

impl MotoControl {
    /// The moto of `world` (loaded with [`super::Service::Moto`]).
    pub fn from_world(world: &World) -> Result<MotoControl, MotoError> {
        let url = world
            .get("TREEHERDER_MOTO_URL")
            .ok_or(MotoError::NotInWorld)?;
        Ok(MotoControl {
            http: reqwest::Client::new(),
            url: url.trim_end_matches('/').to_string(),
        })
    }

    /// moto's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Creates `seed`'s snapshot, or updates the snapshot with its id, in moto's RDS backend
    /// (region us-east-1). Snapshots persist until moto stops: give a test's own ids (and
    /// times older than the seed's, unless the test is about a newer one) so other tests'
    /// expectations from [`MotoControl::seed`] keep holding.
    pub async fn put_snapshot(&self, seed: SnapshotSeed) -> Result<MotoSnapshot, MotoError> {
        let url = format!("{}/__treeherder/snapshots", self.url);
        let body = self.send(self.http.post(&url).json(&seed), &url).await?;
        serde_json::from_str(&body).map_err(|source| MotoError::BadAnswer { url, body, source })
    }

    /// Holds the DB instance `id` (which need not exist yet) in `status` until it is called
    /// again with `None`: moto otherwise makes every instance `available` at once.
    pub async fn hold_status(&self, id: &str, status: Option<&str>) -> Result<(), MotoError> {
        let url = format!("{}/__treeherder/instance-status", self.url);
        let body = serde_json::json!({ "db_instance_identifier": id, "status": status });
        self.send(self.http.post(&url).json(&body), &url).await?;
        Ok(())
    }

    /// One call of moto's RDS Query API (`Action`, `Version` added), unsigned; returns the
    /// XML answer.
    pub async fn rds_query(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<String, MotoError> {
        let url = format!("{}/", self.url);
        let mut form = format!("Action={}&Version={RDS_API_VERSION}", form_encode(action));
        for (key, value) in params {
            form.push_str(&format!("&{}={}", form_encode(key), form_encode(value)));
        }
        let request = self
            .http
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", RDS_AUTHORIZATION)
            .body(form);
        self.send(request, &url).await
    }

    /// Where `scripts/moto-up.sh` writes the seed's summary.
    pub fn seed_path(&self) -> PathBuf {
        repo_root().join(".run").join("moto").join("seed.json")
    }

    /// The seed's summary: ids, the seeded snapshots of treeherder-prod and the expected answers
    /// `latest_automated`, `latest_manual`, `latest_any` (newest available snapshot ids).
    pub fn seed(&self) -> Result<Value, MotoError> {
        let path = self.seed_path();
        let seed_error = |reason: String| MotoError::Seed {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| seed_error(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| seed_error(e.to_string()))
    }

    async fn send(&self, request: reqwest::RequestBuilder, url: &str) -> Result<String, MotoError> {
        let http_error = |source| MotoError::Http {
            url: url.to_string(),
            source,
        };
        let response = request.send().await.map_err(http_error)?;
        let status = response.status();
        let body = response.text().await.map_err(http_error)?;
        if !status.is_success() {
            return Err(MotoError::Refused {
                url: url.to_string(),
                status: status.as_u16(),
                body,
            });
        }
        Ok(body)
    }
}

/// `application/x-www-form-urlencoded` encoding of one key or value.
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_reserved_bytes() {
        assert_eq!(form_encode("rds:a b&c=d"), "rds%3Aa%20b%26c%3Dd");
        assert_eq!(form_encode("treeherder-prod"), "treeherder-prod");
    }

    #[test]
    fn a_seed_serializes_as_the_control_route_reads_it() {
        let seed = SnapshotSeed {
            instance: "treeherder-prod".into(),
            id: "rds:treeherder-prod-2026-11-28-03-00".into(),
            snapshot_type: SnapshotType::Automated,
            status: SnapshotStatus::Creating,
            created_at: None,
        };
        assert_eq!(
            serde_json::to_value(&seed).unwrap(),
            serde_json::json!({
                "db_instance_identifier": "treeherder-prod",
                "snapshot_id": "rds:treeherder-prod-2026-11-28-03-00",
                "snapshot_type": "automated",
                "status": "creating",
                "created_at": null,
            })
        );
    }
}
