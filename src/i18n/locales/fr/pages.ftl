# Les pages hébergées (src/http/pages/templates/ et src/http/hosted/).
#
# Les messages utilisés dans un gabarit avec t("clé", nom=valeur) peuvent
# contenir un balisage HTML simple (<strong>) : leur texte est de confiance,
# chaque argument est échappé. Les titres et textes d'une ligne sont du
# texte brut.

## Commun

page-support = Besoin d'aide ? Écrivez à
page-fallback-error = Cette page n’a pas pu être affichée.
page-continue-to = pour continuer vers <strong>{ $client }</strong>
page-email-label = Adresse e-mail
page-password-label = Mot de passe
page-sign-in-button = Se connecter
page-sign-in-another-way = Se connecter autrement
page-back-to-sign-in = Retour à la connexion

## Connexion (login.html)

login-title = Connexion
login-email-code-button = Recevoir plutôt un code de connexion par e-mail
login-passkey-button = Se connecter avec une clé d’accès
login-provider-button = Continuer avec { $provider }
login-forgot-link = Mot de passe oublié ?
login-register-link = Créer un compte
login-signed-in-title = Connecté
login-signed-in-text = Vous êtes connecté en tant que { $email }.

## Second facteur (second_factor.html)

mfa-title = Vérification en deux étapes
mfa-totp-label = Code de votre application d’authentification
mfa-use-recovery = Utiliser plutôt un code de récupération
mfa-recovery-label = Code de récupération
mfa-continue-button = Continuer

## Clé d’accès (passkey.html)

passkey-title = Se connecter avec une clé d’accès
passkey-status = Utilisez la clé d’accès de cet appareil ou votre clé de sécurité.
passkey-button = Utiliser une clé d’accès
passkey-needs-script = Les clés d’accès nécessitent JavaScript sur cette page.

## Code par e-mail (email_code.html)

email-code-title = Consultez vos e-mails
email-code-sent = Si <strong>{ $email }</strong> correspond à un compte, un code de connexion y a été envoyé. Le lien contenu dans l’e-mail fonctionne aussi.
email-code-label = Code reçu par e-mail

## Lien de code par e-mail (email_code_link.html)

email-code-link-title = Connexion
email-code-link-text = Appuyez sur le bouton pour vous connecter.
email-code-link-button = Me connecter
email-code-link-not-you = Si vous n’avez pas demandé à vous connecter, fermez cette page.
email-code-link-done-title = Connecté
email-code-link-done-text = Votre adresse e-mail est confirmée et la connexion a réussi. Vous pouvez fermer cette page.
email-code-link-mfa-title = Encore une étape
email-code-link-mfa-text = Le code est correct, mais ce compte exige aussi son second facteur : connectez-vous depuis l’application.

## Inscription (register.html)

register-title = Créer un compte
register-name-label = Nom
register-optional = (facultatif)
register-password-rule = { $min ->
    [one] Au moins { $min } caractère.
   *[other] Au moins { $min } caractères.
}
register-button = Créer le compte
register-have-account = J’ai déjà un compte
register-confirm-title = Confirmez votre adresse e-mail
register-confirm-text = Nous vous avons envoyé un lien : ouvrez-le pour confirmer votre adresse, puis connectez-vous.

## Mot de passe oublié (forgot.html)

forgot-title = Mot de passe oublié ?
forgot-text = Saisissez votre adresse e-mail : si elle correspond à un compte, nous y envoyons un lien pour choisir un nouveau mot de passe.
forgot-button = Envoyer le lien
forgot-sent-title = Consultez vos e-mails
forgot-sent-text = Si cette adresse correspond à un compte, un lien pour choisir un nouveau mot de passe est en route.

## Consentement (consent.html)

consent-title = Autoriser { $client } ?
consent-asks = <strong>{ $client }</strong> demande à :
consent-signed-in-as = Connecté en tant que { $email }. Vous pourrez retirer cette autorisation plus tard depuis votre compte.
consent-allow = Autoriser
consent-deny = Refuser
consent-scope-openid = Savoir qui vous êtes (l’identifiant de votre compte)
consent-scope-profile = Voir votre nom et votre langue
consent-scope-email = Voir votre adresse e-mail
consent-scope-offline_access = Rester connecté pendant votre absence
consent-nothing-title = Rien à autoriser
consent-nothing-text = On arrive sur cette page depuis la connexion d’une application.

## Déconnexion (logout.html)

logout-title = Déconnexion
logout-client-asks = { $client } demande à vous déconnecter.
logout-question = Vous déconnecter de { $brand } ?
logout-button = Se déconnecter
logout-done-title = Déconnecté
logout-done-text = Vous êtes déconnecté.
logout-refused-title = Cette demande de déconnexion est inutilisable
logout-unreadable = Les paramètres de la demande sont illisibles.
logout-bad-hint = Le id_token_hint n’est pas un jeton d’identité de ce serveur.
logout-hint-mismatch = client_id et id_token_hint désignent des applications différentes.
logout-unknown-client = L’application qui vous a envoyé ici n’est pas enregistrée.
logout-return-needs-client = Une adresse de retour nécessite id_token_hint ou client_id.
logout-unregistered-return = L’application a demandé à vous renvoyer vers une adresse qu’elle n’a pas enregistrée.
logout-form-changed = Le formulaire a été modifié.

## Confirmation d’adresse (confirm_email.html)

confirm-title = Confirmez votre adresse e-mail
confirm-text = Appuyez sur le bouton pour confirmer votre adresse e-mail.
confirm-button = Confirmer mon adresse e-mail
confirm-done-title = Adresse e-mail confirmée
confirm-done-text = Merci : votre adresse e-mail est confirmée. Vous pouvez fermer cette page.

## Nouveau mot de passe (reset_password.html)

reset-title = Choisissez un nouveau mot de passe
reset-label = Nouveau mot de passe
reset-rules = Entre { $min } et { $max } caractères. Tous les caractères sont acceptés ; les mots de passe très courants et votre adresse e-mail sont refusés.
reset-button = Enregistrer le nouveau mot de passe
reset-done-title = Mot de passe modifié
reset-done-text = Votre mot de passe est modifié et toutes les sessions ont été fermées. Connectez-vous avec le nouveau mot de passe.

## Ce qui n’a pas fonctionné (message.html)

error-title = Cela n’a pas fonctionné
error-server = Un problème est survenu de notre côté. Veuillez réessayer dans un instant.
link-refused-title = Ce lien est inutilisable
form-unreadable-title = Ce formulaire est illisible
form-not-urlencoded = La page n’envoie que des formulaires application/x-www-form-urlencoded.
form-malformed = Le formulaire ne correspond pas à ce que cette page envoie : { $reason }.
form-bad-decision = decision doit valoir allow ou deny.
form-expired-title = Ce formulaire a expiré
form-expired-text = Revenez en arrière, rechargez la page et réessayez.
flow-expired-title = Cette connexion a expiré
flow-expired-text = Retournez dans l’application et connectez-vous de nouveau.
flow-provider-expired-text = Elle a déjà servi, a pris trop de temps ou a été commencée dans un autre navigateur. Retournez dans l’application et connectez-vous de nouveau.
client-gone-title = Cette application n’est pas enregistrée
client-gone-text = L’application qui vous a envoyé ici n’est plus enregistrée.
authorize-refused-title = Cette demande de connexion est inutilisable
