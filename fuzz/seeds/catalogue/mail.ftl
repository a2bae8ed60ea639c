# Mail: the words the mail templates' variables are made of. The templates
# themselves are whole files per language (src/mail/templates/builtin/).
# Plain text.

## A link's lifetime, for {{expires_in}}

mail-duration-days = { $n ->
    [one] { $n } day
   *[other] { $n } days
}
mail-duration-hours = { $n ->
    [one] { $n } hour
   *[other] { $n } hours
}
mail-duration-minutes = { $n ->
    [one] { $n } minute
   *[other] { $n } minutes
}
mail-duration-seconds = { $n ->
    [one] { $n } second
   *[other] { $n } seconds
}
