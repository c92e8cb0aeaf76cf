-- The local stack's password of warden_reader (deploy/sql/003_reader_role.sql leaves it to be set
-- out of band): the compose secret warden_reader_password, which the warden services read too.
-- psql runs the init scripts, so its backquotes read the file; the password reaches no command line.
\set password `cat /run/secrets/warden_reader_password`
ALTER ROLE warden_reader PASSWORD :'password';
