# Problems: the `title` of each problem+json answer, by its stable `code`
# (the code itself never changes with the language), and the sentences the
# hosted pages show for the refusals a person meets there. Plain text.

## Titles (problem-<code>)

problem-malformed_body = Malformed body
problem-invalid_token = Invalid token
problem-invalid_encryption = Invalid encryption
problem-encryption_required = Encryption required
problem-anonymous_token_required = Anonymous token required
problem-already_authenticated = Already authenticated
problem-unauthenticated = Unauthenticated
problem-token_expired = Token expired
problem-token_reused = Token reused
problem-invalid_credentials = Invalid credentials
problem-forbidden = Forbidden
problem-email_not_confirmed = Email not confirmed
problem-wrong_password = Wrong password
problem-registration_closed = Registration closed
problem-reauthentication_required = Reauthentication required
problem-conflict = Conflict
problem-link_required = Link required
problem-hook_failed = Token hook failed
problem-provider_unavailable = Provider unavailable
problem-control_mismatch = Control mismatch
problem-not_found = Not found
problem-challenge_not_found = Challenge not found
problem-feature_disabled = Feature disabled
problem-email_taken = Email taken
problem-body_too_large = Body too large
problem-unsupported_media_type = Unsupported media type
problem-validation_failed = Validation failed
problem-weak_password = Weak password
problem-rate_limited = Rate limited
problem-throttled = Throttled
problem-overloaded = Overloaded
problem-storage_unavailable = Storage unavailable
problem-internal = Internal error

## What a page says (error-<what>)

error-invalid-credentials = Invalid email or password.
error-invalid-link = This link or code is invalid, has expired or was already used.
error-email-not-confirmed = This email address is not confirmed yet: open the link we sent to it first.
error-email-taken = An account with this email address already exists.
error-invalid-email = This is not a valid email address.
error-validation = Some of what you typed is not valid: { $fields }.
error-registration-closed = New accounts cannot be created here.
error-feature-disabled = This way of signing in is not available here.
error-not-allowed = This is not allowed for this account.
error-password-short = { $min ->
    [one] The password must be at least { $min } character long.
   *[other] The password must be at least { $min } characters long.
}
error-password-long = The password must be at most { $max } characters long.
error-password-common = This password is too common: choose another one.
error-password-email = The password must not be your email address.
error-retry-after = { $seconds ->
    [one] Too many attempts. Try again in { $seconds } second.
   *[other] Too many attempts. Try again in { $seconds } seconds.
}
error-account-locked = { $seconds ->
    [one] Too many failed attempts for this account. Try again in { $seconds } second, or choose a new password with “Forgot your password?”, which works at once.
   *[other] Too many failed attempts for this account. Try again in { $seconds } seconds, or choose a new password with “Forgot your password?”, which works at once.
}
error-throttled = { $seconds ->
    [one] A code was sent a moment ago. Try again in { $seconds } second.
   *[other] A code was sent a moment ago. Try again in { $seconds } seconds.
}
error-busy = { $seconds ->
    [one] The server is busy. Try again in { $seconds } second.
   *[other] The server is busy. Try again in { $seconds } seconds.
}
error-link-required = An account with this email address exists: sign in to it, then link this provider from there.
error-provider-unavailable = The sign-in provider cannot be reached. Try again later.
