//! go-plugin's AutoMTLS, server side: a fresh self-signed server certificate
//! per process, and a client verifier pinned to the certificate Terraform
//! passed in `PLUGIN_CLIENT_CERT`.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SerialNumber, PKCS_ECDSA_P384_SHA384,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName as TlsName};
use rustls::{ServerConfig, SignatureScheme};

use super::ServeError;

/// go-plugin's certificate lifetime: 262980 hours, about 30 years.
const VALIDITY: time::Duration = time::Duration::hours(262_980);
/// Backdating absorbs small clock differences between host and plugin.
const BACKDATE: time::Duration = time::Duration::seconds(30);

/// The crypto provider used for everything TLS here. aws-lc-rs (unlike ring)
/// verifies ECDSA P-521/SHA-512, which is what Terraform's client key uses.
pub(crate) fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The server's certificate and key for one run.
pub(crate) struct ServerIdentity {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl ServerIdentity {
    /// Generates a certificate with go-plugin's profile: self-signed CA for
    /// `localhost` (Terraform puts it alone in its root pool and dials
    /// `localhost`), usable for both server and client auth.
    pub(crate) fn generate(provider: &CryptoProvider) -> Result<Self, ServeError> {
        let key_pair = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384)?;

        let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
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
        params.serial_number = Some(random_serial(provider)?);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - BACKDATE;
        params.not_after = now + VALIDITY;

        let cert = params.self_signed(&key_pair)?;
        Ok(ServerIdentity {
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key_pair.serialize_der()),
        })
    }

    /// DER of the server certificate, as advertised in the handshake line.
    pub(crate) fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert
    }
}

/// A positive 128-bit serial, like go-plugin's.
fn random_serial(provider: &CryptoProvider) -> Result<SerialNumber, ServeError> {
    let mut bytes = [0u8; 16];
    provider
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| ServeError::Tls(rustls::Error::FailedToGetRandomBytes))?;
    // Clearing the top bit keeps the DER INTEGER positive without padding.
    bytes[0] &= 0x7f;
    Ok(SerialNumber::from_slice(&bytes))
}

/// The rustls server configuration: TLS 1.2 and 1.3, ALPN `h2` (grpc-go >= 1.67
/// refuses servers that do not negotiate it) and a mandatory client
/// certificate equal to `client_cert`.
pub(crate) fn server_config(
    provider: Arc<CryptoProvider>,
    identity: &ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<ServerConfig, ServeError> {
    let verifier = PinnedClientCertVerifier {
        expected: client_cert,
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![identity.cert.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Accepts exactly one client certificate, compared byte for byte.
///
/// Path validation is pointless for a pinned self-signed certificate, and
/// webpki would refuse it anyway (go-plugin marks it CA, which webpki rejects
/// as an end entity). Handshake signatures are still verified, with the
/// provider's algorithms, so the client must hold the matching private key.
#[derive(Debug)]
struct PinnedClientCertVerifier {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCertVerifier {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[TlsName] {
        // An empty list lets Go's client offer its certificate whatever its issuer.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if intermediates.is_empty() && end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
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
        // With aws-lc-rs this includes ECDSA_NISTP521_SHA512; without it Go
        // would find no usable client certificate and send none.
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertises_p521_sha512() {
        let provider = crypto_provider();
        let identity = ServerIdentity::generate(&provider).unwrap();
        let verifier = PinnedClientCertVerifier {
            expected: identity.cert_der().clone(),
            algorithms: provider.signature_verification_algorithms,
        };
        assert!(verifier
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
        assert!(verifier.client_auth_mandatory());
    }

    #[test]
    fn pin_is_exact() {
        let provider = crypto_provider();
        let ours = ServerIdentity::generate(&provider).unwrap();
        let other = ServerIdentity::generate(&provider).unwrap();
        let verifier = PinnedClientCertVerifier {
            expected: ours.cert_der().clone(),
            algorithms: provider.signature_verification_algorithms,
        };
        let now = UnixTime::now();
        assert!(verifier
            .verify_client_cert(ours.cert_der(), &[], now)
            .is_ok());
        assert!(verifier
            .verify_client_cert(other.cert_der(), &[], now)
            .is_err());
        assert!(verifier
            .verify_client_cert(ours.cert_der(), &[other.cert_der().clone()], now)
            .is_err());
    }
}
