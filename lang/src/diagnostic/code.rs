//! Diagnostic codes: stable names that users can search for and tests can assert.

macro_rules! codes {
    ($($variant:ident => $name:literal: $doc:literal,)*) => {
        /// What kind of problem a diagnostic reports.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $(#[doc = $doc] $variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as shown to users: `jspec::unknown_actor`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => concat!("jspec::", $name),)*
                }
            }

            /// One line saying what the code means (for docs and editors).
            pub fn description(self) -> &'static str {
                match self {
                    $(Code::$variant => $doc,)*
                }
            }
        }
    };
}

codes! {
    Syntax => "syntax": "The text does not follow the grammar.",
    UnknownKeyword => "unknown_keyword": "A line starts with a word that is not a statement or declaration.",
    TooDeep => "too_deep": "Blocks, or procedure calls, are nested deeper than jspec accepts.",
    BadEscape => "bad_escape": "A string has an escape other than \\\" \\\\ \\n \\t \\$.",
    NumberTooLarge => "number_too_large": "A number does not fit.",
    UnknownActor => "unknown_actor": "A user is not declared in the case.",
    UnknownRoom => "unknown_room": "A room is not declared in the case.",
    UnknownServer => "unknown_server": "A server, node or database is not listed in the case.",
    UnknownTarget => "unknown_target": "A name is neither a user nor a room (or server) of the case.",
    UndeclaredServer => "undeclared_server": "A user or room is declared on a server that the case's `servers` line does not list.",
    NotANode => "not_a_node": "`connect ... to NODE` names something that is not a node of the user's server.",
    NotACluster => "not_a_cluster": "`expect cluster` names a server that has no nodes, or a node of another cluster.",
    NotReplicated => "not_replicated": "A statement on a replicated database names a database without nodes, a node of another database, or `process` on a server.",
    ViaServer => "via_server": "`join ... via SERVER` names a server that the case does not list.",
    DuplicateDeclaration => "duplicate_declaration": "A name is declared twice in one case.",
    DuplicateMetadata => "duplicate_metadata": "A metadata line (priority, type, ...) appears twice in one case.",
    DuplicateCaseId => "duplicate_case_id": "Two cases share one TestRail case id.",
    MissingCaseId => "missing_case_id": "A case has no TestRail case id (C123).",
    DuplicateSuite => "duplicate_suite": "A file has more than one `suite` line.",
    NoSteps => "no_steps": "A case has no `step` block, so TestRail gets a case without steps.",
    UndefinedProcedure => "undefined_procedure": "A call names no known procedure.",
    WrongArity => "wrong_arity": "A procedure is called with the wrong number of arguments.",
    DuplicateProcedure => "duplicate_procedure": "Two procedures with one name are visible in one file.",
    RecursiveProcedure => "recursive_procedure": "A procedure calls itself, directly or through others.",
    ExpansionTooLarge => "expansion_too_large": "Procedure calls expand to more statements than jspec checks (procedures calling procedures with ever different arguments).",
    ArgumentKind => "argument_kind": "A procedure argument is a string where a name is needed.",
    UnreadableFile => "unreadable_file": "A file given on the command line or named by a `use` cannot be read: missing, not permitted, not a regular file, over 16 MiB or not UTF-8.",
    MissingUse => "missing_use": "A `use` names a file that exists neither beside the file nor in the standard library.",
    UnknownInterpolation => "unknown_interpolation": "A `${...}` names nothing in scope, or a field the value does not have.",
    XmlNotWellFormed => "xml_not_well_formed": "Raw XML is not well-formed.",
    OutOfRange => "out_of_range": "A duration, percentage, rate or count is out of range.",
    PriorityWithoutLimit => "priority_without_limit": "`impair link ... priority xmpp` without a `bandwidth` in the same statement: there is no limit for the traffic classes to share.",
    NextTakesOne => "next_takes_one": "`expect ... receives next` with several messages, or with `in order`: each `next` expects one stanza, after the previous one's.",
    UnfaithfulFault => "unfaithful_fault": "A fault that the chosen fault plane can only approximate.",
    UnknownReason => "unknown_reason": "`expect connect ... fails with` names an unknown failure reason.",
    UnknownCapability => "unknown_capability": "`requires` names a capability jspec does not know.",
    BadCut => "bad_cut": "A partition or link names the same side twice, or a link that does not exist.",
    EnvSyntax => "env_syntax": "An environment file is not valid TOML.",
    EnvUnknownKey => "env_unknown_key": "An environment file has a key jspec does not know, or one that does not apply there.",
    EnvMissingKey => "env_missing_key": "An environment file lacks a key that is required there.",
    EnvBadValue => "env_bad_value": "A value in an environment file has the wrong type or form.",
    EnvSecretInFile => "env_secret_in_file": "An environment file holds a password or other secret; name an environment variable instead.",
    EnvMissingVariable => "env_missing_variable": "An environment variable named by an `*_env` key is not set.",
    EnvMissingRole => "env_missing_role": "A case uses a server, node or database role (or a user account) that the environment does not define.",
    EnvCannotFault => "env_cannot_fault": "A case injects a fault that a server of the environment cannot take (the clock of an external server); the case will be Blocked.",
    EnvUnsupported => "env_unsupported": "The environment asks for something this version of jspec cannot do yet.",
    Internal => "internal": "A bug in jspec: please report it with the file that caused it.",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
