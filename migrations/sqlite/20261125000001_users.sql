-- Local users of factus-api and the failed logins used to throttle password guessing.
--
-- The SQLite twin of migrations/postgres/20261125000001_users.sql; keep the two in step.
--
-- Conventions of the SQLite schema (later migrations follow them too):
-- * Tables are STRICT, so a value of the wrong type is an error and is not silently stored.
-- * UUIDs are hyphenated lower-case TEXT (36 characters), readable in the sqlite3 shell.
-- * Timestamps are UTC TEXT in one fixed shape, 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (27 characters,
--   microseconds, like Postgres' timestamptz). Because the shape is fixed, comparing the text
--   compares the instants, so window queries and ORDER BY work on it directly. The CHECK
--   constraints hold every row to that shape. The `db::sqlite` module of factus-infrastructure
--   reads and writes it. SQLite's strftime gives only milliseconds, so defaults append '000'.

CREATE TABLE users (
    id            TEXT    NOT NULL,
    -- Stored folded to lower case (see users_username_lower_check). With the unique constraint,
    -- this makes usernames unique regardless of case: 'Admin' and 'admin' are one user.
    username      TEXT    NOT NULL,
    -- An argon2id hash in PHC string format ($argon2id$v=19$m=19456,t=2,p=1$salt$hash).
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    -- A disabled user cannot log in, and tokens issued earlier are refused. 0 or 1.
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),

    CONSTRAINT users_pkey PRIMARY KEY (id),
    -- The stores turn a violation of this constraint into "username taken". SQLite reports it
    -- as "UNIQUE constraint failed: users.username", without the constraint's name.
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_id_check CHECK (length(id) = 36 AND id = lower(id)),
    CONSTRAINT users_username_lower_check CHECK (username = lower(username)),
    CONSTRAINT users_username_length_check CHECK (length(username) BETWEEN 3 AND 64),
    CONSTRAINT users_password_hash_check CHECK (password_hash LIKE '$%'),
    CONSTRAINT users_role_check CHECK (role IN ('admin', 'user')),
    CONSTRAINT users_disabled_check CHECK (disabled IN (0, 1)),
    CONSTRAINT users_created_at_check
        CHECK (length(created_at) = 27 AND created_at GLOB '????-??-??T??:??:??.??????Z'),
    CONSTRAINT users_updated_at_check
        CHECK (length(updated_at) = 27 AND updated_at GLOB '????-??-??T??:??:??.??????Z')
) STRICT;

-- Keeps `updated_at` honest for rows changed outside the application (sqlite3 shell, scripts).
-- The application sends its own `updated_at` when it updates a row; that value is kept. Only an
-- UPDATE that leaves `updated_at` as it was gets the current time. (recursive_triggers is off, so
-- the inner UPDATE does not fire this trigger again.)
CREATE TRIGGER users_touch_updated_at
    AFTER UPDATE ON users
    FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE users
       SET updated_at = strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'
     WHERE id = NEW.id;
END;

CREATE TABLE login_failures (
    id             INTEGER NOT NULL,
    -- The username as attempted, folded to lower case. It need not belong to a user: guessing
    -- unknown names is throttled too. The stores cut it to 256 characters.
    username       TEXT    NOT NULL,
    -- The client's address in its canonical text form, when known. NULL failures count only
    -- against the username.
    client_address TEXT,
    attempted_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),

    CONSTRAINT login_failures_pkey PRIMARY KEY (id),
    CONSTRAINT login_failures_attempted_at_check
        CHECK (length(attempted_at) = 27 AND attempted_at GLOB '????-??-??T??:??:??.??????Z')
) STRICT;

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
