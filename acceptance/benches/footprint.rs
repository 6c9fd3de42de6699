//! The provider's footprint beside HashiCorp's Go null provider 2.1.2, measured in one run:
//! binary size, start → handshake with AutoMTLS, resident memory right after the handshake,
//! and the CPU time of `terraform plan` of 500 `treeherder_scheduler_job` against 500
//! `null_resource`. Prints figures; asserts nothing.
//!
//! `make bench` runs it with the release build (`TREEHERDER_PROVIDER_BIN`) and the Go null
//! provider installed by `scripts/install-null-provider.sh`; Terraform is 1.0.3 from `.tools/`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use acceptance::harness::{repo_root, ProviderUnderTest, Terraform};
use acceptance::harness::{terraform_for, treeherder_provider, treeherder_provider_from};
use acceptance::sandbox::{self, SandboxConfig};

const API_KEY: &str = "footprint-bench-key-3f9a1c";
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const STARTS: usize = 30;
const RESOURCES: usize = 500;
const PLANS: usize = 3;

/// One provider binary and the handshake protocol it answers with.
struct Subject {
    label: &'static str,
    binary: PathBuf,
    protocol_prefix: &'static str,
}

/// Terraform's AutoMTLS client certificate (ECDSA P-521, as Terraform makes it).
fn client_cert_pem() -> Result<String, String> {
    let key =
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).map_err(|e| e.to_string())?;
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_string()]).map_err(|e| e.to_string())?;
    Ok(params.self_signed(&key).map_err(|e| e.to_string())?.pem())
}

/// Starts `binary` as Terraform does and returns it with the time to its handshake line.
fn start(binary: &Path, cert: &str, prefix: &str) -> Result<(Child, Duration), String> {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", cert)
        .env("TF_LOG", "OFF")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    if !line.starts_with(prefix) {
        let _ = child.kill();
        return Err(format!("unexpected handshake {line:?}"));
    }
    Ok((child, elapsed))
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system) of every waited-for child of this process so far: Terraform
/// waits for its providers, so a plan's figure includes the provider's.
fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the state, field 3;
    // cutime and cstime are fields 16 and 17, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let ticks = fields.get(13).copied().unwrap_or(0) + fields.get(14).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn startup(subject: &Subject, cert: &str) -> Result<(Duration, u64), String> {
    let mut times = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..STARTS {
        let (mut child, elapsed) = start(&subject.binary, cert, subject.protocol_prefix)?;
        times.push(elapsed);
        rss.push(rss_kib(child.id()));
        let _ = child.kill();
        let _ = child.wait();
    }
    rss.sort_unstable();
    Ok((median(&mut times), rss[rss.len() / 2]))
}

fn scheduler_jobs() -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    treeherder = {{ source = "treeherder/treeherder", version = "{version}" }}
  }}
}}

resource "treeherder_scheduler_job" "bench" {{
  count     = {RESOURCES}
  app       = "treeherder-prod"
  command   = "./manage.py bench_${{count.index}}"
  frequency = "every_hour_at_${{(count.index % 6) * 10}}"
}}
"#,
        version = env!("CARGO_PKG_VERSION"),
    )
}

fn null_resources() -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    null = {{ source = "hashicorp/null", version = "2.1.2" }}
  }}
}}

resource "null_resource" "bench" {{
  count    = {RESOURCES}
  triggers = {{ command = "./manage.py bench_${{count.index}}" }}
}}
"#
    )
}

/// Median CPU time of `terraform plan` of `config` (no state: every resource is planned for
/// creation), over [`PLANS`] runs after one warm-up.
async fn plan_cpu(tf: &Terraform, name: &str, config: &str) -> Result<Duration, String> {
    let work = tf.workspace(name).map_err(|e| e.to_string())?;
    work.write_config(config).map_err(|e| e.to_string())?;
    work.init().await.map_err(|e| e.to_string())?;
    let mut cpu = Vec::new();
    for run in 0..=PLANS {
        let before = children_cpu();
        let out = work
            .run(&["plan", "-input=false", "-no-color", "-refresh=false"])
            .await
            .map_err(|e| e.to_string())?;
        tf.require_success(out).map_err(|e| e.to_string())?;
        if run > 0 {
            cpu.push(children_cpu().saturating_sub(before));
        }
    }
    Ok(median(&mut cpu))
}

async fn plans(ours: &Path, null: &Path) -> Result<(Duration, Duration), String> {
    let sandbox = sandbox::start(SandboxConfig {
        api_key: API_KEY.to_string(),
        ..SandboxConfig::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    let env = BTreeMap::from([
        ("HEROKU_API_URL".to_string(), sandbox.heroku_url.clone()),
        (
            "HEROKU_SCHEDULER_URL".to_string(),
            sandbox.scheduler_url.clone(),
        ),
        ("HEROKU_API_KEY".to_string(), API_KEY.to_string()),
    ]);
    let mut tf = terraform_for(
        &[
            treeherder_provider_from(ours),
            ProviderUnderTest::new("registry.terraform.io/hashicorp/null", null, "2.1.2"),
        ],
        env,
        vec![API_KEY.to_string()],
    )
    .map_err(|e| e.to_string())?;
    tf.set_timeout(Duration::from_secs(900));
    let treeherder = plan_cpu(&tf, "treeherder", &scheduler_jobs()).await?;
    let null = plan_cpu(&tf, "null", &null_resources()).await?;
    Ok((treeherder, null))
}

fn run() -> Result<(), String> {
    let ours = treeherder_provider().binary;
    let null = repo_root().join(".tools/bin/terraform-provider-null");
    if !null.exists() {
        return Err(format!(
            "{} missing: run scripts/install-null-provider.sh (make bench does)",
            null.display()
        ));
    }
    let null = std::fs::canonicalize(&null).map_err(|e| e.to_string())?;
    let subjects = [
        Subject {
            label: "treeherder",
            binary: ours.clone(),
            protocol_prefix: "1|6|",
        },
        Subject {
            label: "Go null 2.1.2",
            binary: null.clone(),
            protocol_prefix: "1|5|",
        },
    ];
    let cert = client_cert_pem()?;
    println!("provider footprint ({})", ours.display());
    println!(
        "{:<16} {:>12} {:>18} {:>16}",
        "", "binary (MB)", "handshake p50", "RSS after (MiB)"
    );
    for subject in &subjects {
        let size = std::fs::metadata(&subject.binary)
            .map_err(|e| format!("{}: {e}", subject.binary.display()))?
            .len();
        let (handshake, rss) = startup(subject, &cert)?;
        println!(
            "{:<16} {:>12.1} {:>18?} {:>16.1}",
            subject.label,
            size as f64 / 1e6,
            handshake,
            rss as f64 / 1024.0
        );
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let (treeherder, null_cpu) = runtime.block_on(plans(&ours, &null))?;
    println!(
        "terraform plan, {RESOURCES} resources, CPU (Terraform + provider), median of {PLANS}:"
    );
    println!("  treeherder_scheduler_job   {treeherder:?}");
    println!("  null_resource              {null_cpu:?}");
    println!(
        "  ratio                      {:.2}",
        treeherder.as_secs_f64() / null_cpu.as_secs_f64().max(f64::EPSILON)
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("footprint bench: {e}");
            ExitCode::FAILURE
        }
    }
}
