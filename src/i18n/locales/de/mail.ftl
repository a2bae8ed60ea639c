# E-Mail: die Wörter, aus denen die Variablen der E-Mail-Vorlagen bestehen.
# Die Vorlagen selbst sind ganze Dateien je Sprache
# (src/mail/templates/builtin/). Reiner Text.

## Die Gültigkeitsdauer eines Links, für {{expires_in}}

mail-duration-days = { $n ->
    [one] { $n } Tag
   *[other] { $n } Tage
}
mail-duration-hours = { $n ->
    [one] { $n } Stunde
   *[other] { $n } Stunden
}
mail-duration-minutes = { $n ->
    [one] { $n } Minute
   *[other] { $n } Minuten
}
mail-duration-seconds = { $n ->
    [one] { $n } Sekunde
   *[other] { $n } Sekunden
}
