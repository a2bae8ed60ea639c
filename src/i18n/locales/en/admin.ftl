# The admin console, /admin (src/http/console/, templates admin_*.html).
#
# Messages used in a template through t("key", name=value) may hold simple
# HTML markup: their text is trusted, every argument is escaped. Titles and
# messages made in Rust (lang.text) are plain text.

## Frame and shared words

admin-nav-label = Admin console
admin-nav-users = Users
admin-nav-audit = Audit log
admin-nav-keys = API keys
admin-nav-clients = OAuth clients
admin-nav-providers = Providers
admin-nav-mail = Mail queue
admin-nav-settings = Settings
admin-nav-sign-out = Sign out
admin-cancel = Cancel
admin-save = Save changes
admin-done = Done
admin-next-page = Next page →
admin-secret-once = This is the only time it is shown: toktok keeps only a hash of it. Copy it now.
admin-error-form = Some fields need attention: see the messages beside them.
admin-error-field = Not accepted: { $reason }
admin-error-json = This is not valid JSON: { $reason }

## Who may enter (admin_denied.html)

admin-denied-title = Not allowed
admin-denied-text = The admin console is for administrators. Your account does not have the admin role.
admin-denied-mfa-text = The admin console needs a second factor. Set up an authenticator app or a passkey in your account, then sign in again with it.
admin-denied-mfa-link = Go to my account

## Column headings

admin-col-id = Id
admin-col-email = Email
admin-col-name = Name
admin-col-role = Role
admin-col-status = Status
admin-col-created = Created
admin-col-last-login = Last sign-in
admin-col-last-used = Last used
admin-col-device = Device
admin-col-ip = IP address
admin-col-provider = Provider
admin-col-subject = Account at the provider
admin-col-when = When
admin-col-kind = Kind
admin-col-user = User
admin-col-actor = By
admin-col-detail = Detail
admin-status-active = Active
admin-status-disabled = Disabled
admin-status-unconfirmed = Email not confirmed

## Users (admin_users.html, admin_user.html)

admin-users-title = Users
admin-users-search-label = Email address or user id
admin-users-search-button = Search
admin-users-show-all = Show all users
admin-users-caption = Oldest first.
admin-users-none = No user matches.
admin-users-bad-cursor = This page address is not valid any more: start again from the first page.
admin-user-title = User { $email }
admin-back-to-users = ← All users
admin-user-edit = Profile and role
admin-user-metadata = Metadata (JSON, the user may change it)
admin-user-app-metadata = App metadata (JSON, only admins change it)
admin-user-email-confirmed = Email address confirmed
admin-user-actions = Actions
admin-user-is-self = This is your own account: disabling or deleting it signs you out.
admin-user-sessions = Sessions
admin-user-no-sessions = No active session.
admin-user-factors = Second factors
admin-factor-totp-on = Authenticator app: on since { $since }
admin-factor-totp-off = Authenticator app: off
admin-factor-passkeys = { $count ->
    [one] One passkey
   *[other] { $count } passkeys
}
admin-factor-recovery = { $count ->
    [one] One recovery code left
   *[other] { $count } recovery codes left
}
admin-user-identities = Linked sign-in providers
admin-user-no-identities = No linked provider.
admin-user-trail = Audit trail
admin-user-trail-more = See all of this user’s events
admin-action-disable = Disable account
admin-action-enable = Enable account
admin-action-delete = Delete account
admin-action-logout = End all sessions
admin-action-factors = Reset second factors
admin-action-reset-link = Send a password-reset link

## Confirmations

admin-confirm-disable-title = Disable account
admin-confirm-disable-text = { $email } will be signed out everywhere and will not be able to sign in until the account is enabled again.
admin-confirm-enable-title = Enable account
admin-confirm-enable-text = { $email } will be able to sign in again.
admin-confirm-delete-title = Delete account
admin-confirm-delete-text = The account of { $email }, its sessions, factors and linked providers will be deleted. This cannot be undone.
admin-confirm-logout-title = End all sessions
admin-confirm-logout-text = Every session of { $email } ends now, on every device. They can sign in again.
admin-confirm-factors-title = Reset second factors
admin-confirm-factors-text = The authenticator app, passkeys and recovery codes of { $email } will be removed and every session ended. They will be emailed about it.
admin-confirm-reset-link-title = Send a password-reset link
admin-confirm-reset-link-text = A link to choose a new password will be emailed to { $email }.

## Notices after an action

admin-notice-updated = Changes saved.
admin-notice-unchanged = Nothing changed.
admin-notice-disabled = The account is disabled and its sessions ended.
admin-notice-enabled = The account is enabled.
admin-notice-deleted = The account was deleted.
admin-notice-logged-out = Every session of this user ended.
admin-notice-factors-reset = The second factors were removed and every session ended.
admin-notice-reset-link-sent = A password-reset link is on its way.
admin-notice-reset-link-throttled = A link went to this address less than a minute ago; no other was sent.
admin-notice-key-revoked = The API key is revoked.
admin-notice-client-updated = The client is saved.
admin-notice-client-deleted = The client was deleted.
admin-notice-mail-retried = The message is queued again.

## Audit log (admin_audit.html, admin_events.html)

admin-audit-title = Audit log
admin-audit-user-label = User id
admin-audit-kind-label = Kind of event
admin-audit-any-kind = Any kind
admin-audit-filter-button = Filter
admin-audit-clear = Clear the filters
admin-audit-none = No event.

## API keys (admin_keys.html)

admin-keys-title = API keys
admin-keys-scopes = Scopes
admin-keys-none = No API key yet.
admin-keys-revoke = Revoke
admin-keys-revoked = Revoked { $at }
admin-keys-new = New API key
admin-keys-create = Create the key
admin-keys-created-title = New API key
admin-keys-created-text = The key “{ $name }” is ready. Give it to the service that uses it.
admin-keys-key-label = API key
admin-keys-revoke-title = Revoke API key
admin-keys-revoke-text = Services using the key “{ $name }” will be refused at once. This cannot be undone.
admin-scope-admin = manage users, read the audit log
admin-scope-challenges = create and verify challenge tokens

## OAuth clients (admin_clients.html, admin_client.html)

admin-clients-title = OAuth clients
admin-clients-oidc-off = toktok is not an OpenID provider here: set [oidc] enabled = true to register clients.
admin-clients-none = No client yet.
admin-clients-new = New client
admin-clients-create = Create the client
admin-clients-id = Client id
admin-clients-type = Type
admin-clients-type-confidential = Confidential (a server, with a secret)
admin-clients-type-public = Public (a browser or mobile app)
admin-clients-redirect-uris = Redirect URIs
admin-clients-logout-uris = Post-logout redirect URIs
admin-clients-one-per-line = One per line.
admin-clients-grant-types = Grant types
admin-clients-scopes = Scopes
admin-clients-audience = Audience of its access tokens (empty: the default)
admin-clients-alg = ID token algorithm
admin-clients-skip-consent = Skip the consent page (a first-party app)
admin-client-title = Client { $name }
admin-back-to-clients = ← All clients
admin-clients-rotate = New secret
admin-clients-delete = Delete client
admin-clients-rotate-title = New client secret
admin-clients-rotate-text = A new secret replaces the secret of “{ $name }” at once: the old one stops working.
admin-clients-delete-title = Delete client
admin-clients-delete-text = “{ $name }”, every grant users gave it and its sessions will be deleted. This cannot be undone.
admin-clients-created-title = New client
admin-clients-rotated-title = New client secret
admin-clients-secret-label = Client secret
admin-clients-secret-text = The secret of “{ $name }”:

## Providers (admin_providers.html)

admin-providers-title = Sign-in providers
admin-providers-intro = The [[providers]] of the configuration file (read-only; secrets are never shown).
admin-providers-kind = Kind
admin-providers-issuer = Issuer
admin-providers-callback = Callback URL
admin-providers-enabled = Enabled
admin-providers-disabled = Disabled
admin-providers-none = No provider is configured.

## Mail queue (admin_mail.html)

admin-mail-title = Mail queue
admin-mail-failed = Given up
admin-mail-pending = Waiting to be sent
admin-mail-recipient = Recipient
admin-mail-attempts = Attempts
admin-mail-last-error = Last error
admin-mail-failed-at = Given up at
admin-mail-next-try = Next try
admin-mail-retry = Retry
admin-mail-no-failed = No message was given up.
admin-mail-no-pending = No message is waiting.
admin-mail-limit = At most { $limit } messages of each kind are shown.

## Settings (admin_settings.html)

admin-settings-title = Settings
admin-settings-intro = The configuration toktok runs with, after the file and the TOKTOK_* variables. Read-only; secrets show as [redacted].
admin-settings-key = Key
admin-settings-value = Value

## Webhooks (http::console::webhooks)
admin-nav-hooks = Webhooks
admin-hooks-title = Webhooks
admin-hooks-endpoint-title = Webhook endpoint
admin-hooks-url = URL
admin-hooks-url-hint = An http or https address your service listens on. Internal addresses (loopback, private networks, cloud metadata) are refused.
admin-hooks-url-hint-private = An http or https address your service listens on. Internal addresses are allowed on this server ([hooks] allow_private_targets).
admin-hooks-description = Description (optional)
admin-hooks-events = Events
admin-hooks-event = Event
admin-hooks-none = No webhook endpoint yet.
admin-hooks-new = New endpoint
admin-hooks-create = Add the endpoint
admin-hooks-active = Active
admin-hooks-paused = Paused
admin-hooks-secret-title = Signing secret
admin-hooks-secret-text = Deliveries to { $url } are signed with this secret (Standard Webhooks). Give it to the receiving service to verify them.
admin-hooks-secret-once = This is the only time it is shown: toktok keeps it to sign deliveries but never shows it again. Copy it now.
admin-hooks-secret-label = Signing secret
admin-hooks-test = Send a test event
admin-hooks-pause = Pause
admin-hooks-resume = Resume
admin-hooks-rotate-title = Rotate the secret
admin-hooks-rotate-text = A new secret replaces the current one at once: deliveries to { $url } signed with it are refused by a receiver still holding the old one.
admin-hooks-delete-title = Delete the endpoint
admin-hooks-delete-text = { $url } will receive nothing more; its waiting deliveries and its log are deleted. This cannot be undone.
admin-hooks-log = Deliveries
admin-hooks-log-none = Nothing was sent to this endpoint yet.
admin-hooks-log-more = The 50 most recent deliveries; the admin API pages through all of them.
admin-hooks-answer = Last answer
admin-hooks-at = Event time
admin-hooks-send-again = Send again
admin-hooks-status-pending = Waiting
admin-hooks-status-delivered = Delivered
admin-hooks-status-failed = Given up
admin-notice-hook-test-queued = A test event is on its way.
admin-notice-hook-paused = The endpoint is paused: nothing is sent to it, and new events are not kept for it.
admin-notice-hook-resumed = The endpoint is active again.
admin-notice-hook-deleted = The endpoint was deleted.
admin-notice-hook-retried = The delivery will be sent again.
