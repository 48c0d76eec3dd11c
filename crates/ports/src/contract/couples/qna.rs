//! Questions and answers: scoped, paged, one answer per partner.

use crate::contract::prelude::*;

pub(crate) fn question(couple: &Couple, author: UserId, text: &str) -> Question {
    Question {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        author,
        text: QuestionText::parse(text).unwrap(),
        theme: Some(Theme::parse("voyages").unwrap()),
        created_at: t0(),
        updated_at: t0(),
    }
}

pub async fn scoped_and_paged(store: Shared) {
    let (couple, a, b) = new_couple("a@example.org")
        .partner("b@example.org")
        .insert(&store)
        .await;
    let b = b.unwrap();
    let (other, z, _) = new_couple("z@example.org").insert(&store).await;
    let qs: Vec<Question> = (0..5)
        .map(|i| question(&couple, a.id, &format!("Question {i}?")))
        .collect();
    let theirs = question(&other, z.id, "Not yours?");
    let (all_q, t) = (qs.clone(), theirs.clone());
    store
        .write(move |tx| -> Result<(), StoreError> {
            for q in &all_q {
                tx.qna().insert_question(q)?;
            }
            tx.qna().insert_question(&t)
        })
        .await
        .unwrap();
    let cid = couple.id;
    let page1 = store
        .read(move |tx| tx.qna().questions(cid, None, 2))
        .await
        .unwrap();
    assert_eq!(page1, vec![qs[4].clone(), qs[3].clone()], "newest first");
    let cursor = page1[1].id;
    let page2 = store
        .read(move |tx| tx.qna().questions(cid, Some(cursor), 10))
        .await
        .unwrap();
    assert_eq!(page2, vec![qs[2].clone(), qs[1].clone(), qs[0].clone()]);
    let tid = theirs.id;
    assert_eq!(
        store
            .read(move |tx| tx.qna().question(cid, tid))
            .await
            .unwrap(),
        None,
        "another couple's question is not found"
    );
    assert!(
        !store
            .write(move |tx| tx.qna().delete_question(cid, tid))
            .await
            .unwrap()
    );

    let qid = qs[0].id;
    let mut edited = qs[0].clone();
    edited.text = QuestionText::parse("Edited?").unwrap();
    edited.theme = None;
    edited.updated_at = t0() + Duration::seconds(3);
    let e = edited.clone();
    store
        .write(move |tx| tx.qna().update_question(&e))
        .await
        .unwrap();
    assert_eq!(
        store
            .read(move |tx| tx.qna().question(cid, qid))
            .await
            .unwrap(),
        Some(edited)
    );

    let answer = |author: UserId, status, text: Option<&str>, at| Answer {
        id: Uuid::now_v7(),
        question_id: qid,
        couple_id: cid,
        author,
        status,
        text: text.map(|t| AnswerText::parse(t).unwrap()),
        created_at: at,
        updated_at: at,
    };
    let first = answer(a.id, AnswerStatus::NeedsTime, None, t0());
    let f = first.clone();
    let stored = store
        .write(move |tx| tx.qna().upsert_answer(&f))
        .await
        .unwrap();
    assert_eq!(stored, first);
    let update = answer(
        a.id,
        AnswerStatus::Answered,
        Some("Oui !"),
        t0() + Duration::seconds(5),
    );
    let u = update.clone();
    let stored = store
        .write(move |tx| tx.qna().upsert_answer(&u))
        .await
        .unwrap();
    assert_eq!(
        (stored.id, stored.created_at),
        (first.id, first.created_at),
        "one answer per partner, updated in place"
    );
    assert_eq!(
        (stored.status, stored.updated_at),
        (AnswerStatus::Answered, update.updated_at)
    );
    let theirs_answer = answer(
        b.id,
        AnswerStatus::Clarify,
        Some("?"),
        t0() + Duration::seconds(6),
    );
    let ta = theirs_answer.clone();
    store
        .write(move |tx| tx.qna().upsert_answer(&ta))
        .await
        .unwrap();
    let answers = store
        .read(move |tx| tx.qna().answers(cid, qid))
        .await
        .unwrap();
    assert_eq!(answers.len(), 2);
    assert_eq!(
        answers[0].text.as_ref().map(AnswerText::as_str),
        Some("Oui !")
    );
    let oid = other.id;
    assert!(
        store
            .read(move |tx| tx.qna().answers(oid, qid))
            .await
            .unwrap()
            .is_empty(),
        "scoped by couple"
    );
    assert!(
        store
            .write(move |tx| tx.qna().delete_question(cid, qid))
            .await
            .unwrap()
    );
    assert!(
        store
            .read(move |tx| tx.qna().answers(cid, qid))
            .await
            .unwrap()
            .is_empty(),
        "answers go with their question"
    );
}
