# Correo: las palabras de las que se componen las variables de las
# plantillas de correo. Las plantillas son archivos completos por idioma
# (src/mail/templates/builtin/). Texto plano.

## La validez de un enlace, para {{expires_in}}

mail-duration-days = { $n ->
    [one] { $n } día
   *[other] { $n } días
}
mail-duration-hours = { $n ->
    [one] { $n } hora
   *[other] { $n } horas
}
mail-duration-minutes = { $n ->
    [one] { $n } minuto
   *[other] { $n } minutos
}
mail-duration-seconds = { $n ->
    [one] { $n } segundo
   *[other] { $n } segundos
}
