# The hosted pages (src/http/pages/templates/ and src/http/hosted/).
#
# Messages used in a template through t("key", name=value) may hold simple
# HTML markup (<strong>): their text is trusted, every argument is escaped.
# Messages used as a page's title or one-line text are plain text.

## Shared

page-support = Need help? Write to
page-fallback-error = This page could not be shown.
page-continue-to = to continue to <strong>{ $client }</strong>
page-email-label = Email address
page-password-label = Password
page-sign-in-button = Sign in
page-sign-in-another-way = Sign in another way
page-back-to-sign-in = Back to sign-in

## Sign-in (login.html)

login-title = Sign in
login-email-code-button = Email me a sign-in code instead
login-passkey-button = Sign in with a passkey
login-provider-button = Continue with { $provider }
login-forgot-link = Forgot your password?
login-register-link = Create an account
login-signed-in-title = Signed in
login-signed-in-text = You are signed in as { $email }.

## Second factor (second_factor.html)

mfa-title = Two-step verification
mfa-totp-label = Code from your authenticator app
mfa-use-recovery = Use a recovery code instead
mfa-recovery-label = Recovery code
mfa-continue-button = Continue

## Passkey (passkey.html)

passkey-title = Sign in with a passkey
passkey-status = Use the passkey on this device or your security key.
passkey-button = Use a passkey
passkey-needs-script = Passkeys need JavaScript in this page.

## Email code (email_code.html)

email-code-title = Check your email
email-code-sent = If <strong>{ $email }</strong> has an account, a sign-in code is on its way there. The link in the mail works too.
email-code-label = Code from the email

## Email-code link (email_code_link.html)

email-code-link-title = Sign in
email-code-link-text = Press the button to sign in.
email-code-link-button = Sign me in
email-code-link-not-you = If you did not ask to sign in, close this page.
email-code-link-done-title = Signed in
email-code-link-done-text = Your email address is confirmed and the sign-in succeeded. You can close this page.
email-code-link-mfa-title = One more step
email-code-link-mfa-text = The code was right, but this account also needs its second factor: sign in from the app.

## Registration (register.html)

register-title = Create an account
register-name-label = Name
register-optional = (optional)
register-password-rule = { $min ->
    [one] At least { $min } character.
   *[other] At least { $min } characters.
}
register-button = Create account
register-have-account = I already have an account
register-confirm-title = Confirm your email address
register-confirm-text = We sent you a link: open it to confirm your address, then sign in.

## Forgotten password (forgot.html)

forgot-title = Forgot your password?
forgot-text = Type your email address: if it has an account, we send it a link to choose a new password.
forgot-button = Send the link
forgot-sent-title = Check your email
forgot-sent-text = If this address has an account, a link to choose a new password is on its way.

## Consent (consent.html)

consent-title = Allow { $client }?
consent-asks = <strong>{ $client }</strong> asks to:
consent-signed-in-as = Signed in as { $email }. You can withdraw this later in your account.
consent-allow = Allow
consent-deny = Deny
consent-scope-openid = Know who you are (your account's identifier)
consent-scope-profile = See your name and language
consent-scope-email = See your email address
consent-scope-offline_access = Stay connected while you are away
consent-nothing-title = Nothing to consent to
consent-nothing-text = This page is reached from an application's sign-in.

## Sign-out (logout.html)

logout-title = Sign out
logout-client-asks = { $client } asks to sign you out.
logout-question = Sign out of { $brand }?
logout-button = Sign out
logout-done-title = Signed out
logout-done-text = You are signed out.
logout-refused-title = This sign-out request cannot be used
logout-unreadable = The request's parameters cannot be read.
logout-bad-hint = The id_token_hint is not an ID token of this server.
logout-hint-mismatch = client_id and id_token_hint name different applications.
logout-unknown-client = The application that sent you here is not registered.
logout-return-needs-client = A return address needs id_token_hint or client_id.
logout-unregistered-return = The application asked to send you to an address it did not register.
logout-form-changed = The form was changed.

## Confirming an address (confirm_email.html)

confirm-title = Confirm your email address
confirm-text = Press the button to confirm your email address.
confirm-button = Confirm my email address
confirm-done-title = Email address confirmed
confirm-done-text = Thank you: your email address is confirmed. You can close this page.

## A new password (reset_password.html)

reset-title = Choose a new password
reset-label = New password
reset-rules = Between { $min } and { $max } characters. Any characters are fine; very common passwords and your email address are refused.
reset-button = Set new password
reset-done-title = Password changed
reset-done-text = Your password is changed and every session was signed out. Sign in with the new password.

## What went wrong (message.html)

error-title = This did not work
error-server = Something went wrong on our side. Please try again in a moment.
link-refused-title = This link cannot be used
form-unreadable-title = This form could not be read
form-not-urlencoded = The page sends application/x-www-form-urlencoded forms only.
form-malformed = The form is not what this page sends: { $reason }.
form-bad-decision = decision must be allow or deny.
form-expired-title = This form has expired
form-expired-text = Go back, reload the page and try again.
flow-expired-title = This sign-in has expired
flow-expired-text = Go back to the application and sign in again.
flow-provider-expired-text = It was used already, took too long, or was started in another browser. Go back to the application and sign in again.
client-gone-title = This application is not registered
client-gone-text = The application that sent you here is no longer registered.
authorize-refused-title = This sign-in request cannot be used
