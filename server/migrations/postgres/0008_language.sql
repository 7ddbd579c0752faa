-- The bootstrap admin was created with the English display name "Platform admin",
-- which then stood on Chinese pages. The UI shows the username and the role in the
-- reader's language instead, so the stored text is cleared (only if never renamed).
UPDATE users SET display_name = '' WHERE username = 'admin' AND role = 'platform_admin' AND display_name = 'Platform admin';
