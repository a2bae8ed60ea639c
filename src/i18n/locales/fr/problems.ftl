# Problèmes : le `title` de chaque réponse problem+json, selon son `code`
# stable (le code ne change jamais avec la langue), et les phrases que les
# pages hébergées affichent pour les refus qu’une personne y rencontre.
# Texte brut.

## Titres (problem-<code>)

problem-malformed_body = Corps mal formé
problem-invalid_token = Jeton invalide
problem-invalid_encryption = Chiffrement invalide
problem-encryption_required = Chiffrement requis
problem-anonymous_token_required = Jeton anonyme requis
problem-already_authenticated = Déjà authentifié
problem-unauthenticated = Non authentifié
problem-token_expired = Jeton expiré
problem-token_reused = Jeton réutilisé
problem-invalid_credentials = Identifiants invalides
problem-forbidden = Interdit
problem-email_not_confirmed = Adresse e-mail non confirmée
problem-wrong_password = Mot de passe incorrect
problem-registration_closed = Inscriptions fermées
problem-reauthentication_required = Nouvelle authentification requise
problem-conflict = Conflit
problem-link_required = Liaison requise
problem-hook_failed = Échec du hook de jeton
problem-provider_unavailable = Fournisseur indisponible
problem-control_mismatch = Contrôle non concordant
problem-not_found = Introuvable
problem-challenge_not_found = Défi introuvable
problem-feature_disabled = Fonction désactivée
problem-email_taken = Adresse e-mail déjà utilisée
problem-body_too_large = Corps trop volumineux
problem-unsupported_media_type = Type de média non pris en charge
problem-validation_failed = Échec de la validation
problem-weak_password = Mot de passe trop faible
problem-rate_limited = Trop de requêtes
problem-throttled = Requêtes ralenties
problem-overloaded = Serveur surchargé
problem-storage_unavailable = Stockage indisponible
problem-internal = Erreur interne

## Ce qu’une page affiche (error-<quoi>)

error-invalid-credentials = Adresse e-mail ou mot de passe incorrect.
error-invalid-link = Ce lien ou ce code est invalide, a expiré ou a déjà servi.
error-email-not-confirmed = Cette adresse e-mail n’est pas encore confirmée : ouvrez d’abord le lien que nous y avons envoyé.
error-email-taken = Un compte existe déjà avec cette adresse e-mail.
error-invalid-email = Ce n’est pas une adresse e-mail valide.
error-validation = Une partie de votre saisie n’est pas valide : { $fields }.
error-registration-closed = Il n’est pas possible de créer un compte ici.
error-feature-disabled = Ce moyen de connexion n’est pas disponible ici.
error-not-allowed = Ce n’est pas autorisé pour ce compte.
error-password-short = { $min ->
    [one] Le mot de passe doit contenir au moins { $min } caractère.
   *[other] Le mot de passe doit contenir au moins { $min } caractères.
}
error-password-long = Le mot de passe doit contenir au plus { $max } caractères.
error-password-common = Ce mot de passe est trop courant : choisissez-en un autre.
error-password-email = Le mot de passe ne doit pas être votre adresse e-mail.
error-retry-after = { $seconds ->
    [one] Trop de tentatives. Réessayez dans { $seconds } seconde.
   *[other] Trop de tentatives. Réessayez dans { $seconds } secondes.
}
error-account-locked = { $seconds ->
    [one] Trop d’échecs pour ce compte. Réessayez dans { $seconds } seconde, ou choisissez un nouveau mot de passe avec « Mot de passe oublié ? », qui fonctionne immédiatement.
   *[other] Trop d’échecs pour ce compte. Réessayez dans { $seconds } secondes, ou choisissez un nouveau mot de passe avec « Mot de passe oublié ? », qui fonctionne immédiatement.
}
error-throttled = { $seconds ->
    [one] Un code vient d’être envoyé. Réessayez dans { $seconds } seconde.
   *[other] Un code vient d’être envoyé. Réessayez dans { $seconds } secondes.
}
error-busy = { $seconds ->
    [one] Le serveur est occupé. Réessayez dans { $seconds } seconde.
   *[other] Le serveur est occupé. Réessayez dans { $seconds } secondes.
}
error-link-required = Un compte existe avec cette adresse e-mail : connectez-vous à ce compte, puis liez-y ce fournisseur.
error-provider-unavailable = Le fournisseur de connexion est injoignable. Réessayez plus tard.
