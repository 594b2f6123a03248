//! A throwaway certificate authority for tests: CA, server certificates (valid, expired, for
//! another name), and CRLs, all generated in memory with rcgen.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SerialNumber,
    date_time_ymd,
};
use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};

/// A PEM certificate and its PEM private key, as a server would load them.
pub(crate) struct ServerCert {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    pub(crate) serial: u64,
}

/// Validity of a generated certificate.
#[derive(Clone, Copy)]
pub(crate) enum Validity {
    /// 2020 to 2100.
    Current,
    /// January 2020 only.
    Expired,
}

pub(crate) struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
    next_serial: std::cell::Cell<u64>,
}

impl TestCa {
    pub(crate) fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.not_before = date_time_ymd(2019, 1, 1);
        params.not_after = date_time_ymd(2100, 1, 1);
        let cert = params.self_signed(&key).expect("CA self-signed");
        Self {
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
            next_serial: std::cell::Cell::new(1000),
        }
    }

    pub(crate) fn cert_der(&self) -> CertificateDer<'static> {
        self.der.clone()
    }

    /// A trust store holding only this CA.
    pub(crate) fn root_store(&self) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert_der()).expect("CA into root store");
        Arc::new(roots)
    }

    /// A server certificate for `names` (SAN dNSNames), signed by this CA.
    pub(crate) fn server_cert(&self, names: &[&str], validity: Validity) -> ServerCert {
        let key = KeyPair::generate().expect("server key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("server params");
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        params.distinguished_name = dn;
        let serial = self.next_serial.get();
        self.next_serial.set(serial + 1);
        params.serial_number = Some(SerialNumber::from(serial));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        match validity {
            Validity::Current => {
                params.not_before = date_time_ymd(2020, 1, 1);
                params.not_after = date_time_ymd(2100, 1, 1);
            }
            Validity::Expired => {
                params.not_before = date_time_ymd(2020, 1, 1);
                params.not_after = date_time_ymd(2020, 2, 1);
            }
        }
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign server cert");
        ServerCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            serial,
        }
    }

    /// A CRL from this CA revoking the given serials.
    pub(crate) fn crl(&self, revoked: &[u64]) -> CertificateRevocationListDer<'static> {
        let params = CertificateRevocationListParams {
            this_update: date_time_ymd(2024, 1, 1),
            next_update: date_time_ymd(2100, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|&serial| RevokedCertParams {
                    serial_number: SerialNumber::from(serial),
                    revocation_time: date_time_ymd(2024, 1, 1),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer).expect("sign CRL");
        crl.der().clone()
    }
}
