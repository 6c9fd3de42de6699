//! Plugin benchmarks, printed rather than asserted: process start to handshake line,
//! GetProviderSchema latency, cty codec throughput, resident memory.
//!
//! Run with `make bench` (or `cargo bench -p tfplugin --bench plugin`); it uses the example
//! provider binary built by `cargo build --release -p tfplugin --example file_provider`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tfplugin::proto::tfplugin6::get_provider_schema;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tfplugin::value::{json, msgpack, Number, Type, Value};

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

fn example_binary() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    for profile in ["release", "debug"] {
        let candidate = target.join(profile).join("examples").join("file_provider");
        if candidate.exists() {
            return candidate;
        }
    }
    panic!("build the example first: cargo build --release -p tfplugin --example file_provider");
}

/// HashiCorp's Go null provider, when installed (scripts/install-null-provider.sh).
fn null_provider() -> Option<PathBuf> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/bin/terraform-provider-null");
    if path.exists() {
        Some(path)
    } else {
        println!("(Go null provider not installed: run `make bench` for the side-by-side figures)");
        None
    }
}

fn client_cert_pem() -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("key");
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params.self_signed(&key).expect("cert").pem()
}

/// Starts the provider as Terraform would; returns the child, its handshake line and the time to it.
fn start(binary: &PathBuf, tls: bool, cert: &str) -> (std::process::Child, String, Duration) {
    let mut command = Command::new(binary);
    command
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("TF_LOG", "OFF")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if tls {
        command.env("PLUGIN_CLIENT_CERT", cert);
    } else {
        command.env_remove("PLUGIN_CLIENT_CERT");
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn provider");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("handshake line");
    (child, line.trim().to_string(), started.elapsed())
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn main() {
    let binary = example_binary();
    let cert = client_cert_pem();
    println!("benchmark                              value");

    // Side by side with HashiCorp's Go null provider 2.1.2 (`make bench` installs it), in
    // alternation so both see the same machine load.
    let null = null_provider();
    let mut ours = (Vec::new(), Vec::new());
    let mut go = (Vec::new(), Vec::new());
    for _ in 0..30 {
        for tls in [true, false] {
            let (mut child, line, elapsed) = start(&binary, tls, &cert);
            assert!(line.starts_with("1|6|tcp|"), "unexpected handshake {line}");
            if tls { &mut ours.0 } else { &mut ours.1 }.push(elapsed);
            let _ = child.kill();
            let _ = child.wait();
            if let Some(null) = &null {
                let (mut child, line, elapsed) = start(null, tls, &cert);
                assert!(line.starts_with("1|5|"), "unexpected null handshake {line}");
                if tls { &mut go.0 } else { &mut go.1 }.push(elapsed);
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    for (label, ours, go) in [
        ("mTLS", &mut ours.0, &mut go.0),
        ("plaintext", &mut ours.1, &mut go.1),
    ] {
        ours.sort();
        go.sort();
        let p50 = percentile(ours, 0.5);
        println!("start -> handshake ({label}), p50       {p50:?}");
        println!(
            "start -> handshake ({label}), p95       {:?}",
            percentile(ours, 0.95)
        );
        if !go.is_empty() {
            let go50 = percentile(go, 0.5);
            println!("  Go null 2.1.2 ({label}), p50          {go50:?}");
            println!(
                "  ratio ours / Go null ({label}), p50   {:.2}",
                p50.as_secs_f64() / go50.as_secs_f64()
            );
        }
    }

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (mut child, line, _) = start(&binary, false, &cert);
    let addr = line.split('|').nth(3).expect("address").to_string();
    let idle_rss = rss_kib(child.id());
    let latencies = runtime.block_on(async {
        let mut client = ProviderClient::connect(format!("http://{addr}"))
            .await
            .expect("connect");
        let mut latencies = Vec::new();
        for _ in 0..500 {
            let started = Instant::now();
            client
                .get_provider_schema(get_provider_schema::Request {})
                .await
                .expect("schema");
            latencies.push(started.elapsed());
        }
        latencies
    });
    let busy_rss = rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let mut sorted = latencies.clone();
    sorted.sort();
    println!(
        "GetProviderSchema latency, p50         {:?}",
        percentile(&sorted, 0.5)
    );
    println!(
        "GetProviderSchema latency, p99         {:?}",
        percentile(&sorted, 0.99)
    );
    println!("resident memory after start            {idle_rss} KiB");
    println!("resident memory after 500 RPCs         {busy_rss} KiB");

    codec_throughput();
}

fn codec_throughput() {
    let row = Type::Object(BTreeMap::from([
        ("name".to_string(), Type::String),
        ("count".to_string(), Type::Number),
        ("ratio".to_string(), Type::Number),
        ("enabled".to_string(), Type::Bool),
        ("tags".to_string(), Type::Map(Box::new(Type::String))),
    ]));
    let ty = Type::Object(BTreeMap::from([(
        "rows".to_string(),
        Type::List(Box::new(row)),
    )]));
    let rows: Vec<Value> = (0..20_000)
        .map(|i| {
            Value::Object(BTreeMap::from([
                ("name".to_string(), Value::String(format!("table_{i}"))),
                ("count".to_string(), Value::Number(Number::from(i as i64))),
                (
                    "ratio".to_string(),
                    Value::Number(Number::try_from(i as f64 / 7.0).expect("finite")),
                ),
                ("enabled".to_string(), Value::Bool(i % 2 == 0)),
                (
                    "tags".to_string(),
                    Value::Map(BTreeMap::from([(
                        "team".to_string(),
                        Value::String("treeherder".into()),
                    )])),
                ),
            ]))
        })
        .collect();
    let value = Value::Object(BTreeMap::from([("rows".to_string(), Value::List(rows))]));

    let bytes = msgpack::encode(&value, &ty).expect("encode");
    let rounds = 10;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(msgpack::encode(&value, &ty).expect("encode"));
    }
    let encode = started.elapsed() / rounds;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(msgpack::decode(&bytes, &ty).expect("decode"));
    }
    let decode = started.elapsed() / rounds;
    let mib = bytes.len() as f64 / (1024.0 * 1024.0);
    println!("msgpack value size (20k objects)       {:.2} MiB", mib);
    println!(
        "msgpack encode throughput              {:.1} MiB/s",
        mib / encode.as_secs_f64()
    );
    println!(
        "msgpack decode throughput              {:.1} MiB/s",
        mib / decode.as_secs_f64()
    );
    let json_bytes = json::encode(&value, &ty).expect("json encode");
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(json::decode(&json_bytes, &ty).expect("json decode"));
    }
    let json_decode = started.elapsed() / rounds;
    let json_mib = json_bytes.len() as f64 / (1024.0 * 1024.0);
    println!(
        "JSON decode throughput                 {:.1} MiB/s",
        json_mib / json_decode.as_secs_f64()
    );
}
