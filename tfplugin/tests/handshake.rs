//! The plugin server seen from a client that behaves like Terraform: go-plugin
//! handshake line, mutual TLS with a P-521/SHA-512 client certificate, ALPN h2,
//! health check, Shutdown; plus the refusals and the debug (reattach) mode.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use tfplugin::proto::plugin::grpc_controller_client::GrpcControllerClient;
use tfplugin::proto::plugin::grpc_stdio_client::GrpcStdioClient;
use tfplugin::proto::plugin::Empty;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tfplugin::proto::tfplugin6::provider_server::Provider;
use tfplugin::proto::tfplugin6::{get_metadata, get_provider_schema, stop_provider, Schema};
use tfplugin::server::{serve, serve_debug, ServeConfig, ServeError, MAGIC_COOKIE_VALUE};

type TestResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Terraform stops a plugin with SIGKILL 2 s after calling Shutdown.
const TERRAFORM_GRACE: Duration = Duration::from_secs(2);
/// Upper bound for anything that should happen "at once".
const DEADLINE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// A stub provider.

const STUB_RESOURCE: &str = "stub_widget";

struct StubProvider;

#[tonic::async_trait]
impl Provider for StubProvider {
    async fn get_metadata(
        &self,
        _request: Request<get_metadata::Request>,
    ) -> Result<Response<get_metadata::Response>, Status> {
        Ok(Response::new(get_metadata::Response {
            resources: vec![get_metadata::ResourceMetadata {
                type_name: STUB_RESOURCE.to_owned(),
            }],
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<get_provider_schema::Request>,
    ) -> Result<Response<get_provider_schema::Response>, Status> {
        Ok(Response::new(get_provider_schema::Response {
            provider: Some(Schema::default()),
            ..Default::default()
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<stop_provider::Request>,
    ) -> Result<Response<stop_provider::Response>, Status> {
        Ok(Response::new(stop_provider::Response::default()))
    }
}

// ---------------------------------------------------------------------------
// Capturing what the server writes.

/// A `Write` that forwards every write to a channel; the channel closes when
/// the server drops the writer.
struct ChannelWriter(mpsc::UnboundedSender<Vec<u8>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.send(buf.to_vec());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> (ChannelWriter, mpsc::UnboundedReceiver<Vec<u8>>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (ChannelWriter(tx), rx)
}

/// Everything written before the writer was dropped.
async fn written(mut rx: mpsc::UnboundedReceiver<Vec<u8>>) -> String {
    let collect = async {
        let mut all = Vec::new();
        while let Some(chunk) = rx.recv().await {
            all.extend(chunk);
        }
        all
    };
    let bytes = tokio::time::timeout(DEADLINE, collect)
        .await
        .expect("server output not complete in time");
    String::from_utf8(bytes).unwrap()
}

// ---------------------------------------------------------------------------
// Certificates.

/// A client identity made like go-plugin's: ECDSA P-521, signed with SHA-512,
/// self-signed CA for localhost.
struct ClientIdentity {
    pem: String,
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl ClientIdentity {
    fn generate() -> Self {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "localhost");
        name.push(DnType::OrganizationName, "HashiCorp");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::hours(262_980);
        let cert = params.self_signed(&key).unwrap();
        ClientIdentity {
            pem: cert.pem(),
            der: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }
}

/// Trusts exactly the certificate from the handshake line and checks handshake
/// signatures, which is what Terraform's root pool of one certificate amounts
/// to. (webpki would refuse go-plugin's CA-flagged certificate as an end entity,
/// so path building is replaced by the pin.)
#[derive(Debug)]
struct PinnedServer {
    cert: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let expected_name = ServerName::try_from("localhost").unwrap();
        if end_entity.as_ref() == self.cert.as_ref() && *server_name == expected_name {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn client_tls(
    server_cert: &CertificateDer<'static>,
    client: Option<&ClientIdentity>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedServer {
        cert: server_cert.clone(),
        algorithms: provider.signature_verification_algorithms,
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match client {
        Some(identity) => builder
            .with_client_auth_cert(
                vec![identity.der.clone()],
                PrivateKeyDer::Pkcs8(identity.key.clone_key()),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// Presents `cert` but signs the handshake with an unrelated key, to prove the
/// server checks the CertificateVerify signature and not just the bytes.
#[derive(Debug)]
struct MismatchedKey(Arc<CertifiedKey>);

impl ResolvesClientCert for MismatchedKey {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn client_tls_mismatched_key(
    server_cert: &CertificateDer<'static>,
    cert_of: &ClientIdentity,
    key_of: &ClientIdentity,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let signing_key = provider
        .key_provider
        .load_private_key(PrivateKeyDer::Pkcs8(key_of.key.clone_key()))
        .unwrap();
    let certified = CertifiedKey::new(vec![cert_of.der.clone()], signing_key);
    let verifier = PinnedServer {
        cert: server_cert.clone(),
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_cert_resolver(Arc::new(MismatchedKey(Arc::new(certified))));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// A gRPC channel over TLS to `addr`, dialled as `localhost` like Terraform.
/// Fails unless the server negotiates ALPN h2.
async fn connect_tls(addr: SocketAddr, tls: Arc<ClientConfig>) -> TestResult<Channel> {
    let connector = tower::service_fn(move |_uri| {
        let tls = tls.clone();
        async move {
            let tcp = TcpStream::connect(addr).await?;
            let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
            let stream = TlsConnector::from(tls).connect(name, tcp).await?;
            if stream.get_ref().1.alpn_protocol() != Some(b"h2".as_slice()) {
                return Err(std::io::Error::other("server did not negotiate ALPN h2"));
            }
            Ok::<_, std::io::Error>(TokioIo::new(stream))
        }
    });
    let channel = Endpoint::from_static("http://localhost")
        .connect_timeout(DEADLINE)
        .connect_with_connector(connector)
        .await?;
    Ok(channel)
}

async fn metadata_resources(channel: Channel) -> TestResult<Vec<String>> {
    let response = ProviderClient::new(channel)
        .get_metadata(get_metadata::Request {})
        .await?
        .into_inner();
    Ok(response
        .resources
        .into_iter()
        .map(|r| r.type_name)
        .collect())
}

// ---------------------------------------------------------------------------
// Handshake line.

struct Handshake {
    addr: SocketAddr,
    cert: CertificateDer<'static>,
}

fn parse_handshake(line: &str) -> Handshake {
    assert!(
        line.ends_with('\n'),
        "handshake not newline-terminated: {line:?}"
    );
    let line = line.strip_suffix('\n').unwrap();
    assert!(!line.contains('\n'), "more than one line: {line:?}");
    let parts: Vec<&str> = line.split('|').collect();
    assert_eq!(parts.len(), 6, "{line:?}");
    assert_eq!(&parts[..3], &["1", "6", "tcp"], "{line:?}");
    assert_eq!(parts[4], "grpc", "{line:?}");
    let addr: SocketAddr = parts[3].parse().unwrap();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert!(
        !parts[5].contains('='),
        "certificate must be unpadded base64"
    );
    let der = STANDARD_NO_PAD.decode(parts[5]).unwrap();
    Handshake {
        addr,
        cert: CertificateDer::from(der),
    }
}

fn terraform_config(client: &ClientIdentity) -> ServeConfig {
    ServeConfig {
        magic_cookie: Some(MAGIC_COOKIE_VALUE.to_owned()),
        // Terraform 1.0.3 offers both, in random order.
        protocol_versions: Some(vec![5, 6]),
        min_port: 10000,
        max_port: 60000,
        client_cert_pem: Some(client.pem.clone()),
    }
}

fn spawn_serve(
    config: ServeConfig,
) -> (
    JoinHandle<Result<(), ServeError>>,
    mpsc::UnboundedReceiver<Vec<u8>>,
) {
    let (out, rx) = capture();
    (tokio::spawn(serve(StubProvider, config, out)), rx)
}

// ---------------------------------------------------------------------------
// Tests.

#[test]
fn test_client_certificate_is_p521_sha512_like_terraforms() {
    let client = ClientIdentity::generate();
    let (_, cert) = x509_parser::parse_x509_certificate(&client.der).unwrap();
    // ecdsa-with-SHA512 and secp521r1.
    assert_eq!(
        cert.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.10045.4.3.4"
    );
    let curve = cert
        .public_key()
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .unwrap();
    assert_eq!(curve.to_id_string(), "1.3.132.0.35");
}

#[tokio::test]
async fn terraform_like_client_over_mutual_tls() {
    let client = ClientIdentity::generate();
    let config = terraform_config(&client);
    let (server, out) = spawn_serve(config.clone());
    let handshake = parse_handshake(&written(out).await);
    let port = handshake.addr.port();
    assert!(
        (config.min_port..=config.max_port).contains(&port),
        "port {port}"
    );

    // The advertised certificate has go-plugin's profile.
    let (_, cert) = x509_parser::parse_x509_certificate(&handshake.cert).unwrap();
    let constraints = cert
        .basic_constraints()
        .unwrap()
        .expect("basic constraints")
        .value;
    assert!(constraints.ca, "server certificate must be a CA");
    let san = cert.subject_alternative_name().unwrap().expect("SAN").value;
    assert!(san.general_names.iter().any(|name| matches!(
        name,
        x509_parser::extensions::GeneralName::DNSName("localhost")
    )));
    let eku = cert.extended_key_usage().unwrap().expect("EKU").value;
    assert!(eku.server_auth && eku.client_auth);
    let usage = cert.key_usage().unwrap().expect("key usage").value;
    assert!(usage.digital_signature() && usage.key_encipherment());
    assert!(usage.key_agreement() && usage.key_cert_sign());
    let cn: Vec<_> = cert
        .subject()
        .iter_common_name()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(cn, ["localhost"]);
    assert!(
        cert.validity().is_valid(),
        "server certificate not currently valid"
    );

    // Terraform's own connection: TLS 1.3, its P-521 certificate, ALPN h2.
    let tls13 = client_tls(&handshake.cert, Some(&client), &[&rustls::version::TLS13]);
    let channel = connect_tls(handshake.addr, tls13).await.unwrap();
    assert_eq!(
        metadata_resources(channel.clone()).await.unwrap(),
        [STUB_RESOURCE]
    );

    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "plugin".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);

    // The same over TLS 1.2 (TLS 1.2 CertificateVerify with ECDSA P-521/SHA-512).
    let tls12 = client_tls(&handshake.cert, Some(&client), &[&rustls::version::TLS12]);
    let channel12 = connect_tls(handshake.addr, tls12).await.unwrap();
    assert_eq!(
        metadata_resources(channel12).await.unwrap(),
        [STUB_RESOURCE]
    );

    // A stranger's certificate, or none at all, gets nothing.
    let stranger = ClientIdentity::generate();
    for versions in [
        &[&rustls::version::TLS13][..],
        &[&rustls::version::TLS12][..],
    ] {
        let tls = client_tls(&handshake.cert, Some(&stranger), versions);
        let refused = async { metadata_resources(connect_tls(handshake.addr, tls).await?).await };
        assert!(
            refused.await.is_err(),
            "a different client certificate was accepted"
        );

        let tls = client_tls(&handshake.cert, None, versions);
        let refused = async { metadata_resources(connect_tls(handshake.addr, tls).await?).await };
        assert!(
            refused.await.is_err(),
            "a client without certificate was accepted"
        );

        // The right certificate without its private key.
        let tls = client_tls_mismatched_key(&handshake.cert, &client, &stranger, versions);
        let refused = async { metadata_resources(connect_tls(handshake.addr, tls).await?).await };
        assert!(
            refused.await.is_err(),
            "a forged handshake signature was accepted"
        );
    }

    // Refused handshakes did not hurt the server.
    assert_eq!(
        metadata_resources(channel.clone()).await.unwrap(),
        [STUB_RESOURCE]
    );

    // An open stdio stream (as Terraform keeps one) must not delay the exit.
    let mut stdio = GrpcStdioClient::new(channel.clone())
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();

    let started = tokio::time::Instant::now();
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .unwrap();
    let result = tokio::time::timeout(TERRAFORM_GRACE, server)
        .await
        .expect("serve did not return within Terraform's 2 s grace period")
        .unwrap();
    result.unwrap();
    assert!(started.elapsed() < TERRAFORM_GRACE);
    // The stdio stream carried nothing and ended (or broke) with the server.
    let next = tokio::time::timeout(DEADLINE, stdio.message())
        .await
        .unwrap();
    assert!(
        !matches!(next, Ok(Some(_))),
        "stdio stream sent data: {next:?}"
    );
}

#[tokio::test]
async fn wrong_or_missing_cookie_is_not_launched_by_terraform() {
    let err = ServeConfig::from_lookup(|_| None).unwrap_err();
    assert!(matches!(err, ServeError::NotLaunchedByTerraform));
    let message = err.to_string();
    assert!(message.contains("plugin"), "{message}");
    assert!(message.contains("terraform plan"), "{message}");
    assert!(!message.contains('\n'), "one paragraph expected: {message}");

    let err = ServeConfig::from_lookup(|key| {
        (key == "TF_PLUGIN_MAGIC_COOKIE").then(|| "not-the-cookie".to_owned())
    })
    .unwrap_err();
    assert!(matches!(err, ServeError::NotLaunchedByTerraform));

    // serve itself refuses too, before printing anything.
    let client = ClientIdentity::generate();
    let mut config = terraform_config(&client);
    config.magic_cookie = Some("wrong".to_owned());
    let (server, out) = spawn_serve(config);
    let result = tokio::time::timeout(DEADLINE, server)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(result, Err(ServeError::NotLaunchedByTerraform)));
    assert_eq!(written(out).await, "");
}

#[tokio::test]
async fn protocol_5_only_is_refused_clearly() {
    let err = ServeConfig::from_lookup(|key| match key {
        "TF_PLUGIN_MAGIC_COOKIE" => Some(MAGIC_COOKIE_VALUE.to_owned()),
        "PLUGIN_PROTOCOL_VERSIONS" => Some("5".to_owned()),
        _ => None,
    })
    .unwrap_err();
    match &err {
        ServeError::UnsupportedProtocol { offered } => assert_eq!(offered, &[5]),
        other => panic!("unexpected error {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("offered plugin protocol version(s) 5 "),
        "{message}"
    );
    assert!(message.contains("only protocol version 6"), "{message}");

    let client = ClientIdentity::generate();
    let mut config = terraform_config(&client);
    config.protocol_versions = Some(vec![4, 5]);
    let (server, out) = spawn_serve(config);
    let result = tokio::time::timeout(DEADLINE, server)
        .await
        .unwrap()
        .unwrap();
    let message = result.unwrap_err().to_string();
    assert!(message.contains("4, 5"), "{message}");
    assert_eq!(written(out).await, "");
}

#[tokio::test]
async fn busy_port_range_is_reported() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = taken.local_addr().unwrap().port();
    let client = ClientIdentity::generate();
    let mut config = terraform_config(&client);
    config.min_port = port;
    config.max_port = port;
    let (server, out) = spawn_serve(config);
    let result = tokio::time::timeout(DEADLINE, server)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(result, Err(ServeError::NoFreePort { min, max, .. }) if min == port && max == port)
    );
    assert_eq!(written(out).await, "");
}

#[tokio::test]
async fn debug_mode_prints_reattach_json_and_serves_plaintext() {
    const ADDRESS: &str = "registry.terraform.io/example/stub";
    let (out, rx) = capture();
    let server = tokio::spawn(async move { serve_debug(StubProvider, ADDRESS, out).await });
    let text = written(rx).await;

    let start = text
        .find("TF_REATTACH_PROVIDERS='")
        .expect("no reattach line")
        + 23;
    let len = text[start..]
        .find('\'')
        .expect("unterminated reattach value");
    let reattach: serde_json::Value = serde_json::from_str(&text[start..start + len]).unwrap();
    let entry = &reattach[ADDRESS];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Pid"], std::process::id());
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Addr"]["Network"], "tcp");
    let addr: SocketAddr = entry["Addr"]["String"].as_str().unwrap().parse().unwrap();
    assert!(addr.ip().is_loopback());

    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    assert_eq!(
        metadata_resources(channel.clone()).await.unwrap(),
        [STUB_RESOURCE]
    );

    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .unwrap();
    tokio::time::timeout(TERRAFORM_GRACE, server)
        .await
        .expect("serve_debug did not stop after Shutdown")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn without_client_certificate_serves_plaintext_with_empty_cert_field() {
    // What Terraform does under TF_DISABLE_PLUGIN_TLS: no PLUGIN_CLIENT_CERT.
    let client = ClientIdentity::generate();
    let mut config = terraform_config(&client);
    config.client_cert_pem = None;
    let (server, out) = spawn_serve(config);
    let line = written(out).await;
    let prefix = line
        .strip_suffix("|grpc|\n")
        .expect("empty certificate field");
    let addr: SocketAddr = prefix.strip_prefix("1|6|tcp|").unwrap().parse().unwrap();

    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    assert_eq!(
        metadata_resources(channel.clone()).await.unwrap(),
        [STUB_RESOURCE]
    );
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .unwrap();
    tokio::time::timeout(TERRAFORM_GRACE, server)
        .await
        .expect("serve did not stop after Shutdown")
        .unwrap()
        .unwrap();
}
