//! The packages of `make release` (scripts/release.sh) install the ways users install them:
//! `terraform init` from a filesystem mirror holding `dist/`'s zip, and from a provider network
//! mirror served over HTTPS on loopback with a CA made here and trusted through
//! `SSL_CERT_FILE`. Each is followed by a plan of `examples/treeherder/` against the world, and
//! the lock file's `h1:` hash is checked against the package (Terraform records only that one for
//! mirrors; the network mirror's `zh:` hash is checked at download, as a wrong one shows). `make test` runs this file with
//! Terraform 1.0.3 and again with 1.11.4.
//!
//! The package holds the debug build the other tests use (`RELEASE_BINARY`): the layout,
//! names, checksums and signature are what `make release` writes for the release build.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use acceptance::harness::{cli_config_text, terraform_for, treeherder_provider, OtherProviders};
use acceptance::harness::{repo_root, Service, Terraform, World};
use base64::Engine as _;
use sha2::{Digest, Sha256};

const NAME: &str = "terraform-provider-treeherder";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const SOURCE: &str = "registry.terraform.io/treeherder/treeherder";

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A release made into a temporary `dist/`, signed with a key made for it.
struct Release {
    /// Holds `dist/` and the signer's keyring.
    _dir: tempfile::TempDir,
    dist: PathBuf,
    binary: Vec<u8>,
}

impl Release {
    fn file(&self, suffix: &str) -> PathBuf {
        self.dist.join(format!("{NAME}_{VERSION}_{suffix}"))
    }

    fn zip_name() -> String {
        format!("{NAME}_{VERSION}_linux_amd64.zip")
    }

    /// Terraform's `h1:` hash of the package: the SHA-256 of the sorted `"<sha256>  <name>\n"`
    /// lines of the files it holds (one: the binary), base64-encoded.
    fn h1(&self) -> String {
        let summary = format!("{}  {NAME}_v{VERSION}\n", sha256_hex(&self.binary));
        format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary.as_bytes()))
        )
    }

    /// Terraform's `zh:` hash: the SHA-256 of the zip file.
    fn zh(&self) -> String {
        let zip = std::fs::read(self.file("linux_amd64.zip")).expect("read the zip");
        format!("zh:{}", sha256_hex(&zip))
    }
}

fn run(command: &mut Command) -> std::process::Output {
    let output = command.output().expect("spawn");
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs scripts/release.sh with a throwaway signing key passed as `GPG_PRIVATE_KEY`.
fn make_release() -> Release {
    let provider = treeherder_provider();
    let binary = std::fs::read(&provider.binary).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `cargo build -p terraform-provider-treeherder`",
            provider.binary.display()
        )
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let gnupg_home = dir.path().join("gnupg");
    std::fs::create_dir(&gnupg_home).expect("mkdir gnupg");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gnupg_home, std::fs::Permissions::from_mode(0o700))
            .expect("chmod gnupg");
    }
    let gpg = |args: &[&str]| {
        run(Command::new("gpg")
            .env("GNUPGHOME", &gnupg_home)
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args))
    };
    gpg(&[
        "--quick-gen-key",
        "Treeherder release test <release-test@invalid>",
        "ed25519",
        "sign",
        "never",
    ]);
    let secret = gpg(&["--armor", "--export-secret-keys"]).stdout;
    let dist = dir.path().join("dist");
    run(Command::new(repo_root().join("scripts/release.sh"))
        .env(
            "GPG_PRIVATE_KEY",
            String::from_utf8(secret).expect("armored key"),
        )
        .env("RELEASE_BINARY", &provider.binary)
        .env("DIST_DIR", &dist)
        .env_remove("GPG_FINGERPRINT"));
    Release {
        _dir: dir,
        dist,
        binary,
    }
}

#[test]
fn release_writes_the_registry_layout_signed() {
    let release = make_release();
    let mut names: Vec<String> = std::fs::read_dir(&release.dist)
        .expect("dist")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let prefix = format!("{NAME}_{VERSION}_");
    assert_eq!(
        names,
        [
            "SHA256SUMS",
            "SHA256SUMS.sig",
            "linux_amd64.zip",
            "manifest.json",
            "signing-key.asc"
        ]
        .map(|s| format!("{prefix}{s}")),
    );

    // The zip holds the binary alone, named as Terraform looks for it.
    let listing = run(Command::new("unzip")
        .arg("-Z1")
        .arg(release.file("linux_amd64.zip")));
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout).trim(),
        format!("{NAME}_v{VERSION}")
    );

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(release.file("manifest.json")).expect("manifest"))
            .expect("manifest JSON");
    assert_eq!(manifest["version"], 1);
    assert_eq!(
        manifest["metadata"]["protocol_versions"],
        serde_json::json!(["6.0"])
    );

    // SHA256SUMS names both files with their real digests.
    let sums = std::fs::read_to_string(release.file("SHA256SUMS")).expect("sums");
    let zh = release.zh();
    let zip_digest = zh.trim_start_matches("zh:");
    assert!(
        sums.contains(&format!("{zip_digest}  {}", Release::zip_name())),
        "{sums}"
    );
    let manifest_digest =
        sha256_hex(&std::fs::read(release.file("manifest.json")).expect("manifest"));
    assert!(
        sums.contains(&format!(
            "{manifest_digest}  {NAME}_{VERSION}_manifest.json"
        )),
        "{sums}"
    );

    // The detached signature verifies with the published key alone (a user's keyring), and
    // not for altered sums.
    let verifier = tempfile::tempdir().expect("tempdir");
    let gpg = |args: &[&std::ffi::OsStr]| {
        Command::new("gpg")
            .env("GNUPGHOME", verifier.path())
            .arg("--batch")
            .args(args)
            .output()
            .expect("gpg")
    };
    let key = release.file("signing-key.asc");
    assert!(gpg(&["--import".as_ref(), key.as_os_str()])
        .status
        .success());
    let sig = release.file("SHA256SUMS.sig");
    let good = gpg(&[
        "--verify".as_ref(),
        sig.as_os_str(),
        release.file("SHA256SUMS").as_os_str(),
    ]);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let altered = verifier.path().join("SHA256SUMS");
    std::fs::write(&altered, sums.replace(zip_digest, &"0".repeat(64))).expect("write");
    let bad = gpg(&["--verify".as_ref(), sig.as_os_str(), altered.as_os_str()]);
    assert!(!bad.status.success(), "altered sums verified");
}

/// A Terraform whose CLI config is `cli_config`, with the world's provider settings.
fn terraform(world: &World, extra_env: &[(&str, &Path)], cli_config: &str) -> Terraform {
    let mut env: BTreeMap<String, String> = world.env().clone();
    for (key, value) in extra_env {
        env.insert(key.to_string(), value.display().to_string());
    }
    let tf = terraform_for(&[], env, world.secrets().to_vec()).expect("terraform");
    std::fs::write(tf.cli_config(), cli_config).expect("write the CLI config");
    tf
}

/// `terraform init` then `terraform plan` of `examples/treeherder/`, checking the installed
/// binary and the lock file's hashes.
async fn init_and_plan_the_example(tf: &Terraform, release: &Release) {
    let ws = tf.workspace("treeherder").expect("workspace");
    let example = repo_root().join("examples/treeherder");
    for entry in std::fs::read_dir(&example).expect("examples/treeherder") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "tf" || e == "tfvars") {
            std::fs::copy(&path, ws.dir().join(path.file_name().expect("name"))).expect("copy");
        }
    }
    let init = ws
        .run(&["init", "-input=false", "-no-color"])
        .await
        .expect("terraform init");
    assert!(
        init.success(),
        "init failed:\n{}\n{}",
        init.stdout,
        init.stderr
    );
    assert!(
        init.stdout
            .contains(&format!("Installed treeherder/treeherder v{VERSION}"))
            || init
                .stdout
                .contains(&format!("Installing treeherder/treeherder v{VERSION}")),
        "{}",
        init.stdout
    );

    let installed = ws
        .dir()
        .join(".terraform/providers")
        .join(SOURCE)
        .join(VERSION)
        .join("linux_amd64")
        .join(format!("{NAME}_v{VERSION}"));
    let bytes = std::fs::read(&installed).expect("installed binary");
    assert!(
        bytes == release.binary,
        "the installed binary is not the packaged one"
    );

    let lock = std::fs::read_to_string(ws.dir().join(".terraform.lock.hcl")).expect("lock file");
    assert!(lock.contains(&format!("provider \"{SOURCE}\"")), "{lock}");
    assert!(
        lock.contains(&release.h1()),
        "no {} in\n{lock}",
        release.h1()
    );
    // Any other hash recorded must be one of the package's.
    let hashes = regex::Regex::new(r#""((?:h1|zh):[^"]+)""#).expect("regex");
    for hash in hashes.captures_iter(&lock) {
        assert!(
            hash[1] == release.h1() || hash[1] == release.zh(),
            "unexpected hash {} in\n{lock}",
            &hash[1]
        );
    }

    let plan = ws
        .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .await
        .expect("terraform plan");
    assert!(
        matches!(plan.code, Some(0) | Some(2)),
        "plan failed:\n{}\n{}",
        plan.stdout,
        tf.redact(&plan.stderr)
    );
    assert!(
        plan.stdout.contains("treeherder_"),
        "the plan shows none of the example's resources:\n{}",
        plan.stdout
    );
}

#[tokio::test]
async fn terraform_init_installs_the_package_from_a_filesystem_mirror() {
    let world = World::require(&[Service::Mysql, Service::Moto, Service::Sandbox]);
    let release = make_release();
    let mirror = tempfile::tempdir().expect("tempdir");
    let packed = mirror.path().join(SOURCE);
    std::fs::create_dir_all(&packed).expect("mkdir");
    std::fs::copy(
        release.file("linux_amd64.zip"),
        packed.join(Release::zip_name()),
    )
    .expect("copy the zip");
    let config = cli_config_text(
        mirror.path(),
        &[SOURCE.to_string()],
        OtherProviders::Refused,
    );
    let tf = terraform(&world, &[], &config);
    init_and_plan_the_example(&tf, &release).await;
}

#[tokio::test]
async fn terraform_init_installs_the_package_from_an_https_network_mirror() {
    let world = World::require(&[Service::Mysql, Service::Moto, Service::Sandbox]);
    let release = make_release();
    let config = |mirror: &NetworkMirror| {
        format!(
            "disable_checkpoint = true\nprovider_installation {{\n  network_mirror {{\n    url     = \"{}\"\n    include = [\"{SOURCE}\"]\n  }}\n}}\n",
            mirror.url
        )
    };

    // Terraform checks the download against the mirror's zh: hash: a mirror advertising
    // another one is refused, so the hash the mirror serves (ours) is what was verified.
    let wrong = NetworkMirror::start(&release, &format!("zh:{}", "0".repeat(64))).await;
    let tf = terraform(
        &world,
        &[("SSL_CERT_FILE", &wrong.ca_file)],
        &config(&wrong),
    );
    let ws = tf.workspace("wrong-hash").expect("workspace");
    ws.write_config("terraform {\n  required_providers {\n    treeherder = { source = \"treeherder/treeherder\" }\n  }\n}\n")
        .expect("config");
    let init = ws
        .run(&["init", "-input=false", "-no-color"])
        .await
        .expect("terraform init");
    assert!(
        !init.success(),
        "a package not matching its zh: hash was installed"
    );
    assert!(init.stderr.contains("checksum"), "{}", init.stderr);

    let mirror = NetworkMirror::start(&release, &release.zh()).await;
    let tf = terraform(
        &world,
        &[("SSL_CERT_FILE", &mirror.ca_file)],
        &config(&mirror),
    );
    init_and_plan_the_example(&tf, &release).await;
    let requests = mirror.requests.lock().expect("requests").clone();
    let base = format!("/{SOURCE}");
    for wanted in [
        format!("{base}/index.json"),
        format!("{base}/{VERSION}.json"),
        format!("{base}/{}", Release::zip_name()),
    ] {
        assert!(
            requests.contains(&wanted),
            "{wanted} not requested: {requests:?}"
        );
    }
}

/// Terraform's provider network mirror protocol over HTTPS on 127.0.0.1: `index.json` lists
/// the version, `<version>.json` points at the zip and carries its `zh:` hash.
struct NetworkMirror {
    url: String,
    ca_file: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl NetworkMirror {
    async fn start(release: &Release, zh: &str) -> NetworkMirror {
        let dir = tempfile::tempdir().expect("tempdir");
        let (server_config, ca_pem) = tls_config();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca_pem).expect("write the CA");

        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let base = format!("/{SOURCE}");
        files.insert(
            format!("{base}/index.json"),
            serde_json::to_vec(&serde_json::json!({ "versions": { VERSION: {} } })).expect("json"),
        );
        files.insert(
            format!("{base}/{VERSION}.json"),
            serde_json::to_vec(&serde_json::json!({
                "archives": {
                    "linux_amd64": { "url": Release::zip_name(), "hashes": [zh] }
                }
            }))
            .expect("json"),
        );
        files.insert(
            format!("{base}/{}", Release::zip_name()),
            std::fs::read(release.file("linux_amd64.zip")).expect("zip"),
        );
        let files = Arc::new(files);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let files = files.clone();
            let seen = seen.clone();
            async move {
                seen.lock().expect("requests").push(uri.path().to_string());
                let content_type = if uri.path().ends_with(".json") {
                    "application/json"
                } else {
                    "application/zip"
                };
                match files.get(uri.path()) {
                    Some(body) => (
                        axum::http::StatusCode::OK,
                        [(axum::http::header::CONTENT_TYPE, content_type)],
                        body.clone(),
                    ),
                    None => (
                        axum::http::StatusCode::NOT_FOUND,
                        [(axum::http::header::CONTENT_TYPE, "text/plain")],
                        Vec::new(),
                    ),
                }
            }
        });
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = tcp.local_addr().expect("addr");
        let listener = TlsListener {
            tcp,
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server_config)),
        };
        tokio::spawn(async move { axum::serve(listener, app).await });
        NetworkMirror {
            url: format!("https://{addr}/"),
            ca_file,
            requests,
            _dir: dir,
        }
    }
}

/// A CA made for this run and a server certificate for 127.0.0.1 signed by it.
fn tls_config() -> (rustls::ServerConfig, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "treeherder release test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("server params");
    params.subject_alt_names = vec![SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1]))];
    let cert = params.signed_by(&key, &issuer).expect("server certificate");

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
    // The server speaks HTTP/1.1 only; Go's client offers h2 and falls back.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (config, ca_cert.pem())
}

struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            // A failed handshake (a probe, a client that rejects our CA) ends that connection only.
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
