-- Local users of factus-api and the failed logins used to throttle password guessing.
--
-- Both tables are shared by every instance behind the load balancer, which is why throttling
-- lives here rather than in memory. The SQLite twin of this file is
-- migrations/sqlite/20261125000001_users.sql; keep the two in step.

-- Keeps `updated_at` honest for rows changed outside the application (psql, scripts). The
-- application sends its own `updated_at` when it updates a row; that value is kept, so what it
-- holds in memory matches what is stored. Only an UPDATE that leaves `updated_at` as it was gets
-- the current time. Later tables can reuse this function.
CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TABLE users (
    id            uuid        NOT NULL,
    -- Stored folded to lower case (see users_username_lower_check). With the unique constraint,
    -- this makes usernames unique regardless of case: 'Admin' and 'admin' are one user.
    -- COLLATE "C" makes ORDER BY compare bytes, like the domain type and SQLite, instead of
    -- following a locale that ignores punctuation such as '.' and '_'.
    username      text        COLLATE "C" NOT NULL,
    -- An argon2id hash in PHC string format ($argon2id$v=19$m=19456,t=2,p=1$salt$hash).
    password_hash text        NOT NULL,
    role          text        NOT NULL,
    -- A disabled user cannot log in, and tokens issued earlier are refused.
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT users_pkey PRIMARY KEY (id),
    -- The stores turn a violation of this constraint into "username taken"; keep the name.
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_username_lower_check CHECK (username = lower(username)),
    CONSTRAINT users_username_length_check CHECK (char_length(username) BETWEEN 3 AND 64),
    CONSTRAINT users_password_hash_check CHECK (password_hash LIKE '$%'),
    CONSTRAINT users_role_check CHECK (role IN ('admin', 'user'))
);

COMMENT ON TABLE users IS 'Local users of factus-api (login, roles).';

CREATE TRIGGER users_touch_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE login_failures (
    id             bigint      GENERATED ALWAYS AS IDENTITY,
    -- The username as attempted, folded to lower case. It need not belong to a user: guessing
    -- unknown names is throttled too. The stores cut it to 256 characters.
    username       text        NOT NULL,
    -- The client's address, when known. NULL failures count only against the username.
    client_address inet,
    attempted_at   timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT login_failures_pkey PRIMARY KEY (id)
);

COMMENT ON TABLE login_failures IS
    'Failed logins inside the throttling window; old rows are pruned by housekeeping.';

-- The two window queries: failures of a username since T, failures from an address since T.
-- Each also reads min(attempted_at), which the second column of the index answers.
CREATE INDEX login_failures_username_attempted_at_idx
    ON login_failures (username, attempted_at);
CREATE INDEX login_failures_client_address_attempted_at_idx
    ON login_failures (client_address, attempted_at)
    WHERE client_address IS NOT NULL;
-- Pruning deletes by age alone.
CREATE INDEX login_failures_attempted_at_idx
    ON login_failures (attempted_at);
