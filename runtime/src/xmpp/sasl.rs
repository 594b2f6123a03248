//! SASL (RFC 6120 section 6) done here rather than by `tokio_xmpp::client_login`: that helper
//! picks its own mechanism order (so `auth scram` could silently become PLAIN when channel
//! binding is on the table) and never checks the SCRAM server signature. The mechanism
//! arithmetic comes from the `sasl` crate, the same one tokio-xmpp uses.

use std::collections::BTreeSet;

use minidom::Element;
use sasl::client::Mechanism;
use sasl::client::mechanisms::{Plain, Scram};
use sasl::common::ChannelBinding;
use sasl::common::scram::{Sha1, Sha256};
use xmpp_parsers::sasl::{Auth, Challenge, Mechanism as XmppMechanism, Response, Success};

use super::config::{AuthMechanism, ConnectConfig};
use super::error::{ConnectError, FailureReason};
use super::wire::{self, Bound, NS_SASL, Stream};

/// What the TLS layer can offer SCRAM for channel binding.
#[derive(Debug, Default)]
pub(crate) struct Binding {
    /// RFC 9266 tls-exporter data (TLS 1.3 only).
    pub(crate) exporter: Option<Vec<u8>>,
    /// The server advertised tls-exporter in XEP-0440 `<sasl-channel-binding/>`.
    pub(crate) server_has_exporter: bool,
}

type BoxedMechanism = Box<dyn Mechanism + Send + Sync>;

/// Chooses the mechanism the config asks for among those offered; never falls back to another
/// family.
fn choose(
    config: &ConnectConfig,
    offered: &BTreeSet<String>,
    binding: &Binding,
) -> Result<BoxedMechanism, ConnectError> {
    let unavailable = |wanted: &str| {
        let list: Vec<&str> = offered.iter().map(String::as_str).collect();
        ConnectError::new(
            FailureReason::MechanismUnavailable,
            format!("{wanted} not offered (server offers: {})", list.join(", ")),
        )
    };
    let user = config.username.clone();
    let pass = config.password.clone();
    let nonce_error = |e: sasl::Error| {
        ConnectError::new(
            FailureReason::AuthFailed,
            format!("SCRAM setup failed: {e:?}"),
        )
    };
    match config.auth {
        AuthMechanism::External => {
            if config.client_certificate.is_none() {
                return Err(ConnectError::new(
                    FailureReason::AuthFailed,
                    "EXTERNAL needs a client certificate, and none was given",
                ));
            }
            if offered.contains("EXTERNAL") {
                Ok(Box::new(External))
            } else {
                Err(unavailable("EXTERNAL"))
            }
        }
        AuthMechanism::Plain => {
            if offered.contains("PLAIN") {
                Ok(Box::new(Plain::new(user, pass)))
            } else {
                Err(unavailable("PLAIN"))
            }
        }
        AuthMechanism::Scram => {
            if let (Some(data), true) = (&binding.exporter, binding.server_has_exporter) {
                let cb = || ChannelBinding::TlsExporter(data.clone());
                if offered.contains("SCRAM-SHA-256-PLUS") {
                    let m = Scram::<Sha256>::new(user, pass, cb()).map_err(nonce_error)?;
                    return Ok(Box::new(m));
                }
                if offered.contains("SCRAM-SHA-1-PLUS") {
                    let m = Scram::<Sha1>::new(user, pass, cb()).map_err(nonce_error)?;
                    return Ok(Box::new(m));
                }
            }
            // gs2 flag: "y" tells a server that offers no -PLUS that we could have bound (so a
            // stripped -PLUS list is detected); "n" when it offers a binding we cannot do
            // (Prosody 0.12 offers only tls-unique, which rustls cannot provide).
            let server_offers_plus = offered.iter().any(|m| m.ends_with("-PLUS"));
            let cb = if binding.exporter.is_some() && !server_offers_plus {
                ChannelBinding::Unsupported
            } else {
                ChannelBinding::None
            };
            if offered.contains("SCRAM-SHA-256") {
                Ok(Box::new(
                    Scram::<Sha256>::new(user, pass, cb).map_err(nonce_error)?,
                ))
            } else if offered.contains("SCRAM-SHA-1") {
                Ok(Box::new(
                    Scram::<Sha1>::new(user, pass, cb).map_err(nonce_error)?,
                ))
            } else {
                Err(unavailable("SCRAM-SHA-256 or SCRAM-SHA-1"))
            }
        }
        // Not a `sasl` crate mechanism: `authenticate` hands it to the GSSAPI module.
        AuthMechanism::Gssapi => Err(ConnectError::new(
            FailureReason::AuthFailed,
            "GSSAPI runs through the Kerberos helper, not the SASL mechanism table",
        )),
    }
}

/// SASL EXTERNAL with an empty authorization identity: the server takes the identity from the
/// TLS client certificate (the `sasl` crate has no client side of it).
struct External;

impl Mechanism for External {
    fn name(&self) -> &str {
        "EXTERNAL"
    }

    fn from_credentials(
        _: sasl::common::Credentials,
    ) -> Result<External, sasl::client::MechanismError> {
        Ok(External)
    }
}

/// Runs the exchange; on success returns the mechanism name that was used. The caller resets
/// the stream afterwards.
pub(crate) async fn authenticate(
    stream: &mut Stream,
    config: &ConnectConfig,
    offered: &BTreeSet<String>,
    binding: &Binding,
    bound: &Bound,
) -> Result<String, ConnectError> {
    if config.auth == AuthMechanism::Gssapi {
        return super::gssapi::authenticate(stream, config, offered, bound).await;
    }
    let mut mechanism = choose(config, offered, binding)?;
    let name = mechanism.name().to_owned();
    let initial = mechanism.initial();
    let auth = if name == "EXTERNAL" {
        // xmpp-parsers knows no EXTERNAL. Its initial response is the empty authorization
        // identity (the server takes the certificate's), sent as "=" (RFC 6120 6.4.2): an
        // empty element would mean "no initial response".
        Element::builder("auth", NS_SASL)
            .attr(
                minidom::rxml::xml_ncname!("mechanism").to_owned(),
                "EXTERNAL",
            )
            .append("=")
            .build()
    } else {
        let xmpp_name: XmppMechanism = name.parse().map_err(|e| {
            ConnectError::new(FailureReason::MechanismUnavailable, format!("{name}: {e}"))
        })?;
        Element::from(Auth {
            mechanism: xmpp_name,
            data: initial,
        })
    };
    tracing::debug!(mechanism = %name, "SASL start");
    wire::send(stream, &auth, "authenticating", bound).await?;
    loop {
        let el = wire::next_element(stream, "authenticating", bound).await?;
        if el.ns() != NS_SASL {
            return Err(ConnectError::new(
                FailureReason::StreamError,
                format!("unexpected <{}/> during SASL", el.name()),
            ));
        }
        let kind = el.name().to_owned();
        match kind.as_str() {
            "challenge" => {
                let challenge = payload(el)?;
                let data = mechanism.response(&challenge).map_err(|e| {
                    ConnectError::new(FailureReason::AuthFailed, format!("{name}: {e}"))
                })?;
                let response = Element::from(Response { data });
                wire::send(stream, &response, "authenticating", bound).await?;
            }
            "success" => {
                // For SCRAM this checks the server signature: the server proves it knew the
                // password too.
                let data = payload(el)?;
                mechanism.success(&data).map_err(|e| {
                    ConnectError::new(
                        FailureReason::AuthFailed,
                        format!("{name}: server's success not accepted: {e}"),
                    )
                })?;
                return Ok(name);
            }
            "failure" => return Err(failure(&name, &el)),
            other => {
                // Still a refusal: Prosody 0.12 answers an expired EXTERNAL certificate with
                // <false/>. Named as the protocol violation it is.
                return Err(ConnectError::new(
                    FailureReason::AuthFailed,
                    format!(
                        "{name} refused with <{other}/>, which is not an RFC 6120 answer (a server bug)"
                    ),
                ));
            }
        }
    }
}

/// The payload of a challenge or success, decoded by xmpp-parsers.
pub(super) fn payload(el: Element) -> Result<Vec<u8>, ConnectError> {
    let name = el.name().to_owned();
    let bad = |e: &dyn std::fmt::Display| {
        ConnectError::new(
            FailureReason::StreamError,
            format!("malformed SASL <{name}/>: {e}"),
        )
    };
    if name == "challenge" {
        Challenge::try_from(el).map(|c| c.data).map_err(|e| bad(&e))
    } else {
        Success::try_from(el).map(|s| s.data).map_err(|e| bad(&e))
    }
}

/// A `<failure/>`: mechanism problems are `mechanism-unavailable`, the rest `auth-failed`.
pub(super) fn failure(mechanism: &str, el: &Element) -> ConnectError {
    let condition = el
        .children()
        .find(|c| c.name() != "text")
        .map(|c| c.name().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let text = el
        .get_child("text", NS_SASL)
        .map(Element::text)
        .unwrap_or_default();
    let reason = match condition.as_str() {
        "invalid-mechanism" | "mechanism-too-weak" | "encryption-required" => {
            FailureReason::MechanismUnavailable
        }
        _ => FailureReason::AuthFailed,
    };
    let mut message = format!("{mechanism} refused: {condition}");
    if !text.is_empty() {
        message.push_str(": ");
        message.push_str(&text);
    }
    ConnectError::new(reason, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn config(auth: AuthMechanism) -> ConnectConfig {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 5222));
        let mut config = ConnectConfig::new(
            addr,
            "a.test",
            "alice",
            "pw",
            Arc::new(rustls::RootCertStore::empty()),
        );
        config.auth = auth;
        config
    }

    fn offered(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|m| (*m).to_owned()).collect()
    }

    fn chosen(auth: AuthMechanism, list: &[&str], binding: &Binding) -> Result<String, String> {
        choose(&config(auth), &offered(list), binding)
            .map(|m| m.name().to_owned())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn scram_never_falls_back_to_plain() {
        let none = Binding::default();
        assert_eq!(
            chosen(AuthMechanism::Scram, &["PLAIN", "SCRAM-SHA-1"], &none),
            Ok("SCRAM-SHA-1".into())
        );
        assert_eq!(
            chosen(
                AuthMechanism::Scram,
                &["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"],
                &none
            ),
            Ok("SCRAM-SHA-256".into())
        );
        let err = chosen(AuthMechanism::Scram, &["PLAIN"], &none).unwrap_err();
        assert!(err.starts_with("mechanism-unavailable"), "{err}");
        let err = chosen(AuthMechanism::Plain, &["SCRAM-SHA-1"], &none).unwrap_err();
        assert!(err.starts_with("mechanism-unavailable"), "{err}");
    }

    #[test]
    fn plus_only_with_advertised_tls_exporter() {
        let list = ["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"];
        let exporter_only_here = Binding {
            exporter: Some(vec![0; 32]),
            server_has_exporter: false,
        };
        // Prosody 0.12 on TLS 1.2 offers -PLUS for tls-unique, which rustls cannot provide.
        assert_eq!(
            chosen(AuthMechanism::Scram, &list, &exporter_only_here),
            Ok("SCRAM-SHA-1".into())
        );
        let both = Binding {
            exporter: Some(vec![0; 32]),
            server_has_exporter: true,
        };
        assert_eq!(
            chosen(AuthMechanism::Scram, &list, &both),
            Ok("SCRAM-SHA-1-PLUS".into())
        );
    }

    fn gs2_flag(list: &[&str], binding: &Binding) -> String {
        let mut m = choose(&config(AuthMechanism::Scram), &offered(list), binding)
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&m.initial()[..3]).into_owned()
    }

    #[test]
    fn gs2_flag_tells_the_server_what_we_could_bind() {
        let tls13 = Binding {
            exporter: Some(vec![0; 32]),
            server_has_exporter: false,
        };
        // No -PLUS offered but we could bind: "y" (lets a server detect a stripped -PLUS list).
        assert_eq!(gs2_flag(&["SCRAM-SHA-1"], &tls13), "y,,");
        // -PLUS offered with a binding type we cannot do: "n".
        assert_eq!(
            gs2_flag(&["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"], &tls13),
            "n,,"
        );
        assert_eq!(gs2_flag(&["SCRAM-SHA-1"], &Binding::default()), "n,,");
    }
}
