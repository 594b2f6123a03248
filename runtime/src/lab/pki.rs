//! The lab's PKI, generated in Rust: one CA per lab and, on demand, server and client
//! certificates that are valid, expired, not yet valid, for the wrong host, or self-signed.
//! Revocation: the CA keeps a live list of revoked serials, published as CRLs and answered by
//! its OCSP responder ([`ocsp`]), whose URL issued certificates then carry.

pub mod ocsp;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
    CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod,
    KeyPair, KeyUsagePurpose, OtherNameValue, RevocationReason, RevokedCertParams, SanType,
    SerialNumber, SigningKey,
};
use time::{Duration, OffsetDateTime};

use crate::xmpp::ocsp::cert::{AIA_OID, aia_ocsp_extension_value};

/// id-on-xmppAddr (RFC 6120 section 13.7.1.4): the JID a client certificate speaks for.
const XMPP_ADDR_OID: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 8, 5];

/// A failure of certificate generation (rcgen's own errors, which name the bad parameter).
#[derive(Debug, thiserror::Error)]
#[error("cannot generate the lab certificate for {subject}: {source}")]
pub struct PkiError {
    subject: String,
    #[source]
    source: rcgen::Error,
}

impl PkiError {
    pub(crate) fn new(subject: &str, source: rcgen::Error) -> PkiError {
        PkiError {
            subject: subject.to_string(),
            source,
        }
    }
}

/// What kind of certificate to issue; mirrors `set certificate of X to ...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateKind {
    Valid,
    Expired,
    NotYetValid,
    /// Valid, but for a host name that is not the server's.
    WrongHost,
    /// Signed by its own key, not by the lab CA.
    SelfSigned,
}

/// A certificate and its private key, PEM-encoded.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub key_pem: String,
    pub serial: u64,
}

/// The lab certificate authority.
#[derive(Debug)]
pub struct LabCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    next_serial: AtomicU64,
    /// Revoked serials and when; every CRL lists them all.
    revoked: Mutex<Vec<(u64, OffsetDateTime)>>,
    crl_number: AtomicU64,
    /// The OCSP responder URL put in certificates issued from now on.
    ocsp_url: Mutex<Option<String>>,
}

impl LabCa {
    /// A new CA, valid from yesterday for ten years.
    pub fn generate(name: &str) -> Result<LabCa, PkiError> {
        let wrap = |source| PkiError {
            subject: name.to_string(),
            source,
        };
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(wrap)?;
        params.distinguished_name = distinguished_name(name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let key = KeyPair::generate().map_err(wrap)?;
        let issuer = CertifiedIssuer::self_signed(params, key).map_err(wrap)?;
        Ok(LabCa {
            issuer,
            next_serial: AtomicU64::new(2),
            revoked: Mutex::new(Vec::new()),
            crl_number: AtomicU64::new(1),
            ocsp_url: Mutex::new(None),
        })
    }

    /// The CA certificate that clients and servers of the lab trust.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    pub fn cert_der(&self) -> Vec<u8> {
        self.issuer.der().to_vec()
    }

    /// A certificate for `names` (the first is the subject), of the given kind. Server
    /// certificates carry both server and client authentication, as XMPP servers authenticate
    /// to each other with them.
    pub fn issue(
        &self,
        names: &[String],
        kind: CertificateKind,
    ) -> Result<IssuedCertificate, PkiError> {
        let subject = names.first().cloned().unwrap_or_default();
        let wrap = |source| PkiError {
            subject: subject.clone(),
            source,
        };
        let names: Vec<String> = match kind {
            CertificateKind::WrongHost => vec![format!("wrong-host.{}", subject)],
            _ => names.to_vec(),
        };
        let mut params = CertificateParams::new(names).map_err(wrap)?;
        params.distinguished_name = distinguished_name(&subject);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        self.sign(params, kind, wrap)
    }

    /// A client certificate for `jid` (its xmppAddr, for SASL EXTERNAL), of the given kind; a
    /// wrong-host one speaks for another user of the same domain.
    pub fn issue_client(
        &self,
        jid: &str,
        kind: CertificateKind,
    ) -> Result<IssuedCertificate, PkiError> {
        let wrap = |source| PkiError {
            subject: jid.to_string(),
            source,
        };
        let speaks_for = match kind {
            CertificateKind::WrongHost => match jid.parse::<jid::BareJid>() {
                Ok(bare) if bare.node().is_some() => format!("someone-else@{}", bare.domain()),
                _ => format!("someone-else.{jid}"),
            },
            _ => jid.to_string(),
        };
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(wrap)?;
        params.subject_alt_names = vec![SanType::OtherName((
            XMPP_ADDR_OID.to_vec(),
            OtherNameValue::Utf8String(speaks_for.clone()),
        ))];
        params.distinguished_name = distinguished_name(&speaks_for);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        // OpenSSL (in Prosody's LuaSec) checks a client certificate for the server purpose
        // too ("unsuitable certificate purpose"), so both are granted.
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        self.sign(params, kind, wrap)
    }

    fn sign(
        &self,
        mut params: CertificateParams,
        kind: CertificateKind,
        wrap: impl Fn(rcgen::Error) -> PkiError,
    ) -> Result<IssuedCertificate, PkiError> {
        let serial = self.next_serial.fetch_add(1, Ordering::Relaxed);
        params.serial_number = Some(SerialNumber::from(serial));
        if let (Some(url), false) = (self.ocsp_url(), kind == CertificateKind::SelfSigned) {
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(
                    AIA_OID,
                    aia_ocsp_extension_value(&url),
                ));
        }
        let now = OffsetDateTime::now_utc();
        (params.not_before, params.not_after) = match kind {
            CertificateKind::Expired => (now - Duration::days(60), now - Duration::days(30)),
            CertificateKind::NotYetValid => (now + Duration::days(30), now + Duration::days(60)),
            CertificateKind::Valid | CertificateKind::WrongHost | CertificateKind::SelfSigned => {
                (now - Duration::days(1), now + Duration::days(365))
            }
        };
        let key = KeyPair::generate().map_err(&wrap)?;
        let cert = match kind {
            CertificateKind::SelfSigned => params.self_signed(&key),
            _ => params.signed_by(&key, &self.issuer),
        }
        .map_err(wrap)?;
        Ok(IssuedCertificate {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
            serial,
        })
    }

    /// Adds `serial` to the revocation list (the next CRL carries it).
    pub fn revoke(&self, serial: u64) {
        let mut revoked = crate::sync::lock(&self.revoked);
        if !revoked.iter().any(|(s, _)| *s == serial) {
            revoked.push((serial, OffsetDateTime::now_utc()));
        }
    }

    /// When `serial` was revoked, if it was.
    pub fn revoked_at(&self, serial: u64) -> Option<OffsetDateTime> {
        crate::sync::lock(&self.revoked)
            .iter()
            .find(|(s, _)| *s == serial)
            .map(|(_, at)| *at)
    }

    /// A fresh CRL (a new number each time) listing every revoked serial, valid for a week.
    pub fn crl(&self) -> Result<rcgen::CertificateRevocationList, PkiError> {
        let wrap = |source| PkiError {
            subject: "the lab CRL".to_string(),
            source,
        };
        let revoked_certs = crate::sync::lock(&self.revoked)
            .iter()
            .map(|(serial, at)| RevokedCertParams {
                serial_number: SerialNumber::from(*serial),
                revocation_time: *at,
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect();
        let now = OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            // A minute back, so a peer whose clock is a little behind accepts it.
            this_update: now - Duration::minutes(1),
            next_update: now + Duration::days(7),
            crl_number: SerialNumber::from(self.crl_number.fetch_add(1, Ordering::Relaxed)),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&self.issuer).map_err(wrap)
    }

    /// A fresh CRL (see [`LabCa::crl`]), PEM-encoded.
    pub fn crl_pem(&self) -> Result<String, PkiError> {
        self.crl()?
            .pem()
            .map_err(|source| PkiError::new("the lab CRL", source))
    }

    /// A fresh CRL (see [`LabCa::crl`]), DER-encoded.
    pub fn crl_der(&self) -> Result<Vec<u8>, PkiError> {
        Ok(self.crl()?.der().to_vec())
    }

    /// Certificates issued after this carry `url` as their OCSP responder (Authority
    /// Information Access); `None` stops that. Self-signed ones never do.
    pub fn set_ocsp_url(&self, url: Option<String>) {
        *crate::sync::lock(&self.ocsp_url) = url;
    }

    pub fn ocsp_url(&self) -> Option<String> {
        crate::sync::lock(&self.ocsp_url).clone()
    }

    /// Whether this CA handed out `serial` (self-signed certificates included: their issuer
    /// differs, so no OCSP request names this CA with them).
    pub(crate) fn issued(&self, serial: u64) -> bool {
        (2..self.next_serial.load(Ordering::Relaxed)).contains(&serial)
    }

    /// Signs `message` with the CA key, by the CA certificate's own algorithm (OCSP responses).
    pub(crate) fn sign_ocsp_response(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        self.issuer
            .key()
            .sign(message)
            .map_err(|source| PkiError::new("an OCSP response", source))
    }
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "jspec lab");
    name.push(DnType::CommonName, common_name);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["a.test".to_string(), "conference.a.test".to_string()]
    }

    #[test]
    fn issues_distinct_pem_certificates_with_increasing_serials() {
        let ca = LabCa::generate("jspec lab CA").expect("ca");
        assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let first = ca.issue(&names(), CertificateKind::Valid).expect("valid");
        let second = ca
            .issue(&names(), CertificateKind::Expired)
            .expect("expired");
        assert!(first.key_pem.contains("PRIVATE KEY"));
        assert_ne!(first.cert_pem, second.cert_pem);
        assert!(second.serial > first.serial);
    }

    #[test]
    fn crls_list_revocations_with_increasing_numbers() {
        let ca = LabCa::generate("jspec lab CA").expect("ca");
        let cert = ca.issue(&names(), CertificateKind::Valid).expect("valid");
        let first = ca.crl_der().expect("crl");
        ca.revoke(cert.serial);
        let at = ca.revoked_at(cert.serial).expect("revoked");
        ca.revoke(cert.serial);
        assert_eq!(
            ca.revoked_at(cert.serial),
            Some(at),
            "a second revoke keeps the time"
        );
        let second = ca.crl_pem().expect("crl");
        assert!(second.starts_with("-----BEGIN X509 CRL-----"));
        assert!(
            ca.crl_der().expect("crl").len() > first.len(),
            "the revoked entry is listed"
        );
        assert!(ca.issued(cert.serial) && !ca.issued(cert.serial + 1) && !ca.issued(0));
    }

    #[test]
    fn certificates_carry_the_ocsp_url_once_set() {
        use crate::xmpp::ocsp::cert::CertFacts;
        let ca = LabCa::generate("jspec lab CA").expect("ca");
        let before = ca.issue(&names(), CertificateKind::Valid).expect("valid");
        ca.set_ocsp_url(Some("http://127.0.0.9:4000/".to_owned()));
        let after = ca.issue(&names(), CertificateKind::Valid).expect("valid");
        let client = ca
            .issue_client("alice@a.test", CertificateKind::Valid)
            .expect("client");
        let own = ca
            .issue(&names(), CertificateKind::SelfSigned)
            .expect("self-signed");
        let urls = |c: &IssuedCertificate| CertFacts::parse(&c.cert_der).expect("parse").ocsp_urls;
        assert!(urls(&before).is_empty());
        let url = vec!["http://127.0.0.9:4000/".to_owned()];
        assert_eq!(urls(&after), url);
        assert_eq!(urls(&client), url);
        assert!(
            urls(&own).is_empty(),
            "a self-signed certificate names no CA responder"
        );
    }
}
