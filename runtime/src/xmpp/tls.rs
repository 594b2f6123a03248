//! The project's own rustls client: ring provider, verification always on, and a verifier that
//! remembers why a certificate was refused so the failure maps to the design's reasons.

use std::io;
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::config::{ConnectConfig, TlsMode};
use super::error::{ConnectError, FailureReason};

/// A verifier that delegates to webpki and keeps the last refusal (a handshake error seen by the
/// caller is an io::Error; the recorded rustls error is the reliable source).
#[derive(Debug)]
pub(crate) struct ClassifyingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    refusal: Mutex<Option<rustls::Error>>,
    /// The one certificate accepted despite a refusal (see `ConnectConfig::accept_certificate`).
    accepted: Option<Vec<u8>>,
}

impl ClassifyingVerifier {
    pub(crate) fn refusal(&self) -> Option<rustls::Error> {
        self.refusal.lock().ok().and_then(|r| r.clone())
    }
}

impl ServerCertVerifier for ClassifyingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if let (Err(e), Ok(mut slot)) = (&result, self.refusal.lock()) {
            *slot = Some(e.clone());
        }
        match result {
            Err(rustls::Error::InvalidCertificate(why))
                if self.accepted.as_deref() == Some(end_entity.as_ref()) =>
            {
                tracing::info!(server = ?server_name, %why, "accepting the certificate the case made invalid on purpose");
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// One connect's TLS setup: the connector and the verifier to ask after a failure.
pub(crate) struct TlsSetup {
    pub(crate) connector: tokio_rustls::TlsConnector,
    pub(crate) verifier: Arc<ClassifyingVerifier>,
    pub(crate) server_name: ServerName<'static>,
}

/// Builds a fresh client config per connect (cheap, and the verifier's memory is per connect).
pub(crate) fn setup(config: &ConnectConfig) -> Result<TlsSetup, ConnectError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls_error = |what: &str, e: &dyn std::fmt::Display| {
        ConnectError::new(FailureReason::TlsFailed, format!("{what}: {e}"))
    };
    let mut builder = WebPkiServerVerifier::builder_with_provider(
        Arc::clone(&config.trust),
        Arc::clone(&provider),
    );
    if !config.crls.is_empty() {
        // Lab CRLs cover end-entity certificates; a chain element without a CRL is not an error.
        builder = builder
            .with_crls(config.crls.iter().cloned())
            .only_check_end_entity_revocation()
            .allow_unknown_revocation_status();
    }
    let inner = builder
        .build()
        .map_err(|e| tls_error("invalid trust configuration", &e))?;
    let verifier = Arc::new(ClassifyingVerifier {
        inner,
        refusal: Mutex::new(None),
        accepted: config.accept_certificate.clone(),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("TLS configuration", &e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone() as Arc<dyn ServerCertVerifier>);
    let mut client = match &config.client_certificate {
        None => builder.with_no_client_auth(),
        Some(certificate) => {
            let (chain, key) = client_identity(certificate)
                .map_err(|e| tls_error("the client certificate", &e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls_error("the client certificate", &e))?
        }
    };
    if config.tls == TlsMode::DirectTls {
        client.alpn_protocols = vec![b"xmpp-client".to_vec()];
    }
    let server_name = ServerName::try_from(config.domain.clone()).map_err(|e| {
        ConnectError::new(
            FailureReason::TlsFailed,
            format!(
                "domain {:?} is not a valid TLS server name: {e}",
                config.domain
            ),
        )
    })?;
    Ok(TlsSetup {
        connector: tokio_rustls::TlsConnector::from(Arc::new(client)),
        verifier,
        server_name,
    })
}

/// The certificate chain and key of a PEM client certificate.
fn client_identity(
    certificate: &super::config::ClientCertificate,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), rustls::pki_types::pem::Error> {
    let chain = CertificateDer::pem_slice_iter(certificate.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(certificate.key_pem.as_bytes())?;
    Ok((chain, key))
}

/// Maps a failed handshake to a failure reason, preferring what the verifier saw.
pub(crate) fn classify_handshake_error(
    verifier: &ClassifyingVerifier,
    err: &io::Error,
) -> ConnectError {
    let from_io = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned();
    match verifier.refusal().or(from_io) {
        Some(rustls::Error::InvalidCertificate(cert)) => ConnectError::new(
            certificate_reason(&cert),
            format!("server certificate refused: {cert}"),
        ),
        Some(other) => ConnectError::new(
            FailureReason::TlsFailed,
            format!("TLS handshake failed: {other}"),
        ),
        None => ConnectError::new(
            FailureReason::TlsFailed,
            format!("TLS handshake failed: {err}"),
        ),
    }
}

fn certificate_reason(err: &CertificateError) -> FailureReason {
    match err {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            FailureReason::CertificateExpired
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            FailureReason::CertificateNotYetValid
        }
        CertificateError::Revoked => FailureReason::CertificateRevoked,
        CertificateError::UnknownIssuer => FailureReason::CertificateUnknownIssuer,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            FailureReason::CertificateWrongHost
        }
        _ => FailureReason::TlsFailed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_map_to_reasons() {
        assert_eq!(
            certificate_reason(&CertificateError::Expired),
            FailureReason::CertificateExpired
        );
        assert_eq!(
            certificate_reason(&CertificateError::Revoked),
            FailureReason::CertificateRevoked
        );
        assert_eq!(
            certificate_reason(&CertificateError::UnknownIssuer),
            FailureReason::CertificateUnknownIssuer
        );
        assert_eq!(
            certificate_reason(&CertificateError::NotValidForName),
            FailureReason::CertificateWrongHost
        );
        assert_eq!(
            certificate_reason(&CertificateError::BadSignature),
            FailureReason::TlsFailed
        );
    }
}
