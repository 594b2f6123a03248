//! Environment files: the shipped ones load, bad ones give the right code at the right line and
//! column, secrets stay secret, and programs bind to environments by role.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jspec_lang::ast::{ItemKind, ProcessAction};
use jspec_lang::diagnostic::{RenderOptions, render_all};
use jspec_lang::load::Program;
use jspec_runtime::env::{Address, EnvError, Environment, Plane, Register, ServerEnv, Software};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every variable an example names, set to a recognisable value.
fn lab_vars(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if let Some(user) = lower.strip_suffix("_jid") {
        let user = user.rsplit('_').next().unwrap_or(user);
        return Some(format!("{user}@lab.example"));
    }
    Some(format!("secret-of-{lower}"))
}

fn load_example(path: &str) -> Environment {
    match Environment::load_with(&repo().join(path), &lab_vars) {
        Ok(env) => env,
        Err(error) => panic!("{path}:\n{}", error.render(RenderOptions::plain())),
    }
}

fn external<'e>(env: &'e Environment, role: &str) -> &'e jspec_runtime::env::ExternalServer {
    match env.server(role) {
        Some(ServerEnv::External(server)) => server,
        other => panic!("{role} is not external: {other:?}"),
    }
}

#[test]
fn shipped_environment_files_load() {
    for path in [
        "envs/local.toml",
        "envs/hybrid.toml",
        "envs/replicated.toml",
        "envs/scansion.toml",
        "envs/examples/openfire-lab.toml",
        "envs/examples/mlink-lab.toml",
        "envs/examples/mssql-lab.toml",
    ] {
        load_example(path);
    }
}

#[test]
fn an_external_sql_server_group_is_faulted_through_its_node_commands() {
    let env = load_example("envs/examples/mssql-lab.toml");
    let commands = env.database_commands();
    let kill = |name: &str| commands[name].get(ProcessAction::Kill);
    assert_eq!(
        kill("sql1"),
        Some("ssh root@sql1.lab.example systemctl kill -s KILL mssql-server")
    );
    assert!(kill("sql").is_some_and(|c| c.contains("sql2.lab.example")));
    assert_eq!(
        env.database("sql").map(|d| d.software.as_str()),
        Some("mssql-external")
    );
}

#[test]
fn the_hybrid_lab_runs_prosody_a_standalone_ejabberd_and_a_cluster() {
    let env = load_example("envs/hybrid.toml");
    let spec = env.lab_spec(&["a", "c", "e"]).unwrap();
    assert_eq!(spec.servers, ["a"]);
    let clusters: Vec<(&str, &[String])> = spec
        .clusters
        .iter()
        .map(|c| (c.role.as_str(), c.nodes.as_slice()))
        .collect();
    assert_eq!(clusters.len(), 2);
    assert_eq!(
        clusters[0],
        ("c", &["c1".to_string(), "c2".to_string()][..])
    );
    assert_eq!(clusters[1], ("e", &["e".to_string()][..]));
    assert!(env.capabilities("c").contains("cluster"));
    assert!(
        !env.capabilities("e").contains("cluster"),
        "one node is no cluster"
    );
}

/// A managed database listed with nodes is replicated (Patroni) under the cluster that uses it,
/// its first node the initial primary; the names must be a list, and unique across the file.
#[test]
fn a_managed_database_with_nodes_is_replicated_under_its_cluster() {
    let text = "[servers.c]\nsoftware = \"ejabberd\"\nnodes = [\"c1\", \"c2\"]\ndatabase = \"pg\"\n\n\
                [databases.pg]\nsoftware = \"postgresql\"\nnodes = [\"pg2\", \"pg1\"]\n";
    let base = repo().join("envs/examples");
    let env = Environment::from_toml("replicated.toml", text, &base, &|_: &str| None)
        .unwrap_or_else(|e| panic!("{}", e.render(RenderOptions::plain())));
    let spec = env.lab_spec(&["c"]).unwrap();
    assert_eq!(spec.clusters[0].database.as_deref(), Some("pg"));
    assert_eq!(spec.clusters[0].database_nodes, ["pg2", "pg1"], "in order");

    let table = "[databases.pg]\nsoftware = \"postgresql\"\n[databases.pg.nodes.pg1]\n\
                 address = \"pg1.lab.example:5432\"\n";
    let out = error_of(table, "jspec::env_unknown_key");
    assert!(out.contains("nodes = [\"pg1\", \"pg2\"]"), "{out}");

    let clash = "[servers.c]\nsoftware = \"ejabberd\"\nnodes = [\"c1\", \"n2\"]\ndatabase = \"pg\"\n\
                 [databases.pg]\nsoftware = \"postgresql\"\nnodes = [\"n1\", \"n2\"]\n";
    let out = error_of(clash, "jspec::env_bad_value");
    assert!(out.contains("n2"), "{out}");
}

#[test]
fn a_managed_prosody_takes_modules_options_and_a_stopped_clock() {
    let env = load_example("envs/scansion.toml");
    let spec = env.lab_spec(&["a"]).unwrap();
    let extensions = &spec.extensions["a"];
    assert!(
        extensions
            .modules
            .iter()
            .any(|m| m == "server_contact_info")
    );
    assert_eq!(
        extensions.modules_disabled,
        ["bookmarks", "smacks", "csi_simple"]
    );
    assert_eq!(
        extensions.clock.map(|c| c.unix_timestamp()),
        Some(1_219_439_344)
    );
    let option = |key: &str| {
        extensions
            .options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no option {key}"))
    };
    assert_eq!(option("hide_os_type"), "true");
    assert!(
        option("contact_info")
            .contains(r#"["abuse"] = { "mailto:abuse@a.test"; "xmpp:abuse@a.test" }"#)
    );
    assert!(
        option("external_services")
            .starts_with(r#"{ { ["transport"] = "udp"; ["type"] = "stun" }"#)
    );

    let prosody = "[servers.a]\nsoftware = \"prosody\"\n";
    let out = error_of(
        &format!("{prosody}clock = \"yesterday\"\n"),
        "jspec::env_bad_value",
    );
    assert!(
        out.contains("`yesterday` is not a date and time") && out.contains("2008-08-22T21:09:04Z"),
        "{out}"
    );
    let out = error_of(
        &format!("{prosody}modules = [\"x; os.exit()\"]\n"),
        "jspec::env_bad_value",
    );
    assert!(out.contains("is not a Prosody module name"), "{out}");
    let out = error_of(
        &format!("{prosody}[servers.a.options]\nmodules_enabled = [\"x\"]\n"),
        "jspec::env_bad_value",
    );
    assert!(
        out.contains("list the modules in `servers.a.modules`"),
        "{out}"
    );
    let out = error_of(
        &format!("{prosody}[servers.a.options]\nwhen = 1979-05-27\n"),
        "jspec::env_bad_value",
    );
    assert!(out.contains("Lua has no form for"), "{out}");
    let ejabberd = "[servers.c]\nsoftware = \"ejabberd\"\nmodules = [\"x\"]\n";
    let out = error_of(ejabberd, "jspec::env_unknown_key");
    assert!(
        out.contains("`servers.c.modules` does not apply to a managed ejabberd server"),
        "{out}"
    );
}

#[test]
fn local_toml_is_the_built_in_lab_written_out() {
    let file = load_example("envs/local.toml");
    let built_in = Environment::local(&["a", "b"]);
    assert_eq!(Environment { file: None, ..file }, built_in);
    assert_eq!(built_in.defaults.timeout, Duration::from_secs(10));
    assert_eq!(built_in.defaults.plane, Plane::Proxy);
    assert_eq!(built_in.server("a").unwrap().domain(), "a.test");
    assert_eq!(
        built_in.server("a").unwrap().muc_domain(),
        "conference.a.test"
    );
    assert_eq!(built_in.describe(), "the built-in local lab");
}

#[test]
fn openfire_example_binds_sites_a_cluster_and_a_database() {
    let env = load_example("envs/examples/openfire-lab.toml");
    assert_eq!(env.name, "openfire-lab");
    assert_eq!(env.defaults.timeout, Duration::from_secs(15));
    let a = external(&env, "a");
    assert_eq!(a.software, Software::Openfire);
    assert_eq!(a.domain, "of1.lab.example");
    assert_eq!(a.address, Some(Address::new("of1.lab.example", 5222)));
    assert_eq!(a.accounts.register, Register::InBand);
    assert_eq!(a.accounts.users["alice"].jid, "alice@lab.example");
    assert_eq!(
        a.accounts.users["alice"].password.expose(),
        "secret-of-of_alice_password"
    );
    let ca = a.tls.ca_file.as_ref().unwrap();
    assert!(ca.is_absolute() && ca.is_file(), "{}", ca.display());
    assert_eq!(
        a.commands.get(ProcessAction::Kill),
        Some("ssh root@of1.lab.example systemctl kill -s KILL openfire")
    );
    let b = external(&env, "b");
    assert_eq!(b.muc_domain, "conference.of2.lab.example");
    assert_eq!(b.commands.get(ProcessAction::Pause), None);
    let c = external(&env, "c");
    assert_eq!(env.server("c").unwrap().node_names(), ["c1", "c2"]);
    assert_eq!(
        c.c2s_address(Some("c2")),
        Some(&Address::new("ofc2.lab.example", 5222))
    );
    assert_eq!(
        c.direct_tls_address(None),
        Some(Address::new("ofc-lb.lab.example", 5223))
    );
    assert!(env.capabilities("c").contains("cluster"));
    let pg = env.database("pg").unwrap();
    assert_eq!(pg.address, Some(Address::new("ofdb.lab.example", 5432)));
    assert!(pg.commands.get(ProcessAction::Stop).is_some());
}

#[test]
fn mlink_example_has_fmuc_kerberos_and_its_own_room_service() {
    let env = load_example("envs/examples/mlink-lab.toml");
    for capability in ["fmuc", "gssapi", "crl", "ocsp"] {
        assert!(env.capabilities("a").contains(capability), "{capability}");
    }
    let b = external(&env, "b");
    assert_eq!(b.muc_domain, "rooms.ml2.lab.example");
    assert_eq!(b.accounts.register, Register::None);
    assert_eq!(b.accounts.users["bob"].jid, "bob@lab.example");
    assert!(env.blocked(&["a", "b"], &["fmuc", "gssapi"]).is_none());
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let env = load_example("envs/examples/openfire-lab.toml");
    let debug = format!("{env:?} {env:#?}");
    assert!(!debug.contains("secret-of-"), "a password leaked: {debug}");
    assert!(debug.contains("password: ***"));
}

// ---- bad files ----------------------------------------------------------------------------

/// Loads text as `bad.toml` (relative paths from the repository's envs/examples) and returns
/// the error rendered as plain text, after checking that its first code is `code`.
fn error_of(text: &str, code: &str) -> String {
    let vars = |name: &str| (!name.starts_with("UNSET")).then(|| format!("value of {name}"));
    let base = repo().join("envs/examples");
    let error = match Environment::from_toml("bad.toml", text, &base, &vars) {
        Ok(env) => panic!("loaded: {env:?}"),
        Err(error) => error,
    };
    let rendered = error.render(RenderOptions::plain());
    assert_eq!(error.code().as_str(), code, "{rendered}");
    assert!(rendered.contains(code), "{rendered}");
    rendered
}

const EXTERNAL: &str = "[servers.of]\nsoftware = \"openfire\"\ndomain = \"of1.lab.example\"\n";

#[test]
fn unknown_key_with_did_you_mean() {
    let text = format!("{EXTERNAL}adress = \"of1.lab.example:5222\"\n");
    let out = error_of(&text, "jspec::env_unknown_key");
    assert!(out.contains("unknown key `servers.of.adress`"), "{out}");
    assert!(out.contains("[bad.toml:4:1]"), "{out}");
    assert!(out.contains("did you mean `address`?"), "{out}");
}

#[test]
fn unknown_key_deep_in_a_table() {
    let text = format!(
        "{EXTERNAL}address = \"of1:5222\"\n[servers.of.tls]\nca_fle = \"certs/lab-ca.pem\"\n"
    );
    let out = error_of(&text, "jspec::env_unknown_key");
    assert!(out.contains("unknown key `servers.of.tls.ca_fle`"), "{out}");
    assert!(out.contains("[bad.toml:6:1]"), "{out}");
    assert!(out.contains("did you mean `ca_file`?"), "{out}");
}

#[test]
fn wrong_type() {
    let text = format!(
        "{EXTERNAL}address = \"of1:5222\"\ntls = {{ ca_file = \"certs/lab-ca.pem\", verify = \"yes\" }}\n"
    );
    let out = error_of(&text, "jspec::env_bad_value");
    assert!(
        out.contains("wrong type for `servers.of.tls.verify`"),
        "{out}"
    );
    assert!(out.contains("[bad.toml:5:48]"), "{out}");
    assert!(
        out.contains("found string \"yes\", expected true or false"),
        "{out}"
    );
}

#[test]
fn external_server_without_domain() {
    let text = "[defaults]\ntimeout = \"5s\"\n\n[servers.of]\nsoftware = \"openfire\"\naddress = \"of1:5222\"\n";
    let out = error_of(text, "jspec::env_missing_key");
    assert!(out.contains("missing key `servers.of.domain`"), "{out}");
    assert!(out.contains("[bad.toml:4:1]"), "{out}");
    assert!(out.contains("an external server needs `domain`"), "{out}");
}

#[test]
fn password_in_the_file() {
    let text = format!(
        "{EXTERNAL}address = \"of1:5222\"\n\n[servers.of.users.alice]\njid = \"alice@of1.lab.example\"\npassword = \"hunter2\"\n"
    );
    let out = error_of(&text, "jspec::env_secret_in_file");
    assert!(out.contains("`servers.of.users.alice.password`"), "{out}");
    assert!(out.contains("[bad.toml:8:1]"), "{out}");
    assert!(out.contains("password_env ="), "{out}");
    assert!(out.contains("\"OF_ALICE_PASSWORD\""), "{out}");
}

#[test]
fn missing_environment_variable() {
    let text = format!(
        "{EXTERNAL}address = \"of1:5222\"\nusers.alice = {{ jid = \"alice@of1.lab.example\", password_env = \"UNSET_PW\" }}\n"
    );
    let out = error_of(&text, "jspec::env_missing_variable");
    assert!(
        out.contains("environment variable `UNSET_PW` is not set"),
        "{out}"
    );
    assert!(
        out.contains("`servers.of.users.alice.password_env`"),
        "{out}"
    );
    assert!(out.contains("[bad.toml:5:63]"), "{out}");
}

#[test]
fn bad_duration() {
    let out = error_of(
        "[defaults]\ntimeout = \"10 seconds\"\n",
        "jspec::env_bad_value",
    );
    assert!(out.contains("bad value for `defaults.timeout`"), "{out}");
    assert!(out.contains("[bad.toml:2:11]"), "{out}");
    assert!(out.contains("`10 seconds` is not a duration"), "{out}");
    error_of("[defaults]\ntimeout = 10\n", "jspec::env_bad_value");
}

#[test]
fn bad_address() {
    let text = format!("{EXTERNAL}address = \"of1.lab.example\"\n");
    let out = error_of(&text, "jspec::env_bad_value");
    assert!(out.contains("bad value for `servers.of.address`"), "{out}");
    assert!(out.contains("[bad.toml:4:11]"), "{out}");
    assert!(out.contains("has no port"), "{out}");
    let text = format!("{EXTERNAL}address = \"of1.lab.example:99999\"\n");
    assert!(error_of(&text, "jspec::env_bad_value").contains("is not a port"));
}

#[test]
fn toml_syntax() {
    let out = error_of(
        "[servers.of\nsoftware = \"openfire\"\n",
        "jspec::env_syntax",
    );
    assert!(out.contains("[bad.toml:1:12]"), "{out}");
}

#[test]
fn unknown_software_and_plane() {
    let out = error_of(
        "[servers.of]\nsoftware = \"openfir\"\n",
        "jspec::env_bad_value",
    );
    assert!(
        out.contains("`servers.of.software` cannot be `openfir`"),
        "{out}"
    );
    assert!(out.contains("did you mean `openfire`?"), "{out}");
    let out = error_of("[defaults]\nplane = \"packets\"\n", "jspec::env_bad_value");
    assert!(out.contains("did you mean `packet`?"), "{out}");
}

#[test]
fn managed_servers_refuse_what_jspec_chooses() {
    let text = "[servers.a]\nsoftware = \"prosody\"\naddress = \"127.0.0.1:5222\"\n";
    let out = error_of(text, "jspec::env_unknown_key");
    assert!(out.contains("`servers.a.address` does not apply to a managed prosody server"));
    assert!(out.contains("[bad.toml:3:1]"), "{out}");
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = format!(
        "{EXTERNAL}address = \"of1:5222\"\ncapabilities = [\"mam\", \"fmcu\"]\ntls.ca_file = \"nope.pem\"\n"
    );
    let out = error_of(&text, "jspec::env_bad_value");
    let caps = out.find("unknown capability `fmcu`").expect(&out);
    let ca = out.find("no file at").expect(&out);
    assert!(caps < ca, "{out}");
    assert!(out.contains("did you mean `fmuc`?"), "{out}");
    assert!(
        out.contains("[bad.toml:5:24]") && out.contains("[bad.toml:6:15]"),
        "{out}"
    );
}

#[test]
fn error_display_is_one_line_with_file_line_column_and_key() {
    let vars = |_: &str| None;
    let text = format!("{EXTERNAL}adress = \"x:1\"\n");
    let error = Environment::from_toml("bad.toml", &text, Path::new("."), &vars).unwrap_err();
    assert_eq!(
        error.to_string(),
        "bad.toml:4:1: unknown key `servers.of.adress` [jspec::env_unknown_key]"
    );
    let error = Environment::load(Path::new("/nonexistent/env.toml")).unwrap_err();
    assert!(matches!(error, EnvError::Read { .. }), "{error}");
}

// ---- programs and environments -------------------------------------------------------------

#[test]
fn missing_roles_name_the_role_the_file_and_the_roles_it_has() {
    let env = load_example("envs/examples/mlink-lab.toml");
    let bindings = env.resolve_roles(&["b", "a"]).unwrap();
    assert_eq!(
        bindings.iter().map(|b| b.role).collect::<Vec<_>>(),
        ["b", "a"]
    );
    let error = env.resolve_roles(&["a", "c"]).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("server role `c` is not defined in"),
        "{message}"
    );
    assert!(
        message.contains("envs/examples/mlink-lab.toml"),
        "{message}"
    );
    assert!(message.contains("(it defines `a`, `b`)"), "{message}");
    assert_eq!(error.code().as_str(), "jspec::env_missing_role");
    let rendered = error.render(RenderOptions::plain());
    assert!(rendered.contains("add a `[servers.c]` table"), "{rendered}");
    assert!(env.resolve_databases(&["pg"]).is_err());
}

#[test]
fn the_local_lab_offers_what_prosody_offers() {
    let env = Environment::local(&["a", "b"]);
    let offered: Vec<String> = env.capabilities("a").into_iter().collect();
    assert_eq!(
        offered,
        [
            "carbons",
            "crl",
            "dialback",
            "direct-tls",
            "disco",
            "external",
            "gssapi",
            "mam",
            "muc",
            "pubsub",
            "smacks",
            "vcard"
        ]
    );
    assert_eq!(
        env.missing_capabilities("a", &["mam", "fmuc", "ocsp", "fmuc"]),
        ["fmuc", "ocsp"]
    );
    let blocked = env.blocked(&["a", "b"], &["muc", "fmuc"]).unwrap();
    assert_eq!(
        blocked.to_string(),
        "server `a` lacks `fmuc`; server `b` lacks `fmuc` in the built-in local lab"
    );
    assert!(env.blocked(&["a"], &["mam", "direct-tls"]).is_none());
    let spec = env.lab_spec(&["a", "b"]).unwrap();
    assert_eq!(spec.servers, ["a", "b"]);
}

#[test]
fn managed_ejabberd_becomes_a_cluster_of_the_lab() {
    let text = "[servers.c]\nsoftware = \"ejabberd\"\nnodes = [\"c1\", \"c2\"]\ndatabase = \"pg\"\n[databases.pg]\nsoftware = \"postgresql\"\n[servers.e]\nsoftware = \"ejabberd\"\n";
    let vars = |_: &str| None;
    let env = Environment::from_toml("cluster.toml", text, Path::new("."), &vars).unwrap();
    assert_eq!(env.server("c").unwrap().node_names(), ["c1", "c2"]);
    assert!(env.capabilities("c").contains("cluster"));
    let spec = env.lab_spec(&["c", "e"]).unwrap();
    assert_eq!(spec.clusters.len(), 2);
    assert_eq!(spec.clusters[0].nodes, ["c1", "c2"]);
    assert_eq!(spec.clusters[0].database_role(), "pg");
    // A standalone ejabberd is one node named like its role, on a database of its own.
    assert_eq!(spec.clusters[1].nodes, ["e"]);
    assert_eq!(spec.clusters[1].database_role(), "e-db");
}

#[test]
fn cases_are_checked_against_the_environment() {
    let text = r#"case C1 "t" {
  servers a, c with nodes c1, c3
  databases pg
  user alice on a
  user erin on c
  step "s" {
    wait 1s
  }
}
"#;
    let program = Program::from_text("t.jspec", text);
    let file = program.roots[0];
    let ast = program.module(file).ast.as_ref().unwrap();
    let ItemKind::Case(case) = &ast.items[0].kind else {
        panic!("no case")
    };
    let env = load_example("envs/examples/openfire-lab.toml");
    let diagnostics = env.check_case(file, case);
    let out = render_all(&diagnostics, &program.sources, RenderOptions::plain());
    assert_eq!(diagnostics.len(), 2, "{out}");
    assert!(out.contains("`c` has no node `c3`"), "{out}");
    assert!(out.contains("[t.jspec:2:31]"), "{out}");
    assert!(out.contains("the nodes of `c` there: `c1`, `c2`"), "{out}");
    assert!(out.contains("user `erin` has no account on `c`"), "{out}");
    assert!(out.contains("[t.jspec:5:8]"), "{out}");

    let local = Environment::local(&["a"]);
    let diagnostics = local.check_case(file, case);
    let out = render_all(&diagnostics, &program.sources, RenderOptions::plain());
    assert_eq!(diagnostics.len(), 2, "{out}");
    assert!(
        out.contains("server role `c` is not defined in the built-in local lab"),
        "{out}"
    );
    assert!(out.contains("database role `pg` is not defined"), "{out}");
}

#[test]
fn variables_come_from_the_process_environment_by_default() {
    // PATH is set in every test environment; the key names it, the value stays hidden.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.toml");
    let text = format!(
        "{EXTERNAL}address = \"of1:5222\"\n[servers.of.users.alice]\njid = \"alice@of1.lab.example\"\npassword_env = \"PATH\"\n"
    );
    std::fs::write(&path, text).unwrap();
    let env = Environment::load(&path).unwrap();
    let users: BTreeMap<_, _> = external(&env, "of").accounts.users.clone();
    assert_eq!(
        users["alice"].password.expose(),
        std::env::var("PATH").unwrap()
    );
    assert_eq!(env.name, "env");
}

#[test]
fn names_commands_and_accounts_are_checked() {
    let text = format!(
        "{EXTERNAL}address = \"of1:5222\"\ncommands = {{ kill = \" \" }}\n[servers.of.users.\"al ice\"]\njid = \"alice\"\njid_env = \"X\"\npassword_env = \"not a name\"\n[servers.\"2nd\"]\nsoftware = \"prosody\"\n"
    );
    let out = error_of(&text, "jspec::env_bad_value");
    for expected in [
        "`servers.of.commands.kill` is empty",
        "`servers.of.users.\"al ice\"`: `al ice` cannot be a user name",
        "has both `jid` and `jid_env`",
        "must name an environment variable",
        "`servers.2nd`: `2nd` cannot be a server role name",
    ] {
        assert!(out.contains(expected), "{expected}:\n{out}");
    }
}

#[test]
fn a_node_may_not_share_a_name_with_a_role() {
    let text = format!(
        "{EXTERNAL}[servers.of.nodes.a]\naddress = \"n1:5222\"\n[servers.a]\nsoftware = \"prosody\"\n"
    );
    let out = error_of(&text, "jspec::env_bad_value");
    assert!(
        out.contains("node `a` of `servers.of` has the name of the role `a`"),
        "{out}"
    );
    assert!(out.contains("[bad.toml:4:19]"), "{out}");
}

// ---- the documentation --------------------------------------------------------------------

fn fenced_blocks(doc: &str, language: &str) -> Vec<String> {
    let fence = format!("```{language}\n");
    let mut blocks = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("```\n").expect("unclosed block");
        blocks.push(body[..end].to_string());
        rest = &body[end..];
    }
    blocks
}

fn environment_doc() -> String {
    std::fs::read_to_string(repo().join("docs/environment.md")).unwrap()
}

#[test]
fn the_documented_toml_loads_and_the_rendered_error_is_real() {
    let doc = environment_doc();
    let base = repo().join("envs/examples");
    let tomls = fenced_blocks(&doc, "toml");
    assert!(tomls.len() >= 6);
    let mut rendered_example = None;
    for text in &tomls {
        let result = Environment::from_toml("envs/lab.toml", text, &base, &lab_vars);
        match result {
            Ok(_) => {}
            Err(error) if text.contains("adress") => {
                rendered_example = Some(error.render(RenderOptions::plain()));
            }
            Err(error) => panic!("{text}\n{}", error.render(RenderOptions::plain())),
        }
    }
    let rendered = rendered_example.expect("the error example");
    let shown = fenced_blocks(&doc, "text");
    assert!(
        shown.contains(&rendered),
        "docs/environment.md does not show the real rendering:\n{rendered}"
    );
}

#[test]
fn every_environment_code_is_documented() {
    let doc = environment_doc();
    for code in jspec_lang::diagnostic::Code::ALL {
        let name = code.as_str();
        if name.starts_with("jspec::env_") {
            assert!(
                doc.contains(&format!("`{name}`")),
                "{name} is not in docs/environment.md"
            );
        }
    }
}
