# La console d’administration, /admin (src/http/console/, gabarits admin_*.html).
#
# Les messages utilisés dans un gabarit avec t("clé", nom=valeur) peuvent
# contenir un balisage HTML simple : leur texte est de confiance, chaque
# argument est échappé. Les titres et messages faits en Rust (lang.text)
# sont du texte brut.

## Cadre et mots communs

admin-nav-label = Console d’administration
admin-nav-users = Utilisateurs
admin-nav-audit = Journal d’audit
admin-nav-keys = Clés d’API
admin-nav-clients = Clients OAuth
admin-nav-providers = Fournisseurs
admin-nav-mail = File des e-mails
admin-nav-settings = Réglages
admin-nav-sign-out = Se déconnecter
admin-cancel = Annuler
admin-save = Enregistrer
admin-done = Terminé
admin-next-page = Page suivante →
admin-secret-once = C’est la seule fois qu’elle est affichée : toktok n’en garde qu’une empreinte. Copiez-la maintenant.
admin-error-form = Certains champs sont à corriger : voyez les messages à côté.
admin-error-field = Refusé : { $reason }
admin-error-json = Ce n’est pas du JSON valide : { $reason }

## Qui peut entrer (admin_denied.html)

admin-denied-title = Accès refusé
admin-denied-text = La console d’administration est réservée aux administrateurs. Votre compte n’a pas le rôle admin.
admin-denied-mfa-text = La console d’administration demande un second facteur. Configurez une application d’authentification ou une clé d’accès dans votre compte, puis reconnectez-vous avec.
admin-denied-mfa-link = Aller à mon compte

## En-têtes de colonnes

admin-col-id = Identifiant
admin-col-email = E-mail
admin-col-name = Nom
admin-col-role = Rôle
admin-col-status = État
admin-col-created = Créé le
admin-col-last-login = Dernière connexion
admin-col-last-used = Dernière utilisation
admin-col-device = Appareil
admin-col-ip = Adresse IP
admin-col-provider = Fournisseur
admin-col-subject = Compte chez le fournisseur
admin-col-when = Quand
admin-col-kind = Type
admin-col-user = Utilisateur
admin-col-actor = Par
admin-col-detail = Détail
admin-status-active = Actif
admin-status-disabled = Désactivé
admin-status-unconfirmed = E-mail non confirmé

## Utilisateurs (admin_users.html, admin_user.html)

admin-users-title = Utilisateurs
admin-users-search-label = Adresse e-mail ou identifiant
admin-users-search-button = Rechercher
admin-users-show-all = Voir tous les utilisateurs
admin-users-caption = Du plus ancien au plus récent.
admin-users-none = Aucun utilisateur ne correspond.
admin-users-bad-cursor = L’adresse de cette page n’est plus valable : repartez de la première page.
admin-user-title = Utilisateur { $email }
admin-back-to-users = ← Tous les utilisateurs
admin-user-edit = Profil et rôle
admin-user-metadata = Métadonnées (JSON, modifiables par l’utilisateur)
admin-user-app-metadata = Métadonnées d’application (JSON, réservées aux administrateurs)
admin-user-email-confirmed = Adresse e-mail confirmée
admin-user-actions = Actions
admin-user-is-self = C’est votre propre compte : le désactiver ou le supprimer vous déconnecte.
admin-user-sessions = Sessions
admin-user-no-sessions = Aucune session active.
admin-user-factors = Seconds facteurs
admin-factor-totp-on = Application d’authentification : activée depuis le { $since }
admin-factor-totp-off = Application d’authentification : désactivée
admin-factor-passkeys = { $count ->
    [0] Aucune clé d’accès
    [one] Une clé d’accès
   *[other] { $count } clés d’accès
}
admin-factor-recovery = { $count ->
    [0] Aucun code de secours restant
    [one] Un code de secours restant
   *[other] { $count } codes de secours restants
}
admin-user-identities = Fournisseurs de connexion liés
admin-user-no-identities = Aucun fournisseur lié.
admin-user-trail = Historique d’audit
admin-user-trail-more = Voir tous les événements de cet utilisateur
admin-action-disable = Désactiver le compte
admin-action-enable = Réactiver le compte
admin-action-delete = Supprimer le compte
admin-action-logout = Fermer toutes les sessions
admin-action-factors = Réinitialiser les seconds facteurs
admin-action-reset-link = Envoyer un lien de réinitialisation du mot de passe

## Confirmations

admin-confirm-disable-title = Désactiver le compte
admin-confirm-disable-text = { $email } sera déconnecté partout et ne pourra plus se connecter tant que le compte n’aura pas été réactivé.
admin-confirm-enable-title = Réactiver le compte
admin-confirm-enable-text = { $email } pourra de nouveau se connecter.
admin-confirm-delete-title = Supprimer le compte
admin-confirm-delete-text = Le compte de { $email }, ses sessions, ses facteurs et ses fournisseurs liés seront supprimés. C’est irréversible.
admin-confirm-logout-title = Fermer toutes les sessions
admin-confirm-logout-text = Toutes les sessions de { $email } se terminent maintenant, sur tous ses appareils. Il pourra se reconnecter.
admin-confirm-factors-title = Réinitialiser les seconds facteurs
admin-confirm-factors-text = L’application d’authentification, les clés d’accès et les codes de secours de { $email } seront supprimés et toutes ses sessions fermées. Il en sera averti par e-mail.
admin-confirm-reset-link-title = Envoyer un lien de réinitialisation
admin-confirm-reset-link-text = Un lien pour choisir un nouveau mot de passe sera envoyé à { $email }.

## Messages après une action

admin-notice-updated = Modifications enregistrées.
admin-notice-unchanged = Rien n’a changé.
admin-notice-disabled = Le compte est désactivé et ses sessions sont fermées.
admin-notice-enabled = Le compte est réactivé.
admin-notice-deleted = Le compte a été supprimé.
admin-notice-logged-out = Toutes les sessions de cet utilisateur sont fermées.
admin-notice-factors-reset = Les seconds facteurs ont été supprimés et toutes les sessions fermées.
admin-notice-reset-link-sent = Un lien de réinitialisation est en route.
admin-notice-reset-link-throttled = Un lien est parti vers cette adresse il y a moins d’une minute ; aucun autre n’a été envoyé.
admin-notice-key-revoked = La clé d’API est révoquée.
admin-notice-client-updated = Le client est enregistré.
admin-notice-client-deleted = Le client a été supprimé.
admin-notice-mail-retried = Le message est de nouveau dans la file.

## Journal d’audit (admin_audit.html, admin_events.html)

admin-audit-title = Journal d’audit
admin-audit-user-label = Identifiant de l’utilisateur
admin-audit-kind-label = Type d’événement
admin-audit-any-kind = Tous les types
admin-audit-filter-button = Filtrer
admin-audit-clear = Effacer les filtres
admin-audit-none = Aucun événement.

## Clés d’API (admin_keys.html)

admin-keys-title = Clés d’API
admin-keys-scopes = Portées
admin-keys-none = Aucune clé d’API pour l’instant.
admin-keys-revoke = Révoquer
admin-keys-revoked = Révoquée le { $at }
admin-keys-new = Nouvelle clé d’API
admin-keys-create = Créer la clé
admin-keys-created-title = Nouvelle clé d’API
admin-keys-created-text = La clé « { $name } » est prête. Donnez-la au service qui l’utilise.
admin-keys-key-label = Clé d’API
admin-keys-revoke-title = Révoquer la clé d’API
admin-keys-revoke-text = Les services qui utilisent la clé « { $name } » seront refusés immédiatement. C’est irréversible.
admin-scope-admin = gérer les utilisateurs, lire le journal d’audit
admin-scope-challenges = créer et vérifier des jetons de défi

## Clients OAuth (admin_clients.html, admin_client.html)

admin-clients-title = Clients OAuth
admin-clients-oidc-off = toktok n’est pas un fournisseur OpenID ici : mettez [oidc] enabled = true pour enregistrer des clients.
admin-clients-none = Aucun client pour l’instant.
admin-clients-new = Nouveau client
admin-clients-create = Créer le client
admin-clients-id = Identifiant du client
admin-clients-type = Type
admin-clients-type-confidential = Confidentiel (un serveur, avec un secret)
admin-clients-type-public = Public (une application web ou mobile)
admin-clients-redirect-uris = URI de redirection
admin-clients-logout-uris = URI de redirection après déconnexion
admin-clients-one-per-line = Une par ligne.
admin-clients-grant-types = Types d’autorisation
admin-clients-scopes = Portées
admin-clients-audience = Audience de ses jetons d’accès (vide : celle par défaut)
admin-clients-alg = Algorithme du jeton d’identité
admin-clients-skip-consent = Sauter la page de consentement (application maison)
admin-client-title = Client { $name }
admin-back-to-clients = ← Tous les clients
admin-clients-rotate = Nouveau secret
admin-clients-delete = Supprimer le client
admin-clients-rotate-title = Nouveau secret client
admin-clients-rotate-text = Un nouveau secret remplace immédiatement celui de « { $name } » : l’ancien ne fonctionne plus.
admin-clients-delete-title = Supprimer le client
admin-clients-delete-text = « { $name } », toutes les autorisations que les utilisateurs lui ont données et ses sessions seront supprimés. C’est irréversible.
admin-clients-created-title = Nouveau client
admin-clients-rotated-title = Nouveau secret client
admin-clients-secret-label = Secret client
admin-clients-secret-text = Le secret de « { $name } » :

## Fournisseurs (admin_providers.html)

admin-providers-title = Fournisseurs de connexion
admin-providers-intro = Les [[providers]] du fichier de configuration (lecture seule ; les secrets ne sont jamais affichés).
admin-providers-kind = Type
admin-providers-issuer = Émetteur
admin-providers-callback = URL de retour
admin-providers-enabled = Activé
admin-providers-disabled = Désactivé
admin-providers-none = Aucun fournisseur n’est configuré.

## File des e-mails (admin_mail.html)

admin-mail-title = File des e-mails
admin-mail-failed = Abandonnés
admin-mail-pending = En attente d’envoi
admin-mail-recipient = Destinataire
admin-mail-attempts = Tentatives
admin-mail-last-error = Dernière erreur
admin-mail-failed-at = Abandonné le
admin-mail-next-try = Prochain essai
admin-mail-retry = Réessayer
admin-mail-no-failed = Aucun message abandonné.
admin-mail-no-pending = Aucun message en attente.
admin-mail-limit = Au plus { $limit } messages de chaque sorte sont affichés.

## Réglages (admin_settings.html)

admin-settings-title = Réglages
admin-settings-intro = La configuration avec laquelle toktok fonctionne, après le fichier et les variables TOKTOK_*. Lecture seule ; les secrets apparaissent comme [redacted].
admin-settings-key = Clé
admin-settings-value = Valeur

## Webhooks (http::console::webhooks)
admin-nav-hooks = Webhooks
admin-hooks-title = Webhooks
admin-hooks-endpoint-title = Destination de webhook
admin-hooks-url = URL
admin-hooks-url-hint = Une adresse http ou https sur laquelle votre service écoute. Les adresses internes (boucle locale, réseaux privés, métadonnées du cloud) sont refusées.
admin-hooks-url-hint-private = Une adresse http ou https sur laquelle votre service écoute. Les adresses internes sont permises sur ce serveur ([hooks] allow_private_targets).
admin-hooks-description = Description (facultative)
admin-hooks-events = Événements
admin-hooks-event = Événement
admin-hooks-none = Aucune destination de webhook pour l’instant.
admin-hooks-new = Nouvelle destination
admin-hooks-create = Ajouter la destination
admin-hooks-active = Active
admin-hooks-paused = En pause
admin-hooks-secret-title = Secret de signature
admin-hooks-secret-text = Les envois vers { $url } sont signés avec ce secret (Standard Webhooks). Donnez-le au service destinataire pour qu’il les vérifie.
admin-hooks-secret-once = Il n’est affiché que cette fois : toktok le garde pour signer les envois mais ne le montre plus jamais. Copiez-le maintenant.
admin-hooks-secret-label = Secret de signature
admin-hooks-test = Envoyer un événement de test
admin-hooks-pause = Mettre en pause
admin-hooks-resume = Reprendre
admin-hooks-rotate-title = Renouveler le secret
admin-hooks-rotate-text = Un nouveau secret remplace l’actuel immédiatement : un destinataire qui a encore l’ancien refusera les envois vers { $url } signés avec le nouveau.
admin-hooks-delete-title = Supprimer la destination
admin-hooks-delete-text = { $url } ne recevra plus rien ; ses envois en attente et son journal sont supprimés. C’est irréversible.
admin-hooks-log = Envois
admin-hooks-log-none = Rien n’a encore été envoyé à cette destination.
admin-hooks-log-more = Les 50 envois les plus récents ; l’API d’administration les parcourt tous.
admin-hooks-answer = Dernière réponse
admin-hooks-at = Heure de l’événement
admin-hooks-send-again = Renvoyer
admin-hooks-status-pending = En attente
admin-hooks-status-delivered = Remis
admin-hooks-status-failed = Abandonné
admin-notice-hook-test-queued = Un événement de test est en route.
admin-notice-hook-paused = La destination est en pause : rien ne lui est envoyé et les nouveaux événements ne sont pas gardés pour elle.
admin-notice-hook-resumed = La destination est de nouveau active.
admin-notice-hook-deleted = La destination a été supprimée.
admin-notice-hook-retried = L’envoi sera refait.
