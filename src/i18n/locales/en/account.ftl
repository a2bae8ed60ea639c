# The account center (src/http/account/, templates/account_*.html).
#
# Messages used in a template with t("key", name=value) may hold simple
# HTML (<strong>): their text is trusted, each argument is escaped. Titles
# and one-line texts are plain text.

## Top bar

account-nav-label = Your account
account-nav-overview = Profile
account-nav-security = Security
account-nav-sessions = Sessions
account-nav-connections = Connections
account-nav-activity = Activity
account-nav-admin = Admin console
account-sign-out = Sign out
account-enrol-first = Your role requires a second factor: add an authenticator app or a passkey under Security before you can change anything else.

## Common words

account-save = Save
account-cancel = Cancel
account-back = Back
account-never = Never
account-col-name = Name
account-col-created = Created
account-col-last-used = Last used
account-col-actions = Actions
account-col-device = Device
account-col-ip = IP address
account-col-provider = Provider
account-col-account = Account
account-col-linked = Linked
account-col-app = App
account-col-access = Access
account-col-granted = Allowed on
account-col-when = When
account-col-event = Event

## Outcomes (?done=)

account-done-profile = Your profile was saved.
account-done-email = A confirmation link was sent to the new address. Your address changes when you follow it.
account-done-password = Your password was saved. Your other sessions were signed out.
account-done-reauth = Thank you, you can go on.
account-done-totp = The authenticator app is on.
account-done-totp-removed = The authenticator app was removed.
account-done-passkey = The passkey was added.
account-done-passkey-renamed = The passkey was renamed.
account-done-passkey-removed = The passkey was removed.
account-done-session-ended = The session was ended.
account-done-sessions-ended = All your other sessions were ended.
account-done-unlinked = The provider was unlinked.
account-done-linked = The provider was linked.
account-done-revoked = The app's access was revoked.

## Errors

account-error-reauth = For this change, confirm it is you first (below).
account-error-enrol-first = Add a second factor first.
account-error-wrong-password = That is not your current password.
account-error-wrong-code = That code is not right. Try the current one.
account-error-not-found = This no longer exists, or it is not yours.
account-error-conflict = This cannot be done now.
account-invalid-name = Use at most 256 characters, without control characters.
account-invalid-locale = Choose one of the languages in the list.
account-invalid-email = Enter a valid email address, other than your current one.
account-invalid-code = That code is not right: enter the six digits your app shows now.
account-invalid-password = Enter your current password.
account-invalid-redirect = This provider cannot be linked here.

## Profile (account_overview.html)

account-overview-title = Your account
account-profile-heading = Profile
account-name-label = Name
account-locale-label = Language
account-locale-default = Browser default
account-locale-help = The language of these pages and of the emails we send you.
account-email-heading = Email address
account-email-confirmed = Confirmed
account-email-confirmed-at = Confirmed on { $at }
account-email-unconfirmed = Not confirmed
account-new-email-label = New email address
account-current-password-label = Current password
account-email-change-help = We send a link to the new address; your address changes when you follow it.
account-email-change-button = Change email address
account-password-heading = Password
account-password-none = Your account has no password yet: you sign in another way. You can set one.
account-new-password-label = New password
account-password-rules = { $min } to { $max } characters; not a common password, not your email address.
account-password-change-button = Change password
account-password-set-button = Set password

## Reauthentication

account-reauth-title = Confirm it is you
account-reauth-heading = Confirm it is you
account-reauth-text = Some changes need a recent sign-in. Confirm it is you to make them.
account-reauth-code-label = Code from your authenticator app, or a recovery code
account-reauth-button = Confirm
account-reauth-sign-in-again = Sign in again

## Security (account_security.html)

account-security-title = Security
account-totp-heading = Authenticator app
account-totp-on = On since { $since }.
account-totp-off = Not set up. An authenticator app gives you a code to enter after your password.
account-totp-start-button = Set up an authenticator app
account-totp-remove-button = Remove the authenticator app
account-passkeys-heading = Passkeys
account-passkeys-none = You have no passkey yet.
account-passkey-synced = synced
account-passkey-rename-label = New name
account-passkey-rename-button = Rename
account-passkey-remove-button = Remove
account-passkey-add-button = Add a passkey
account-codes-heading = Recovery codes
account-codes-remaining = { $n ->
    [one] You have one unused recovery code.
   *[other] You have { $n } unused recovery codes.
}
account-codes-help = A new set replaces the old one at once.
account-codes-generate-button = Generate recovery codes
account-codes-regenerate-button = Generate a new set
account-codes-need-factor = Recovery codes come with a second factor: set up an authenticator app or add a passkey first.

## Authenticator app (account_totp.html)

account-totp-title = Set up an authenticator app
account-totp-step-scan = Scan this QR code with your authenticator app, or type the key below into it.
account-totp-step-code = Enter the six-digit code the app shows.
account-totp-qr-label = QR code of your authenticator key
account-totp-code-label = Code from the app
account-totp-confirm-button = Turn on
account-totp-remove-title = Remove the authenticator app?
account-totp-remove-text = You will no longer be asked for its codes. Sessions confirmed with it are signed out.

## Recovery codes (account_codes.html)

account-codes-title = Your recovery codes
account-codes-once = Keep these codes somewhere safe: each works once if you lose your second factor. They are shown only now.
account-codes-saved = I have saved them

## Passkeys (account_passkey.html)

account-passkey-title = Add a passkey
account-passkey-intro = A passkey signs you in with this device's screen lock or a security key, without a password.
account-passkey-name-label = Name (optional)
account-passkey-name-placeholder = e.g. Work laptop
account-passkey-create-button = Create the passkey
account-passkey-needs-script = Adding a passkey needs JavaScript.
account-passkey-unsupported = This browser cannot create passkeys here.
account-passkey-cancelled = No passkey was created.
account-passkey-checking = Saving…
account-passkey-failed = The passkey was not created. Try again.
account-passkey-remove-title = Remove this passkey?
account-passkey-remove-text = The passkey “{ $name }” will no longer sign you in. Sessions confirmed with it are signed out.

## Sessions (account_sessions.html)

account-sessions-title = Sessions and devices
account-sessions-intro = Where your account is signed in. End any session you do not recognise.
account-sessions-this-browser = this browser
account-sessions-unknown-device = Unknown device
account-sessions-sign-out-here = Sign out here
account-session-end-button = End
account-session-end-title = End this session?
account-session-end-text = The session on “{ $device }” will be signed out.
account-session-end-current-text = This is this browser's session (“{ $device }”): you will be signed out here.
account-sessions-end-others-button = End all other sessions
account-sessions-end-others-title = End all other sessions?
account-sessions-end-others-text = Every session except this browser's will be signed out.

## Connections (account_connections.html, account_link*.html)

account-connections-title = Connections
account-providers-heading = Sign-in providers
account-providers-none = No provider is linked to your account.
account-unlink-button = Unlink
account-unlink-title = Unlink this provider?
account-unlink-text = You will no longer sign in with { $provider }.
account-unlink-last-way = This provider is your last way to sign in: set a password or add a passkey first.
account-link-button = Link { $provider }
account-link-title = Link a provider
account-link-text = You will sign in at { $provider }, then come back here.
account-link-continue = Continue to { $provider }
account-linked-checking = Linking…
account-linked-refused = The provider was not linked.
account-linked-nothing = Nothing to link here.
account-linked-needs-script = Finishing the link needs JavaScript.
account-apps-heading = Apps
account-apps-none = You have not allowed any app to use your account.
account-revoke-button = Revoke
account-revoke-title = Revoke this app's access?
account-revoke-text = { $app } will no longer have access to your account, and its sessions are signed out.

## Activity (account_activity.html)

account-activity-title = Security activity
account-activity-intro = Recent events of your account, newest first.
account-activity-none = Nothing yet.
account-activity-by-admin = by an administrator
account-activity-pages = Pages
account-activity-newest = Newest
account-activity-older = Older events

## Events of the audit log, one per kind

account-event-user-registered = Account created
account-event-user-confirmed = Email address confirmed
account-event-user-updated = Account updated
account-event-user-disabled = Account disabled
account-event-login-succeeded = Signed in with password
account-event-login-failed = Failed sign-in attempt
account-event-login-locked = Sign-in locked after failed attempts
account-event-login-passkey = Signed in with a passkey
account-event-login-email-code = Signed in with an email code
account-event-login-provider = Signed in with a provider
account-event-logout = Signed out
account-event-refresh-reused = A used session token was presented again: session ended
account-event-session-ended = Session ended
account-event-sessions-ended-all = All sessions ended
account-event-password-changed = Password changed
account-event-password-reset-requested = Password reset requested
account-event-password-reset = Password reset
account-event-email-change-requested = Email change requested
account-event-email-changed = Email address changed
account-event-mfa-challenged = Second factor asked
account-event-mfa-succeeded = Second factor accepted
account-event-mfa-failed = Wrong second factor
account-event-totp-enabled = Authenticator app turned on
account-event-totp-disabled = Authenticator app removed
account-event-recovery-codes-generated = New recovery codes generated
account-event-recovery-code-used = Recovery code used
account-event-passkey-added = Passkey added
account-event-passkey-removed = Passkey removed
account-event-factors-reset = Second factors reset by an administrator
account-event-reauthenticated = Identity confirmed again
account-event-identity-linked = Provider linked
account-event-identity-unlinked = Provider unlinked
account-event-oauth-consent-granted = App allowed
account-event-oauth-consent-revoked = App access revoked
account-event-oauth-authorized = Signed in to an app
account-event-oauth-token-issued = App tokens issued
