//! The few X.509 fields OCSP needs, read from a certificate's DER, and the signature check
//! shared by certificates and responses (rustls's own webpki algorithms, ring-backed).

use rustls::pki_types::SignatureVerificationAlgorithm;
use yasna::models::ObjectIdentifier;
use yasna::{ASN1Result, BERReader, BERReaderSeq, Tag};

use super::codec::CodecError;

const AIA: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
const AD_OCSP: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1];
const EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const KP_OCSP_SIGNING: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 9];

/// What OCSP uses of a certificate. Raw fields keep their DER (tag and length included).
#[derive(Clone, Debug)]
pub(crate) struct CertFacts {
    /// The signed part, for checking a delegated responder's certificate.
    pub(crate) tbs: Vec<u8>,
    pub(crate) signature_alg: Vec<u8>,
    pub(crate) signature: Vec<u8>,
    /// INTEGER contents, as in a CertID.
    pub(crate) serial: Vec<u8>,
    pub(crate) issuer: Vec<u8>,
    pub(crate) subject: Vec<u8>,
    pub(crate) key_alg: Vec<u8>,
    /// The subjectPublicKey BIT STRING's bytes (what a CertID's key hash covers).
    pub(crate) key: Vec<u8>,
    /// OCSP responder URLs from Authority Information Access, in order.
    pub(crate) ocsp_urls: Vec<String>,
    /// Extended key usage includes id-kp-OCSPSigning (a delegated responder).
    pub(crate) ocsp_signing: bool,
}

impl CertFacts {
    pub(crate) fn parse(der: &[u8]) -> Result<CertFacts, CodecError> {
        yasna::parse_der(der, |r| {
            r.read_sequence(|r| {
                let tbs = r.next().read_der()?;
                let signature_alg = r.next().read_der()?;
                let (signature, _) = r.next().read_bitvec_bytes()?;
                let mut facts = yasna::parse_der(&tbs, |r| r.read_sequence(read_tbs))?;
                facts.tbs = tbs;
                facts.signature_alg = signature_alg;
                facts.signature = signature;
                Ok(facts)
            })
        })
        .map_err(|e| CodecError::new("certificate", e))
    }
}

fn read_tbs(r: &mut BERReaderSeq<'_, '_>) -> ASN1Result<CertFacts> {
    r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_i64()))?;
    let (serial, _) = r.next().read_bigint_bytes()?;
    r.next().read_der()?; // signature algorithm, repeated outside the TBS
    let issuer = r.next().read_der()?;
    r.next().read_der()?; // validity: the TLS handshake already checked it
    let subject = r.next().read_der()?;
    let (key_alg, key) = r.next().read_sequence(|r| {
        let alg = r.next().read_der()?;
        let (key, _) = r.next().read_bitvec_bytes()?;
        Ok((alg, key))
    })?;
    let mut facts = CertFacts {
        tbs: Vec::new(),
        signature_alg: Vec::new(),
        signature: Vec::new(),
        serial,
        issuer,
        subject,
        key_alg,
        key,
        ocsp_urls: Vec::new(),
        ocsp_signing: false,
    };
    // Unique identifiers [1], [2] are skipped; extensions are [3].
    while let Some(field) = r.read_optional(|r| r.read_tagged_der())? {
        if field.tag() == Tag::context(3) {
            yasna::parse_der(field.value(), |r| {
                r.read_sequence_of(|r| read_extension(r, &mut facts))
            })?;
        }
    }
    Ok(facts)
}

fn read_extension(r: BERReader<'_, '_>, facts: &mut CertFacts) -> ASN1Result<()> {
    r.read_sequence(|r| {
        let oid = r.next().read_oid()?;
        // `critical`; read leniently (some CAs encode the default FALSE).
        r.read_optional(|r| r.read_bool())?;
        let value = r.next().read_bytes()?;
        if oid.components().as_slice() == AIA {
            facts.ocsp_urls = yasna::parse_der(&value, read_aia)?;
        } else if oid.components().as_slice() == EXT_KEY_USAGE {
            facts.ocsp_signing = yasna::parse_der(&value, |r| {
                let mut found = false;
                r.read_sequence_of(|r| {
                    found |= r.read_oid()?.components().as_slice() == KP_OCSP_SIGNING;
                    Ok(())
                })?;
                Ok(found)
            })?;
        }
        Ok(())
    })
}

/// AuthorityInfoAccessSyntax: the `uniformResourceIdentifier` locations of id-ad-ocsp entries.
fn read_aia(r: BERReader<'_, '_>) -> ASN1Result<Vec<String>> {
    let mut urls = Vec::new();
    r.read_sequence_of(|r| {
        r.read_sequence(|r| {
            let method = r.next().read_oid()?;
            let location = r.next().read_tagged_der()?;
            if method.components().as_slice() == AD_OCSP && location.tag() == Tag::context(6) {
                urls.push(String::from_utf8_lossy(location.value()).into_owned());
            }
            Ok(())
        })
    })?;
    Ok(urls)
}

/// The DER of an Authority Information Access extension value naming one OCSP responder.
pub(crate) fn aia_ocsp_extension_value(url: &str) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence_of(|w| {
            w.next().write_sequence(|w| {
                w.next().write_oid(&ObjectIdentifier::from_slice(AD_OCSP));
                // GeneralName uniformResourceIdentifier: [6] IMPLICIT IA5String.
                w.next()
                    .write_tagged_implicit(Tag::context(6), |w| w.write_ia5_string(url));
            });
        });
    })
}

pub(crate) const AIA_OID: &[u64] = AIA;

/// Checks `signature` over `message` by the key of `signer`, with the algorithm the signed
/// object names (`signature_alg`, an AlgorithmIdentifier's DER).
pub(crate) fn verify_signature(
    signer: &CertFacts,
    signature_alg: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let key_alg = contents(&signer.key_alg)?;
    let sig_alg = contents(signature_alg)?;
    let provider = rustls::crypto::ring::default_provider();
    let algorithm: &dyn SignatureVerificationAlgorithm = provider
        .signature_verification_algorithms
        .all
        .iter()
        .copied()
        .find(|a| {
            a.public_key_alg_id().as_ref() == key_alg && a.signature_alg_id().as_ref() == sig_alg
        })
        .ok_or_else(|| "unsupported signature algorithm for the signer's key".to_owned())?;
    algorithm
        .verify_signature(&signer.key, message, signature)
        .map_err(|_| "bad signature".to_owned())
}

/// An element's contents without its tag and length (webpki's AlgorithmIdentifier form).
fn contents(der: &[u8]) -> Result<Vec<u8>, String> {
    yasna::parse_der(der, |r| r.read_tagged_der())
        .map(|v| v.value().to_vec())
        .map_err(|e| format!("malformed algorithm identifier: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aia_value_round_trips_through_the_extension_reader() {
        let value = aia_ocsp_extension_value("http://127.0.0.9:4000/");
        let urls = yasna::parse_der(&value, read_aia).expect("parses");
        assert_eq!(urls, vec!["http://127.0.0.9:4000/".to_owned()]);
        // SEQUENCE { SEQUENCE { OID id-ad-ocsp, [6] "..." } }, byte for byte.
        assert_eq!(&value[..4], &[0x30, 0x24, 0x30, 0x22]);
        assert_eq!(&value[4..14], &[6, 8, 43, 6, 1, 5, 5, 7, 48, 1]);
        assert_eq!(&value[14..16], &[0x86, 22]);
    }
}
