-- Project secret API keys: team-owned phs_ keys kept only as a hash (secure_value: "sha256$" and the
-- hex SHA-256 of the key), limited by scopes. The standalone store's copy of PostHog's table, the
-- change notifications warden needs to revoke a key within a second, and the reader's grants.
CREATE TABLE IF NOT EXISTS posthog_projectsecretapikey (
    id              varchar(50) PRIMARY KEY,
    label           varchar(40) NOT NULL,
    mask_value      varchar(11),
    secure_value    varchar(300) UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    last_rolled_at  timestamptz,
    scopes          varchar(100)[],
    created_by_id   integer,
    team_id         integer NOT NULL,
    UNIQUE (team_id, label)
);
CREATE INDEX IF NOT EXISTS posthog_projectsecretapikey_team_id ON posthog_projectsecretapikey (team_id);

-- A key inserted, deleted, rolled (secure_value changed), rescoped or moved notifies its team (both
-- teams when moved) on the channel of 002: warden forgets every cached key of that team at once.
CREATE OR REPLACE FUNCTION warden_notify_project_key_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('warden_team_changed', OLD.team_id::text);
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.team_id <> NEW.team_id THEN
        PERFORM pg_notify('warden_team_changed', OLD.team_id::text);
    END IF;
    PERFORM pg_notify('warden_team_changed', NEW.team_id::text);
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS warden_project_key_change ON posthog_projectsecretapikey;
CREATE TRIGGER warden_project_key_change
    AFTER INSERT OR DELETE OR UPDATE OF secure_value, scopes, team_id
    ON posthog_projectsecretapikey
    FOR EACH ROW EXECUTE FUNCTION warden_notify_project_key_change();

DROP TRIGGER IF EXISTS warden_project_key_truncate ON posthog_projectsecretapikey;
CREATE TRIGGER warden_project_key_truncate
    AFTER TRUNCATE ON posthog_projectsecretapikey
    FOR EACH STATEMENT EXECUTE FUNCTION warden_notify_team_truncate();

-- The reader (003) sees the hash, the scopes and the owning team: not the label, the mask or who
-- made the key.
REVOKE ALL ON posthog_projectsecretapikey FROM warden_reader;
GRANT SELECT (secure_value, scopes, team_id) ON posthog_projectsecretapikey TO warden_reader;
