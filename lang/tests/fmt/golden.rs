//! Inputs with their expected canonical form (`·` is a space that matters, `→` a tab).

pub(crate) const GOLDEN: &[(&str, &str, &str)] = &[
    (
        "comments everywhere",
        r#"# file header comment

# second header, after a blank
suite "S"   # trailing on suite
section "A > B"
use "stdlib/muc.jspec"


procedure join_both(room,nick) {   # open comment on procedure
  # leading in procedure
  join alice to room as "Alice"    # trailing
  join bob to room as "${nick}"

  # dangling at end of procedure

  # second dangling

}   # after procedure

case C1 "Title" {  # open case
  # about priority
  priority high # trailing
  type "Resilience"

  # before step, after blank
  step "s" { # open step
    connect alice
    # before parallel
    parallel { # open parallel
      repeat 3 times { # open repeat
        send "m${i}" from alice to ops # in repeat
        # dangling in repeat
      } # after repeat
    }
    chaos for 1m { # open chaos
      # leading rule
      every 5s kill one of c1, c2 # trailing rule
      # dangling chaos
    } # after chaos
  }
  # dangling in case
}
#dangling at end of file, no space after the hash→and a tab···
"#,
        r#"# file header comment

# second header, after a blank
suite "S" # trailing on suite
section "A > B"
use "stdlib/muc.jspec"

procedure join_both(room, nick) { # open comment on procedure
  # leading in procedure
  join alice to room as "Alice" # trailing
  join bob to room as "${nick}"

  # dangling at end of procedure

  # second dangling
} # after procedure

case C1 "Title" { # open case
  # about priority
  priority high # trailing
  type "Resilience"

  # before step, after blank
  step "s" { # open step
    connect alice
    # before parallel
    parallel { # open parallel
      repeat 3 times { # open repeat
        send "m${i}" from alice to ops # in repeat
        # dangling in repeat
      } # after repeat
    }
    chaos for 1m { # open chaos
      # leading rule
      every 5s kill one of c1, c2 # trailing rule
      # dangling chaos
    } # after chaos
  }
  # dangling in case
}
#dangling at end of file, no space after the hash→and a tab
"#,
    ),
    (
        "inline blocks",
        r#"case "inline" {
  setup { connect alice; connect bob }
  step "x" { }
  step "y" {}
  step "z" {
  }
  teardown {heal;restore}
  step "nested" { parallel { send "a" from alice to ops; repeat 2 times { wait 1s } }; chaos seed 1 for 10s { every 1s..2s kill one of a, b for 500ms; every 3s isolate c1 } }
  step "mixed" { parallel {
      send "a" from alice to ops
    } }
  step "t" { send from alice """
      <presence/>
    """ }
  step "chaos empty" { chaos for 1s {} ;  chaos for 2s {
  } }
  step "chaos lines in an inline block" { parallel { chaos for 1m {
    every 1s kill c1
  }; wait 1s } }
}
"#,
        r#"case "inline" {
  setup { connect alice; connect bob }
  step "x" { }
  step "y" { }
  step "z" { }
  teardown { heal; restore }
  step "nested" { parallel { send "a" from alice to ops; repeat 2 times { wait 1s } }; chaos seed 1 for 10s { every 1s..2s kill one of a, b for 500ms; every 3s isolate c1 } }
  step "mixed" {
    parallel {
      send "a" from alice to ops
    }
  }
  step "t" {
    send from alice """
      <presence/>
    """
  }
  step "chaos empty" { chaos for 1s { }; chaos for 2s { } }
  step "chaos lines in an inline block" {
    parallel {
      chaos for 1m {
        every 1s kill c1
      }
      wait 1s
    }
  }
}
"#,
    ),
    (
        "odd spacing and tabs",
        r#"suite    "S"
case   C0007    "odd"   {
→priority→low
  refs "a" ,"b",   "c"
  tags  x ,y
    servers a  ,  c with  nodes c1 ,c2
  databases pg
  estimate 1.5h
  step "s"{
      connect   alice   to c2   with   starttls   auth scram
→  partition {a1 ,a2}|b
      partition a->b
      heal { a1,a2 } -> {b}
      impair link a<->b lag 200ms   jitter 50ms drop 10%
      impair link alice -> a bandwidth 64kbit duplicate 5% reorder 1.5% tamper 1% throttle 2s
      expect link a->b authenticated by certificate over direct-tls
      expect link a -> b   over starttls
      check delivery in ops :no loss,no duplicates ,in order
      join_both( ops ,"x" )
      noargs( )
      kill   database   pg
      expect archive of ops as bob has 1 messages
      expect archive of ops as bob has 2 message in order within 3s
      expect   connect alice with direct-tls fails with "tls-failed" within 10s
      disconnect alice   abruptly
      set certificate of b to not-yet-valid
      revoke certificate of b
      heal
      restore  link a -> b
      restore
      pause c1·
      expect bob receives "a\"b\\c\t${x.jid} # not a comment" from ops in order within 1.5s   #real
      repeat 2 times every 0.5s{wait 1500ms}
  }
}
"#,
        r#"suite "S"
case C0007 "odd" {
  priority low
  refs "a", "b", "c"
  tags x, y
  servers a, c with nodes c1, c2
  databases pg
  estimate 1.5h
  step "s" {
    connect alice to c2 with starttls auth scram
    partition {a1, a2} | b
    partition a -> b
    heal {a1, a2} -> {b}
    impair link a <-> b lag 200ms jitter 50ms drop 10%
    impair link alice -> a bandwidth 64kbit duplicate 5% reorder 1.5% tamper 1% throttle 2s
    expect link a -> b authenticated by certificate over direct-tls
    expect link a -> b over starttls
    check delivery in ops: no loss, no duplicates, in order
    join_both(ops, "x")
    noargs()
    kill database pg
    expect archive of ops as bob has 1 message
    expect archive of ops as bob has 2 messages in order within 3s
    expect connect alice with direct-tls fails with "tls-failed" within 10s
    disconnect alice abruptly
    set certificate of b to not-yet-valid
    revoke certificate of b
    heal
    restore link a -> b
    restore
    pause c1
    expect bob receives "a\"b\\c\t${x.jid} # not a comment" from ops in order within 1.5s #real
    repeat 2 times every 0.5s { wait 1500ms }
  }
}
"#,
    ),
    (
        "triple-quoted strings",
        r#"case """
    Multi-line
      title
  """ {
  preconditions """
        deep indented
          more
        end
  """
  type """one line ${x}"""
  step """
  step title""" {
    send from alice """<iq type="get" id="v1" to="${bob.jid}">
          <vCard xmlns="vcard-temp"/>
        </iq>"""
    expect bob receives """
  <message>
    <body>${alice.jid}</body>
  </message>""" within 5s
    expect bob receives """one line""", """
→→→tabbed
→→→→lines
→→""" from ops
    send from alice """
····
      blank-with-spaces above and below
········
      end
    """
    send from alice """first
    """
    send from alice """
    """
    send from alice """
·······
    """
    send from alice """··first-with-spaces···
  ${a.jid}
     """
    repeat 2 times { send from alice """
      <x/>
    """; wait 1s }
  }
}
"#,
        r#"case """
  Multi-line
    title
""" {
  preconditions """
    deep indented
      more
    end
  """
  type """one line ${x}"""
  step """
    step title
  """ {
    send from alice """<iq type="get" id="v1" to="${bob.jid}">
        <vCard xmlns="vcard-temp"/>
      </iq>
    """
    expect bob receives """
      <message>
        <body>${alice.jid}</body>
      </message>
    """ within 5s
    expect bob receives """one line""", """
      tabbed
      →lines
    """ from ops
    send from alice """

      blank-with-spaces above and below
      ··
      end
    """
    send from alice """first
    """
    send from alice """
    """
    send from alice """
·······
    """
    send from alice """··first-with-spaces···
      ${a.jid}
    """
    repeat 2 times {
      send from alice """
        <x/>
      """
      wait 1s
    }
  }
}
"#,
    ),
    (
        "blank lines",
        r#"


suite "S"



section "x"
case "c" {


  priority low



  # c1


  # c2

  type "t"

  # d1

}


# end

"#,
        r#"suite "S"

section "x"
case "c" {
  priority low

  # c1

  # c2

  type "t"

  # d1
}

# end
"#,
    ),
    (
        "every statement shape, already canonical",
        ALL_SHAPES,
        ALL_SHAPES,
    ),
];

/// One of each statement and case entry, in canonical form.
const ALL_SHAPES: &str = r#"suite "JChat resilience"
section "PKI > Server to server"
use "stdlib/muc.jspec"

procedure join_both(room) {
  join alice to room as "Alice"
  join bob to room as "Bob"
}

procedure nothing_to_do() { }

case C1201 "Title shown in TestRail" {
  priority critical
  type "Resilience"
  refs "XEP-0289", "JCHAT-88"
  tags fmuc, s2s
  estimate 2m
  requires fmuc, mam
  preconditions """
    Free text, shown in TestRail.
  """
  servers a, b, c with nodes c1, c2
  databases pg
  user alice on a
  user bob on b
  room ops on a

  setup {
    join_both(ops)
  }

  step "Sessions" {
    connect alice to c2 with starttls auth scram
    connect bob with direct-tls auth plain
    connect carol auth external
    connect dave auth gssapi
    disconnect alice abruptly
    disconnect bob
    join alice to ops as "Alice" via b
    leave alice from ops
  }

  step "Messages" {
    send "hello" from alice to ops
    send from alice """<iq type="get" id="v1" to="${bob.jid}"><vCard xmlns="vcard-temp"/></iq>"""
    wait 2s
    expect bob receives "hello" from ops within 5s
    expect bob receives "m1", "m2", "m3" from ops in order within 30s
    expect bob receives """<message type="groupchat"><body>{any}</body></message>""" within 5s
    expect bob receives nothing from ops within 3s
    expect connect alice fails with "certificate-expired" within 10s
    expect archive of ops as alice has 3 messages in order
    expect archive of ops as alice has 1 message within 5s
  }

  step "Links and certificates" {
    expect link a -> b authenticated by certificate
    expect link a -> b authenticated by dialback over starttls
    expect link b -> a over direct-tls
    set certificate of b to self-signed
    set certificate of b to wrong-host
    set certificate of b to revoked
    set certificate of b to valid
    revoke certificate of b
  }

  step "Faults" {
    partition a | b
    partition {a1, a2} | {b1}
    partition a -> b
    isolate c1
    heal a | b
    heal
    impair link a <-> b lag 200ms jitter 50ms
    impair link alice -> a drop 10%
    impair link a -> b throttle 2s duplicate 5% reorder 10% tamper 1% bandwidth 64kbit
    restore link a <-> b
    restore
    kill a
    stop a
    start a
    restart a
    pause a
    resume a
    kill database pg
    chaos seed 42 for 2m { every 10s..30s kill one of c1, c2 }
    chaos for 1m {
      every 5s stop one of c1, c2
      every 5s restart one of c1, c2 for 2s
      every 5s pause one of c1, c2
      every 5s isolate one of c1, c2
      every 20s isolate c1 for 5s
      every 20s partition a -> b
      every 20s impair link a <-> b lag 1s
      every 1m resume database pg
    }
  }

  step "Control" {
    parallel {
      repeat 100 times every 100ms { send "m${i}" from alice to ops }
      repeat 3 times {
        wait 1s
      }
    }
    check delivery in ops: no loss, no duplicates, in order
    check delivery in ops: in order
  }

  teardown {
    heal
    restore
  }
}
"#;
