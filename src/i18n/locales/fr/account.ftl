# L’espace compte (src/http/account/, templates/account_*.html).
#
# Les messages utilisés dans un gabarit avec t("clé", nom=valeur) peuvent
# contenir un balisage HTML simple : leur texte est de confiance, chaque
# argument est échappé. Les titres et textes d’une ligne sont du texte brut.

## Barre du haut

account-nav-label = Votre compte
account-nav-overview = Profil
account-nav-security = Sécurité
account-nav-sessions = Sessions
account-nav-connections = Connexions
account-nav-activity = Activité
account-nav-admin = Console d’administration
account-sign-out = Se déconnecter
account-enrol-first = Votre rôle exige un second facteur : ajoutez une application d’authentification ou une clé d’accès dans Sécurité avant de pouvoir modifier autre chose.

## Mots communs

account-save = Enregistrer
account-cancel = Annuler
account-back = Retour
account-never = Jamais
account-col-name = Nom
account-col-created = Créée le
account-col-last-used = Dernière utilisation
account-col-actions = Actions
account-col-device = Appareil
account-col-ip = Adresse IP
account-col-provider = Fournisseur
account-col-account = Compte
account-col-linked = Associé le
account-col-app = Application
account-col-access = Accès
account-col-granted = Autorisée le
account-col-when = Quand
account-col-event = Événement

## Résultats (?done=)

account-done-profile = Votre profil a été enregistré.
account-done-email = Un lien de confirmation a été envoyé à la nouvelle adresse. Votre adresse change quand vous le suivez.
account-done-password = Votre mot de passe a été enregistré. Vos autres sessions ont été déconnectées.
account-done-reauth = Merci, vous pouvez continuer.
account-done-totp = L’application d’authentification est activée.
account-done-totp-removed = L’application d’authentification a été retirée.
account-done-passkey = La clé d’accès a été ajoutée.
account-done-passkey-renamed = La clé d’accès a été renommée.
account-done-passkey-removed = La clé d’accès a été supprimée.
account-done-session-ended = La session a été fermée.
account-done-sessions-ended = Toutes vos autres sessions ont été fermées.
account-done-unlinked = Le fournisseur a été dissocié.
account-done-linked = Le fournisseur a été associé.
account-done-revoked = L’accès de l’application a été révoqué.

## Erreurs

account-error-reauth = Pour cette modification, confirmez d’abord votre identité (ci-dessous).
account-error-enrol-first = Ajoutez d’abord un second facteur.
account-error-wrong-password = Ce n’est pas votre mot de passe actuel.
account-error-wrong-code = Ce code n’est pas le bon. Essayez le code actuel.
account-error-not-found = Cet élément n’existe plus, ou il n’est pas à vous.
account-error-conflict = Ce n’est pas possible pour le moment.
account-invalid-name = 256 caractères au plus, sans caractères de contrôle.
account-invalid-locale = Choisissez l’une des langues de la liste.
account-invalid-email = Saisissez une adresse e-mail valide, autre que l’actuelle.
account-invalid-code = Ce code n’est pas le bon : saisissez les six chiffres affichés maintenant par votre application.
account-invalid-password = Saisissez votre mot de passe actuel.
account-invalid-redirect = Ce fournisseur ne peut pas être associé ici.

## Profil (account_overview.html)

account-overview-title = Votre compte
account-profile-heading = Profil
account-name-label = Nom
account-locale-label = Langue
account-locale-default = Celle du navigateur
account-locale-help = La langue de ces pages et des e-mails que nous vous envoyons.
account-email-heading = Adresse e-mail
account-email-confirmed = Confirmée
account-email-confirmed-at = Confirmée le { $at }
account-email-unconfirmed = Non confirmée
account-new-email-label = Nouvelle adresse e-mail
account-current-password-label = Mot de passe actuel
account-email-change-help = Nous envoyons un lien à la nouvelle adresse ; votre adresse change quand vous le suivez.
account-email-change-button = Changer d’adresse e-mail
account-password-heading = Mot de passe
account-password-none = Votre compte n’a pas encore de mot de passe : vous vous connectez autrement. Vous pouvez en définir un.
account-new-password-label = Nouveau mot de passe
account-password-rules = De { $min } à { $max } caractères ; pas un mot de passe courant, ni votre adresse e-mail.
account-password-change-button = Changer le mot de passe
account-password-set-button = Définir le mot de passe

## Réauthentification

account-reauth-title = Confirmez votre identité
account-reauth-heading = Confirmez votre identité
account-reauth-text = Certaines modifications demandent une connexion récente. Confirmez votre identité pour les faire.
account-reauth-code-label = Code de votre application d’authentification, ou code de récupération
account-reauth-button = Confirmer
account-reauth-sign-in-again = Se reconnecter

## Sécurité (account_security.html)

account-security-title = Sécurité
account-totp-heading = Application d’authentification
account-totp-on = Activée depuis le { $since }.
account-totp-off = Non configurée. Une application d’authentification vous donne un code à saisir après votre mot de passe.
account-totp-start-button = Configurer une application d’authentification
account-totp-remove-button = Retirer l’application d’authentification
account-passkeys-heading = Clés d’accès
account-passkeys-none = Vous n’avez pas encore de clé d’accès.
account-passkey-synced = synchronisée
account-passkey-rename-label = Nouveau nom
account-passkey-rename-button = Renommer
account-passkey-remove-button = Supprimer
account-passkey-add-button = Ajouter une clé d’accès
account-codes-heading = Codes de récupération
account-codes-remaining = { $n ->
    [one] Il vous reste un code de récupération inutilisé.
   *[other] Il vous reste { $n } codes de récupération inutilisés.
}
account-codes-help = Une nouvelle série remplace aussitôt l’ancienne.
account-codes-generate-button = Générer des codes de récupération
account-codes-regenerate-button = Générer une nouvelle série
account-codes-need-factor = Les codes de récupération accompagnent un second facteur : configurez d’abord une application d’authentification ou ajoutez une clé d’accès.

## Application d’authentification (account_totp.html)

account-totp-title = Configurer une application d’authentification
account-totp-step-scan = Scannez ce code QR avec votre application d’authentification, ou saisissez-y la clé ci-dessous.
account-totp-step-code = Saisissez le code à six chiffres affiché par l’application.
account-totp-qr-label = Code QR de votre clé d’authentification
account-totp-code-label = Code de l’application
account-totp-confirm-button = Activer
account-totp-remove-title = Retirer l’application d’authentification ?
account-totp-remove-text = Ses codes ne vous seront plus demandés. Les sessions confirmées avec elle sont déconnectées.

## Codes de récupération (account_codes.html)

account-codes-title = Vos codes de récupération
account-codes-once = Gardez ces codes en lieu sûr : chacun sert une fois si vous perdez votre second facteur. Ils ne sont affichés que maintenant.
account-codes-saved = Je les ai enregistrés

## Clés d’accès (account_passkey.html)

account-passkey-title = Ajouter une clé d’accès
account-passkey-intro = Une clé d’accès vous connecte avec le verrouillage d’écran de cet appareil ou une clé de sécurité, sans mot de passe.
account-passkey-name-label = Nom (facultatif)
account-passkey-name-placeholder = p. ex. Ordinateur du bureau
account-passkey-create-button = Créer la clé d’accès
account-passkey-needs-script = Ajouter une clé d’accès nécessite JavaScript.
account-passkey-unsupported = Ce navigateur ne peut pas créer de clé d’accès ici.
account-passkey-cancelled = Aucune clé d’accès n’a été créée.
account-passkey-checking = Enregistrement…
account-passkey-failed = La clé d’accès n’a pas été créée. Réessayez.
account-passkey-remove-title = Supprimer cette clé d’accès ?
account-passkey-remove-text = La clé d’accès « { $name } » ne vous connectera plus. Les sessions confirmées avec elle sont déconnectées.

## Sessions (account_sessions.html)

account-sessions-title = Sessions et appareils
account-sessions-intro = Là où votre compte est connecté. Fermez toute session que vous ne reconnaissez pas.
account-sessions-this-browser = ce navigateur
account-sessions-unknown-device = Appareil inconnu
account-sessions-sign-out-here = Se déconnecter ici
account-session-end-button = Fermer
account-session-end-title = Fermer cette session ?
account-session-end-text = La session sur « { $device } » sera déconnectée.
account-session-end-current-text = C’est la session de ce navigateur (« { $device } ») : vous serez déconnecté ici.
account-sessions-end-others-button = Fermer toutes les autres sessions
account-sessions-end-others-title = Fermer toutes les autres sessions ?
account-sessions-end-others-text = Toutes les sessions sauf celle de ce navigateur seront déconnectées.

## Connexions (account_connections.html, account_link*.html)

account-connections-title = Connexions
account-providers-heading = Fournisseurs de connexion
account-providers-none = Aucun fournisseur n’est associé à votre compte.
account-unlink-button = Dissocier
account-unlink-title = Dissocier ce fournisseur ?
account-unlink-text = Vous ne vous connecterez plus avec { $provider }.
account-unlink-last-way = Ce fournisseur est votre dernier moyen de connexion : définissez d’abord un mot de passe ou ajoutez une clé d’accès.
account-link-button = Associer { $provider }
account-link-title = Associer un fournisseur
account-link-text = Vous allez vous connecter chez { $provider }, puis revenir ici.
account-link-continue = Continuer vers { $provider }
account-linked-checking = Association…
account-linked-refused = Le fournisseur n’a pas été associé.
account-linked-nothing = Rien à associer ici.
account-linked-needs-script = Terminer l’association nécessite JavaScript.
account-apps-heading = Applications
account-apps-none = Vous n’avez autorisé aucune application à utiliser votre compte.
account-revoke-button = Révoquer
account-revoke-title = Révoquer l’accès de cette application ?
account-revoke-text = { $app } n’aura plus accès à votre compte, et ses sessions sont déconnectées.

## Activité (account_activity.html)

account-activity-title = Activité de sécurité
account-activity-intro = Les événements récents de votre compte, du plus récent au plus ancien.
account-activity-none = Rien pour l’instant.
account-activity-by-admin = par un administrateur
account-activity-pages = Pages
account-activity-newest = Les plus récents
account-activity-older = Événements plus anciens

## Événements du journal d’audit, un par type

account-event-user-registered = Compte créé
account-event-user-confirmed = Adresse e-mail confirmée
account-event-user-updated = Compte modifié
account-event-user-disabled = Compte désactivé
account-event-login-succeeded = Connexion par mot de passe
account-event-login-failed = Tentative de connexion échouée
account-event-login-locked = Connexion bloquée après des échecs
account-event-login-passkey = Connexion avec une clé d’accès
account-event-login-email-code = Connexion avec un code par e-mail
account-event-login-provider = Connexion avec un fournisseur
account-event-logout = Déconnexion
account-event-refresh-reused = Un jeton de session déjà utilisé a été présenté : session fermée
account-event-session-ended = Session fermée
account-event-sessions-ended-all = Toutes les sessions fermées
account-event-password-changed = Mot de passe changé
account-event-password-reset-requested = Réinitialisation du mot de passe demandée
account-event-password-reset = Mot de passe réinitialisé
account-event-email-change-requested = Changement d’adresse e-mail demandé
account-event-email-changed = Adresse e-mail changée
account-event-mfa-challenged = Second facteur demandé
account-event-mfa-succeeded = Second facteur accepté
account-event-mfa-failed = Second facteur erroné
account-event-totp-enabled = Application d’authentification activée
account-event-totp-disabled = Application d’authentification retirée
account-event-recovery-codes-generated = Nouveaux codes de récupération générés
account-event-recovery-code-used = Code de récupération utilisé
account-event-passkey-added = Clé d’accès ajoutée
account-event-passkey-removed = Clé d’accès supprimée
account-event-factors-reset = Seconds facteurs réinitialisés par un administrateur
account-event-reauthenticated = Identité confirmée à nouveau
account-event-identity-linked = Fournisseur associé
account-event-identity-unlinked = Fournisseur dissocié
account-event-oauth-consent-granted = Application autorisée
account-event-oauth-consent-revoked = Accès d’une application révoqué
account-event-oauth-authorized = Connexion à une application
account-event-oauth-token-issued = Jetons d’application émis
