# Die Admin-Konsole, /admin (src/http/console/, Vorlagen admin_*.html).
#
# Nachrichten, die eine Vorlage mit t("Schlüssel", name=Wert) verwendet,
# dürfen einfaches HTML enthalten: ihr Text ist vertrauenswürdig, jedes
# Argument wird maskiert. Titel und in Rust erzeugte Nachrichten
# (lang.text) sind reiner Text.

## Rahmen und gemeinsame Wörter

admin-nav-label = Admin-Konsole
admin-nav-users = Benutzer
admin-nav-audit = Audit-Protokoll
admin-nav-keys = API-Schlüssel
admin-nav-clients = OAuth-Clients
admin-nav-providers = Anbieter
admin-nav-mail = Mail-Warteschlange
admin-nav-settings = Einstellungen
admin-nav-sign-out = Abmelden
admin-cancel = Abbrechen
admin-save = Änderungen speichern
admin-done = Fertig
admin-next-page = Nächste Seite →
admin-secret-once = Er wird nur dieses eine Mal angezeigt: toktok speichert nur einen Hash davon. Kopieren Sie ihn jetzt.
admin-error-form = Einige Felder müssen korrigiert werden: siehe die Hinweise daneben.
admin-error-field = Nicht akzeptiert: { $reason }
admin-error-json = Das ist kein gültiges JSON: { $reason }

## Wer hinein darf (admin_denied.html)

admin-denied-title = Nicht erlaubt
admin-denied-text = Die Admin-Konsole ist für Administratoren. Ihr Konto hat die Rolle admin nicht.
admin-denied-mfa-text = Die Admin-Konsole verlangt einen zweiten Faktor. Richten Sie in Ihrem Konto eine Authenticator-App oder einen Passkey ein und melden Sie sich damit erneut an.
admin-denied-mfa-link = Zu meinem Konto

## Spaltenüberschriften

admin-col-id = ID
admin-col-email = E-Mail
admin-col-name = Name
admin-col-role = Rolle
admin-col-status = Status
admin-col-created = Erstellt
admin-col-last-login = Letzte Anmeldung
admin-col-last-used = Zuletzt verwendet
admin-col-device = Gerät
admin-col-ip = IP-Adresse
admin-col-provider = Anbieter
admin-col-subject = Konto beim Anbieter
admin-col-when = Wann
admin-col-kind = Art
admin-col-user = Benutzer
admin-col-actor = Durch
admin-col-detail = Details
admin-status-active = Aktiv
admin-status-disabled = Deaktiviert
admin-status-unconfirmed = E-Mail nicht bestätigt

## Benutzer (admin_users.html, admin_user.html)

admin-users-title = Benutzer
admin-users-search-label = E-Mail-Adresse oder Benutzer-ID
admin-users-search-button = Suchen
admin-users-show-all = Alle Benutzer anzeigen
admin-users-caption = Älteste zuerst.
admin-users-none = Kein Benutzer passt.
admin-users-bad-cursor = Diese Seitenadresse ist nicht mehr gültig: beginnen Sie wieder auf der ersten Seite.
admin-user-title = Benutzer { $email }
admin-back-to-users = ← Alle Benutzer
admin-user-edit = Profil und Rolle
admin-user-metadata = Metadaten (JSON, vom Benutzer änderbar)
admin-user-app-metadata = App-Metadaten (JSON, nur von Administratoren änderbar)
admin-user-email-confirmed = E-Mail-Adresse bestätigt
admin-user-actions = Aktionen
admin-user-is-self = Das ist Ihr eigenes Konto: Deaktivieren oder Löschen meldet Sie ab.
admin-user-sessions = Sitzungen
admin-user-no-sessions = Keine aktive Sitzung.
admin-user-factors = Zweite Faktoren
admin-factor-totp-on = Authenticator-App: aktiv seit { $since }
admin-factor-totp-off = Authenticator-App: aus
admin-factor-passkeys = { $count ->
    [one] Ein Passkey
   *[other] { $count } Passkeys
}
admin-factor-recovery = { $count ->
    [one] Ein Wiederherstellungscode übrig
   *[other] { $count } Wiederherstellungscodes übrig
}
admin-user-identities = Verknüpfte Anmeldeanbieter
admin-user-no-identities = Kein verknüpfter Anbieter.
admin-user-trail = Audit-Verlauf
admin-user-trail-more = Alle Ereignisse dieses Benutzers ansehen
admin-action-disable = Konto deaktivieren
admin-action-enable = Konto aktivieren
admin-action-delete = Konto löschen
admin-action-logout = Alle Sitzungen beenden
admin-action-factors = Zweite Faktoren zurücksetzen
admin-action-reset-link = Link zum Zurücksetzen des Passworts senden

## Bestätigungen

admin-confirm-disable-title = Konto deaktivieren
admin-confirm-disable-text = { $email } wird überall abgemeldet und kann sich nicht mehr anmelden, bis das Konto wieder aktiviert ist.
admin-confirm-enable-title = Konto aktivieren
admin-confirm-enable-text = { $email } kann sich wieder anmelden.
admin-confirm-delete-title = Konto löschen
admin-confirm-delete-text = Das Konto von { $email }, seine Sitzungen, Faktoren und verknüpften Anbieter werden gelöscht. Das kann nicht rückgängig gemacht werden.
admin-confirm-logout-title = Alle Sitzungen beenden
admin-confirm-logout-text = Jede Sitzung von { $email } endet jetzt, auf allen Geräten. Eine neue Anmeldung ist möglich.
admin-confirm-factors-title = Zweite Faktoren zurücksetzen
admin-confirm-factors-text = Authenticator-App, Passkeys und Wiederherstellungscodes von { $email } werden entfernt und alle Sitzungen beendet. Eine E-Mail informiert darüber.
admin-confirm-reset-link-title = Link zum Zurücksetzen senden
admin-confirm-reset-link-text = Ein Link zum Wählen eines neuen Passworts wird an { $email } gesendet.

## Hinweise nach einer Aktion

admin-notice-updated = Änderungen gespeichert.
admin-notice-unchanged = Nichts geändert.
admin-notice-disabled = Das Konto ist deaktiviert und seine Sitzungen sind beendet.
admin-notice-enabled = Das Konto ist aktiviert.
admin-notice-deleted = Das Konto wurde gelöscht.
admin-notice-logged-out = Alle Sitzungen dieses Benutzers sind beendet.
admin-notice-factors-reset = Die zweiten Faktoren wurden entfernt und alle Sitzungen beendet.
admin-notice-reset-link-sent = Ein Link zum Zurücksetzen ist unterwegs.
admin-notice-reset-link-throttled = Vor weniger als einer Minute ging ein Link an diese Adresse; es wurde kein weiterer gesendet.
admin-notice-key-revoked = Der API-Schlüssel ist widerrufen.
admin-notice-client-updated = Der Client ist gespeichert.
admin-notice-client-deleted = Der Client wurde gelöscht.
admin-notice-mail-retried = Die Nachricht ist wieder in der Warteschlange.

## Audit-Protokoll (admin_audit.html, admin_events.html)

admin-audit-title = Audit-Protokoll
admin-audit-user-label = Benutzer-ID
admin-audit-kind-label = Art des Ereignisses
admin-audit-any-kind = Jede Art
admin-audit-filter-button = Filtern
admin-audit-clear = Filter zurücksetzen
admin-audit-none = Kein Ereignis.

## API-Schlüssel (admin_keys.html)

admin-keys-title = API-Schlüssel
admin-keys-scopes = Berechtigungen
admin-keys-none = Noch kein API-Schlüssel.
admin-keys-revoke = Widerrufen
admin-keys-revoked = Widerrufen am { $at }
admin-keys-new = Neuer API-Schlüssel
admin-keys-create = Schlüssel erstellen
admin-keys-created-title = Neuer API-Schlüssel
admin-keys-created-text = Der Schlüssel „{ $name }“ ist bereit. Geben Sie ihn dem Dienst, der ihn verwendet.
admin-keys-key-label = API-Schlüssel
admin-keys-revoke-title = API-Schlüssel widerrufen
admin-keys-revoke-text = Dienste mit dem Schlüssel „{ $name }“ werden sofort abgewiesen. Das kann nicht rückgängig gemacht werden.
admin-scope-admin = Benutzer verwalten, Audit-Protokoll lesen
admin-scope-challenges = Challenge-Tokens erstellen und prüfen

## OAuth-Clients (admin_clients.html, admin_client.html)

admin-clients-title = OAuth-Clients
admin-clients-oidc-off = toktok ist hier kein OpenID-Anbieter: setzen Sie [oidc] enabled = true, um Clients zu registrieren.
admin-clients-none = Noch kein Client.
admin-clients-new = Neuer Client
admin-clients-create = Client erstellen
admin-clients-id = Client-ID
admin-clients-type = Typ
admin-clients-type-confidential = Vertraulich (ein Server, mit Geheimnis)
admin-clients-type-public = Öffentlich (eine Browser- oder Mobil-App)
admin-clients-redirect-uris = Weiterleitungs-URIs
admin-clients-logout-uris = Weiterleitungs-URIs nach der Abmeldung
admin-clients-one-per-line = Eine pro Zeile.
admin-clients-grant-types = Grant-Typen
admin-clients-scopes = Scopes
admin-clients-audience = Zielgruppe seiner Zugriffstokens (leer: die Voreinstellung)
admin-clients-alg = Algorithmus des ID-Tokens
admin-clients-skip-consent = Zustimmungsseite überspringen (eigene App)
admin-client-title = Client { $name }
admin-back-to-clients = ← Alle Clients
admin-clients-rotate = Neues Geheimnis
admin-clients-delete = Client löschen
admin-clients-rotate-title = Neues Client-Geheimnis
admin-clients-rotate-text = Ein neues Geheimnis ersetzt sofort das von „{ $name }“: das alte funktioniert nicht mehr.
admin-clients-delete-title = Client löschen
admin-clients-delete-text = „{ $name }“, alle Freigaben der Benutzer dafür und seine Sitzungen werden gelöscht. Das kann nicht rückgängig gemacht werden.
admin-clients-created-title = Neuer Client
admin-clients-rotated-title = Neues Client-Geheimnis
admin-clients-secret-label = Client-Geheimnis
admin-clients-secret-text = Das Geheimnis von „{ $name }“:

## Anbieter (admin_providers.html)

admin-providers-title = Anmeldeanbieter
admin-providers-intro = Die [[providers]] der Konfigurationsdatei (nur lesbar; Geheimnisse werden nie angezeigt).
admin-providers-kind = Art
admin-providers-issuer = Aussteller
admin-providers-callback = Rückruf-URL
admin-providers-enabled = Aktiv
admin-providers-disabled = Deaktiviert
admin-providers-none = Kein Anbieter ist konfiguriert.

## Mail-Warteschlange (admin_mail.html)

admin-mail-title = Mail-Warteschlange
admin-mail-failed = Aufgegeben
admin-mail-pending = Wartet auf Versand
admin-mail-recipient = Empfänger
admin-mail-attempts = Versuche
admin-mail-last-error = Letzter Fehler
admin-mail-failed-at = Aufgegeben am
admin-mail-next-try = Nächster Versuch
admin-mail-retry = Erneut versuchen
admin-mail-no-failed = Keine Nachricht wurde aufgegeben.
admin-mail-no-pending = Keine Nachricht wartet.
admin-mail-limit = Höchstens { $limit } Nachrichten jeder Art werden angezeigt.

## Einstellungen (admin_settings.html)

admin-settings-title = Einstellungen
admin-settings-intro = Die Konfiguration, mit der toktok läuft, nach Datei und TOKTOK_*-Variablen. Nur lesbar; Geheimnisse erscheinen als [redacted].
admin-settings-key = Schlüssel
admin-settings-value = Wert

## Webhooks (http::console::webhooks)
admin-nav-hooks = Webhooks
admin-hooks-title = Webhooks
admin-hooks-endpoint-title = Webhook-Endpunkt
admin-hooks-url = URL
admin-hooks-url-hint = Eine http- oder https-Adresse, an der Ihr Dienst lauscht. Interne Adressen (Loopback, private Netze, Cloud-Metadaten) werden abgelehnt.
admin-hooks-url-hint-private = Eine http- oder https-Adresse, an der Ihr Dienst lauscht. Interne Adressen sind auf diesem Server erlaubt ([hooks] allow_private_targets).
admin-hooks-description = Beschreibung (optional)
admin-hooks-events = Ereignisse
admin-hooks-event = Ereignis
admin-hooks-none = Noch kein Webhook-Endpunkt.
admin-hooks-new = Neuer Endpunkt
admin-hooks-create = Endpunkt hinzufügen
admin-hooks-active = Aktiv
admin-hooks-paused = Pausiert
admin-hooks-secret-title = Signaturgeheimnis
admin-hooks-secret-text = Zustellungen an { $url } werden mit diesem Geheimnis signiert (Standard Webhooks). Geben Sie es dem empfangenden Dienst, damit er sie prüfen kann.
admin-hooks-secret-once = Es wird nur dieses eine Mal angezeigt: toktok bewahrt es zum Signieren der Zustellungen auf, zeigt es aber nie wieder. Kopieren Sie es jetzt.
admin-hooks-secret-label = Signaturgeheimnis
admin-hooks-test = Testereignis senden
admin-hooks-pause = Pausieren
admin-hooks-resume = Fortsetzen
admin-hooks-rotate-title = Geheimnis erneuern
admin-hooks-rotate-text = Ein neues Geheimnis ersetzt das aktuelle sofort: Ein Empfänger mit dem alten Geheimnis lehnt die damit signierten Zustellungen an { $url } ab.
admin-hooks-delete-title = Endpunkt löschen
admin-hooks-delete-text = { $url } erhält nichts mehr; wartende Zustellungen und das Protokoll werden gelöscht. Dies kann nicht rückgängig gemacht werden.
admin-hooks-log = Zustellungen
admin-hooks-log-none = An diesen Endpunkt wurde noch nichts gesendet.
admin-hooks-log-more = Die 50 neuesten Zustellungen; die Admin-API blättert durch alle.
admin-hooks-answer = Letzte Antwort
admin-hooks-at = Zeitpunkt des Ereignisses
admin-hooks-send-again = Erneut senden
admin-hooks-status-pending = Wartet
admin-hooks-status-delivered = Zugestellt
admin-hooks-status-failed = Aufgegeben
admin-notice-hook-test-queued = Ein Testereignis ist unterwegs.
admin-notice-hook-paused = Der Endpunkt ist pausiert: Es wird nichts an ihn gesendet, und neue Ereignisse werden nicht für ihn aufbewahrt.
admin-notice-hook-resumed = Der Endpunkt ist wieder aktiv.
admin-notice-hook-deleted = Der Endpunkt wurde gelöscht.
admin-notice-hook-retried = Die Zustellung wird erneut gesendet.
