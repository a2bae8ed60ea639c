# Probleme: der `title` jeder problem+json-Antwort nach ihrem stabilen
# `code` (der Code ändert sich nie mit der Sprache), und die Sätze, die die
# gehosteten Seiten für Ablehnungen zeigen, denen man dort begegnet.
# Reiner Text.

## Titel (problem-<code>)

problem-malformed_body = Fehlerhafter Inhalt
problem-invalid_token = Ungültiges Token
problem-invalid_encryption = Ungültige Verschlüsselung
problem-encryption_required = Verschlüsselung erforderlich
problem-anonymous_token_required = Anonymes Token erforderlich
problem-already_authenticated = Bereits angemeldet
problem-unauthenticated = Nicht angemeldet
problem-token_expired = Token abgelaufen
problem-token_reused = Token wiederverwendet
problem-invalid_credentials = Ungültige Anmeldedaten
problem-forbidden = Verboten
problem-email_not_confirmed = E-Mail-Adresse nicht bestätigt
problem-wrong_password = Falsches Passwort
problem-registration_closed = Registrierung geschlossen
problem-reauthentication_required = Erneute Anmeldung erforderlich
problem-conflict = Konflikt
problem-link_required = Verknüpfung erforderlich
problem-hook_failed = Token-Hook fehlgeschlagen
problem-provider_unavailable = Anbieter nicht verfügbar
problem-control_mismatch = Kontrolle stimmt nicht überein
problem-not_found = Nicht gefunden
problem-challenge_not_found = Challenge nicht gefunden
problem-feature_disabled = Funktion deaktiviert
problem-email_taken = E-Mail-Adresse bereits vergeben
problem-body_too_large = Inhalt zu groß
problem-unsupported_media_type = Nicht unterstützter Medientyp
problem-validation_failed = Validierung fehlgeschlagen
problem-weak_password = Schwaches Passwort
problem-rate_limited = Zu viele Anfragen
problem-throttled = Gedrosselt
problem-overloaded = Überlastet
problem-storage_unavailable = Speicher nicht verfügbar
problem-internal = Interner Fehler

## Was eine Seite anzeigt (error-<was>)

error-invalid-credentials = E-Mail-Adresse oder Passwort ist falsch.
error-invalid-link = Dieser Link oder Code ist ungültig, abgelaufen oder wurde bereits verwendet.
error-email-not-confirmed = Diese E-Mail-Adresse ist noch nicht bestätigt: Öffnen Sie zuerst den Link, den wir an sie gesendet haben.
error-email-taken = Zu dieser E-Mail-Adresse besteht bereits ein Konto.
error-invalid-email = Dies ist keine gültige E-Mail-Adresse.
error-validation = Einige Ihrer Eingaben sind ungültig: { $fields }.
error-registration-closed = Hier können keine neuen Konten erstellt werden.
error-feature-disabled = Diese Art der Anmeldung ist hier nicht verfügbar.
error-not-allowed = Das ist für dieses Konto nicht erlaubt.
error-password-short = { $min ->
    [one] Das Passwort muss mindestens { $min } Zeichen lang sein.
   *[other] Das Passwort muss mindestens { $min } Zeichen lang sein.
}
error-password-long = Das Passwort darf höchstens { $max } Zeichen lang sein.
error-password-common = Dieses Passwort ist zu verbreitet: Wählen Sie ein anderes.
error-password-email = Das Passwort darf nicht Ihre E-Mail-Adresse sein.
error-retry-after = { $seconds ->
    [one] Zu viele Versuche. Versuchen Sie es in { $seconds } Sekunde erneut.
   *[other] Zu viele Versuche. Versuchen Sie es in { $seconds } Sekunden erneut.
}
error-account-locked = { $seconds ->
    [one] Zu viele Fehlversuche für dieses Konto. Versuchen Sie es in { $seconds } Sekunde erneut, oder wählen Sie über „Passwort vergessen?“ ein neues Passwort, was sofort funktioniert.
   *[other] Zu viele Fehlversuche für dieses Konto. Versuchen Sie es in { $seconds } Sekunden erneut, oder wählen Sie über „Passwort vergessen?“ ein neues Passwort, was sofort funktioniert.
}
error-throttled = { $seconds ->
    [one] Soeben wurde ein Code gesendet. Versuchen Sie es in { $seconds } Sekunde erneut.
   *[other] Soeben wurde ein Code gesendet. Versuchen Sie es in { $seconds } Sekunden erneut.
}
error-busy = { $seconds ->
    [one] Der Server ist ausgelastet. Versuchen Sie es in { $seconds } Sekunde erneut.
   *[other] Der Server ist ausgelastet. Versuchen Sie es in { $seconds } Sekunden erneut.
}
error-link-required = Zu dieser E-Mail-Adresse besteht ein Konto: Melden Sie sich dort an und verknüpfen Sie diesen Anbieter von dort aus.
error-provider-unavailable = Der Anmeldeanbieter ist nicht erreichbar. Versuchen Sie es später erneut.
