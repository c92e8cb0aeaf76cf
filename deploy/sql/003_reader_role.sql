-- A least-privilege login for warden: it can read only the columns it needs, and nothing else.
-- Set its password out of band:  ALTER ROLE warden_reader PASSWORD '...';
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warden_reader') THEN
        CREATE ROLE warden_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
END;
$$;

REVOKE ALL ON posthog_team FROM warden_reader;
GRANT SELECT (id, project_id, name, api_token, secret_api_token, secret_api_token_backup, anonymize_ips,
              heatmaps_opt_in)
    ON posthog_team TO warden_reader;
