# Das Kontocenter (src/http/account/, templates/account_*.html).
#
# Meldungen, die eine Vorlage mit t("schlüssel", name=wert) verwendet,
# dürfen einfaches HTML enthalten: ihr Text ist vertrauenswürdig, jedes
# Argument wird maskiert. Titel und einzeilige Texte sind reiner Text.

## Obere Leiste

account-nav-label = Ihr Konto
account-nav-overview = Profil
account-nav-security = Sicherheit
account-nav-sessions = Sitzungen
account-nav-connections = Verbindungen
account-nav-activity = Aktivität
account-nav-admin = Verwaltungskonsole
account-sign-out = Abmelden
account-enrol-first = Ihre Rolle verlangt einen zweiten Faktor: Fügen Sie unter „Sicherheit“ eine Authenticator-App oder einen Passkey hinzu, bevor Sie etwas anderes ändern können.

## Gemeinsame Wörter

account-save = Speichern
account-cancel = Abbrechen
account-back = Zurück
account-never = Nie
account-col-name = Name
account-col-created = Erstellt
account-col-last-used = Zuletzt verwendet
account-col-actions = Aktionen
account-col-device = Gerät
account-col-ip = IP-Adresse
account-col-provider = Anbieter
account-col-account = Konto
account-col-linked = Verknüpft
account-col-app = App
account-col-access = Zugriff
account-col-granted = Erlaubt am
account-col-when = Wann
account-col-event = Ereignis

## Ergebnisse (?done=)

account-done-profile = Ihr Profil wurde gespeichert.
account-done-email = Ein Bestätigungslink wurde an die neue Adresse gesendet. Ihre Adresse ändert sich, wenn Sie ihm folgen.
account-done-password = Ihr Passwort wurde gespeichert. Ihre anderen Sitzungen wurden abgemeldet.
account-done-reauth = Danke, Sie können fortfahren.
account-done-totp = Die Authenticator-App ist eingeschaltet.
account-done-totp-removed = Die Authenticator-App wurde entfernt.
account-done-passkey = Der Passkey wurde hinzugefügt.
account-done-passkey-renamed = Der Passkey wurde umbenannt.
account-done-passkey-removed = Der Passkey wurde entfernt.
account-done-session-ended = Die Sitzung wurde beendet.
account-done-sessions-ended = Alle anderen Sitzungen wurden beendet.
account-done-unlinked = Die Verknüpfung mit dem Anbieter wurde aufgehoben.
account-done-linked = Der Anbieter wurde verknüpft.
account-done-revoked = Der Zugriff der App wurde widerrufen.

## Fehler

account-error-reauth = Bestätigen Sie für diese Änderung zuerst, dass Sie es sind (unten).
account-error-enrol-first = Fügen Sie zuerst einen zweiten Faktor hinzu.
account-error-wrong-password = Das ist nicht Ihr aktuelles Passwort.
account-error-wrong-code = Dieser Code stimmt nicht. Versuchen Sie den aktuellen.
account-error-not-found = Das gibt es nicht mehr, oder es gehört nicht Ihnen.
account-error-conflict = Das ist gerade nicht möglich.
account-invalid-name = Höchstens 256 Zeichen, ohne Steuerzeichen.
account-invalid-locale = Wählen Sie eine der Sprachen aus der Liste.
account-invalid-email = Geben Sie eine gültige E-Mail-Adresse ein, die nicht Ihre jetzige ist.
account-invalid-code = Dieser Code stimmt nicht: Geben Sie die sechs Ziffern ein, die Ihre App jetzt zeigt.
account-invalid-password = Geben Sie Ihr aktuelles Passwort ein.
account-invalid-redirect = Dieser Anbieter kann hier nicht verknüpft werden.

## Profil (account_overview.html)

account-overview-title = Ihr Konto
account-profile-heading = Profil
account-name-label = Name
account-locale-label = Sprache
account-locale-default = Wie im Browser
account-locale-help = Die Sprache dieser Seiten und der E-Mails, die wir Ihnen senden.
account-email-heading = E-Mail-Adresse
account-email-confirmed = Bestätigt
account-email-confirmed-at = Bestätigt am { $at }
account-email-unconfirmed = Nicht bestätigt
account-new-email-label = Neue E-Mail-Adresse
account-current-password-label = Aktuelles Passwort
account-email-change-help = Wir senden einen Link an die neue Adresse; Ihre Adresse ändert sich, wenn Sie ihm folgen.
account-email-change-button = E-Mail-Adresse ändern
account-password-heading = Passwort
account-password-none = Ihr Konto hat noch kein Passwort: Sie melden sich anders an. Sie können eines festlegen.
account-new-password-label = Neues Passwort
account-password-rules = { $min } bis { $max } Zeichen; kein gängiges Passwort und nicht Ihre E-Mail-Adresse.
account-password-change-button = Passwort ändern
account-password-set-button = Passwort festlegen

## Erneute Anmeldung

account-reauth-title = Bestätigen Sie, dass Sie es sind
account-reauth-heading = Bestätigen Sie, dass Sie es sind
account-reauth-text = Manche Änderungen verlangen eine kürzliche Anmeldung. Bestätigen Sie, dass Sie es sind, um sie vorzunehmen.
account-reauth-code-label = Code aus Ihrer Authenticator-App oder ein Wiederherstellungscode
account-reauth-button = Bestätigen
account-reauth-sign-in-again = Erneut anmelden

## Sicherheit (account_security.html)

account-security-title = Sicherheit
account-totp-heading = Authenticator-App
account-totp-on = Eingeschaltet seit { $since }.
account-totp-off = Nicht eingerichtet. Eine Authenticator-App liefert Ihnen einen Code, den Sie nach Ihrem Passwort eingeben.
account-totp-start-button = Authenticator-App einrichten
account-totp-remove-button = Authenticator-App entfernen
account-passkeys-heading = Passkeys
account-passkeys-none = Sie haben noch keinen Passkey.
account-passkey-synced = synchronisiert
account-passkey-rename-label = Neuer Name
account-passkey-rename-button = Umbenennen
account-passkey-remove-button = Entfernen
account-passkey-add-button = Passkey hinzufügen
account-codes-heading = Wiederherstellungscodes
account-codes-remaining = { $n ->
    [one] Sie haben einen unbenutzten Wiederherstellungscode.
   *[other] Sie haben { $n } unbenutzte Wiederherstellungscodes.
}
account-codes-help = Ein neuer Satz ersetzt den alten sofort.
account-codes-generate-button = Wiederherstellungscodes erzeugen
account-codes-regenerate-button = Neuen Satz erzeugen
account-codes-need-factor = Wiederherstellungscodes gehören zu einem zweiten Faktor: Richten Sie zuerst eine Authenticator-App ein oder fügen Sie einen Passkey hinzu.

## Authenticator-App (account_totp.html)

account-totp-title = Authenticator-App einrichten
account-totp-step-scan = Scannen Sie diesen QR-Code mit Ihrer Authenticator-App oder geben Sie dort den Schlüssel unten ein.
account-totp-step-code = Geben Sie den sechsstelligen Code ein, den die App zeigt.
account-totp-qr-label = QR-Code Ihres Authenticator-Schlüssels
account-totp-code-label = Code aus der App
account-totp-confirm-button = Einschalten
account-totp-remove-title = Authenticator-App entfernen?
account-totp-remove-text = Ihre Codes werden nicht mehr abgefragt. Damit bestätigte Sitzungen werden abgemeldet.

## Wiederherstellungscodes (account_codes.html)

account-codes-title = Ihre Wiederherstellungscodes
account-codes-once = Bewahren Sie diese Codes sicher auf: Jeder funktioniert einmal, wenn Sie Ihren zweiten Faktor verlieren. Sie werden nur jetzt angezeigt.
account-codes-saved = Ich habe sie gespeichert

## Passkeys (account_passkey.html)

account-passkey-title = Passkey hinzufügen
account-passkey-intro = Ein Passkey meldet Sie mit der Bildschirmsperre dieses Geräts oder einem Sicherheitsschlüssel an, ohne Passwort.
account-passkey-name-label = Name (optional)
account-passkey-name-placeholder = z. B. Arbeitslaptop
account-passkey-create-button = Passkey erstellen
account-passkey-needs-script = Zum Hinzufügen eines Passkeys wird JavaScript benötigt.
account-passkey-unsupported = Dieser Browser kann hier keine Passkeys erstellen.
account-passkey-cancelled = Es wurde kein Passkey erstellt.
account-passkey-checking = Wird gespeichert…
account-passkey-failed = Der Passkey wurde nicht erstellt. Versuchen Sie es erneut.
account-passkey-remove-title = Diesen Passkey entfernen?
account-passkey-remove-text = Der Passkey „{ $name }“ meldet Sie nicht mehr an. Damit bestätigte Sitzungen werden abgemeldet.

## Sitzungen (account_sessions.html)

account-sessions-title = Sitzungen und Geräte
account-sessions-intro = Wo Ihr Konto angemeldet ist. Beenden Sie jede Sitzung, die Sie nicht kennen.
account-sessions-this-browser = dieser Browser
account-sessions-unknown-device = Unbekanntes Gerät
account-sessions-sign-out-here = Hier abmelden
account-session-end-button = Beenden
account-session-end-title = Diese Sitzung beenden?
account-session-end-text = Die Sitzung auf „{ $device }“ wird abgemeldet.
account-session-end-current-text = Das ist die Sitzung dieses Browsers („{ $device }“): Sie werden hier abgemeldet.
account-sessions-end-others-button = Alle anderen Sitzungen beenden
account-sessions-end-others-title = Alle anderen Sitzungen beenden?
account-sessions-end-others-text = Alle Sitzungen außer der dieses Browsers werden abgemeldet.

## Verbindungen (account_connections.html, account_link*.html)

account-connections-title = Verbindungen
account-providers-heading = Anmeldeanbieter
account-providers-none = Mit Ihrem Konto ist kein Anbieter verknüpft.
account-unlink-button = Trennen
account-unlink-title = Verknüpfung mit diesem Anbieter aufheben?
account-unlink-text = Sie melden sich nicht mehr mit { $provider } an.
account-unlink-last-way = Dieser Anbieter ist Ihre letzte Anmeldemöglichkeit: Legen Sie zuerst ein Passwort fest oder fügen Sie einen Passkey hinzu.
account-link-button = { $provider } verknüpfen
account-link-title = Anbieter verknüpfen
account-link-text = Sie melden sich bei { $provider } an und kommen dann hierher zurück.
account-link-continue = Weiter zu { $provider }
account-linked-checking = Wird verknüpft…
account-linked-refused = Der Anbieter wurde nicht verknüpft.
account-linked-nothing = Hier gibt es nichts zu verknüpfen.
account-linked-needs-script = Zum Abschließen der Verknüpfung wird JavaScript benötigt.
account-apps-heading = Apps
account-apps-none = Sie haben keiner App erlaubt, Ihr Konto zu verwenden.
account-revoke-button = Widerrufen
account-revoke-title = Zugriff dieser App widerrufen?
account-revoke-text = { $app } hat keinen Zugriff mehr auf Ihr Konto, und ihre Sitzungen werden abgemeldet.

## Aktivität (account_activity.html)

account-activity-title = Sicherheitsaktivität
account-activity-intro = Die letzten Ereignisse Ihres Kontos, das neueste zuerst.
account-activity-none = Noch nichts.
account-activity-by-admin = durch einen Administrator
account-activity-pages = Seiten
account-activity-newest = Neueste
account-activity-older = Ältere Ereignisse

## Ereignisse des Prüfprotokolls, eines pro Art

account-event-user-registered = Konto erstellt
account-event-user-confirmed = E-Mail-Adresse bestätigt
account-event-user-updated = Konto geändert
account-event-user-disabled = Konto deaktiviert
account-event-login-succeeded = Mit Passwort angemeldet
account-event-login-failed = Fehlgeschlagener Anmeldeversuch
account-event-login-locked = Anmeldung nach Fehlversuchen gesperrt
account-event-login-passkey = Mit einem Passkey angemeldet
account-event-login-email-code = Mit einem E-Mail-Code angemeldet
account-event-login-provider = Über einen Anbieter angemeldet
account-event-logout = Abgemeldet
account-event-refresh-reused = Ein bereits verwendetes Sitzungstoken wurde erneut vorgelegt: Sitzung beendet
account-event-session-ended = Sitzung beendet
account-event-sessions-ended-all = Alle Sitzungen beendet
account-event-password-changed = Passwort geändert
account-event-password-reset-requested = Zurücksetzen des Passworts angefordert
account-event-password-reset = Passwort zurückgesetzt
account-event-email-change-requested = Änderung der E-Mail-Adresse angefordert
account-event-email-changed = E-Mail-Adresse geändert
account-event-mfa-challenged = Zweiter Faktor abgefragt
account-event-mfa-succeeded = Zweiter Faktor akzeptiert
account-event-mfa-failed = Falscher zweiter Faktor
account-event-totp-enabled = Authenticator-App eingeschaltet
account-event-totp-disabled = Authenticator-App entfernt
account-event-recovery-codes-generated = Neue Wiederherstellungscodes erzeugt
account-event-recovery-code-used = Wiederherstellungscode verwendet
account-event-passkey-added = Passkey hinzugefügt
account-event-passkey-removed = Passkey entfernt
account-event-factors-reset = Zweite Faktoren von einem Administrator zurückgesetzt
account-event-reauthenticated = Identität erneut bestätigt
account-event-identity-linked = Anbieter verknüpft
account-event-identity-unlinked = Anbieter getrennt
account-event-oauth-consent-granted = App erlaubt
account-event-oauth-consent-revoked = Zugriff einer App widerrufen
account-event-oauth-authorized = Bei einer App angemeldet
account-event-oauth-token-issued = App-Tokens ausgestellt
