//! The importer on scansion scripts written for these tests (Prosody's own scripts are not
//! copied into the repository; docs/scansion.md runs the importer on them).

use super::*;
use crate::check::{CheckOptions, check};
use crate::load::Program;

const TWO_DEVICES: &str = r#"# Routing to a second device
# More words about it.

[Client] Romeo
	jid: user@localhost
	password: password

[Client] Juliet
	jid: juliet@localhost
	password: password

[Client] Juliet's phone
	jid: juliet@localhost
	password: password
	resource: mobile

[Client] Boss
	jid: admin@localhost/Xy12
	password: password

-----

Romeo connects

Juliet's phone connects

# Romeo writes to the phone
Romeo sends:
	<message to="${Juliet's phone's full JID}" type="chat">
		<body>Hi</body>
	</message>

Juliet's phone receives:
	<message from="${Romeo's full JID}" to="${Juliet's phone's full JID}">
		<body>Hi</body>
		<x xmlns='urn:example' scansion:strict='false' id='{scansion:any}'/>
	</message>

-- Juliet sends:
-- 	<presence/>

# Rooms and services at localhost
Romeo sends
	<presence to="room@conference.localhost/Romeo"><x xmlns="http://jabber.org/protocol/muc"/></presence>

Boss connects

Boss sends:
	<iq type="set" to="pubsub.localhost" id="c1"><pubsub xmlns="http://jabber.org/protocol/pubsub"><create node="n"/></pubsub></iq>

Boss receives: nothing

Romeo disconnects

Romeo disconnects
"#;

fn imported() -> Imported {
    import(TWO_DEVICES, "two_devices.scs").unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn clients_become_users_and_sessions_and_the_admin_an_administrator() {
    let jspec = imported().jspec;
    assert!(
        jspec.contains("case \"Routing to a second device\" {"),
        "{jspec}"
    );
    assert!(jspec.contains("user romeo on a\n"), "{jspec}");
    assert!(jspec.contains("user juliet on a\n"), "{jspec}");
    assert!(jspec.contains("user boss on a as admin"), "{jspec}");
    assert!(jspec.contains("room room on a"), "{jspec}");
    assert!(jspec.contains("requires muc, pubsub"), "{jspec}");
    assert!(
        jspec.contains("connect juliet/mobile without presence"),
        "{jspec}"
    );
    assert!(jspec.contains("disconnect romeo"), "{jspec}");
}

#[test]
fn receives_is_the_next_stanza_with_scansion_strictness() {
    let jspec = imported().jspec;
    assert!(
        jspec.contains("expect juliet/mobile receives next \"\"\""),
        "{jspec}"
    );
    assert!(
        jspec.contains(r#"<message from="${romeo.full}" to="${juliet/mobile.full}">"#),
        "{jspec}"
    );
    assert!(
        jspec.contains(r#"<x xmlns='urn:example' jspec:strict='false' id='{any}'/>"#),
        "{jspec}"
    );
    // Sent XML is sent as written: no strictness there.
    assert!(
        jspec.contains(r#"<presence to="${room.jid}/Romeo"><x xmlns="http://jabber.org/protocol/muc"/></presence>"#),
        "{jspec}"
    );
    assert!(jspec.contains(r#"to="${a.pubsub}""#), "{jspec}");
    assert!(
        jspec.contains(r#"<create node="n-${case.tag}"/>"#),
        "{jspec}"
    );
    assert!(
        jspec.contains("expect boss receives no stanzas within 2s"),
        "{jspec}"
    );
}

#[test]
fn comments_become_steps_and_what_changes_is_noted() {
    let imported = imported();
    let jspec = &imported.jspec;
    assert!(jspec.contains("step \"Part 1\" {"), "{jspec}");
    assert!(
        jspec.contains("step \"Romeo writes to the phone\" {"),
        "{jspec}"
    );
    assert!(
        jspec.contains("# -- Juliet sends:"),
        "switched-off lines are kept: {jspec}"
    );
    assert!(
        jspec.contains("step \"Rooms and services at localhost\" {"),
        "{jspec}"
    );
    assert!(jspec.contains("# More words about it."), "{jspec}");
    assert!(
        imported.notes.iter().any(|n| n.contains("resource `Xy12`")),
        "{:?}",
        imported.notes
    );
    assert_eq!(jspec.matches("disconnect romeo").count(), 1, "{jspec}");
    assert!(
        jspec.contains(
            "# scansion: `Romeo disconnects` (line 55), but Romeo is not connected: nothing to do"
        ),
        "{jspec}"
    );
}

#[test]
fn the_import_parses_and_checks() {
    let jspec = imported().jspec;
    let program = Program::from_text("two_devices.jspec", &jspec);
    let report = check(&program, &CheckOptions::default());
    assert!(!report.has_errors(), "{:?}\n{jspec}", report.diagnostics);
    assert_eq!(
        crate::fmt::format_text(&jspec).as_deref(),
        Some(jspec.as_str())
    );
}

#[test]
fn broken_scripts_are_errors_with_their_line() {
    let no_dashes = import("# t\n[Client] A\n\tjid: a@localhost\n", "x.scs").unwrap_err();
    assert!(
        no_dashes.message.contains("no line of dashes"),
        "{no_dashes:?}"
    );
    let unknown = import("[Client] A\n\tjid: a@localhost\n---\nB connects\n", "x.scs").unwrap_err();
    assert_eq!((unknown.line, unknown.column), (4, 1));
    assert!(unknown.help.contains("the clients are A"), "{unknown:?}");
    let verb = import("[Client] A\n\tjid: a@localhost\n---\nA dances\n", "x.scs").unwrap_err();
    assert!(verb.message.contains("unknown action `dances`"), "{verb:?}");
    let empty = import(
        "[Client] A\n\tjid: a@localhost\n---\nA sends:\nA connects\n",
        "x.scs",
    )
    .unwrap_err();
    assert!(empty.message.contains("has no XML under it"), "{empty:?}");
    let reference = import(
        "[Client] A\n\tjid: a@localhost\n---\nA sends:\n\t<x to='${B's JID}'/>\n",
        "x.scs",
    )
    .unwrap_err();
    assert_eq!(reference.line, 4);
    assert!(
        reference.message.contains("names no client"),
        "{reference:?}"
    );
    let two = import(
        "[Client] A\n\tjid: a@localhost\n---\nA connects\nA sends:\n\t<iq/>\n\n\t<iq/>\n",
        "x.scs",
    )
    .unwrap_err();
    assert_eq!(two.line, 5);
    assert!(
        two.message.contains("`A sends`: the block holds 2 stanzas"),
        "{two:?}"
    );
    let broken = import(
        "[Client] A\n\tjid: a@localhost\n---\nA sends:\n\t<iq>\n",
        "x.scs",
    )
    .unwrap_err();
    assert!(broken.message.contains("not well-formed"), "{broken:?}");
    let no_jid = import("[Client] A\n\tpassword: p\n---\n", "x.scs").unwrap_err();
    assert!(no_jid.message.contains("has no `jid:`"), "{no_jid:?}");
}
