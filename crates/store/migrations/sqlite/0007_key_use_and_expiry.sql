-- When each key was last used (kept to the hour, so authentication rarely writes) and when it
-- stops working, if it was made to expire.
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
