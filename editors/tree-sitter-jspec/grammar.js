/**
 * @file Tree-sitter grammar for .jspec, the readable XMPP test language.
 *
 * Follows lang/src/grammar.pest (the single source of the syntax) rule by rule, with the same
 * rule names where a rule becomes a node. Two deliberate differences, because an editor parses
 * half-written files:
 * - newlines are whitespace: a statement ends where the next one starts, and `;` is optional;
 * - `# comments` may stand anywhere whitespace may (pest allows them at line ends only).
 * lang/tests/editors.rs checks that every keyword of lang/src/keywords.rs appears here.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

const commaSep1 = (rule) => seq(rule, repeat(seq(',', rule)));
const commaSep = (rule) => optional(commaSep1(rule));

// Text inside strings: the same precedence for every piece, so that the longest piece wins (a
// closing `"""` over a lone `"`), and above comments (a `#` in a string is text).
const inString = (rule) => token.immediate(prec(1, rule));
const tripleQuote = token(prec(1, '"""'));

module.exports = grammar({
  name: 'jspec',

  extras: ($) => [/\s/, '\uFEFF', $.comment],

  // Keywords are words that match `identifier`; where both fit, the keyword wins, and an
  // identifier may still spell a keyword where no keyword fits (`tags chaos`).
  word: ($) => $.identifier,

  conflicts: ($) => [
    // `heal` alone, then a procedure call on the next line: only the `(` tells them apart.
    [$.heal_stmt],
    // `kill database pg1` or `kill database one of pg1, pg2` (in chaos): `one` tells them apart.
    [$.process_action, $.chaos_verb],
  ],

  rules: {
    // ------------------------------------------------------------------ file
    source_file: ($) =>
      repeat(choice($.suite_decl, $.section_decl, $.use_decl, $.procedure_decl, $.case_decl)),

    suite_decl: ($) => seq('suite', field('name', $._string)),
    section_decl: ($) => seq('section', field('path', $._string)),
    use_decl: ($) => seq('use', field('path', $._string)),
    procedure_decl: ($) =>
      seq('procedure', field('name', $.identifier), field('parameters', $.params),
        field('body', $.stmt_block)),
    params: ($) => seq('(', commaSep($.identifier), ')'),

    // ------------------------------------------------------------------ case
    case_decl: ($) =>
      seq('case', optional(field('id', $.case_id)), field('title', $._string),
        field('body', $.case_block)),
    case_block: ($) => seq('{', repeat($._case_entry), '}'),
    _case_entry: ($) =>
      choice(
        $.step_block, $.user_decl, $.servers_decl, $.room_decl, $.priority_meta, $.type_meta,
        $.tags_meta, $.refs_meta, $.setup_block, $.teardown_block, $.requires_meta,
        $.estimate_meta, $.preconditions_meta, $.databases_decl,
      ),

    priority_meta: ($) => seq('priority', $.priority_level),
    priority_level: (_) => choice('low', 'medium', 'high', 'critical'),
    type_meta: ($) => seq('type', $._string),
    refs_meta: ($) => seq('refs', $.string_list),
    tags_meta: ($) => seq('tags', $.name_list),
    estimate_meta: ($) => seq('estimate', $.duration),
    requires_meta: ($) => seq('requires', $.name_list),
    preconditions_meta: ($) => seq('preconditions', $._string),

    servers_decl: ($) => seq('servers', commaSep1($.role)),
    databases_decl: ($) => seq('databases', commaSep1($.role)),
    // `servers c with nodes c1, c2, d`: the node list takes every name, as in pest.
    role: ($) =>
      prec.right(seq(field('name', $.identifier), optional(seq('with', 'nodes', $.name_list)))),
    user_decl: ($) =>
      seq('user', field('name', $.identifier), 'on', field('server', $.identifier), optional($.as_admin)),
    as_admin: (_) => seq('as', 'admin'),
    room_decl: ($) => seq('room', field('name', $.identifier), 'on', field('server', $.identifier)),

    setup_block: ($) => seq('setup', field('body', $.stmt_block)),
    step_block: ($) => seq('step', field('title', $._string), field('body', $.stmt_block)),
    teardown_block: ($) => seq('teardown', field('body', $.stmt_block)),

    // ------------------------------------------------------------------ blocks
    // One statement per line, or several split by `;`.
    stmt_block: ($) => seq('{', repeat(seq($._statement, optional(';'))), '}'),

    _statement: ($) =>
      choice(
        $.expect_receives_stmt, $.send_stmt, $.send_raw_stmt, $.connect_stmt, $.join_stmt,
        $.wait_stmt, $.disconnect_stmt, $.leave_stmt, $.repeat_stmt, $.parallel_stmt,
        $.expect_connect_stmt, $.expect_session_stmt, $.expect_archive_stmt, $.expect_link_stmt, $.expect_cluster_stmt,
        $.expect_database_stmt, $.switch_database_stmt,
        $.set_certificate_stmt, $.set_ticket_stmt, $.revoke_certificate_stmt, $.partition_stmt,
        $.isolate_stmt, $.heal_stmt, $.impair_stmt, $.flood_stmt, $.restore_clock_stmt, $.restore_stmt,
        $.skew_clock_stmt, $.set_clock_stmt, $.process_stmt,
        $.chaos_stmt, $.check_delivery_stmt, $.call_stmt,
      ),

    // ------------------------------------------------------------------ sessions
    connect_stmt: ($) => seq('connect', field('user', $._session), optional($._connect_options)),
    // At least one option; each in its place, as in the pest grammar.
    _connect_options: ($) =>
      choice(
        seq($.to_node, optional($.tls_clause), optional($.auth_clause),
          optional($.features_clause), optional($.without_presence)),
        seq($.tls_clause, optional($.auth_clause), optional($.features_clause),
          optional($.without_presence)),
        seq($.auth_clause, optional($.features_clause), optional($.without_presence)),
        seq($.features_clause, optional($.without_presence)),
        $.without_presence,
      ),
    features_clause: ($) => seq('with', $.session_feature, repeat(seq(',', $.session_feature))),
    session_feature: (_) => choice('stream-management', 'carbons'),
    without_presence: (_) => seq('without', 'presence'),
    to_node: ($) => seq('to', $.identifier),
    tls_clause: ($) => seq('with', $.tls_mode),
    tls_mode: (_) => choice('starttls', 'direct-tls'),
    auth_clause: ($) => seq('auth', $.auth_mechanism),
    auth_mechanism: (_) => choice('scram', 'plain', 'external', 'gssapi'),
    disconnect_stmt: ($) => seq('disconnect', field('user', $._session), optional('abruptly')),

    join_stmt: ($) =>
      seq('join', field('user', $._session), 'to', field('room', $.identifier),
        optional($.nick_clause), optional($.via_clause)),
    nick_clause: ($) => seq('as', $._string),
    via_clause: ($) => seq('via', $.identifier),
    leave_stmt: ($) =>
      seq('leave', field('user', $._session), 'from', field('room', $.identifier)),

    send_stmt: ($) =>
      seq('send', field('body', $._string), 'from', field('sender', $._session),
        'to', field('recipient', $._session)),
    send_raw_stmt: ($) =>
      seq('send', 'from', field('sender', $._session), field('stanza', $._string)),
    wait_stmt: ($) => seq('wait', $.duration),

    // ------------------------------------------------------------------ expectations
    expect_receives_stmt: ($) =>
      seq('expect', field('user', $._session), 'receives',
        choice('nothing', seq('no', 'stanzas'),
          seq(optional('next'), optional('delayed'), optional('strict'), $.string_list)),
        optional($.from_clause), optional($.in_order), optional($.within_clause)),
    from_clause: ($) => seq('from', $._session),
    in_order: (_) => seq('in', 'order'),
    within_clause: ($) => seq('within', $.duration),

    expect_connect_stmt: ($) =>
      seq('expect', 'connect', field('user', $.identifier), optional($._connect_options),
        'fails', 'with', field('reason', $._string), optional($.within_clause)),
    expect_session_stmt: ($) =>
      seq('expect', field('user', $._session),
        choice('resumed', 'reconnected',
          seq('disconnected', optional(seq('with', field('condition', $._string))))),
        optional($.within_clause)),
    expect_archive_stmt: ($) =>
      seq('expect', 'archive', 'of', field('room', $.identifier), 'as', field('user', $.identifier),
        'has', $.integer, choice('messages', 'message'),
        optional($.in_order), optional($.within_clause)),
    expect_link_stmt: ($) =>
      seq('expect', 'link', field('from', $.identifier), '->', field('to', $.identifier),
        choice(seq($.authenticated_by, optional($.over_clause)), $.over_clause),
        optional($.within_clause)),
    expect_cluster_stmt: ($) =>
      seq('expect', 'cluster', field('cluster', $.identifier),
        choice(seq('has', 'nodes', $.name_list), 'split'), optional($.within_clause)),
    expect_database_stmt: ($) =>
      seq('expect', 'database', field('database', $.identifier),
        choice(seq('primary', 'is', field('node', $.identifier)), seq('has', 'replicas', $.name_list)),
        optional($.within_clause)),
    authenticated_by: ($) => seq('authenticated', 'by', $.link_auth),
    link_auth: (_) => choice('certificate', 'dialback'),
    over_clause: ($) => seq('over', $.link_transport),
    link_transport: (_) => choice('direct-tls', 'starttls'),

    // ------------------------------------------------------------------ certificates, tickets
    set_certificate_stmt: ($) =>
      seq('set', 'certificate', 'of', field('server', $.identifier), 'to', $.certificate_state),
    certificate_state: (_) =>
      choice('valid', 'expired', 'not-yet-valid', 'revoked', 'wrong-host', 'self-signed'),
    revoke_certificate_stmt: ($) =>
      seq('revoke', 'certificate', 'of', field('server', $.identifier)),
    set_ticket_stmt: ($) =>
      seq('set', 'ticket', 'of', field('user', $.identifier), 'to', $.ticket_state),
    ticket_state: (_) => choice('valid', 'expired', 'none'),

    // ------------------------------------------------------------------ faults
    partition_stmt: ($) => seq('partition', $.cut, optional($.cut_mode)),
    cut_mode: (_) => choice('reject', 'close'),
    cut: ($) => seq($._side, $.cut_direction, $._side),
    cut_direction: (_) => choice('|', '->'),
    _side: ($) => choice($.side_set, $._session),
    side_set: ($) => seq('{', $.name_list, '}'),
    isolate_stmt: ($) => seq('isolate', $.identifier),
    heal_stmt: ($) => seq('heal', optional($.cut)),

    impair_stmt: ($) => prec.right(seq('impair', 'link', $.link, repeat1($._impairment))),
    flood_stmt: ($) => seq('flood', 'link', $.link, 'at', $.rate, 'for', $.duration),
    restore_stmt: ($) => seq('restore', optional(seq('link', $.link))),
    link: ($) => seq($._session, $.link_direction, $._session),
    link_direction: (_) => choice('<->', '->'),
    _impairment: ($) =>
      choice($.lag, $.drop, $.throttle, $.duplicate, $.reorder, $.tamper, $.bandwidth, $.prioritise),
    lag: ($) => seq('lag', $.duration, optional($.jitter)),
    jitter: ($) => seq('jitter', $.duration),
    drop: ($) => seq('drop', $.percent),
    throttle: ($) => seq('throttle', $.duration),
    duplicate: ($) => seq('duplicate', $.percent),
    reorder: ($) => seq('reorder', $.percent),
    tamper: ($) => seq('tamper', $.percent),
    bandwidth: ($) => seq('bandwidth', $.rate),
    // One traffic class so far: a literal keeps `xmpp` a keyword token for highlighting.
    prioritise: (_) => seq('priority', 'xmpp'),

    process_stmt: ($) =>
      seq($.process_action, optional('database'), $.identifier, optional('process')),
    switch_database_stmt: ($) =>
      seq('switch', 'database', field('database', $.identifier), 'to', field('node', $.identifier)),
    skew_clock_stmt: ($) =>
      seq('skew', 'clock', 'of', field('server', $.identifier), 'by', $.clock_offset),
    clock_offset: (_) => /-?[0-9]+(\.[0-9]+)?(ms|s|m|h)/,
    restore_clock_stmt: ($) => seq('restore', 'clock', 'of', field('server', $.identifier)),
    set_clock_stmt: ($) =>
      seq('set', 'clock', 'of', field('server', $.identifier), 'to', field('time', $._string)),
    process_action: (_) => choice('kill', 'stop', 'start', 'restart', 'pause', 'resume'),

    chaos_stmt: ($) =>
      seq('chaos', optional($.chaos_seed), 'for', $.duration, field('body', $.chaos_block)),
    chaos_seed: ($) => seq('seed', $.integer),
    chaos_block: ($) => seq('{', repeat(seq($.chaos_rule, optional(';'))), '}'),
    chaos_rule: ($) => seq('every', $.interval, $._chaos_action, optional($.hold_for)),
    interval: ($) => seq($.duration, optional(seq('..', $.duration))),
    _chaos_action: ($) =>
      choice($.chaos_pick, $.process_stmt, $.isolate_stmt, $.partition_stmt, $.impair_stmt),
    chaos_pick: ($) => seq($.chaos_verb, optional('database'), 'one', 'of', $.name_list),
    chaos_verb: (_) => choice('kill', 'stop', 'restart', 'pause', 'isolate'),
    hold_for: ($) => seq('for', $.duration),

    // ------------------------------------------------------------------ control
    parallel_stmt: ($) => seq('parallel', field('body', $.stmt_block)),
    repeat_stmt: ($) =>
      seq('repeat', $.integer, 'times', optional($.every_clause), field('body', $.stmt_block)),
    every_clause: ($) => seq('every', $.duration),

    check_delivery_stmt: ($) =>
      seq('check', 'delivery', 'in', field('room', $.identifier), ':',
        commaSep1($._delivery_property)),
    _delivery_property: ($) => choice($.no_loss, $.no_duplicates, $.in_order),
    no_loss: (_) => seq('no', 'loss'),
    no_duplicates: (_) => seq('no', 'duplicates'),

    call_stmt: ($) =>
      seq(field('name', $.identifier),
        '(', commaSep(field('argument', choice($._string, $.identifier))), ')'),

    // ------------------------------------------------------------------ lists
    name_list: ($) => prec.right(commaSep1($.identifier)),
    string_list: ($) => commaSep1($._string),

    // ------------------------------------------------------------------ strings
    _string: ($) => choice($.string, $.triple_string),

    // "...": one line, `\` escapes, ${...} interpolations.
    string: ($) =>
      seq('"',
        repeat(choice(inString(/[^"\\$\r\n]+/), inString('$'), $.escape_sequence, $.interpolation)),
        '"'),
    escape_sequence: (_) => inString(/\\[^\r\n]/),

    // """...""": raw text over lines (XML lives here), with ${...} interpolations. The body is
    // one node, `string_content`, so queries can inject XML into it.
    triple_string: ($) => seq(tripleQuote, optional($.string_content), tripleQuote),
    string_content: ($) =>
      repeat1(choice(
        inString(/[^"$]+/), inString('"'), inString('""'), inString('$'), $.interpolation,
      )),

    interpolation: ($) =>
      seq(inString('${'), field('name', $._session),
        optional(seq('.', field('field', $.identifier))), '}'),

    // ------------------------------------------------------------------ tokens
    comment: (_) => token(seq('#', /[^\n]*/)),
    // A user's session: `juliet`, or `juliet/phone` (a further session, resource `phone`).
    _session: ($) => choice($.identifier, $.session_name),
    session_name: ($) =>
      seq($.identifier, token.immediate('/'), alias(token.immediate(/[A-Za-z0-9_]+(-[A-Za-z0-9_]+)*/), $.resource)),
    identifier: (_) => /[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*/,
    case_id: (_) => token(prec(1, /C[0-9]+/)),
    integer: (_) => /[0-9]+/,
    duration: (_) => /[0-9]+(\.[0-9]+)?(ms|s|m|h)/,
    percent: (_) => /[0-9]+(\.[0-9]+)?%/,
    rate: (_) => /[0-9]+(\.[0-9]+)?(gbit|mbit|kbit|bit)/,
  },
});
