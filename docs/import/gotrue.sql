-- GoTrue / Supabase Auth: every user of auth.users with a password, as one
-- toktok import line each. Run with:
--   psql "$DATABASE_URL" -At -f gotrue.sql > users.ndjson
-- GoTrue's ids are UUIDs and are kept (the `sub` of your users' tokens does
-- not change); its bcrypt hashes ($2a$10$) sign in as they are.
SELECT json_strip_nulls(json_build_object(
    'id', id,
    'email', email,
    'password_hash', NULLIF(encrypted_password, ''),
    'email_confirmed', email_confirmed_at IS NOT NULL,
    'metadata', raw_user_meta_data,
    'app_metadata', raw_app_meta_data,
    'created_at', created_at,
    'disabled', COALESCE(banned_until > now(), false)
))
FROM auth.users
WHERE email IS NOT NULL AND email <> '' AND deleted_at IS NULL
ORDER BY created_at;
