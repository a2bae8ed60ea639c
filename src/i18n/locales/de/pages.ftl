# Die gehosteten Seiten (src/http/pages/templates/ und src/http/hosted/).
#
# Nachrichten, die eine Vorlage mit t("Schlüssel", name=wert) verwendet,
# dürfen einfaches HTML (<strong>) enthalten: ihr Text gilt als
# vertrauenswürdig, jedes Argument wird maskiert. Titel und einzeilige
# Texte sind reiner Text.

## Gemeinsam

page-support = Hilfe nötig? Schreiben Sie an
page-fallback-error = Diese Seite konnte nicht angezeigt werden.
page-continue-to = um mit <strong>{ $client }</strong> fortzufahren
page-email-label = E-Mail-Adresse
page-password-label = Passwort
page-sign-in-button = Anmelden
page-sign-in-another-way = Auf andere Weise anmelden
page-back-to-sign-in = Zurück zur Anmeldung

## Anmeldung (login.html)

login-title = Anmelden
login-email-code-button = Stattdessen einen Anmeldecode per E-Mail senden
login-passkey-button = Mit einem Passkey anmelden
login-provider-button = Weiter mit { $provider }
login-forgot-link = Passwort vergessen?
login-register-link = Konto erstellen
login-signed-in-title = Angemeldet
login-signed-in-text = Sie sind als { $email } angemeldet.

## Zweiter Faktor (second_factor.html)

mfa-title = Bestätigung in zwei Schritten
mfa-totp-label = Code aus Ihrer Authenticator-App
mfa-use-recovery = Stattdessen einen Wiederherstellungscode verwenden
mfa-recovery-label = Wiederherstellungscode
mfa-continue-button = Weiter

## Passkey (passkey.html)

passkey-title = Mit einem Passkey anmelden
passkey-status = Verwenden Sie den Passkey auf diesem Gerät oder Ihren Sicherheitsschlüssel.
passkey-button = Passkey verwenden
passkey-needs-script = Passkeys benötigen auf dieser Seite JavaScript.

## Code per E-Mail (email_code.html)

email-code-title = Sehen Sie in Ihren E-Mails nach
email-code-sent = Falls zu <strong>{ $email }</strong> ein Konto besteht, ist ein Anmeldecode dorthin unterwegs. Der Link in der E-Mail funktioniert ebenfalls.
email-code-label = Code aus der E-Mail

## Link mit Anmeldecode (email_code_link.html)

email-code-link-title = Anmelden
email-code-link-text = Drücken Sie die Schaltfläche, um sich anzumelden.
email-code-link-button = Mich anmelden
email-code-link-not-you = Falls Sie keine Anmeldung angefordert haben, schließen Sie diese Seite.
email-code-link-done-title = Angemeldet
email-code-link-done-text = Ihre E-Mail-Adresse ist bestätigt und die Anmeldung war erfolgreich. Sie können diese Seite schließen.
email-code-link-mfa-title = Noch ein Schritt
email-code-link-mfa-text = Der Code war richtig, aber dieses Konto benötigt zusätzlich seinen zweiten Faktor: Melden Sie sich in der App an.

## Registrierung (register.html)

register-title = Konto erstellen
register-name-label = Name
register-optional = (optional)
register-password-rule = { $min ->
    [one] Mindestens { $min } Zeichen.
   *[other] Mindestens { $min } Zeichen.
}
register-button = Konto erstellen
register-have-account = Ich habe bereits ein Konto
register-confirm-title = Bestätigen Sie Ihre E-Mail-Adresse
register-confirm-text = Wir haben Ihnen einen Link gesendet: Öffnen Sie ihn, um Ihre Adresse zu bestätigen, und melden Sie sich dann an.

## Passwort vergessen (forgot.html)

forgot-title = Passwort vergessen?
forgot-text = Geben Sie Ihre E-Mail-Adresse ein: Falls dazu ein Konto besteht, senden wir einen Link, mit dem Sie ein neues Passwort wählen können.
forgot-button = Link senden
forgot-sent-title = Sehen Sie in Ihren E-Mails nach
forgot-sent-text = Falls zu dieser Adresse ein Konto besteht, ist ein Link zum Wählen eines neuen Passworts unterwegs.

## Einwilligung (consent.html)

consent-title = { $client } zulassen?
consent-asks = <strong>{ $client }</strong> möchte:
consent-signed-in-as = Angemeldet als { $email }. Sie können dies später in Ihrem Konto widerrufen.
consent-allow = Zulassen
consent-deny = Ablehnen
consent-scope-openid = Wissen, wer Sie sind (die Kennung Ihres Kontos)
consent-scope-profile = Ihren Namen und Ihre Sprache sehen
consent-scope-email = Ihre E-Mail-Adresse sehen
consent-scope-offline_access = Verbunden bleiben, während Sie abwesend sind
consent-nothing-title = Nichts zuzustimmen
consent-nothing-text = Diese Seite wird über die Anmeldung einer Anwendung erreicht.

## Abmeldung (logout.html)

logout-title = Abmelden
logout-client-asks = { $client } möchte Sie abmelden.
logout-question = Von { $brand } abmelden?
logout-button = Abmelden
logout-done-title = Abgemeldet
logout-done-text = Sie sind abgemeldet.
logout-refused-title = Diese Abmeldeanfrage kann nicht verwendet werden
logout-unreadable = Die Parameter der Anfrage können nicht gelesen werden.
logout-bad-hint = Der id_token_hint ist kein ID-Token dieses Servers.
logout-hint-mismatch = client_id und id_token_hint nennen verschiedene Anwendungen.
logout-unknown-client = Die Anwendung, die Sie hierher geschickt hat, ist nicht registriert.
logout-return-needs-client = Eine Rücksprungadresse erfordert id_token_hint oder client_id.
logout-unregistered-return = Die Anwendung wollte Sie an eine Adresse schicken, die sie nicht registriert hat.
logout-form-changed = Das Formular wurde verändert.

## Adresse bestätigen (confirm_email.html)

confirm-title = Bestätigen Sie Ihre E-Mail-Adresse
confirm-text = Drücken Sie die Schaltfläche, um Ihre E-Mail-Adresse zu bestätigen.
confirm-button = Meine E-Mail-Adresse bestätigen
confirm-done-title = E-Mail-Adresse bestätigt
confirm-done-text = Vielen Dank: Ihre E-Mail-Adresse ist bestätigt. Sie können diese Seite schließen.

## Neues Passwort (reset_password.html)

reset-title = Wählen Sie ein neues Passwort
reset-label = Neues Passwort
reset-rules = Zwischen { $min } und { $max } Zeichen. Alle Zeichen sind erlaubt; sehr verbreitete Passwörter und Ihre E-Mail-Adresse werden abgelehnt.
reset-button = Neues Passwort festlegen
reset-done-title = Passwort geändert
reset-done-text = Ihr Passwort ist geändert und alle Sitzungen wurden abgemeldet. Melden Sie sich mit dem neuen Passwort an.

## Was nicht funktioniert hat (message.html)

error-title = Das hat nicht funktioniert
error-server = Bei uns ist ein Fehler aufgetreten. Bitte versuchen Sie es gleich noch einmal.
link-refused-title = Dieser Link kann nicht verwendet werden
form-unreadable-title = Dieses Formular konnte nicht gelesen werden
form-not-urlencoded = Die Seite sendet nur Formulare vom Typ application/x-www-form-urlencoded.
form-malformed = Das Formular entspricht nicht dem, was diese Seite sendet: { $reason }.
form-bad-decision = decision muss allow oder deny sein.
form-expired-title = Dieses Formular ist abgelaufen
form-expired-text = Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut.
flow-expired-title = Diese Anmeldung ist abgelaufen
flow-expired-text = Kehren Sie zur Anwendung zurück und melden Sie sich erneut an.
flow-provider-expired-text = Sie wurde bereits verwendet, hat zu lange gedauert oder wurde in einem anderen Browser begonnen. Kehren Sie zur Anwendung zurück und melden Sie sich erneut an.
client-gone-title = Diese Anwendung ist nicht registriert
client-gone-text = Die Anwendung, die Sie hierher geschickt hat, ist nicht mehr registriert.
authorize-refused-title = Diese Anmeldeanfrage kann nicht verwendet werden
