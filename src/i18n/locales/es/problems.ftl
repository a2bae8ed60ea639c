# Problemas: el `title` de cada respuesta problem+json según su `code`
# estable (el código nunca cambia con el idioma), y las frases que las
# páginas alojadas muestran para los rechazos que una persona encuentra
# en ellas. Texto plano.

## Títulos (problem-<code>)

problem-malformed_body = Cuerpo mal formado
problem-invalid_token = Token no válido
problem-invalid_encryption = Cifrado no válido
problem-encryption_required = Cifrado obligatorio
problem-anonymous_token_required = Token anónimo obligatorio
problem-already_authenticated = Ya autenticado
problem-unauthenticated = No autenticado
problem-token_expired = Token caducado
problem-token_reused = Token reutilizado
problem-invalid_credentials = Credenciales no válidas
problem-forbidden = Prohibido
problem-email_not_confirmed = Correo no confirmado
problem-wrong_password = Contraseña incorrecta
problem-registration_closed = Registro cerrado
problem-reauthentication_required = Se requiere volver a autenticarse
problem-conflict = Conflicto
problem-link_required = Vinculación obligatoria
problem-hook_failed = Falló el hook de token
problem-provider_unavailable = Proveedor no disponible
problem-control_mismatch = El control no coincide
problem-not_found = No encontrado
problem-challenge_not_found = Desafío no encontrado
problem-feature_disabled = Función desactivada
problem-email_taken = Correo ya registrado
problem-body_too_large = Cuerpo demasiado grande
problem-unsupported_media_type = Tipo de contenido no admitido
problem-validation_failed = Validación fallida
problem-weak_password = Contraseña débil
problem-rate_limited = Demasiadas solicitudes
problem-throttled = Solicitudes limitadas
problem-overloaded = Servidor sobrecargado
problem-storage_unavailable = Almacenamiento no disponible
problem-internal = Error interno

## Lo que muestra una página (error-<qué>)

error-invalid-credentials = Correo o contraseña incorrectos.
error-invalid-link = Este enlace o código no es válido, ha caducado o ya se ha usado.
error-email-not-confirmed = Esta dirección de correo aún no está confirmada: abra primero el enlace que le enviamos.
error-email-taken = Ya existe una cuenta con esta dirección de correo.
error-invalid-email = Esta no es una dirección de correo válida.
error-validation = Parte de lo que ha escrito no es válido: { $fields }.
error-registration-closed = Aquí no se pueden crear cuentas nuevas.
error-feature-disabled = Este modo de inicio de sesión no está disponible aquí.
error-not-allowed = Esto no está permitido para esta cuenta.
error-password-short = { $min ->
    [one] La contraseña debe tener al menos { $min } carácter.
   *[other] La contraseña debe tener al menos { $min } caracteres.
}
error-password-long = La contraseña debe tener como máximo { $max } caracteres.
error-password-common = Esta contraseña es demasiado común: elija otra.
error-password-email = La contraseña no puede ser su dirección de correo.
error-retry-after = { $seconds ->
    [one] Demasiados intentos. Vuelva a intentarlo dentro de { $seconds } segundo.
   *[other] Demasiados intentos. Vuelva a intentarlo dentro de { $seconds } segundos.
}
error-account-locked = { $seconds ->
    [one] Demasiados intentos fallidos en esta cuenta. Vuelva a intentarlo dentro de { $seconds } segundo, o elija una contraseña nueva con «¿Ha olvidado su contraseña?», que funciona al instante.
   *[other] Demasiados intentos fallidos en esta cuenta. Vuelva a intentarlo dentro de { $seconds } segundos, o elija una contraseña nueva con «¿Ha olvidado su contraseña?», que funciona al instante.
}
error-throttled = { $seconds ->
    [one] Se acaba de enviar un código. Vuelva a intentarlo dentro de { $seconds } segundo.
   *[other] Se acaba de enviar un código. Vuelva a intentarlo dentro de { $seconds } segundos.
}
error-busy = { $seconds ->
    [one] El servidor está ocupado. Vuelva a intentarlo dentro de { $seconds } segundo.
   *[other] El servidor está ocupado. Vuelva a intentarlo dentro de { $seconds } segundos.
}
error-link-required = Ya existe una cuenta con esta dirección de correo: inicie sesión en ella y vincule este proveedor desde allí.
error-provider-unavailable = No se puede contactar con el proveedor de inicio de sesión. Vuelva a intentarlo más tarde.
