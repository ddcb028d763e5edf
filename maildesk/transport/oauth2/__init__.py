"""OAuth2 sign-in (XOAUTH2 / OAUTHBEARER) for IMAP and SMTP: tokens, their cache, the
providers that issue them (generic token endpoint, msal, google-auth), device login."""
