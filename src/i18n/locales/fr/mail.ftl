# Courrier : les mots dont sont faites les variables des modèles de
# courrier. Les modèles eux-mêmes sont des fichiers entiers par langue
# (src/mail/templates/builtin/). Texte brut.

## La durée de validité d’un lien, pour {{expires_in}}

mail-duration-days = { $n ->
    [one] { $n } jour
   *[other] { $n } jours
}
mail-duration-hours = { $n ->
    [one] { $n } heure
   *[other] { $n } heures
}
mail-duration-minutes = { $n ->
    [one] { $n } minute
   *[other] { $n } minutes
}
mail-duration-seconds = { $n ->
    [one] { $n } seconde
   *[other] { $n } secondes
}
