//! Daily caps by role: a member's own cap overrides; else the highest of their roles' caps
//! (0 = none, the highest of all); else the server's default. Checked in the admit
//! transaction on both backends.

use seedance_bot::credits::{
    Actor, CapSource, EntryKind, LedgerError, MemberRules, PoolId, Reserve,
};
use seedance_bot::ids::{GuildId, MemberId};

use super::{Backend, assert_consistent, test_ledger_on};

const GUILD: GuildId = GuildId(11);
const HELPER: u64 = 1_001;
const PATRON: u64 = 1_002;
const UNLIMITED: u64 = 1_003;

fn rules(roles: &[u64]) -> Option<MemberRules> {
    Some(MemberRules {
        max_active: 100,
        cooldown_ms: 0,
        roles: roles.to_vec(),
    })
}

fn req(key: &str, member: u64, amount: u64) -> Reserve {
    Reserve {
        key: key.into(),
        guild: GUILD,
        member: MemberId(member),
        amount,
        memo: "video".into(),
    }
}

async fn role_caps_and_their_precedence(backend: Backend) {
    // The configured default cap is 100 credits a day.
    let Some(t) = test_ledger_on(backend, 100) else {
        return;
    };
    let ledger = &t.ledger;
    let admin = Actor::Member(MemberId(1));
    ledger
        .grant(GUILD, 100_000, Actor::Cli, "top-up")
        .await
        .unwrap();
    ledger
        .set_role_cap(GUILD, HELPER, Some(300), admin)
        .await
        .unwrap();
    ledger
        .set_role_cap(GUILD, PATRON, Some(500), admin)
        .await
        .unwrap();
    ledger
        .set_role_cap(GUILD, UNLIMITED, Some(0), admin)
        .await
        .unwrap();
    assert_eq!(ledger.role_cap(GUILD, HELPER).unwrap(), Some(300));

    // Two capped roles: the highest applies.
    let usage = ledger
        .member_usage(GUILD, MemberId(20), &[HELPER, PATRON])
        .unwrap();
    assert_eq!(
        (usage.cap, usage.source),
        (Some(500), CapSource::Role(PATRON))
    );
    ledger
        .admit(req("two-roles-1", 20, 400), None, rules(&[HELPER, PATRON]))
        .await
        .unwrap();
    let over = ledger
        .admit(req("two-roles-2", 20, 200), None, rules(&[HELPER, PATRON]))
        .await;
    assert!(
        matches!(
            over,
            Err(LedgerError::DailyCapReached {
                cap: 500,
                used_today: 400,
                needed: 200,
                ..
            })
        ),
        "{over:?}"
    );
    // The same member without the higher role (a role taken away) has the lower cap.
    let fewer = ledger
        .admit(req("two-roles-3", 20, 50), None, rules(&[HELPER]))
        .await;
    assert!(
        matches!(fewer, Err(LedgerError::DailyCapReached { cap: 300, .. })),
        "{fewer:?}"
    );

    // No capped role: the server's default.
    let usage = ledger.member_usage(GUILD, MemberId(21), &[9_999]).unwrap();
    assert_eq!((usage.cap, usage.source), (Some(100), CapSource::Default));
    let default = ledger
        .admit(req("no-role", 21, 150), None, rules(&[9_999]))
        .await;
    assert!(
        matches!(default, Err(LedgerError::DailyCapReached { cap: 100, .. })),
        "{default:?}"
    );

    // A member's own cap beats every role cap, lower or higher.
    ledger
        .set_member_cap(GUILD, MemberId(22), Some(50), admin)
        .await
        .unwrap();
    let usage = ledger
        .member_usage(GUILD, MemberId(22), &[HELPER, PATRON, UNLIMITED])
        .unwrap();
    assert_eq!((usage.cap, usage.source), (Some(50), CapSource::Member));
    let own = ledger
        .admit(req("own-cap", 22, 60), None, rules(&[PATRON, UNLIMITED]))
        .await;
    assert!(
        matches!(own, Err(LedgerError::DailyCapReached { cap: 50, .. })),
        "{own:?}"
    );

    // A role without a cap (0) is the highest of all.
    let usage = ledger
        .member_usage(GUILD, MemberId(23), &[HELPER, UNLIMITED])
        .unwrap();
    assert_eq!(
        (usage.cap, usage.source),
        (None, CapSource::Role(UNLIMITED))
    );
    ledger
        .admit(
            req("unlimited", 23, 5_000),
            None,
            rules(&[HELPER, UNLIMITED]),
        )
        .await
        .unwrap();

    // A role's cap cleared: its members are back to the default.
    ledger
        .set_role_cap(GUILD, HELPER, None, admin)
        .await
        .unwrap();
    let usage = ledger.member_usage(GUILD, MemberId(24), &[HELPER]).unwrap();
    assert_eq!((usage.cap, usage.source), (Some(100), CapSource::Default));
    let cleared = ledger
        .admit(req("cleared", 24, 150), None, rules(&[HELPER]))
        .await;
    assert!(
        matches!(cleared, Err(LedgerError::DailyCapReached { cap: 100, .. })),
        "{cleared:?}"
    );

    // Every change is in the journal; the pool holds exactly what was admitted.
    let kinds: Vec<_> = ledger
        .pool_history(PoolId(GUILD.0), None, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .filter(|k| matches!(k, EntryKind::RoleCap | EntryKind::RoleCapCleared))
        .collect();
    assert_eq!(
        kinds,
        [
            EntryKind::RoleCapCleared,
            EntryKind::RoleCap,
            EntryKind::RoleCap,
            EntryKind::RoleCap
        ]
    );
    let b = ledger.balance(GUILD).unwrap();
    assert_eq!((b.available, b.pending), (100_000 - 5_400, 5_400));
    assert!(ledger.verify().unwrap().is_empty());
    assert_consistent(ledger, [PoolId(GUILD.0)]);
}

on_both_backends!(role_caps_and_their_precedence);
