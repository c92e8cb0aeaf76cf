-- Instant rotation: after a commit that inserts, deletes or changes a team row in a column warden
-- reads, NOTIFY warden_team_changed with the team id. warden LISTENs and evicts every cached key
-- of that team (old tokens included). A TRUNCATE, which fires no row trigger, sends '*': warden
-- forgets its whole cache. Notifications are delivered only on commit, so a rolled-back change
-- evicts nothing. The payload is an id or '*' alone: tokens never travel in notifications.
-- On a logical-replication subscriber, ordinary triggers do not fire for replicated changes: there,
-- also run ALTER TABLE posthog_team ENABLE ALWAYS TRIGGER warden_team_change (and
-- warden_team_truncate).
CREATE OR REPLACE FUNCTION warden_notify_team_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('warden_team_changed', OLD.id::text);
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
        PERFORM pg_notify('warden_team_changed', OLD.id::text);
    END IF;
    PERFORM pg_notify('warden_team_changed', NEW.id::text);
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS warden_team_change ON posthog_team;
CREATE TRIGGER warden_team_change
    AFTER INSERT OR DELETE OR UPDATE OF id, project_id, api_token, secret_api_token, secret_api_token_backup,
                                        anonymize_ips, heatmaps_opt_in
    ON posthog_team
    FOR EACH ROW EXECUTE FUNCTION warden_notify_team_change();

CREATE OR REPLACE FUNCTION warden_notify_team_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('warden_team_changed', '*');
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS warden_team_truncate ON posthog_team;
CREATE TRIGGER warden_team_truncate
    AFTER TRUNCATE ON posthog_team
    FOR EACH STATEMENT EXECUTE FUNCTION warden_notify_team_truncate();
