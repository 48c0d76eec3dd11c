//! The one portable schema, in types every backend maps the same way: ids are `Text` UUIDs,
//! times are `Timestamp` in UTC, flags are `Bool`. Both migration sets (`migrations/sqlite`,
//! `migrations/postgres`) create exactly these tables.
#![allow(missing_docs)]

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        email_canonical -> Text,
        username -> Nullable<Text>,
        display_name -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        role -> Text,
        email_verified -> Bool,
        is_active -> Bool,
        language -> Text,
        time_zone -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        bio -> Nullable<Text>,
        notify_email -> Bool,
        notify_push -> Bool,
        deleted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoke_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        session_id -> Text,
        user_id -> Text,
        digest -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_tokens (id) {
        id -> Text,
        user_id -> Text,
        purpose -> Text,
        digest -> Text,
        new_email -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ws_tickets (digest) {
        digest -> Text,
        user_id -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        subject_id -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    tenants (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        time_zone -> Text,
        locale -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tenant_members (tenant_id, user_id) {
        tenant_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tenant_invitations (id) {
        id -> Text,
        tenant_id -> Text,
        email -> Text,
        email_canonical -> Text,
        role -> Text,
        digest -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        accepted_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sites (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        address -> Nullable<Text>,
        time_zone -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    services (id) {
        id -> Text,
        tenant_id -> Text,
        site_id -> Text,
        name -> Text,
        prefix -> Text,
        range_start -> Integer,
        range_end -> Integer,
        daily_cap -> Nullable<Integer>,
        avg_service_minutes -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    queues (id) {
        id -> Text,
        tenant_id -> Text,
        service_id -> Text,
        name -> Text,
        algorithm -> Text,
        is_open -> Bool,
        max_waiting -> Nullable<Integer>,
        aging_minutes -> Integer,
        join_token -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    counters (id) {
        id -> Text,
        tenant_id -> Text,
        site_id -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    customers (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        consent_sms -> Bool,
        consent_whatsapp -> Bool,
        consent_email -> Bool,
        consent_push -> Bool,
        language -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agent_profiles (tenant_id, user_id) {
        tenant_id -> Text,
        user_id -> Text,
        status -> Text,
        counter_id -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agent_queues (tenant_id, user_id, queue_id) {
        tenant_id -> Text,
        user_id -> Text,
        queue_id -> Text,
        position -> Integer,
    }
}

diesel::table! {
    service_days (tenant_id, service_id, day) {
        tenant_id -> Text,
        service_id -> Text,
        day -> Date,
        issued -> Integer,
        last_number -> Integer,
    }
}

diesel::table! {
    tickets (id) {
        id -> Text,
        tenant_id -> Text,
        queue_id -> Text,
        service_id -> Text,
        prefix -> Text,
        number -> Integer,
        service_day -> Date,
        status -> Text,
        priority -> Integer,
        customer_id -> Nullable<Text>,
        token_digest -> Nullable<Text>,
        line_at -> Timestamp,
        line_sec -> BigInt,
        created_at -> Timestamp,
        called_at -> Nullable<Timestamp>,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        agent_id -> Nullable<Text>,
        counter_id -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ticket_events (id) {
        id -> Text,
        tenant_id -> Text,
        ticket_id -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        at -> Timestamp,
        agent_id -> Nullable<Text>,
        counter_id -> Nullable<Text>,
    }
}

diesel::joinable!(tenant_invitations -> tenants (tenant_id));
diesel::joinable!(tenant_members -> tenants (tenant_id));
diesel::joinable!(tenant_members -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(job_runs -> jobs (job_id));
diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    sites,
    services,
    queues,
    counters,
    customers,
    agent_profiles,
    agent_queues,
    service_days,
    tickets,
    ticket_events,
    tenant_members,
    tenant_invitations,
    users,
    sessions,
    refresh_tokens,
    email_tokens,
    ws_tickets,
    audit_events,
    outbox,
    jobs,
    job_runs,
    couples,
    couple_invites,
    couple_changes,
    qna_questions,
    qna_answers,
    goals,
    goal_actions,
    checkins,
    letters,
    perspectives,
    memories,
    photo_link_keys,
    shares,
    share_memories,
    api_keys,
    external_identities,
    oauth_flows,
    oauth_pending_links
);

diesel::table! {
    jobs (id) {
        id -> Text,
        name -> Text,
        job_key -> Text,
        cron -> Nullable<Text>,
        zone -> Nullable<Text>,
        state -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        max_attempts -> Integer,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    job_runs (id) {
        id -> Text,
        job_id -> Text,
        name -> Text,
        owner -> Text,
        started_at -> Timestamp,
        finished_at -> Timestamp,
        outcome -> Text,
        error -> Nullable<Text>,
        due_at -> Timestamp,
        attempt -> Integer,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        recipient -> Text,
        language -> Text,
        template -> Text,
        vars -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    couples (id) {
        id -> Text,
        partner_a -> Text,
        partner_b -> Nullable<Text>,
        created_at -> Timestamp,
        paired_at -> Nullable<Timestamp>,
        dissolved_at -> Nullable<Timestamp>,
        start_date -> Nullable<Date>,
        home_message -> Nullable<Text>,
        intro_text -> Nullable<Text>,
        time_zone -> Nullable<Text>,
        updated_at -> Timestamp,
        change_seq -> BigInt,
    }
}

diesel::table! {
    couple_invites (id) {
        id -> Text,
        couple_id -> Text,
        code -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    couple_changes (couple_id, seq) {
        couple_id -> Text,
        seq -> BigInt,
        kind -> Text,
        entity_id -> Text,
        op -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    qna_questions (id) {
        id -> Text,
        couple_id -> Text,
        author_id -> Text,
        text -> Text,
        theme -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    qna_answers (id) {
        id -> Text,
        question_id -> Text,
        couple_id -> Text,
        author_id -> Text,
        status -> Text,
        text -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    goals (id) {
        id -> Text,
        couple_id -> Text,
        author_id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        target_date -> Nullable<Date>,
        status -> Text,
        completed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    goal_actions (id) {
        id -> Text,
        goal_id -> Text,
        couple_id -> Text,
        title -> Text,
        owner -> Text,
        due_date -> Nullable<Date>,
        done -> Bool,
        completed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    checkins (id) {
        id -> Text,
        couple_id -> Text,
        user_id -> Text,
        day -> Date,
        mood -> Integer,
        stress -> Integer,
        energy -> Integer,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    letters (id) {
        id -> Text,
        couple_id -> Text,
        month -> Text,
        content -> Text,
        last_author_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deliver_on -> Nullable<Date>,
        sealed_by_id -> Nullable<Text>,
    }
}

diesel::table! {
    perspectives (couple_id, side) {
        couple_id -> Text,
        side -> Text,
        author_id -> Text,
        content -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    photo_link_keys (couple_id) {
        couple_id -> Text,
        generation -> BigInt,
    }
}

diesel::table! {
    memories (id) {
        id -> Text,
        couple_id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        happened_on -> Nullable<Date>,
        recorded_on -> Date,
        timeline_day -> Date,
        search_text -> Text,
        photo_id -> Nullable<Text>,
        photo_format -> Nullable<Text>,
        photo_width -> Nullable<Integer>,
        photo_height -> Nullable<Integer>,
        photo_bytes -> Nullable<BigInt>,
        medium_format -> Nullable<Text>,
        medium_width -> Nullable<Integer>,
        medium_height -> Nullable<Integer>,
        medium_bytes -> Nullable<BigInt>,
        thumb_format -> Nullable<Text>,
        thumb_width -> Nullable<Integer>,
        thumb_height -> Nullable<Integer>,
        thumb_bytes -> Nullable<BigInt>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    shares (id) {
        id -> Text,
        couple_id -> Text,
        token_digest -> Text,
        all_memories -> Bool,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    share_memories (share_id, memory_id) {
        share_id -> Text,
        memory_id -> Text,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        hint -> Text,
        digest -> Text,
        scope -> Text,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    external_identities (id) {
        id -> Text,
        user_id -> Text,
        provider -> Text,
        subject -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        proven -> Bool,
    }
}

diesel::table! {
    oauth_flows (state_digest) {
        state_digest -> Text,
        provider -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        binding_digest -> Text,
        response -> Text,
        link_to -> Nullable<Text>,
        link_session -> Nullable<Text>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_pending_links (digest) {
        digest -> Text,
        user_id -> Text,
        provider -> Text,
        subject -> Text,
        email -> Nullable<Text>,
        expires_at -> Timestamp,
    }
}
