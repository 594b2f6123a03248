//! The parts of Message Archive Management (XEP-0313, paged with XEP-0059) that `expect archive`
//! and a session catching up with its rooms share: the query, its results, the end of a page.

use minidom::Element;
use minidom::rxml::xml_ncname;

use super::wire::NS_CLIENT;

pub(crate) const NS_MAM: &str = "urn:xmpp:mam:2";
pub(crate) const NS_FORWARD: &str = "urn:xmpp:forward:0";
const NS_RSM: &str = "http://jabber.org/protocol/rsm";

/// A query of `target`'s archive (a room's, or the user's own), the page after archive id
/// `after`; the query id is the iq's id.
pub(crate) fn query(id: &str, target: &str, after: Option<&str>) -> Element {
    let mut query = Element::builder("query", NS_MAM).attr(xml_ncname!("queryid").into(), id);
    if let Some(after) = after {
        query = query.append(
            Element::builder("set", NS_RSM)
                .append(Element::builder("after", NS_RSM).append(after).build())
                .build(),
        );
    }
    Element::builder("iq", NS_CLIENT)
        .attr(xml_ncname!("type").into(), "set")
        .attr(xml_ncname!("id").into(), id)
        .attr(xml_ncname!("to").into(), target)
        .append(query.build())
        .build()
}

/// A result message of a query whose id `ours` accepts: its `<result/>` (with the archive id)
/// and its `<forwarded/>` (the delay stamp and the archived message).
pub(crate) fn result(
    stanza: &Element,
    ours: impl Fn(&str) -> bool,
) -> Option<(&Element, &Element)> {
    let result = stanza
        .get_child("result", NS_MAM)
        .filter(|r| r.attr("queryid").is_some_and(&ours))?;
    Some((result, result.get_child("forwarded", NS_FORWARD)?))
}

/// How the answer to a query ends its page.
pub(crate) struct PageEnd {
    /// The server says there is nothing more (also when it says nothing at all).
    pub(crate) complete: bool,
    /// The archive id of the page's last message: where the next page starts.
    pub(crate) last: Option<String>,
}

pub(crate) fn page_end(answer: &Element) -> PageEnd {
    let fin = answer.get_child("fin", NS_MAM);
    PageEnd {
        complete: fin.is_none_or(|f| matches!(f.attr("complete"), Some("true" | "1"))),
        last: fin
            .and_then(|f| f.get_child("set", NS_RSM))
            .and_then(|s| s.get_child("last", NS_RSM))
            .map(Element::text),
    }
}
