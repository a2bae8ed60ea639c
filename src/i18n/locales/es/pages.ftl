# Las páginas alojadas (src/http/pages/templates/ y src/http/hosted/).
#
# Los mensajes que una plantilla usa con t("clave", nombre=valor) pueden
# contener marcado HTML sencillo (<strong>): su texto es de confianza y
# cada argumento se escapa. Los títulos y textos de una línea son texto
# plano.

## Común

page-support = ¿Necesita ayuda? Escriba a
page-fallback-error = No se ha podido mostrar esta página.
page-continue-to = para continuar a <strong>{ $client }</strong>
page-email-label = Correo electrónico
page-password-label = Contraseña
page-sign-in-button = Iniciar sesión
page-sign-in-another-way = Iniciar sesión de otra forma
page-back-to-sign-in = Volver al inicio de sesión

## Inicio de sesión (login.html)

login-title = Iniciar sesión
login-email-code-button = Enviarme un código de acceso por correo
login-passkey-button = Iniciar sesión con una llave de acceso
login-provider-button = Continuar con { $provider }
login-forgot-link = ¿Ha olvidado su contraseña?
login-register-link = Crear una cuenta
login-signed-in-title = Sesión iniciada
login-signed-in-text = Ha iniciado sesión como { $email }.

## Segundo factor (second_factor.html)

mfa-title = Verificación en dos pasos
mfa-totp-label = Código de su aplicación de autenticación
mfa-use-recovery = Usar un código de recuperación
mfa-recovery-label = Código de recuperación
mfa-continue-button = Continuar

## Llave de acceso (passkey.html)

passkey-title = Iniciar sesión con una llave de acceso
passkey-status = Use la llave de acceso de este dispositivo o su llave de seguridad.
passkey-button = Usar una llave de acceso
passkey-needs-script = Las llaves de acceso necesitan JavaScript en esta página.

## Código por correo (email_code.html)

email-code-title = Revise su correo
email-code-sent = Si <strong>{ $email }</strong> tiene una cuenta, le hemos enviado un código de acceso. El enlace del correo también funciona.
email-code-label = Código del correo

## Enlace con código (email_code_link.html)

email-code-link-title = Iniciar sesión
email-code-link-text = Pulse el botón para iniciar sesión.
email-code-link-button = Iniciar mi sesión
email-code-link-not-you = Si usted no pidió iniciar sesión, cierre esta página.
email-code-link-done-title = Sesión iniciada
email-code-link-done-text = Su dirección de correo está confirmada y ha iniciado sesión. Puede cerrar esta página.
email-code-link-mfa-title = Un paso más
email-code-link-mfa-text = El código era correcto, pero esta cuenta también necesita su segundo factor: inicie sesión desde la aplicación.

## Registro (register.html)

register-title = Crear una cuenta
register-name-label = Nombre
register-optional = (opcional)
register-password-rule = { $min ->
    [one] Al menos { $min } carácter.
   *[other] Al menos { $min } caracteres.
}
register-button = Crear cuenta
register-have-account = Ya tengo una cuenta
register-confirm-title = Confirme su dirección de correo
register-confirm-text = Le hemos enviado un enlace: ábralo para confirmar su dirección y después inicie sesión.

## Contraseña olvidada (forgot.html)

forgot-title = ¿Ha olvidado su contraseña?
forgot-text = Escriba su dirección de correo: si tiene una cuenta, le enviaremos un enlace para elegir una contraseña nueva.
forgot-button = Enviar el enlace
forgot-sent-title = Revise su correo
forgot-sent-text = Si esta dirección tiene una cuenta, le llegará un enlace para elegir una contraseña nueva.

## Consentimiento (consent.html)

consent-title = ¿Permitir el acceso a { $client }?
consent-asks = <strong>{ $client }</strong> solicita:
consent-signed-in-as = Sesión iniciada como { $email }. Puede retirar este permiso más tarde desde su cuenta.
consent-allow = Permitir
consent-deny = Denegar
consent-scope-openid = Saber quién es usted (el identificador de su cuenta)
consent-scope-profile = Ver su nombre y su idioma
consent-scope-email = Ver su dirección de correo
consent-scope-offline_access = Mantener la conexión mientras usted no está
consent-nothing-title = Nada que autorizar
consent-nothing-text = A esta página se llega desde el inicio de sesión de una aplicación.

## Cierre de sesión (logout.html)

logout-title = Cerrar sesión
logout-client-asks = { $client } solicita cerrar su sesión.
logout-question = ¿Cerrar la sesión de { $brand }?
logout-button = Cerrar sesión
logout-done-title = Sesión cerrada
logout-done-text = Ha cerrado la sesión.
logout-refused-title = No se puede usar esta solicitud de cierre de sesión
logout-unreadable = No se pueden leer los parámetros de la solicitud.
logout-bad-hint = El id_token_hint no es un token de identidad de este servidor.
logout-hint-mismatch = client_id e id_token_hint indican aplicaciones distintas.
logout-unknown-client = La aplicación que le ha enviado aquí no está registrada.
logout-return-needs-client = Una dirección de retorno necesita id_token_hint o client_id.
logout-unregistered-return = La aplicación pidió enviarle a una dirección que no ha registrado.
logout-form-changed = El formulario ha sido modificado.

## Confirmar la dirección (confirm_email.html)

confirm-title = Confirme su dirección de correo
confirm-text = Pulse el botón para confirmar su dirección de correo.
confirm-button = Confirmar mi dirección de correo
confirm-done-title = Dirección de correo confirmada
confirm-done-text = Gracias: su dirección de correo está confirmada. Puede cerrar esta página.

## Contraseña nueva (reset_password.html)

reset-title = Elija una contraseña nueva
reset-label = Contraseña nueva
reset-rules = Entre { $min } y { $max } caracteres. Se admite cualquier carácter; se rechazan las contraseñas muy comunes y su dirección de correo.
reset-button = Guardar la contraseña nueva
reset-done-title = Contraseña cambiada
reset-done-text = Su contraseña se ha cambiado y se han cerrado todas las sesiones. Inicie sesión con la contraseña nueva.

## Lo que no ha funcionado (message.html)

error-title = No ha funcionado
error-server = Algo ha fallado por nuestra parte. Vuelva a intentarlo en un momento.
link-refused-title = No se puede usar este enlace
form-unreadable-title = No se ha podido leer este formulario
form-not-urlencoded = La página solo envía formularios application/x-www-form-urlencoded.
form-malformed = El formulario no es el que envía esta página: { $reason }.
form-bad-decision = decision debe ser allow o deny.
form-expired-title = Este formulario ha caducado
form-expired-text = Vuelva atrás, recargue la página e inténtelo de nuevo.
flow-expired-title = Este inicio de sesión ha caducado
flow-expired-text = Vuelva a la aplicación e inicie sesión de nuevo.
flow-provider-expired-text = Ya se usó, tardó demasiado o se empezó en otro navegador. Vuelva a la aplicación e inicie sesión de nuevo.
client-gone-title = Esta aplicación no está registrada
client-gone-text = La aplicación que le ha enviado aquí ya no está registrada.
authorize-refused-title = No se puede usar esta solicitud de inicio de sesión
