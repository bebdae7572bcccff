-- People who use Regia (issue 20): named accounts with one role each, and their sessions.
-- A password is stored only as its argon2id hash; a TOTP secret only encrypted with
-- REGIA_ACCOUNT_SECRETS_KEY (Fernet), since checking a code needs the secret itself.
-- An account is never deleted (the audit names it by id): it is disabled.
CREATE TABLE accounts (
    account_id       text PRIMARY KEY CHECK (account_id ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email            text,
    role             text NOT NULL CHECK (role IN ('administrator', 'institution_officer', 'project_lead', 'observer')),
    institution_id   text,
    partner_id       text REFERENCES partners (partner_id),
    contact_id       text REFERENCES contacts (contact_id),
    password_hash    text,
    totp_secret      bytea,          -- Fernet token; set once enrolment is confirmed
    totp_pending     bytea,          -- Fernet token of a secret being enrolled
    totp_last_step   bigint,         -- the last TOTP time step used: a code works once
    oidc_issuer      text,
    oidc_subject     text,
    failed_logins    int NOT NULL DEFAULT 0,
    locked_until     timestamptz,
    disabled_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    changed_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'institution_officer' OR institution_id IS NOT NULL),
    CHECK (role <> 'project_lead' OR partner_id IS NOT NULL),
    CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL))
);
CREATE UNIQUE INDEX accounts_oidc ON accounts (oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;
CREATE INDEX accounts_listing ON accounts (account_id);

-- A session: what a refresh token renews, until it ends (logout, logout everywhere, a
-- changed or disabled account, a reused refresh token) or expires (idle or absolute).
CREATE TABLE account_sessions (
    session_id       text PRIMARY KEY,
    account_id       text NOT NULL REFERENCES accounts (account_id),
    refresh_sha256   text NOT NULL,
    method           text NOT NULL CHECK (method IN ('password', 'oidc')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    refreshed_at     timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    ended_why        text,
    client_address   text,
    user_agent       text
);
CREATE INDEX account_sessions_open ON account_sessions (account_id) WHERE ended_at IS NULL;
