-- The login that writes project secret API keys' last_used_at (warden run --project-key-usage-postgres),
-- kept apart from the reader: it may set that one column, and read only what its statement compares.
-- Set its password out of band:  ALTER ROLE warden_key_usage PASSWORD '...';
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warden_key_usage') THEN
        CREATE ROLE warden_key_usage LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
END;
$$;

REVOKE ALL ON posthog_projectsecretapikey FROM warden_key_usage;
GRANT SELECT (secure_value, last_used_at), UPDATE (last_used_at) ON posthog_projectsecretapikey TO warden_key_usage;
