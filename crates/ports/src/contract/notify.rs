//! The mail outbox: due entries, exclusive claims, outcomes.

use crate::contract::prelude::*;

fn mail(n: u32) -> OutboxEntry {
    let mut vars = BTreeMap::new();
    vars.insert(
        "link".to_owned(),
        format!("https://example.org/verify?token=t{n}"),
    );
    vars.insert("name".to_owned(), "Zoé \"quoted\" ünïcode".to_owned());
    OutboxEntry::new(
        Uuid::now_v7(),
        OutboundMail {
            to: Email::parse(&format!("to{n}@example.org")).unwrap(),
            language: if n.is_multiple_of(2) {
                Language::Fr
            } else {
                Language::En
            },
            template: MailTemplate::VerifyEmail,
            vars,
        },
        t0() + Duration::seconds(i64::from(n)),
    )
}

// The contract checks the port itself; use cases go through the app's gate.
#[allow(clippy::disallowed_methods)]
async fn enqueue(store: &Shared, entries: Vec<OutboxEntry>) {
    store
        .write(move |tx| entries.iter().try_for_each(|e| tx.outbox().enqueue(e)))
        .await
        .unwrap();
}

pub async fn due_list_and_get(store: Shared) {
    let (a, b, c) = (mail(1), mail(2), mail(3));
    enqueue(&store, vec![c.clone(), a.clone(), b.clone()]).await;
    let due = store
        .read(move |tx| tx.outbox().due(t0() + Duration::seconds(2), 10))
        .await
        .unwrap();
    assert_eq!(
        due,
        vec![a.clone(), b.clone()],
        "due ones, oldest due first, equal to what was written"
    );
    let one = store
        .read(move |tx| tx.outbox().due(t0() + Duration::seconds(9), 1))
        .await
        .unwrap();
    assert_eq!(one, vec![a.clone()], "limit");
    let listed = store
        .read(move |tx| tx.outbox().list(None, 10))
        .await
        .unwrap();
    assert_eq!(
        listed,
        vec![c.clone(), b.clone(), a.clone()],
        "list is newest first"
    );
    let id = b.id;
    assert_eq!(
        store.read(move |tx| tx.outbox().get(id)).await.unwrap(),
        Some(b)
    );
    let pending = store
        .read(move |tx| tx.outbox().list(Some(DeliveryState::Sent), 10))
        .await
        .unwrap();
    assert!(pending.is_empty(), "state filter");
}

pub async fn claims_are_exclusive(store: Shared) {
    let e = mail(0);
    let id = e.id;
    enqueue(&store, vec![e]).await;
    let now = t0() + Duration::seconds(10);
    let lease = now + Duration::seconds(60);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| tx.outbox().claim(id, now, lease))
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "one worker takes an entry");
    let due = store
        .read(move |tx| tx.outbox().due(now, 10))
        .await
        .unwrap();
    assert!(due.is_empty(), "a leased entry is not due");
    // The lease runs out (the worker died): it is due again and can be taken again.
    let later = lease + Duration::seconds(1);
    let again = store
        .write(move |tx| tx.outbox().claim(id, later, later + Duration::seconds(60)))
        .await
        .unwrap();
    assert!(again);
    let got = store
        .read(move |tx| tx.outbox().get(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.attempts, 2, "each claim counts an attempt");
    assert_eq!(got.lease_until, Some(later + Duration::seconds(60)));
}

pub async fn outcomes(store: Shared) {
    let (a, b, c) = (mail(1), mail(2), mail(3));
    let (ia, ib, ic) = (a.id, b.id, c.id);
    enqueue(&store, vec![a, b, c]).await;
    let now = t0() + Duration::seconds(10);
    let retry_at = now + Duration::seconds(30);
    store
        .write(move |tx| -> Result<(), StoreError> {
            for id in [ia, ib, ic] {
                assert!(tx.outbox().claim(id, now, now + Duration::seconds(60))?);
            }
            tx.outbox().mark_sent(ia, now)?;
            tx.outbox().mark_retry(ib, retry_at, "421 try later")?;
            tx.outbox().mark_failed(ic, "550 no such user")
        })
        .await
        .unwrap();
    let get = |id| {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.outbox().get(id))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let a = get(ia).await;
    assert_eq!(
        (a.state, a.sent_at, a.lease_until),
        (DeliveryState::Sent, Some(now), None)
    );
    let b = get(ib).await;
    assert_eq!(b.state, DeliveryState::Pending);
    assert_eq!(b.next_attempt_at, retry_at);
    assert_eq!(b.lease_until, None);
    assert_eq!(b.last_error.as_deref(), Some("421 try later"));
    let c = get(ic).await;
    assert_eq!(
        (c.state, c.last_error.as_deref()),
        (DeliveryState::Failed, Some("550 no such user"))
    );

    let due = store
        .read(move |tx| tx.outbox().due(now + Duration::seconds(29), 10))
        .await
        .unwrap();
    assert!(
        due.is_empty(),
        "not before its retry time; sent and failed never"
    );
    let due = store
        .read(move |tx| tx.outbox().due(retry_at, 10))
        .await
        .unwrap();
    assert_eq!(due.iter().map(|e| e.id).collect::<Vec<_>>(), vec![ib]);

    let requeued = store
        .write(move |tx| tx.outbox().requeue(ic, retry_at))
        .await
        .unwrap();
    let not_failed = store
        .write(move |tx| tx.outbox().requeue(ia, retry_at))
        .await
        .unwrap();
    assert!(requeued && !not_failed, "only failed entries are requeued");
    let c = get(ic).await;
    assert_eq!(
        (c.state, c.attempts, c.next_attempt_at),
        (DeliveryState::Pending, 0, retry_at)
    );
    let failed = store
        .read(move |tx| tx.outbox().list(Some(DeliveryState::Failed), 10))
        .await
        .unwrap();
    assert!(failed.is_empty());
}

/// One grouped count per state; states without entries are absent.
pub async fn counts_by_state(store: Shared) {
    let counts = |store: Shared| async move {
        let mut c = store.read(|tx| tx.outbox().count_by_state()).await.unwrap();
        c.sort_by_key(|(s, _)| s.as_str());
        c
    };
    assert!(counts(store.clone()).await.is_empty());
    let entries: Vec<OutboxEntry> = (1..=5).map(mail).collect();
    let (ia, ib) = (entries[0].id, entries[1].id);
    enqueue(&store, entries).await;
    let now = t0() + Duration::seconds(10);
    store
        .write(move |tx| -> Result<(), StoreError> {
            assert!(tx.outbox().claim(ia, now, now + Duration::seconds(60))?);
            assert!(tx.outbox().claim(ib, now, now + Duration::seconds(60))?);
            tx.outbox().mark_sent(ia, now)?;
            tx.outbox().mark_failed(ib, "550 no such user")
        })
        .await
        .unwrap();
    assert_eq!(
        counts(store.clone()).await,
        vec![
            (DeliveryState::Failed, 1),
            (DeliveryState::Pending, 3),
            (DeliveryState::Sent, 1)
        ]
    );
}
